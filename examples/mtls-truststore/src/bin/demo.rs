//! `cargo xtask demo` for the truststore custom resource: what CloudFormation does with it,
//! on the local emulator. Create (a root inline, the issuing CA from S3), Update (a second
//! root: a new object version), the cleanup Delete of the replaced version, then a Create that
//! fails (a client certificate given as a CA) and the rollback Delete that follows it. Each
//! answer is caught by a local stand-in for the pre-signed `ResponseURL` and printed; the
//! final truststore is written to `target/demo/truststore.pem`.
//!
//! Run with `cargo xtask demo` (it starts the emulator and sets `LAMBDAKIT_EMULATOR_URL`), or
//! `cargo run -p example-mtls-truststore --features local --bin mtls-truststore-demo` with the
//! emulator running.

use example_mtls_truststore::BoxError;
use example_mtls_truststore::local::{
    CLIENT_PEM, CREATE_EVENT, DELETE_EVENT, Stack, UPDATE_EVENT, versions,
};
use serde_json::{Value, json};

async fn step(stack: &Stack, what: &str, event: Value) -> Result<Value, BoxError> {
    let (_, captured) = stack.invoke(event).await?;
    let body = captured.json();
    println!(
        "{what}: PUT {} -> {}\n  PhysicalResourceId {}\n  Reason {}\n  Data {}",
        captured.uri.split('?').next().unwrap_or_default(),
        body["Status"],
        body["PhysicalResourceId"],
        body["Reason"],
        body["Data"]
    );
    Ok(body)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    lambdakit_test_support::init_tracing();
    let out = std::env::var_os("LAMBDAKIT_DEMO_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| lambdakit_test_support::workspace_root().join("target/demo"));
    std::fs::create_dir_all(&out)?;

    let stack = Stack::start().await?;
    println!("versioned bucket {} on the emulator", stack.bucket);

    // 1. Create: the root CA inline, the issuing CA from CertificateKeys.
    let created = step(&stack, "Create", stack.request(CREATE_EVENT)?).await?;

    // 2. Update: a second root added; a new version, a new physical id.
    let mut update = stack.request(UPDATE_EVENT)?;
    update["PhysicalResourceId"] = created["PhysicalResourceId"].clone();
    let updated = step(&stack, "Update", update).await?;

    // 3. CloudFormation's cleanup: Delete of the replaced physical id (RetainOnDelete "false"
    //    in the sample, so that version goes; the new one stays).
    let mut cleanup = stack.request(DELETE_EVENT)?;
    cleanup["PhysicalResourceId"] = created["PhysicalResourceId"].clone();
    step(&stack, "Delete (cleanup of the replaced version)", cleanup).await?;
    println!(
        "versions of truststore.pem now: {:?}",
        versions(&stack.s3, &stack.bucket, "truststore.pem").await?
    );

    // 4. A Create that fails: a client certificate is not a CA. Then the rollback's Delete.
    let mut bad = stack.request(CREATE_EVENT)?;
    bad["ResourceProperties"]["Key"] = json!("broken/truststore.pem");
    bad["ResourceProperties"]["Certificates"] = json!([CLIENT_PEM]);
    bad["ResourceProperties"]
        .as_object_mut()
        .ok_or("properties")?
        .remove("CertificateKeys");
    let failed = step(&stack, "Create (a client certificate)", bad).await?;
    let mut rollback = stack.request(DELETE_EVENT)?;
    rollback["PhysicalResourceId"] = failed["PhysicalResourceId"].clone();
    step(&stack, "Delete (rollback of the failed Create)", rollback).await?;

    // The truststore API Gateway would read.
    let version = updated["Data"]["ObjectVersion"]
        .as_str()
        .ok_or("no version")?;
    let object = stack
        .s3
        .get_object()
        .bucket(&stack.bucket)
        .key("truststore.pem")
        .version_id(version)
        .send()
        .await?;
    let pem = object.body.collect().await?.into_bytes();
    let path = out.join("truststore.pem");
    std::fs::write(&path, &pem)?;
    println!(
        "truststore version {version}: {} bytes, written to {}",
        pem.len(),
        path.display()
    );
    Ok(())
}
