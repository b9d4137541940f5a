//! The custom resource on one machine: a versioned bucket on the local AWS emulator (moto's
//! server, `LAMBDAKIT_EMULATOR_URL`), the requests CloudFormation would send, built from the
//! samples in `events/`, and [`ResponseUrl`], a local server standing in for the pre-signed
//! S3 URL the answers are PUT to.
//!
//! For the demo and the tests; compiled only with the feature `local`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambdakit_test_support::emulator;
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

use crate::BoxError;
use crate::custom_resource::{Response, Runner};
use crate::respond::Responder;
use crate::truststore::TrustStore;

/// The sample Create request.
pub const CREATE_EVENT: &str = include_str!("../events/create.json");
/// The sample Update request (a second root CA added).
pub const UPDATE_EVENT: &str = include_str!("../events/update.json");
/// The sample Delete request.
pub const DELETE_EVENT: &str = include_str!("../events/delete.json");
/// The sample root CA (RSA 2048).
pub const ROOT_CA_PEM: &str = include_str!("../events/ca/root-ca.pem");
/// A second, unrelated root CA (ECDSA P-384).
pub const ROOT_CA_2_PEM: &str = include_str!("../events/ca/root-ca-2.pem");
/// The sample issuing CA (ECDSA P-256), signed by [`ROOT_CA_PEM`].
pub const ISSUING_CA_PEM: &str = include_str!("../events/ca/issuing-ca.pem");
/// A client certificate issued by [`ISSUING_CA_PEM`]: not a CA.
pub const CLIENT_PEM: &str = include_str!("../events/ca/client.pem");
/// The key the sample requests name in `CertificateKeys`.
pub const ISSUING_CA_KEY: &str = "ca/issuing-ca.pem";

/// An S3 client for the emulator (path-style).
pub fn s3() -> aws_sdk_s3::Client {
    emulator::s3()
}

/// Creates a bucket with versioning enabled, as the template's `TrustStoreBucket`.
pub async fn versioned_bucket(s3: &aws_sdk_s3::Client) -> Result<String, BoxError> {
    let bucket = emulator::bucket(s3, "truststore").await;
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await?;
    Ok(bucket)
}

/// Writes `text` to `bucket`/`key`.
pub async fn upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    text: &str,
) -> Result<(), BoxError> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(text.as_bytes().to_vec()))
        .send()
        .await?;
    Ok(())
}

