//! A local Amazon Textract that replays recorded responses.
//!
//! [`TextractReplay`] listens on `127.0.0.1` (a free port), serves HTTP/1.1 with keep-alive,
//! and speaks Textract's wire protocol (`awsJson1_1`): every call is a `POST /` with the header
//! `X-Amz-Target: Textract.<Operation>` and a JSON body; errors are `400` with
//! `{"__type": "<Exception>", "message": …}` and the header `x-amzn-errortype`, so an
//! `aws-sdk-textract` client pointed at [`TextractReplay::endpoint_url`] gets the same typed
//! errors as from the service.
//!
//! Answers come from recorded responses (the JSON the service, `boto3` or the AWS CLI
//! returned), registered with [`TextractReplay::add`] under the S3 object key they stand for:
//!
//! | operation | answer |
//! | --- | --- |
//! | `DetectDocumentText`, `AnalyzeDocument` | the recording's `DocumentMetadata`, `Blocks` and model version; its `JobStatus`, `NextToken`, `StatusMessage`, `Warnings` and `ResponseMetadata` are dropped |
//! | `StartDocumentTextDetection`, `StartDocumentAnalysis` | `{"JobId": …}` (the same id again for a repeated `ClientRequestToken`) |
//! | `GetDocumentTextDetection`, `GetDocumentAnalysis` | `IN_PROGRESS` (no blocks) for each job's first [`TextractReplay::in_progress_polls`] calls, then the recording's `JobStatus` (`SUCCEEDED` when absent), `StatusMessage` and `Warnings`, with its blocks in chunks of `MaxResults` (default and most 1000) linked by an opaque `NextToken`; a `FAILED` or `IN_PROGRESS` recording has no blocks |
//!
//! Errors, as the service names them: an S3 key with no recording (and no default) is
//! `InvalidS3ObjectException`; a `Bytes` document with no default recording is
//! `UnsupportedDocumentException`; an unknown job id, or a job of the other kind, is
//! `InvalidJobIdException`; `MaxResults` outside 1..=1000, a foreign `NextToken`, missing or
//! empty `FeatureTypes`, `QUERIES` without `QueriesConfig`, or a missing document is
//! `InvalidParameterException`; a body that is not a JSON object is `SerializationException`;
//! a body over 10 MiB is `DocumentTooLargeException`; any other operation (or method) is
//! `UnknownOperationException`. Bad input never panics the server.
//!
//! ```no_run
//! # async fn demo() {
//! use lambdakit_test_support::textract_replay::TextractReplay;
//!
//! let replay = TextractReplay::start().await;
//! replay.add(
//!     "scans/receipt.jpg",
//!     &lambdakit_test_support::fixture("crates/textract/tests/fixtures/receipt.detect.json"),
//! );
//! replay.in_progress_polls(2);
//! // Point an aws-sdk-textract client at it with `.endpoint_url(replay.endpoint_url())`.
//! println!("{}", replay.endpoint_url());
//! # }
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The key whose recording answers documents no other key matches, and `Bytes` documents.
pub const DEFAULT_KEY: &str = "*";
/// The largest request body accepted; larger ones get `DocumentTooLargeException`.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// The service's default and largest `MaxResults` for `Get*` calls.
pub const MAX_RESULTS: usize = 1000;

const TARGET_PREFIX: &str = "Textract.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TOKEN_PREFIX: &str = "lambdakit-replay";
const FEATURES: [&str; 5] = ["TABLES", "FORMS", "QUERIES", "SIGNATURES", "LAYOUT"];

/// A running local Textract; it stops when dropped.
pub struct TextractReplay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
}

impl fmt::Debug for TextractReplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        let mut keys: Vec<&str> = state.recordings.keys().map(String::as_str).collect();
        keys.sort_unstable();
        f.debug_struct("TextractReplay")
            .field("addr", &self.addr)
            .field("recordings", &keys)
            .field("in_progress_polls", &state.in_progress_polls)
            .field("jobs", &state.jobs.len())
            .field("requests", &state.requests.len())
            .finish_non_exhaustive()
    }
}

