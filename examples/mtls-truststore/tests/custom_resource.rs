//! The custom resource end to end: the sample CloudFormation requests run against a versioned
//! bucket on the local emulator, each answer caught by a local stand-in for the pre-signed
//! `ResponseURL`. What CloudFormation relies on: every request is answered with a `PUT` of the
//! right JSON, success or not; Create and Update write object versions API Gateway can pin;
//! Delete removes only what it is told to, and succeeds for a resource that never was created.

use std::time::{Duration, Instant};

use example_mtls_truststore::Error;
use example_mtls_truststore::bundle::pem_blocks;
use example_mtls_truststore::custom_resource::{Outcome, Runner, Status};
use example_mtls_truststore::local::{
    CLIENT_PEM, CREATE_EVENT, Captured, DELETE_EVENT, ISSUING_CA_KEY, ISSUING_CA_PEM, ROOT_CA_PEM,
    Stack, UPDATE_EVENT, upload, versions,
};
use example_mtls_truststore::respond::Responder;
use example_mtls_truststore::truststore::TrustStore;
use lambdakit_test_support::emulator;
use serde_json::{Value, json};

async fn stack() -> Stack {
    Stack::start().await.expect("stack on the emulator")
}

async fn object_version(stack: &Stack, key: &str, version: &str) -> Option<String> {
    match stack
        .s3
        .get_object()
        .bucket(&stack.bucket)
        .key(key)
        .version_id(version)
        .send()
        .await
    {
        Ok(object) => Some(
            String::from_utf8(
                object
                    .body
                    .collect()
                    .await
                    .expect("body")
                    .into_bytes()
                    .to_vec(),
            )
            .expect("utf-8"),
        ),
        Err(_) => None,
    }
}

fn subjects(pem: &str) -> Vec<String> {
    use x509_parser::prelude::FromDer as _;
    pem_blocks(pem.as_bytes())
        .expect("pem")
        .iter()
        .map(|b| {
            x509_parser::certificate::X509Certificate::from_der(&b.decode().expect("base64"))
                .expect("cert")
                .1
                .subject()
                .to_string()
        })
        .collect()
}

fn assert_failed(captured: &Captured, reason_part: &str) -> String {
    let body = captured.json();
    assert_eq!(body["Status"], "FAILED", "{body}");
    let reason = body["Reason"].as_str().expect("a reason").to_owned();
    assert!(
        reason.contains(reason_part),
        "reason {reason:?} lacks {reason_part:?}"
    );
    reason
}

/// A Create request with its properties replaced by `properties` (Bucket kept).
fn create_with(stack: &Stack, properties: Value) -> Value {
    let mut event = stack.request(CREATE_EVENT).expect("event");
    let bucket = event["ResourceProperties"]["Bucket"].clone();
    event["ResourceProperties"] = properties;
    if event["ResourceProperties"].get("Bucket").is_none() {
        event["ResourceProperties"]["Bucket"] = bucket;
    }
    event
}

#[tokio::test]
async fn create_writes_the_chain_root_first_and_answers_with_the_version() {
    let stack = stack().await;
    let (_, captured) = stack
        .invoke(stack.request(CREATE_EVENT).expect("event"))
        .await
        .expect("invoke");

    // The PUT CloudFormation's pre-signed URL expects: no Content-Type (it is not signed).
    assert_eq!(captured.method, "PUT");
    assert!(
        captured
            .uri
            .contains("%7CTrustStore%7C82304eb2-bdda-469f-a33b-a3f1406d0a52?"),
        "{}",
        captured.uri
    );
    assert!(
        !captured.headers.contains_key("content-type"),
        "{:?}",
        captured.headers
    );
    assert_eq!(
        captured.headers.get("content-length").map(String::as_str),
        Some(captured.body.len().to_string().as_str())
    );

    let body = captured.json();
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["RequestId"], "82304eb2-bdda-469f-a33b-a3f1406d0a52");
    assert_eq!(body["LogicalResourceId"], "TrustStore");
    assert_eq!(
        body["StackId"],
        "arn:aws:cloudformation:us-east-1:123456789012:stack/mtls-truststore/16580499-7622-4a9c-b32f-4eba35da93da"
    );
    let uri = format!("s3://{}/truststore.pem", stack.bucket);
    assert_eq!(body["Data"]["TrustStoreUri"], uri.as_str());
    assert_eq!(body["Data"]["CertificateCount"], "2");
    let version = body["Data"]["ObjectVersion"].as_str().expect("version");
    assert_eq!(
        body["PhysicalResourceId"],
        format!("{uri}?versionId={version}").as_str()
    );

    // The version is the object's only one, and holds the root (inline) then the issuing CA
    // (from CertificateKeys), as plain CERTIFICATE blocks.
    assert_eq!(
        versions(&stack.s3, &stack.bucket, "truststore.pem")
            .await
            .expect("versions"),
        vec![version.to_owned()]
    );
    let stored = object_version(&stack, "truststore.pem", version)
        .await
        .expect("stored");
    assert_eq!(
        subjects(&stored),
        [
            "C=US, O=Example Corp, CN=Example Corp Partner Root CA",
            "C=US, O=Example Corp, CN=Example Corp Partner Issuing CA 1"
        ]
    );
    assert!(stored.starts_with("-----BEGIN CERTIFICATE-----\n"));
}