/// The version ids of `key`, newest first.
pub async fn versions(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<String>, BoxError> {
    let listed = s3
        .list_object_versions()
        .bucket(bucket)
        .prefix(key)
        .send()
        .await?;
    Ok(listed
        .versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .filter_map(|v| v.version_id().map(str::to_owned))
        .collect())
}

/// One of the sample requests, answering to `response_url`, with `Bucket` (in the new and
/// the old properties) set to `bucket`.
pub fn request(sample: &str, response_url: &str, bucket: &str) -> Result<Value, BoxError> {
    let mut event: Value = serde_json::from_str(sample)?;
    event["ResponseURL"] = json!(response_url);
    for properties in ["ResourceProperties", "OldResourceProperties"] {
        if let Some(p) = event.get_mut(properties).and_then(Value::as_object_mut) {
            p.insert("Bucket".into(), json!(bucket));
        }
    }
    Ok(event)
}

/// A request seen by [`ResponseUrl`].
#[derive(Debug, Clone)]
pub struct Captured {
    /// The HTTP method.
    pub method: String,
    /// The path and query.
    pub uri: String,
    /// The headers, names lowercased.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
    /// The status it was answered with.
    pub status: u16,
}

impl Captured {
    /// The body as JSON (`Value::Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A local HTTP server standing in for CloudFormation's pre-signed `ResponseURL`: it records
/// every request and answers `200` (as S3 does), or a chosen status for the next few.
#[derive(Debug)]
pub struct ResponseUrl {
    addr: SocketAddr,
    seen: Mutex<mpsc::UnboundedReceiver<Captured>>,
    failures: Arc<(AtomicUsize, AtomicUsize)>,
    task: tokio::task::JoinHandle<()>,
}

impl ResponseUrl {
    /// Starts the server on `127.0.0.1` and a free port.
    pub async fn start() -> Result<Self, BoxError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let failures = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let shared = Arc::clone(&failures);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (tx, failures) = (tx.clone(), Arc::clone(&shared));
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let (tx, failures) = (tx.clone(), Arc::clone(&failures));
                            async move {
                                let (parts, body) = request.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                let failing = failures
                                    .0
                                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                        n.checked_sub(1)
                                    })
                                    .is_ok();
                                let status = if failing {
                                    failures.1.load(Ordering::SeqCst) as u16
                                } else {
                                    200
                                };
                                let _ = tx.send(Captured {
                                    method: parts.method.to_string(),
                                    uri: parts.uri.to_string(),
                                    headers: parts
                                        .headers
                                        .iter()
                                        .map(|(k, v)| {
                                            (
                                                k.as_str().to_owned(),
                                                v.to_str().unwrap_or("").to_owned(),
                                            )
                                        })
                                        .collect(),
                                    body: body.to_vec(),
                                    status,
                                });
                                hyper::Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::new()))
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            seen: Mutex::new(rx),
            failures,
            task,
        })
    }

    /// A URL shaped like CloudFormation's for the request `request_id`.
    pub fn url(&self, request_id: &str) -> String {
        format!(
            "http://{}/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/local/1%7CTrustStore%7C{request_id}\
             ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host&X-Amz-Expires=7200&X-Amz-Signature=00",
            self.addr
        )
    }

    /// Answers the next `count` requests with `status` (a 503, a 403, ...).
    pub fn fail_next(&self, count: usize, status: u16) {
        self.failures.1.store(usize::from(status), Ordering::SeqCst);
        self.failures.0.store(count, Ordering::SeqCst);
    }

    /// The next request seen, waiting up to `timeout`.
    pub async fn next(&self, timeout: Duration) -> Option<Captured> {
        let mut seen = self.seen.lock().await;
        tokio::time::timeout(timeout, seen.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every request seen and not yet taken, without waiting.
    pub async fn drain(&self) -> Vec<Captured> {
        let mut seen = self.seen.lock().await;
        let mut out = Vec::new();
        while let Ok(captured) = seen.try_recv() {
            out.push(captured);
        }
        out
    }
}

impl Drop for ResponseUrl {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The custom resource on the emulator: a versioned bucket, the provider, the runner and the
/// stand-in `ResponseURL`.
#[derive(Debug)]
pub struct Stack {
    /// S3 on the emulator.
    pub s3: aws_sdk_s3::Client,
    /// The versioned truststore bucket, holding the issuing CA at [`ISSUING_CA_KEY`].
    pub bucket: String,
    /// The provider.
    pub store: TrustStore,
    /// The runner, sending to `http://` URLs.
    pub runner: Runner,
    /// Where the answers go.
    pub response_url: ResponseUrl,
}

impl Stack {
    /// Creates the bucket, uploads the issuing CA and starts the stand-in `ResponseURL`.
    pub async fn start() -> Result<Self, BoxError> {
        let s3 = self::s3();
        let bucket = versioned_bucket(&s3).await?;
        upload(&s3, &bucket, ISSUING_CA_KEY, ISSUING_CA_PEM).await?;
        Ok(Self {
            store: TrustStore::new(s3.clone()),
            runner: Runner::new(Responder::allowing_http()?.attempts(3))
                .response_time(Duration::from_secs(10)),
            response_url: ResponseUrl::start().await?,
            s3,
            bucket,
        })
    }

    /// One of the sample requests for this stack's bucket and `ResponseURL`.
    pub fn request(&self, sample: &str) -> Result<Value, BoxError> {
        let id = serde_json::from_str::<Value>(sample)?["RequestId"]
            .as_str()
            .unwrap_or("request")
            .to_owned();
        request(sample, &self.response_url.url(&id), &self.bucket)
    }

    /// Runs the provider on `event` as the Lambda function does (30 seconds of budget) and
    /// returns what the `ResponseURL` received.
    pub async fn invoke(&self, event: Value) -> Result<(Response, Captured), BoxError> {
        let store = self.store.clone();
        let response = self
            .runner
            .run(event, Duration::from_secs(30), move |request| {
                store.handle(request)
            })
            .await?;
        let captured = self
            .response_url
            .next(Duration::from_secs(5))
            .await
            .ok_or("the ResponseURL received nothing")?;
        Ok((response, captured))
    }
}