impl TextractReplay {
    /// Binds `127.0.0.1` on a free port and starts serving, with no recordings yet.
    ///
    /// Must be called inside a tokio runtime.
    ///
    /// # Panics
    /// When no loopback port can be bound: the test cannot run.
    pub async fn start() -> Self {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .unwrap_or_else(|e| panic!("cannot bind a loopback port for TextractReplay: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("cannot read TextractReplay's address: {e}"));
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            request_ids: AtomicU64::new(1),
        });
        let (stop, stopped) = watch::channel(false);
        let for_connections = Arc::clone(&shared);
        let accept = tokio::spawn(crate::accept::accept_loop(
            listener,
            stopped,
            move |stream, stopped| serve_connection(stream, Arc::clone(&for_connections), stopped),
        ));
        Self {
            addr,
            shared,
            stop,
            accept: Some(accept),
        }
    }

    /// Its base URL, `http://127.0.0.1:<port>`, without a trailing slash: the SDK's
    /// `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Registers a recorded response for documents whose `S3Object.Name` is `key`; the key
    /// [`DEFAULT_KEY`] (`"*"`) answers every other S3 key and `Bytes` documents. A second
    /// recording for a key replaces the first; jobs already started keep theirs.
    ///
    /// # Panics
    /// When `response_json` is not a JSON object, or its `Blocks` is not an array: a broken
    /// recording is a broken test.
    pub fn add(&self, key: &str, response_json: &[u8]) {
        let recording = Recording::parse(response_json)
            .unwrap_or_else(|e| panic!("recording for {key:?} is not a Textract response: {e}"));
        self.shared
            .lock()
            .recordings
            .insert(key.to_owned(), Arc::new(recording));
    }

    /// Makes every job (also those already started) answer `IN_PROGRESS`, with no blocks, to
    /// its first `n` `Get*` calls.
    pub fn in_progress_polls(&self, n: u32) {
        self.shared.lock().in_progress_polls = n;
    }

    /// Every request received, in arrival order: the operation (the `X-Amz-Target` after
    /// `Textract.`, as sent) and the body (`Null` when it was not JSON or too large).
    pub fn requests(&self) -> Vec<(String, Value)> {
        self.shared.lock().requests.clone()
    }

    /// How many requests named `operation` (e.g. `"GetDocumentAnalysis"`) were received.
    pub fn count(&self, operation: &str) -> usize {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|(op, _)| op == operation)
            .count()
    }
}

impl Drop for TextractReplay {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
    }
}

struct Shared {
    state: Mutex<State>,
    request_ids: AtomicU64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct State {
    recordings: HashMap<String, Arc<Recording>>,
    in_progress_polls: u32,
    jobs: HashMap<String, Job>,
    request_tokens: HashMap<(JobKind, String), String>,
    requests: Vec<(String, Value)>,
    jobs_started: u64,
}

/// One recorded response, split into what each operation answers with.
#[derive(Debug)]
struct Recording {
    status: String,
    status_message: Option<Value>,
    warnings: Option<Value>,
    metadata: Option<Value>,
    blocks: Vec<Value>,
    /// Other top-level fields worth passing on (the model version).
    extra: Map<String, Value>,
}

impl Recording {
    fn parse(json: &[u8]) -> Result<Self, String> {
        let value: Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        let Value::Object(mut map) = value else {
            return Err("not a JSON object".into());
        };
        let blocks = match map.remove("Blocks") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(blocks)) => blocks,
            Some(_) => return Err("Blocks is not an array".into()),
        };
        let status = match map.remove("JobStatus") {
            Some(Value::String(s)) => s,
            _ => "SUCCEEDED".to_owned(),
        };
        let status_message = map.remove("StatusMessage");
        let warnings = map.remove("Warnings");
        let metadata = map.remove("DocumentMetadata");
        for dropped in ["NextToken", "ResponseMetadata"] {
            map.remove(dropped);
        }
        Ok(Self {
            status,
            status_message,
            warnings,
            metadata,
            blocks,
            extra: map,
        })
    }

    fn has_blocks(&self) -> bool {
        !matches!(self.status.as_str(), "FAILED" | "IN_PROGRESS")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum JobKind {
    TextDetection,
    Analysis,
}

struct Job {
    kind: JobKind,
    recording: Arc<Recording>,
    calls: u32,
}

/// A refusal, answered as `400 {"__type": kind, "message": message}`.
#[derive(Debug, PartialEq, Eq)]
struct Fault {
    kind: &'static str,
    message: String,
}

fn fault(kind: &'static str, message: impl Into<String>) -> Fault {
    Fault {
        kind,
        message: message.into(),
    }
}

fn invalid(message: impl Into<String>) -> Fault {
    fault("InvalidParameterException", message)
}

/// The blocks of one `Get*` answer: the range of `total` blocks starting at `offset` with at
/// most `max` of them, and the offset of the next chunk when blocks remain.
fn chunk(total: usize, offset: usize, max: usize) -> (Range<usize>, Option<usize>) {
    let start = offset.min(total);
    let end = start.saturating_add(max.max(1)).min(total);
    (start..end, (end < total).then_some(end))
}

fn encode_token(job_id: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}:{job_id}:{offset}"))
}