#[tokio::test]
async fn the_chain_is_ordered_and_deduplicated_whatever_the_input_order() {
    let stack = stack().await;
    // Issuing CA first, the root twice (once with Windows line ends and a comment).
    let noisy_root = format!("# our root\r\n{}", ROOT_CA_PEM.replace('\n', "\r\n"));
    let event = create_with(
        &stack,
        json!({
            "Key": "partners/truststore.pem",
            "Certificates": [ISSUING_CA_PEM, noisy_root],
            "CertificateKeys": [format!("s3://{}/ca/root-ca.pem", stack.bucket)],
        }),
    );
    upload(&stack.s3, &stack.bucket, "ca/root-ca.pem", ROOT_CA_PEM)
        .await
        .expect("upload");
    let (_, captured) = stack.invoke(event).await.expect("invoke");
    let body = captured.json();
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["Data"]["CertificateCount"], "2");
    assert!(
        body["Reason"]
            .as_str()
            .is_some_and(|r| r.contains("1 duplicate")),
        "{body}"
    );
    let version = body["Data"]["ObjectVersion"].as_str().expect("version");
    let stored = object_version(&stack, "partners/truststore.pem", version)
        .await
        .expect("stored");
    assert_eq!(
        stored,
        format!("{ROOT_CA_PEM}{ISSUING_CA_PEM}"),
        "openssl's PEM output is the canonical form"
    );
}

#[tokio::test]
async fn update_writes_a_new_version_and_leaves_the_old_one() {
    let stack = stack().await;
    let (_, created) = stack
        .invoke(stack.request(CREATE_EVENT).expect("event"))
        .await
        .expect("create");
    let first = created.json();
    let first_id = first["PhysicalResourceId"].as_str().expect("id").to_owned();
    let first_version = first["Data"]["ObjectVersion"]
        .as_str()
        .expect("version")
        .to_owned();

    let mut update = stack.request(UPDATE_EVENT).expect("event");
    update["PhysicalResourceId"] = json!(first_id);
    let (_, updated) = stack.invoke(update).await.expect("update");
    let second = updated.json();
    assert_eq!(second["Status"], "SUCCESS", "{second}");
    let second_version = second["Data"]["ObjectVersion"].as_str().expect("version");
    assert_ne!(second_version, first_version);
    assert_ne!(
        second["PhysicalResourceId"],
        first_id.as_str(),
        "a new physical id: CloudFormation then deletes the replaced version"
    );
    assert_eq!(second["Data"]["CertificateCount"], "3");

    let all = versions(&stack.s3, &stack.bucket, "truststore.pem")
        .await
        .expect("versions");
    assert_eq!(all, vec![second_version.to_owned(), first_version.clone()]);
    let new = object_version(&stack, "truststore.pem", second_version)
        .await
        .expect("new");
    assert_eq!(subjects(&new).len(), 3);
    assert!(
        subjects(&new)[..2].iter().all(|s| s.contains("Root CA")),
        "roots first"
    );
    let old = object_version(&stack, "truststore.pem", &first_version)
        .await
        .expect("the old version stays");
    assert_eq!(subjects(&old).len(), 2);
}

