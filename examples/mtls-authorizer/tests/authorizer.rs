//! The mutual TLS authorizer against a PKI made with rcgen, its truststore and CRLs in a bucket
//! on the local emulator, loaded as the function loads them: a valid certificate is allowed
//! with its principal, a revoked one is denied (and a revocation takes effect at the next CRL
//! refresh), and so is every request without a verifiable, unrevoked certificate, including
//! when the CRL cannot be had.

use std::time::{Duration, SystemTime};

use example_mtls_authorizer::Error;
use example_mtls_authorizer::authorizer::MtlsAuthorizer;
use example_mtls_authorizer::local::{
    AUTHORIZER_EVENT, CRL_KEY, DAY, ISSUING_CA_SERIAL, Pki, Stack, TRUSTSTORE_KEY,
    authorizer_event, client_params,
};
use rcgen::ExtendedKeyUsagePurpose;
use serde_json::{Value, json};

const TTL: Duration = Duration::from_secs(300);

async fn stack() -> Stack {
    Stack::start()
        .await
        .expect("PKI and bucket on the emulator")
}

async fn allowed(authorizer: &MtlsAuthorizer, pem: Option<&str>, now: SystemTime) -> bool {
    authorizer
        .authorize_at(authorizer_event(pem).expect("event"), now)
        .await
        .is_authorized
}

#[tokio::test]
async fn a_valid_certificate_is_allowed_with_its_principal() {
    let stack = stack().await;
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let pem = stack
        .pki
        .client(client_params("partner-1.example.com", 0x1001))
        .expect("client");
    let response = authorizer
        .authorize_at(
            authorizer_event(Some(&pem)).expect("event"),
            SystemTime::now(),
        )
        .await;
    assert!(response.is_authorized);
    let context = &response.context;
    assert_eq!(context["principal"], "partner-1.example.com");
    assert_eq!(
        context["subjectDN"],
        "C=US,O=Example Partner Inc,CN=partner-1.example.com"
    );
    assert_eq!(
        context["issuerDN"],
        "C=US,O=Example Corp,CN=Partner Issuing CA"
    );
    assert_eq!(context["serialNumber"], "1001");
    assert_eq!(context["fingerprint"].as_str().map(str::len), Some(64));
    assert!(context["notAfter"].as_u64().is_some());
}

#[tokio::test]
async fn a_revoked_certificate_is_denied_and_the_others_are_not() {
    let stack = stack().await;
    stack
        .put_crls(
            &stack
                .pki
                .crls(&[0x1002], &[], SystemTime::now() + 7 * DAY)
                .expect("crls"),
        )
        .await
        .expect("publish");
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let revoked = stack
        .pki
        .client(client_params("partner-2.example.com", 0x1002))
        .expect("client");
    let fine = stack
        .pki
        .client(client_params("partner-3.example.com", 0x1003))
        .expect("client");
    let now = SystemTime::now();
    assert!(!allowed(&authorizer, Some(&revoked), now).await, "revoked");
    assert!(allowed(&authorizer, Some(&fine), now).await, "not revoked");
}

#[tokio::test]
async fn a_revocation_takes_effect_at_the_next_crl_refresh() {
    let stack = stack().await;
    let authorizer = stack
        .authorizer(Duration::from_secs(60))
        .await
        .expect("authorizer");
    let pem = stack
        .pki
        .client(client_params("partner-4.example.com", 0x1004))
        .expect("client");
    let now = SystemTime::now();
    assert!(allowed(&authorizer, Some(&pem), now).await);

    // The CA revokes it and publishes a new CRL.
    stack
        .put_crls(&stack.pki.crls(&[0x1004], &[], now + 7 * DAY).expect("crls"))
        .await
        .expect("publish");
    assert!(
        allowed(&authorizer, Some(&pem), now + Duration::from_secs(30)).await,
        "the cached CRL is used until its TTL passes"
    );
    assert!(
        !allowed(&authorizer, Some(&pem), now + Duration::from_secs(61)).await,
        "refetched after the TTL: revoked"
    );
}

#[tokio::test]
async fn no_certificate_is_denied() {
    let stack = stack().await;
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let now = SystemTime::now();
    assert!(
        !allowed(&authorizer, None, now).await,
        "no clientCert at all"
    );
    for pem in [
        "",
        "   ",
        "CERT_CONTENT",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    ] {
        assert!(!allowed(&authorizer, Some(pem), now).await, "{pem:?}");
    }
}

#[tokio::test]
async fn certificates_the_truststore_does_not_vouch_for_are_denied() {
    let stack = stack().await;
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let now = SystemTime::now();

    // Another PKI with the very same CA names: only the keys differ.
    let impostor = Pki::new("Partner").expect("pki");
    let forged = impostor
        .client(client_params("partner-1.example.com", 0x1001))
        .expect("client");
    assert!(
        !allowed(&authorizer, Some(&forged), now).await,
        "another CA"
    );

    // The issuing CA itself presented as a client certificate.
    assert!(
        !allowed(&authorizer, Some(&stack.pki.issuing.pem()), now).await,
        "a CA"
    );

    // A certificate for servers, not clients.
    let mut server = client_params("partner-5.example.com", 0x1005);
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = stack.pki.client(server).expect("client");
    assert!(
        !allowed(&authorizer, Some(&server), now).await,
        "serverAuth only"
    );

    // Expired, and not yet valid.
    let pem = stack
        .pki
        .client(client_params("partner-6.example.com", 0x1006))
        .expect("client");
    assert!(allowed(&authorizer, Some(&pem), now).await);
    assert!(
        !allowed(&authorizer, Some(&pem), now + 366 * DAY).await,
        "expired"
    );
    assert!(
        !allowed(&authorizer, Some(&pem), now - 2 * DAY).await,
        "not yet valid"
    );
}