/// The offset a `NextToken` stands for, when this server issued it for this job.
fn decode_token(token: &str, job_id: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix(TOKEN_PREFIX)?.strip_prefix(':')?;
    let (id, offset) = rest.rsplit_once(':')?;
    if id != job_id {
        return None;
    }
    offset.parse().ok()
}

impl State {
    fn dispatch(&mut self, operation: &str, body: &Map<String, Value>) -> Result<Value, Fault> {
        match operation {
            "DetectDocumentText" => self.detect(body, false),
            "AnalyzeDocument" => self.detect(body, true),
            "StartDocumentTextDetection" => self.start_job(body, JobKind::TextDetection),
            "StartDocumentAnalysis" => self.start_job(body, JobKind::Analysis),
            "GetDocumentTextDetection" => self.get_job(body, JobKind::TextDetection),
            "GetDocumentAnalysis" => self.get_job(body, JobKind::Analysis),
            other => Err(fault(
                "UnknownOperationException",
                format!("operation {other:?} is not replayed"),
            )),
        }
    }

    fn recording_for_key(&self, key: &str) -> Option<Arc<Recording>> {
        self.recordings
            .get(key)
            .or_else(|| self.recordings.get(DEFAULT_KEY))
            .cloned()
    }

    fn recording_for_s3(&self, s3: &Value) -> Result<Arc<Recording>, Fault> {
        let s3 = s3
            .as_object()
            .ok_or_else(|| invalid("S3Object must be an object"))?;
        let name = s3.get("Name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() || s3.get("Bucket").and_then(Value::as_str).is_none() {
            return Err(invalid("S3Object needs a Bucket and a Name"));
        }
        self.recording_for_key(name).ok_or_else(|| {
            fault(
                "InvalidS3ObjectException",
                "Unable to get object metadata from S3. Check object key, region and/or access permissions.",
            )
        })
    }