#[tokio::test]
async fn update_with_the_same_certificates_keeps_the_version() {
    let stack = stack().await;
    let (_, created) = stack
        .invoke(stack.request(CREATE_EVENT).expect("event"))
        .await
        .expect("create");
    let first = created.json();

    // Only RetainOnDelete changes: same bundle, nothing replaced.
    let mut update = stack.request(UPDATE_EVENT).expect("event");
    update["PhysicalResourceId"] = first["PhysicalResourceId"].clone();
    update["ResourceProperties"] = update["OldResourceProperties"].clone();
    update["ResourceProperties"]["RetainOnDelete"] = json!("true");
    let (_, updated) = stack.invoke(update).await.expect("update");
    let second = updated.json();
    assert_eq!(second["Status"], "SUCCESS", "{second}");
    assert_eq!(second["PhysicalResourceId"], first["PhysicalResourceId"]);
    assert_eq!(second["Data"], first["Data"]);
    assert_eq!(
        versions(&stack.s3, &stack.bucket, "truststore.pem")
            .await
            .expect("versions")
            .len(),
        1
    );
}

#[tokio::test]
async fn delete_removes_only_its_own_version_and_only_when_told() {
    let stack = stack().await;
    let (_, created) = stack
        .invoke(stack.request(CREATE_EVENT).expect("event"))
        .await
        .expect("create");
    let first = created.json();
    let mut update = stack.request(UPDATE_EVENT).expect("event");
    update["PhysicalResourceId"] = first["PhysicalResourceId"].clone();
    let (_, updated) = stack.invoke(update).await.expect("update");
    let second = updated.json();
    let second_version = second["Data"]["ObjectVersion"].as_str().expect("version");

    // The cleanup Delete of the replaced version (RetainOnDelete "false" in the sample).
    let mut delete = stack.request(DELETE_EVENT).expect("event");
    delete["PhysicalResourceId"] = first["PhysicalResourceId"].clone();
    let (_, deleted) = stack.invoke(delete.clone()).await.expect("delete");
    let body = deleted.json();
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["PhysicalResourceId"], first["PhysicalResourceId"]);
    assert_eq!(
        versions(&stack.s3, &stack.bucket, "truststore.pem")
            .await
            .expect("versions"),
        vec![second_version.to_owned()],
        "the newer version, which the domain now pins, is untouched"
    );

    // The same Delete again (a retry) succeeds.
    let (_, again) = stack.invoke(delete).await.expect("delete again");
    assert_eq!(again.json()["Status"], "SUCCESS");

    // Deleting the current one without RetainOnDelete "false" keeps it.
    let mut keep = stack.request(DELETE_EVENT).expect("event");
    keep["PhysicalResourceId"] = second["PhysicalResourceId"].clone();
    keep["ResourceProperties"]
        .as_object_mut()
        .expect("properties")
        .remove("RetainOnDelete");
    let (_, kept) = stack.invoke(keep).await.expect("delete");
    assert_eq!(kept.json()["Status"], "SUCCESS");
    assert!(
        kept.json()["Reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("kept"))
    );
    assert_eq!(
        versions(&stack.s3, &stack.bucket, "truststore.pem")
            .await
            .expect("versions"),
        vec![second_version.to_owned()]
    );
}

#[tokio::test]
async fn invalid_pem_fails_with_a_reason_and_the_rollback_delete_succeeds() {
    let stack = stack().await;
    let event = create_with(
        &stack,
        json!({
            "Key": "truststore.pem",
            "Certificates": [ROOT_CA_PEM, "-----BEGIN CERTIFICATE-----\nMIIB%%%\n-----END CERTIFICATE-----\n"],
        }),
    );
    let (response, captured) = stack.invoke(event).await.expect("invoke");
    assert_eq!(response.status, Status::Failed);
    assert_failed(
        &captured,
        "Certificates[1]: the CERTIFICATE block of line 1 is not valid base64",
    );
    let physical_id = captured.json()["PhysicalResourceId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        physical_id,
        "create-failed:82304eb2-bdda-469f-a33b-a3f1406d0a52"
    );
    assert!(
        emulator::object(&stack.s3, &stack.bucket, "truststore.pem")
            .await
            .is_none(),
        "nothing written"
    );

    // CloudFormation rolls back with a Delete of that id: it must succeed.
    let mut delete = stack.request(DELETE_EVENT).expect("event");
    delete["PhysicalResourceId"] = json!(physical_id);
    let (_, deleted) = stack.invoke(delete).await.expect("delete");
    assert_eq!(deleted.json()["Status"], "SUCCESS");
    assert_eq!(deleted.json()["PhysicalResourceId"], physical_id.as_str());
}