#[tokio::test]
async fn a_revoked_issuing_ca_takes_its_clients_with_it() {
    let stack = stack().await;
    stack
        .put_crls(
            &stack
                .pki
                .crls(&[], &[ISSUING_CA_SERIAL], SystemTime::now() + 7 * DAY)
                .expect("crls"),
        )
        .await
        .expect("publish");
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let pem = stack
        .pki
        .client(client_params("partner-7.example.com", 0x1007))
        .expect("client");
    assert!(!allowed(&authorizer, Some(&pem), SystemTime::now()).await);
}

#[tokio::test]
async fn without_a_current_crl_every_certificate_is_denied() {
    let now = SystemTime::now();

    // The CRL object is missing.
    let stack = stack().await;
    stack
        .s3
        .delete_object()
        .bucket(&stack.bucket)
        .key(CRL_KEY)
        .send()
        .await
        .expect("delete");
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let pem = stack
        .pki
        .client(client_params("partner-8.example.com", 0x1008))
        .expect("client");
    assert!(!allowed(&authorizer, Some(&pem), now).await, "no CRL");

    // The CRLs are past their nextUpdate (the CA stopped publishing).
    let stack = self::stack().await;
    stack
        .put_crls(
            &stack
                .pki
                .crls(&[], &[], now - Duration::from_secs(60))
                .expect("crls"),
        )
        .await
        .expect("publish");
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let pem = stack
        .pki
        .client(client_params("partner-8.example.com", 0x1008))
        .expect("client");
    assert!(!allowed(&authorizer, Some(&pem), now).await, "stale CRL");

    // Only the issuing CA's CRL, not the root's: the issuing CA's status is unknown.
    let stack = self::stack().await;
    let both = stack.pki.crls(&[], &[], now + 7 * DAY).expect("crls");
    let issuing_only = &both[both[1..].find("-----BEGIN").map_or(0, |i| i + 1)..];
    stack.put_crls(issuing_only).await.expect("publish");
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let pem = stack
        .pki
        .client(client_params("partner-8.example.com", 0x1008))
        .expect("client");
    assert!(
        !allowed(&authorizer, Some(&pem), now).await,
        "root CRL missing"
    );
}

#[tokio::test]
async fn malformed_events_are_denied_never_a_panic() {
    let stack = stack().await;
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let pem = stack
        .pki
        .client(client_params("partner-9.example.com", 0x1009))
        .expect("client");
    let good = authorizer_event(Some(&pem)).expect("event");
    let now = SystemTime::now();
    assert!(
        authorizer
            .authorize_at(good.clone(), now)
            .await
            .is_authorized
    );

    let mut cases: Vec<(&str, Value)> =
        vec![("null", Value::Null), ("a list", json!([good.clone()]))];
    let mut edited = |what: &'static str, path: &[&str], value: Value| {
        let mut event = good.clone();
        let mut target = &mut event;
        for key in path {
            target = &mut target[*key];
        }
        *target = value;
        cases.push((what, event));
    };
    edited("payload 1.0", &["version"], json!("1.0"));
    edited(
        "clientCert a string",
        &["requestContext", "authentication", "clientCert"],
        json!(pem),
    );
    edited(
        "clientCertPem a number",
        &[
            "requestContext",
            "authentication",
            "clientCert",
            "clientCertPem",
        ],
        json!(7),
    );
    edited("requestContext missing", &["requestContext"], Value::Null);
    for (what, event) in cases {
        assert!(
            !authorizer.authorize_at(event, now).await.is_authorized,
            "{what}"
        );
    }
}

#[tokio::test]
async fn the_sample_event_is_shaped_as_api_gateway_sends_it() {
    let stack = stack().await;
    let authorizer = stack.authorizer(TTL).await.expect("authorizer");
    let now = SystemTime::now();
    let sample: Value = serde_json::from_str(AUTHORIZER_EVENT).expect("json");
    assert!(
        !authorizer
            .authorize_at(sample.clone(), now)
            .await
            .is_authorized,
        "its certificate is of the mtls-truststore example's PKI, which this truststore does not hold"
    );
    let mut event = sample;
    let pem = stack
        .pki
        .client(client_params("partner-1.example.com", 0x2001))
        .expect("client");
    event["requestContext"]["authentication"]["clientCert"]["clientCertPem"] = json!(pem);
    assert!(authorizer.authorize_at(event, now).await.is_authorized);
}

#[tokio::test]
async fn a_missing_or_empty_truststore_stops_the_function_from_starting() {
    let stack = stack().await;
    let mut config = stack.config(TTL);
    config.truststore.key = "missing.pem".into();
    let result = MtlsAuthorizer::load(stack.s3.clone(), &config).await;
    assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");

    stack
        .put(TRUSTSTORE_KEY, "no certificates here")
        .await
        .expect("put");
    let result = stack.authorizer(TTL).await;
    assert!(result.is_err(), "{result:?}");
}