    fn detect(&self, body: &Map<String, Value>, analyze: bool) -> Result<Value, Fault> {
        let document = body
            .get("Document")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("Document is required"))?;
        if analyze {
            check_features(body)?;
        }
        let recording = if let Some(s3) = document.get("S3Object") {
            self.recording_for_s3(s3)?
        } else if document
            .get("Bytes")
            .and_then(Value::as_str)
            .is_some_and(|b| !b.is_empty())
        {
            self.recordings.get(DEFAULT_KEY).cloned().ok_or_else(|| {
                fault(
                    "UnsupportedDocumentException",
                    "Request has unsupported document format",
                )
            })?
        } else {
            return Err(invalid("Document needs Bytes or an S3Object"));
        };
        let mut out = recording.extra.clone();
        out.insert(
            "DocumentMetadata".into(),
            recording
                .metadata
                .clone()
                .unwrap_or_else(|| json!({"Pages": 1})),
        );
        let blocks = if recording.has_blocks() {
            recording.blocks.clone()
        } else {
            Vec::new()
        };
        out.insert("Blocks".into(), Value::Array(blocks));
        Ok(Value::Object(out))
    }

    fn start_job(&mut self, body: &Map<String, Value>, kind: JobKind) -> Result<Value, Fault> {
        let s3 = body
            .get("DocumentLocation")
            .and_then(|l| l.get("S3Object"))
            .ok_or_else(|| invalid("DocumentLocation.S3Object is required"))?;
        if kind == JobKind::Analysis {
            check_features(body)?;
        }
        let token = body
            .get("ClientRequestToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(job_id) = token
            .as_ref()
            .and_then(|t| self.request_tokens.get(&(kind, t.clone())))
        {
            return Ok(json!({ "JobId": job_id }));
        }
        let recording = self.recording_for_s3(s3)?;
        self.jobs_started += 1;
        // Shaped like the service's ids (64 hex digits), distinct per job.
        let job_id = format!(
            "{:032x}{:032x}",
            0x1a3b_da7a_u128,
            u128::from(self.jobs_started)
        );
        self.jobs.insert(
            job_id.clone(),
            Job {
                kind,
                recording,
                calls: 0,
            },
        );
        if let Some(token) = token {
            self.request_tokens.insert((kind, token), job_id.clone());
        }
        Ok(json!({ "JobId": job_id }))
    }

    fn get_job(&mut self, body: &Map<String, Value>, kind: JobKind) -> Result<Value, Fault> {
        let job_id = body
            .get("JobId")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| invalid("JobId is required"))?;
        let max = match body.get("MaxResults") {
            None | Some(Value::Null) => MAX_RESULTS,
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| (1..=MAX_RESULTS).contains(n))
                .ok_or_else(|| invalid(format!("MaxResults must be 1 to {MAX_RESULTS}")))?,
        };
        let in_progress_polls = self.in_progress_polls;
        let job = self
            .jobs
            .get_mut(job_id)
            .filter(|job| job.kind == kind)
            .ok_or_else(|| fault("InvalidJobIdException", "Invalid job id"))?;
        job.calls = job.calls.saturating_add(1);
        if job.calls <= in_progress_polls {
            return Ok(json!({ "JobStatus": "IN_PROGRESS" }));
        }
        let recording = &job.recording;
        let mut out = Map::new();
        out.insert("JobStatus".into(), Value::String(recording.status.clone()));
        if let Some(message) = &recording.status_message {
            out.insert("StatusMessage".into(), message.clone());
        }
        if !recording.has_blocks() {
            return Ok(Value::Object(out));
        }
        let total = recording.blocks.len();
        let offset = match body.get("NextToken") {
            None | Some(Value::Null) => 0,
            Some(token) => token
                .as_str()
                .and_then(|t| decode_token(t, job_id))
                .filter(|&offset| offset > 0 && offset < total)
                .ok_or_else(|| invalid("Invalid NextToken"))?,
        };
        let (range, next) = chunk(total, offset, max);
        for (key, value) in &recording.extra {
            out.insert(key.clone(), value.clone());
        }
        out.insert(
            "DocumentMetadata".into(),
            recording
                .metadata
                .clone()
                .unwrap_or_else(|| json!({"Pages": 1})),
        );
        out.insert(
            "Blocks".into(),
            Value::Array(recording.blocks[range].to_vec()),
        );
        if let Some(warnings) = &recording.warnings {
            out.insert("Warnings".into(), warnings.clone());
        }
        if let Some(next) = next {
            out.insert(
                "NextToken".into(),
                Value::String(encode_token(job_id, next)),
            );
        }
        Ok(Value::Object(out))
    }
}

fn check_features(body: &Map<String, Value>) -> Result<(), Fault> {
    let features = body
        .get("FeatureTypes")
        .and_then(Value::as_array)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| invalid("FeatureTypes must name at least one feature"))?;
    for feature in features {
        match feature.as_str() {
            Some(f) if FEATURES.contains(&f) => {}
            _ => return Err(invalid(format!("unknown feature type {feature}"))),
        }
    }
    let queries = features.iter().any(|f| f == "QUERIES");
    if queries && !body.get("QueriesConfig").is_some_and(Value::is_object) {
        return Err(invalid("QUERIES needs a QueriesConfig"));
    }
    Ok(())
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, body: &Value) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(CONTENT_TYPE),
    );
    response
}