#[tokio::test]
async fn what_is_not_a_ca_chain_fails_with_what_to_fix() {
    let stack = stack().await;
    let cases = [
        (
            json!({"Key": "t.pem", "Certificates": CLIENT_PEM}),
            "not a CA certificate",
        ),
        (
            json!({"Key": "t.pem", "Certificates": ISSUING_CA_PEM}),
            "Example Corp Partner Root CA, which is not in the bundle",
        ),
        (
            json!({"Key": "t.pem", "Certificates": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIE=\n-----END PRIVATE KEY-----\n"}),
            "a PRIVATE KEY, not a CERTIFICATE",
        ),
        (
            json!({"Key": "t.pem", "Certificates": ROOT_CA_PEM.replace("-----END CERTIFICATE-----\n", "")}),
            "has no END line",
        ),
    ];
    for (properties, reason) in cases {
        let (_, captured) = stack
            .invoke(create_with(&stack, properties))
            .await
            .expect("invoke");
        assert_failed(&captured, reason);
    }
}

#[tokio::test]
async fn missing_properties_fail_with_a_reason() {
    let stack = stack().await;
    let cases = [
        (json!({"Key": "t.pem"}), "no CA certificates"),
        (json!({"Certificates": ROOT_CA_PEM}), "Key is required"),
        (
            json!({"Key": "t.pem", "CertificateKeys": ["ca/missing.pem"]}),
            &format!("s3://{}/ca/missing.pem does not exist", stack.bucket),
        ),
    ];
    for (properties, reason) in cases {
        let (_, captured) = stack
            .invoke(create_with(&stack, properties))
            .await
            .expect("invoke");
        assert_failed(&captured, reason);
    }
    let mut no_bucket = stack.request(CREATE_EVENT).expect("event");
    no_bucket["ResourceProperties"]
        .as_object_mut()
        .expect("properties")
        .remove("Bucket");
    let (_, captured) = stack.invoke(no_bucket).await.expect("invoke");
    assert_failed(&captured, "Bucket is required");

    let mut none = stack.request(CREATE_EVENT).expect("event");
    none.as_object_mut()
        .expect("event")
        .remove("ResourceProperties");
    let (_, captured) = stack.invoke(none).await.expect("invoke");
    assert_failed(&captured, "malformed custom resource request");
}

#[tokio::test]
async fn an_unversioned_bucket_is_refused_before_anything_is_written() {
    let stack = stack().await;
    let plain = emulator::bucket(&stack.s3, "unversioned").await;
    let mut event = stack.request(CREATE_EVENT).expect("event");
    event["ResourceProperties"]["Bucket"] = json!(plain);
    event["ResourceProperties"]["CertificateKeys"] =
        json!([format!("s3://{}/{ISSUING_CA_KEY}", stack.bucket)]);
    let (_, captured) = stack.invoke(event).await.expect("invoke");
    assert_failed(&captured, &format!("bucket {plain} is not versioned"));
    assert!(
        emulator::object(&stack.s3, &plain, "truststore.pem")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_malformed_request_is_still_answered_and_one_without_a_url_is_an_error() {
    let stack = stack().await;
    let mut event = stack.request(CREATE_EVENT).expect("event");
    event["RequestType"] = json!("Replace");
    let (_, captured) = stack.invoke(event).await.expect("invoke");
    assert_failed(&captured, "malformed custom resource request");
    assert_eq!(
        captured.json()["PhysicalResourceId"],
        "create-failed:82304eb2-bdda-469f-a33b-a3f1406d0a52"
    );

    let mut no_url = stack.request(CREATE_EVENT).expect("event");
    no_url.as_object_mut().expect("event").remove("ResponseURL");
    let store = stack.store.clone();
    let result = stack
        .runner
        .run(no_url, Duration::from_secs(5), move |r| store.handle(r))
        .await;
    assert!(matches!(result, Err(Error::Request(_))), "{result:?}");
    assert!(
        stack
            .response_url
            .next(Duration::from_millis(300))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_panicking_provider_is_answered_failed() {
    let stack = stack().await;
    let event = stack.request(CREATE_EVENT).expect("event");
    let response = stack
        .runner
        .run(event, Duration::from_secs(5), |_| async {
            let certificates: Vec<String> = Vec::new();
            // A bug: indexing past the end.
            Ok::<Outcome, Error>(Outcome {
                physical_resource_id: certificates[3].clone(),
                ..Outcome::default()
            })
        })
        .await
        .expect("answered");
    assert_eq!(response.status, Status::Failed);
    let captured = stack
        .response_url
        .next(Duration::from_secs(5))
        .await
        .expect("a PUT");
    assert_failed(&captured, "internal error (panic): index out of bounds");
}

#[tokio::test]
async fn running_out_of_time_is_answered_failed_before_the_function_times_out() {
    let stack = stack().await;
    // S3 that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_url = format!("http://{}", silent.local_addr().expect("addr"));
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let config = aws_sdk_s3::config::Builder::from(&emulator::sdk_config())
        .endpoint_url(silent_url)
        .force_path_style(true)
        .build();
    let store = TrustStore::new(aws_sdk_s3::Client::from_conf(config));

    let started = Instant::now();
    let response = stack
        .runner
        .run(
            stack.request(CREATE_EVENT).expect("event"),
            Duration::from_secs(1),
            move |r| store.handle(r),
        )
        .await
        .expect("answered");
    let captured = stack
        .response_url
        .next(Duration::from_secs(5))
        .await
        .expect("a PUT");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(response.status, Status::Failed);
    assert_failed(&captured, "timed out after 1s");
    held.abort();
}

#[tokio::test]
async fn the_answer_is_retried_on_5xx_and_not_on_403() {
    let stack = stack().await;
    stack.response_url.fail_next(2, 503);
    let (_, captured) = stack
        .invoke(stack.request(CREATE_EVENT).expect("event"))
        .await
        .expect("delivered on the third attempt");
    assert_eq!(captured.status, 503);
    let rest = {
        let mut rest = vec![
            stack
                .response_url
                .next(Duration::from_secs(2))
                .await
                .expect("second"),
        ];
        rest.extend(stack.response_url.next(Duration::from_secs(2)).await);
        rest
    };
    assert_eq!(
        rest.iter().map(|c| c.status).collect::<Vec<_>>(),
        [503, 200]
    );
    assert_eq!(rest[1].body, captured.body, "the same answer each time");

    // An expired URL (403 from S3) is not retried: the invocation fails and logs it.
    stack.response_url.fail_next(5, 403);
    let runner = Runner::new(Responder::allowing_http().expect("responder"));
    let store = stack.store.clone();
    let result = runner
        .run(
            stack.request(DELETE_EVENT).expect("event"),
            Duration::from_secs(5),
            move |r| store.handle(r),
        )
        .await;
    assert!(
        matches!(&result, Err(Error::Respond(m)) if m.contains("403")),
        "{result:?}"
    );
    assert_eq!(stack.response_url.drain().await.len(), 1);
}

#[tokio::test]
async fn the_https_responder_refuses_plain_http() {
    let responder = Responder::https().expect("system roots");
    let result = responder
        .send(
            "http://127.0.0.1:9/x",
            b"{}".to_vec(),
            Duration::from_secs(2),
        )
        .await;
    assert!(matches!(result, Err(Error::Respond(_))), "{result:?}");
}

#[test]
fn the_samples_are_the_shape_cloudformation_sends() {
    use example_mtls_truststore::custom_resource::Request;
    for sample in [CREATE_EVENT, UPDATE_EVENT, DELETE_EVENT] {
        let request: Request = serde_json::from_str(sample).expect("a custom resource request");
        let value: Value = serde_json::from_str(sample).expect("json");
        assert_eq!(value["ResourceType"], "Custom::MtlsTrustStore");
        assert_eq!(
            value["ServiceToken"],
            value["ResourceProperties"]["ServiceToken"]
        );
        drop(request);
    }
}
