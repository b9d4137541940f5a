//! `cargo xtask demo` for the mutual TLS authorizer, on the local emulator: a partner PKI made
//! with rcgen (root CA, issuing CA, two client certificates), its truststore and CRLs in a
//! bucket, the authorizer loaded from them as at cold start. Both partners are allowed; the CA
//! revokes one and publishes a new CRL; after the CRL cache's TTL that partner is denied and
//! the other still allowed. A request without a certificate, and one with a certificate of
//! another CA bearing the same names, are denied. The backend answers an allowed request with
//! the verified caller.
//!
//! Run with `cargo xtask demo` (it starts the emulator and sets `LAMBDAKIT_EMULATOR_URL`), or
//! `cargo run -p example-mtls-authorizer --features local --bin mtls-authorizer-demo` with the
//! emulator running.

use std::time::{Duration, SystemTime};

use example_mtls_authorizer::BoxError;
use example_mtls_authorizer::authorizer::MtlsAuthorizer;
use example_mtls_authorizer::backend;
use example_mtls_authorizer::local::{
    CRL_KEY, DAY, Pki, Stack, TRUSTSTORE_KEY, authorizer_event, backend_request, client_params,
};

async fn show(
    authorizer: &MtlsAuthorizer,
    who: &str,
    pem: Option<&str>,
    now: SystemTime,
) -> Result<(), BoxError> {
    let response = authorizer.authorize_at(authorizer_event(pem)?, now).await;
    let verdict = if response.is_authorized {
        format!("allow, principal {}", response.context["principal"])
    } else {
        "deny (403)".to_owned()
    };
    println!("  {who:<38} {verdict}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    lambdakit_test_support::init_tracing();
    let stack = Stack::start().await?;
    println!(
        "truststore s3://{0}/{TRUSTSTORE_KEY} (root + issuing CA), CRLs s3://{0}/{CRL_KEY}",
        stack.bucket
    );
    let ttl = Duration::from_secs(300);
    let authorizer = stack.authorizer(ttl).await?;
    let alpha = stack
        .pki
        .client(client_params("alpha.partners.example.com", 0x1001))?;
    let beta = stack
        .pki
        .client(client_params("beta.partners.example.com", 0x1002))?;
    let impostor =
        Pki::new("Partner")?.client(client_params("alpha.partners.example.com", 0x1001))?;

    let now = SystemTime::now();
    println!("\nat cold start (nothing revoked):");
    show(&authorizer, "alpha", Some(&alpha), now).await?;
    show(&authorizer, "beta", Some(&beta), now).await?;
    show(&authorizer, "no client certificate", None, now).await?;
    show(
        &authorizer,
        "another CA, same names as ours",
        Some(&impostor),
        now,
    )
    .await?;

    stack
        .put_crls(&stack.pki.crls(&[0x1002], &[], now + 7 * DAY)?)
        .await?;
    println!("\nthe issuing CA revokes beta (serial 1002) and publishes its CRL;");
    println!("{} s later (the CRL cache's TTL):", ttl.as_secs());
    let later = now + ttl + Duration::from_secs(1);
    show(&authorizer, "alpha", Some(&alpha), later).await?;
    show(&authorizer, "beta", Some(&beta), later).await?;

    let allowed = authorizer
        .authorize_at(authorizer_event(Some(&alpha))?, later)
        .await;
    let response = backend::handle(&backend_request(&allowed.context)?);
    println!(
        "\nbackend, behind alpha's request: {} {}",
        response.status(),
        String::from_utf8_lossy(response.body().as_ref())
    );
    Ok(())
}