fn refusal(fault: &Fault) -> Answer {
    let mut response = answer(
        StatusCode::BAD_REQUEST,
        &json!({ "__type": fault.kind, "message": fault.message }),
    );
    response.headers_mut().insert(
        "x-amzn-errortype",
        http::HeaderValue::from_static(fault.kind),
    );
    response
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Answer, Infallible> {
    let id = shared.request_ids.fetch_add(1, Relaxed);
    let mut response = respond(&shared, request).await;
    let request_id = format!("00000000-0000-4000-8000-{:012x}", id & 0xFFFF_FFFF_FFFF);
    if let Ok(value) = http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    Ok(response)
}

async fn respond(shared: &Shared, request: Request<Incoming>) -> Answer {
    let (parts, body) = request.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let operation = target.strip_prefix(TARGET_PREFIX).map(str::to_owned);
    let record = |body: Value| {
        shared
            .lock()
            .requests
            .push((operation.clone().unwrap_or_else(|| target.to_owned()), body));
    };
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            record(Value::Null);
            return refusal(&if e.is::<http_body_util::LengthLimitError>() {
                fault(
                    "DocumentTooLargeException",
                    format!("request body over {MAX_BODY_BYTES} bytes"),
                )
            } else {
                fault("SerializationException", "could not read the request body")
            });
        }
    };
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    record(parsed.clone().unwrap_or(Value::Null));
    let Some(operation) = operation.filter(|_| parts.method == Method::POST) else {
        return refusal(&fault(
            "UnknownOperationException",
            format!("{} with X-Amz-Target {target:?}", parts.method),
        ));
    };
    let Some(Value::Object(body)) = parsed else {
        return refusal(&fault(
            "SerializationException",
            "the body is not a JSON object",
        ));
    };
    let outcome = shared.lock().dispatch(&operation, &body);
    match outcome {
        Ok(value) => answer(StatusCode::OK, &value),
        Err(fault) => refusal(&fault),
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let service = service_fn(move |request| handle(Arc::clone(&shared), request));
    let connection = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = stopped.changed() => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn chunks_cover_every_block_once() {
        assert_eq!(chunk(0, 0, 1000), (0..0, None));
        assert_eq!(chunk(5, 0, 2), (0..2, Some(2)));
        assert_eq!(chunk(5, 2, 2), (2..4, Some(4)));
        assert_eq!(chunk(5, 4, 2), (4..5, None));
        assert_eq!(chunk(4, 2, 2), (2..4, None));
        assert_eq!(chunk(3, 0, 1000), (0..3, None));
        assert_eq!(chunk(3, 7, 2), (3..3, None));
        for total in 0..40 {
            for max in 1..12 {
                let (mut offset, mut seen, mut calls) = (0, 0, 0);
                loop {
                    let (range, next) = chunk(total, offset, max);
                    assert!(range.len() <= max);
                    assert_eq!(range.start, seen);
                    seen = range.end;
                    calls += 1;
                    match next {
                        Some(n) => offset = n,
                        None => break,
                    }
                }
                assert_eq!(seen, total);
                assert_eq!(calls, total.div_ceil(max).max(1), "{total} blocks by {max}");
            }
        }
        assert_eq!(chunk(usize::MAX, usize::MAX - 1, 1000).0.len(), 1);
    }

    #[test]
    fn tokens_belong_to_their_job() {
        let token = encode_token("job-a", 1000);
        assert_eq!(decode_token(&token, "job-a"), Some(1000));
        assert_eq!(decode_token(&token, "job-b"), None);
        assert_eq!(decode_token("not a token", "job-a"), None);
        assert_eq!(
            decode_token(&URL_SAFE_NO_PAD.encode("x:job-a:5"), "job-a"),
            None
        );
        assert_eq!(
            decode_token(&URL_SAFE_NO_PAD.encode([0xff, 0xfe]), "job-a"),
            None
        );
    }

    #[test]
    fn recordings_split_status_from_blocks() {
        let r = Recording::parse(
            br#"{"JobStatus":"FAILED","StatusMessage":"bad","NextToken":"t","ResponseMetadata":{},
                 "DetectDocumentTextModelVersion":"1.0","Blocks":[{"Id":"a"}]}"#,
        )
        .unwrap();
        assert_eq!(r.status, "FAILED");
        assert!(!r.has_blocks());
        assert_eq!(r.blocks.len(), 1);
        assert_eq!(
            r.extra.keys().collect::<Vec<_>>(),
            ["DetectDocumentTextModelVersion"]
        );
        assert_eq!(Recording::parse(b"{}").unwrap().status, "SUCCEEDED");
        assert!(Recording::parse(b"[]").is_err());
        assert!(Recording::parse(br#"{"Blocks":{}}"#).is_err());
        assert!(Recording::parse(b"nope").is_err());
    }

    #[test]
    fn features_are_checked() {
        let body = |v: Value| v.as_object().cloned().unwrap();
        assert!(check_features(&body(json!({"FeatureTypes": ["TABLES", "FORMS"]}))).is_ok());
        for bad in [
            json!({}),
            json!({"FeatureTypes": []}),
            json!({"FeatureTypes": "TABLES"}),
            json!({"FeatureTypes": ["TABLES", "PICTURES"]}),
            json!({"FeatureTypes": [1]}),
            json!({"FeatureTypes": ["QUERIES"]}),
        ] {
            let err = check_features(&body(bad.clone())).unwrap_err();
            assert_eq!(err.kind, "InvalidParameterException", "{bad}");
        }
        let queries = json!({"FeatureTypes": ["QUERIES"], "QueriesConfig": {"Queries": []}});
        assert!(check_features(&body(queries)).is_ok());
    }
}
