//! Textract calls: the synchronous `DetectDocumentText` and `AnalyzeDocument`, and the
//! asynchronous `Start*` / `Get*` jobs with polling and pagination, over an injected
//! [`aws_sdk_textract::Client`].
//!
//! [`Textract`] is a thin adapter: it sends the calls, waits for jobs with exponential backoff,
//! pages through every chunk of a result and hands back a [`Document`]. It never creates a
//! client; pass one built from your `SdkConfig` (clients are cheap to clone).
//!
//! ```no_run
//! # async fn demo(client: aws_sdk_textract::Client) -> Result<(), lambdakit_textract::Error> {
//! use std::time::Duration;
//! use lambdakit_textract::jobs::{FeatureType, Source, Textract};
//!
//! let textract = Textract::new(client).max_wait(Duration::from_secs(300));
//! // One page, synchronously.
//! let receipt = textract.detect_text(Source::s3("scans", "receipt.jpg")).await?;
//! println!("{}", receipt.text());
//! // A multi-page PDF: start a job, poll until it is done, join every chunk.
//! let job = textract
//!     .start_analysis("scans", "contract.pdf", None, &[FeatureType::Tables, FeatureType::Forms])
//!     .await?;
//! let contract = textract.wait_analysis(&job).await?;
//! println!("{} pages", contract.page_count());
//! # Ok(()) }
//! ```
//!
//! Errors: a failed call is [`Error::Service`], whose source is an
//! [`aws_sdk_textract::Error`] (downcast it to match on `InvalidS3ObjectException`,
//! `ThrottlingException`, ...); a job that failed is [`Error::JobFailed`]; one that finished
//! with `PARTIAL_SUCCESS` is [`Error::PartialSuccess`], which still carries the pages that were
//! processed; a job still running after [`Textract::max_wait`] is [`Error::Timeout`]; a
//! response that breaks Textract's rules (blocks without an id, no job status, a `NextToken`
//! that repeats) is [`Error::Malformed`].
//!
//! Polls are logged as `tracing` events with target `lambdakit_textract` (job id, operation,
//! attempt, status, next pause); document text never is.

use std::fmt;
use std::time::Duration;

use aws_sdk_textract::Client;
use aws_sdk_textract::primitives::Blob;
use aws_sdk_textract::types as sdk;
use tokio::time::Instant;

use crate::model::{
    Block, BlockType, BoundingBox, Geometry, Point, Query, Relationship, RelationshipType,
    SelectionStatus, TextType, Warning,
};
use crate::{Document, Error};

/// The analyses `AnalyzeDocument` and `StartDocumentAnalysis` can run: the SDK's own type,
/// re-exported. `Queries` needs a `QueriesConfig`: use [`Textract::analyze_with_queries`]; with
/// the other methods the service refuses it with `InvalidParameterException` ([`Error::Service`]).
pub use aws_sdk_textract::types::FeatureType;

const TARGET: &str = "lambdakit_textract";
const MIN_INTERVAL: Duration = Duration::from_millis(1);
/// The service's largest (and default) `MaxResults` for `Get*` calls.
const MAX_PAGE_SIZE: i32 = 1000;

/// The document a synchronous call reads.
#[derive(Clone, PartialEq, Eq)]
pub enum Source {
    /// The document's bytes (JPEG, PNG, TIFF or single-page PDF; the service takes up to 10 MB).
    Bytes(Vec<u8>),
    /// An object in S3 (in the client's region).
    S3 {
        /// The bucket.
        bucket: String,
        /// The object key, as stored (not percent-encoded).
        key: String,
        /// The object version, for versioned buckets.
        version: Option<String>,
    },
}

impl Source {
    /// The latest version of `bucket/key`.
    pub fn s3(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self::S3 {
            bucket: bucket.into(),
            key: key.into(),
            version: None,
        }
    }

    fn into_sdk(self) -> sdk::Document {
        match self {
            Self::Bytes(bytes) => sdk::Document::builder().bytes(Blob::new(bytes)).build(),
            Self::S3 {
                bucket,
                key,
                version,
            } => sdk::Document::builder()
                .s3_object(s3_object(bucket, key, version))
                .build(),
        }
    }
}

impl fmt::Debug for Source {
    // The bytes are a customer's document: their length is enough for a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            Self::S3 {
                bucket,
                key,
                version,
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("key", key)
                .field("version", version)
                .finish(),
        }
    }
}

fn s3_object(
    bucket: impl Into<String>,
    key: impl Into<String>,
    version: Option<String>,
) -> sdk::S3Object {
    sdk::S3Object::builder()
        .bucket(bucket)
        .name(key)
        .set_version(version)
        .build()
}

/// The id of an asynchronous Textract job, as `Start*` returns it (or as an SNS completion
/// notification carries it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(String);

impl JobId {
    /// Wraps an id received elsewhere, e.g. from a completion notification. Not checked: an id
    /// the service does not know fails the first `Get*` call with `InvalidJobIdException`.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for JobId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for JobId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<JobId> for String {
    fn from(id: JobId) -> Self {
        id.0
    }
}

/// Textract over an injected SDK client, with the polling and paging policy for jobs.
///
/// Defaults: first poll at once, then pauses of 1 s doubling up to 15 s; give up after
/// 10 minutes (under Lambda's 15-minute limit); 1000 blocks per `Get*` call (the service's
/// most).
#[derive(Debug, Clone)]
pub struct Textract {
    client: Client,
    poll_interval: Duration,
    max_poll_interval: Duration,
    max_wait: Duration,
    page_size: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    TextDetection,
    Analysis,
}

impl Kind {
    fn get_operation(self) -> &'static str {
        match self {
            Self::TextDetection => "GetDocumentTextDetection",
            Self::Analysis => "GetDocumentAnalysis",
        }
    }
}

/// One `Get*` answer, whichever the operation.
struct Chunk {
    status: Option<sdk::JobStatus>,
    status_message: Option<String>,
    warnings: Vec<Warning>,
    blocks: Vec<Block>,
    next_token: Option<String>,
}

impl Textract {
    /// Wraps `client` with the default policy.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            poll_interval: Duration::from_secs(1),
            max_poll_interval: Duration::from_secs(15),
            max_wait: Duration::from_secs(600),
            page_size: MAX_PAGE_SIZE,
        }
    }

    /// The pause after the first poll that finds a job still running (default 1 s); each
    /// further pause doubles, up to [`Self::max_poll_interval`]. Raised to 1 ms when smaller.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(MIN_INTERVAL);
        self
    }

    /// The longest pause between polls (default 15 s). Raised to 1 ms when smaller.
    pub fn max_poll_interval(mut self, interval: Duration) -> Self {
        self.max_poll_interval = interval.max(MIN_INTERVAL);
        self
    }

    /// How long `wait_*` polls a running job before giving up with [`Error::Timeout`] (default
    /// 10 minutes). The last poll is made at the deadline; zero polls exactly once. Paging
    /// through a finished job's result is not counted.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The blocks asked for per `Get*` call (`MaxResults`, default and most 1000); clamped to
    /// 1..=1000.
    pub fn page_size(mut self, size: i32) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The SDK client, for calls this adapter does not wrap.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Detects the text of a one-page document (`DetectDocumentText`): pages, lines, words.
    ///
    /// Fails with [`Error::Service`] when the call does (unknown object, unsupported or too
    /// large document, throttling, ...), [`Error::Malformed`] when the answer's blocks lack ids
    /// or repeat one.
    pub async fn detect_text(&self, source: Source) -> Result<Document, Error> {
        const OP: &str = "DetectDocumentText";
        let out = self
            .client
            .detect_document_text()
            .document(source.into_sdk())
            .send()
            .await
            .map_err(|e| service(OP, e))?;
        tracing::debug!(target: TARGET, operation = OP, blocks = out.blocks().len(), "textract call done");
        Document::from_blocks(convert_blocks(out.blocks())?)
    }

    /// Analyzes a one-page document (`AnalyzeDocument`) for `features` (tables, forms, layout,
    /// signatures).
    ///
    /// Fails as [`Self::detect_text`] does; an empty `features` is refused by the service
    /// ([`Error::Service`]).
    pub async fn analyze(
        &self,
        source: Source,
        features: &[FeatureType],
    ) -> Result<Document, Error> {
        const OP: &str = "AnalyzeDocument";
        let out = self
            .client
            .analyze_document()
            .document(source.into_sdk())
            .set_feature_types(Some(features.to_vec()))
            .send()
            .await
            .map_err(|e| service(OP, e))?;
        tracing::debug!(target: TARGET, operation = OP, blocks = out.blocks().len(), "textract call done");
        Document::from_blocks(convert_blocks(out.blocks())?)
    }

    /// `AnalyzeDocument` with questions (`QUERIES`): each query's answer comes back as a
    /// `QUERY` block with an `ANSWER` relationship to a `QUERY_RESULT` block. `features` may
    /// add `TABLES`, `FORMS`, `LAYOUT`, `SIGNATURES`; `QUERIES` is added for you.
    pub async fn analyze_with_queries(
        &self,
        source: Source,
        features: &[FeatureType],
        queries: &[Query],
    ) -> Result<Document, Error> {
        const OP: &str = "AnalyzeDocument";
        let mut features = features.to_vec();
        if !features.contains(&FeatureType::Queries) {
            features.push(FeatureType::Queries);
        }
        let mut config = sdk::QueriesConfig::builder();
        for q in queries {
            let query = sdk::Query::builder()
                .text(&q.text)
                .set_alias(q.alias.clone())
                .build()
                .map_err(|e| service(OP, e))?;
            config = config.queries(query);
        }
        let config = config.build().map_err(|e| service(OP, e))?;
        let out = self
            .client
            .analyze_document()
            .document(source.into_sdk())
            .set_feature_types(Some(features))
            .queries_config(config)
            .send()
            .await
            .map_err(|e| service(OP, e))?;
        tracing::debug!(target: TARGET, operation = OP, blocks = out.blocks().len(), "textract call done");
        Document::from_blocks(convert_blocks(out.blocks())?)
    }

    /// Starts detecting the text of `bucket/key` (any page count, PDF or TIFF too) with
    /// `StartDocumentTextDetection`; wait for it with [`Self::wait_text_detection`].
    ///
    /// Fails with [`Error::Service`] when the call does, [`Error::Malformed`] when the answer
    /// has no job id.
    pub async fn start_text_detection(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<JobId, Error> {
        const OP: &str = "StartDocumentTextDetection";
        let location = sdk::DocumentLocation::builder()
            .s3_object(s3_object(bucket, key, version.map(str::to_owned)))
            .build();
        let out = self
            .client
            .start_document_text_detection()
            .document_location(location)
            .send()
            .await
            .map_err(|e| service(OP, e))?;
        started(OP, out.job_id())
    }

    /// Starts analyzing `bucket/key` for `features` with `StartDocumentAnalysis`; wait for it
    /// with [`Self::wait_analysis`].
    ///
    /// Fails as [`Self::start_text_detection`] does.
    pub async fn start_analysis(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        features: &[FeatureType],
    ) -> Result<JobId, Error> {
        const OP: &str = "StartDocumentAnalysis";
        let location = sdk::DocumentLocation::builder()
            .s3_object(s3_object(bucket, key, version.map(str::to_owned)))
            .build();
        let out = self
            .client
            .start_document_analysis()
            .document_location(location)
            .set_feature_types(Some(features.to_vec()))
            .send()
            .await
            .map_err(|e| service(OP, e))?;
        started(OP, out.job_id())
    }

    /// Waits for a text detection job and returns its whole result: polls
    /// `GetDocumentTextDetection` with backoff until the job is no longer `IN_PROGRESS`, then
    /// pages through every chunk (a page may span chunks).
    ///
    /// Fails with [`Error::Timeout`] after [`Self::max_wait`], [`Error::JobFailed`] (with
    /// Textract's `StatusMessage`), [`Error::PartialSuccess`] (with the warnings and the pages
    /// that were processed), [`Error::Service`] when a call fails, or [`Error::Malformed`].
    pub async fn wait_text_detection(&self, job: &JobId) -> Result<Document, Error> {
        self.wait(Kind::TextDetection, job).await
    }

    /// Waits for an analysis job and returns its whole result, as
    /// [`Self::wait_text_detection`] does, with `GetDocumentAnalysis`.
    pub async fn wait_analysis(&self, job: &JobId) -> Result<Document, Error> {
        self.wait(Kind::Analysis, job).await
    }

    /// Starts a text detection job on `bucket/key` and waits for it (see
    /// [`Self::start_text_detection`] and [`Self::wait_text_detection`]).
    pub async fn text_detection(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<Document, Error> {
        let job = self.start_text_detection(bucket, key, version).await?;
        self.wait_text_detection(&job).await
    }

    /// Starts an analysis job on `bucket/key` and waits for it (see [`Self::start_analysis`]
    /// and [`Self::wait_analysis`]).
    pub async fn analysis(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        features: &[FeatureType],
    ) -> Result<Document, Error> {
        let job = self.start_analysis(bucket, key, version, features).await?;
        self.wait_analysis(&job).await
    }

    async fn wait(&self, kind: Kind, job: &JobId) -> Result<Document, Error> {
        let operation = kind.get_operation();
        let started = Instant::now();
        // A wait too long to represent is no deadline at all.
        let deadline = started.checked_add(self.max_wait);
        let mut interval = self.poll_interval;
        let mut attempt: u32 = 0;
        let first = loop {
            attempt = attempt.saturating_add(1);
            let chunk = self.get(kind, job, None).await?;
            if chunk.status != Some(sdk::JobStatus::InProgress) {
                break chunk;
            }
            let now = Instant::now();
            let left = deadline.map(|d| d.saturating_duration_since(now));
            if left == Some(Duration::ZERO) {
                let waited = now.duration_since(started);
                tracing::warn!(target: TARGET, job_id = job.as_str(), operation, attempt, waited_ms = millis(waited), "textract job still running, giving up");
                return Err(Error::Timeout {
                    job_id: job.0.clone(),
                    waited,
                });
            }
            let pause = left.map_or(interval, |left| interval.min(left));
            tracing::debug!(target: TARGET, job_id = job.as_str(), operation, attempt, status = "IN_PROGRESS", pause_ms = millis(pause), "textract job polled");
            tokio::time::sleep(pause).await;
            interval = next_interval(interval, self.max_poll_interval);
        };

        let status = first.status.clone();
        tracing::debug!(target: TARGET, job_id = job.as_str(), operation, attempt, status = status.as_ref().map(sdk::JobStatus::as_str), "textract job polled");
        match status {
            Some(sdk::JobStatus::Succeeded | sdk::JobStatus::PartialSuccess) => {}
            Some(sdk::JobStatus::Failed) => {
                let message = first.status_message.unwrap_or_default();
                tracing::warn!(target: TARGET, job_id = job.as_str(), operation, status_message = message.as_str(), "textract job failed");
                return Err(Error::JobFailed {
                    job_id: job.0.clone(),
                    message,
                });
            }
            Some(other) => {
                return Err(Error::Malformed(format!(
                    "{operation}: unknown job status {:?}",
                    other.as_str()
                )));
            }
            None => return Err(Error::Malformed(format!("{operation}: no job status"))),
        }

        let Chunk {
            mut warnings,
            mut blocks,
            mut next_token,
            ..
        } = first;
        let mut chunks: u32 = 1;
        while let Some(token) = next_token.take() {
            let chunk = self.get(kind, job, Some(token.clone())).await?;
            if chunk.next_token.as_deref() == Some(token.as_str()) {
                return Err(Error::Malformed(format!("{operation}: NextToken repeats")));
            }
            blocks.extend(chunk.blocks);
            for warning in chunk.warnings {
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
            next_token = chunk.next_token;
            chunks = chunks.saturating_add(1);
        }
        tracing::debug!(target: TARGET, job_id = job.as_str(), operation, chunks, blocks = blocks.len(), warnings = warnings.len(), "textract job result read");
        let document = Document::from_blocks(blocks)?;
        if status == Some(sdk::JobStatus::PartialSuccess) {
            return Err(Error::PartialSuccess {
                job_id: job.0.clone(),
                warnings,
                document: Box::new(document),
            });
        }
        Ok(document)
    }

    async fn get(&self, kind: Kind, job: &JobId, token: Option<String>) -> Result<Chunk, Error> {
        let operation = kind.get_operation();
        // The two Get operations answer with different types of the same shape.
        macro_rules! chunk {
            ($call:ident) => {{
                let out = self
                    .client
                    .$call()
                    .job_id(job.as_str())
                    .max_results(self.page_size)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| service(operation, e))?;
                Ok(Chunk {
                    status: out.job_status().cloned(),
                    status_message: out.status_message().map(str::to_owned),
                    warnings: out.warnings().iter().map(Warning::from).collect(),
                    blocks: convert_blocks(out.blocks())?,
                    next_token: out
                        .next_token()
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                })
            }};
        }
        match kind {
            Kind::TextDetection => chunk!(get_document_text_detection),
            Kind::Analysis => chunk!(get_document_analysis),
        }
    }
}

/// The pause after `current`: doubled, at most `max`.
fn next_interval(current: Duration, max: Duration) -> Duration {
    current.saturating_mul(2).min(max)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn service<E>(operation: &'static str, error: E) -> Error
where
    aws_sdk_textract::Error: From<E>,
{
    Error::Service {
        operation,
        source: Box::new(aws_sdk_textract::Error::from(error)),
    }
}

fn started(operation: &'static str, job_id: Option<&str>) -> Result<JobId, Error> {
    let job_id = job_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::Malformed(format!("{operation}: no JobId")))?;
    tracing::debug!(target: TARGET, operation, job_id, "textract job started");
    Ok(JobId::new(job_id))
}

/// Converts a chunk's blocks, refusing blocks without an id or a type (the conversion itself
/// would keep them with empty strings).
fn convert_blocks(blocks: &[sdk::Block]) -> Result<Vec<Block>, Error> {
    blocks
        .iter()
        .map(|b| match (b.id(), b.block_type()) {
            (Some(id), Some(_)) if !id.is_empty() => Ok(Block::from(b)),
            _ => Err(Error::Malformed(
                "a block without an Id or a BlockType".into(),
            )),
        })
        .collect()
}

fn u32_of(n: Option<i32>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok())
}

impl From<&sdk::Block> for Block {
    /// Every field, with unknown block, relationship, text and selection types kept as
    /// `Other(name)`. A missing id or type becomes an empty string; negative indices are
    /// dropped.
    fn from(b: &sdk::Block) -> Self {
        Self {
            id: b.id().unwrap_or_default().to_owned(),
            block_type: BlockType::from(b.block_type().map_or("", sdk::BlockType::as_str)),
            text: b.text().map(str::to_owned),
            text_type: b.text_type().map(|t| TextType::from(t.as_str())),
            confidence: b.confidence().map(f64::from),
            geometry: b.geometry().map(Geometry::from),
            relationships: b.relationships().iter().map(Relationship::from).collect(),
            page: u32_of(b.page()),
            row_index: u32_of(b.row_index()),
            column_index: u32_of(b.column_index()),
            row_span: u32_of(b.row_span()),
            column_span: u32_of(b.column_span()),
            entity_types: b
                .entity_types()
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect(),
            selection_status: b
                .selection_status()
                .map(|s| SelectionStatus::from(s.as_str())),
            query: b.query().map(Query::from),
        }
    }
}

impl From<&sdk::Geometry> for Geometry {
    /// The bounding box (empty when missing) and the polygon; `RotationAngle` is not kept (the
    /// polygon carries the orientation).
    fn from(g: &sdk::Geometry) -> Self {
        Self {
            bounding_box: g.bounding_box().map(BoundingBox::from).unwrap_or_default(),
            polygon: g.polygon().iter().map(Point::from).collect(),
        }
    }
}

impl From<&sdk::BoundingBox> for BoundingBox {
    fn from(b: &sdk::BoundingBox) -> Self {
        Self {
            width: f64::from(b.width()),
            height: f64::from(b.height()),
            left: f64::from(b.left()),
            top: f64::from(b.top()),
        }
    }
}

impl From<&sdk::Point> for Point {
    fn from(p: &sdk::Point) -> Self {
        Self {
            x: f64::from(p.x()),
            y: f64::from(p.y()),
        }
    }
}

impl From<&sdk::Relationship> for Relationship {
    /// The type (unknown ones kept as `Other`, a missing one as `Other("")`) and the ids.
    fn from(r: &sdk::Relationship) -> Self {
        Self {
            kind: RelationshipType::from(r.r#type().map_or("", sdk::RelationshipType::as_str)),
            ids: r.ids().to_vec(),
        }
    }
}

impl From<&sdk::Query> for Query {
    fn from(q: &sdk::Query) -> Self {
        Self {
            text: q.text().to_owned(),
            alias: q.alias().map(str::to_owned),
        }
    }
}

impl From<&sdk::Warning> for Warning {
    /// The error code (empty when missing) and the pages; negative page numbers are dropped.
    fn from(w: &sdk::Warning) -> Self {
        Self {
            error_code: w.error_code().unwrap_or_default().to_owned(),
            pages: w
                .pages()
                .iter()
                .filter_map(|&p| u32::try_from(p).ok())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn intervals_double_up_to_the_cap() {
        let mut interval = Duration::from_secs(1);
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(interval.as_secs());
            interval = next_interval(interval, Duration::from_secs(15));
        }
        assert_eq!(seen, [1, 2, 4, 8, 15, 15]);
        assert_eq!(
            next_interval(Duration::MAX, Duration::from_secs(15)),
            Duration::from_secs(15)
        );
        // A cap below the first interval wins from the second pause on.
        assert_eq!(
            next_interval(Duration::from_secs(5), Duration::from_secs(2)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn builder_clamps_bad_input() {
        let client = Client::from_conf(
            aws_sdk_textract::Config::builder()
                .behavior_version(aws_sdk_textract::config::BehaviorVersion::latest())
                .build(),
        );
        let t = Textract::new(client.clone())
            .page_size(0)
            .poll_interval(Duration::ZERO)
            .max_poll_interval(Duration::ZERO);
        assert_eq!(t.page_size, 1);
        assert_eq!(t.poll_interval, MIN_INTERVAL);
        assert_eq!(t.max_poll_interval, MIN_INTERVAL);
        assert_eq!(
            Textract::new(client).page_size(5000).page_size,
            MAX_PAGE_SIZE
        );
    }

    #[test]
    fn source_debug_hides_the_bytes() {
        let s = format!("{:?}", Source::Bytes(b"secret payroll".to_vec()));
        assert_eq!(s, "Bytes(14 bytes)");
        assert!(format!("{:?}", Source::s3("b", "k")).contains("\"k\""));
    }

    #[test]
    fn conversion_keeps_every_field() {
        let block = sdk::Block::builder()
            .id("c1")
            .block_type(sdk::BlockType::from("LAYOUT_FUTURE"))
            .text("x")
            .text_type(sdk::TextType::Handwriting)
            .confidence(99.5)
            .geometry(
                sdk::Geometry::builder()
                    .bounding_box(
                        sdk::BoundingBox::builder()
                            .width(0.5)
                            .height(0.25)
                            .left(0.125)
                            .top(0.0625)
                            .build(),
                    )
                    .polygon(sdk::Point::builder().x(0.125).y(0.0625).build())
                    .polygon(sdk::Point::builder().x(0.625).y(0.0625).build())
                    .build(),
            )
            .relationships(
                sdk::Relationship::builder()
                    .r#type(sdk::RelationshipType::from("NEW_KIND"))
                    .ids("a")
                    .ids("b")
                    .build(),
            )
            .relationships(
                sdk::Relationship::builder()
                    .r#type(sdk::RelationshipType::Child)
                    .ids("w")
                    .build(),
            )
            .page(2)
            .row_index(3)
            .column_index(4)
            .row_span(1)
            .column_span(-2)
            .entity_types(sdk::EntityType::ColumnHeader)
            .entity_types(sdk::EntityType::from("FUTURE_ENTITY"))
            .selection_status(sdk::SelectionStatus::Selected)
            .query(
                sdk::Query::builder()
                    .text("What?")
                    .alias("what")
                    .build()
                    .unwrap(),
            )
            .build();
        let b = Block::from(&block);
        assert_eq!(b.id, "c1");
        assert_eq!(b.block_type, BlockType::Other("LAYOUT_FUTURE".into()));
        assert_eq!(b.text.as_deref(), Some("x"));
        assert_eq!(b.text_type, Some(TextType::Handwriting));
        assert_eq!(b.confidence, Some(99.5));
        let g = b.geometry.as_ref().unwrap();
        assert_eq!(
            g.bounding_box,
            BoundingBox {
                width: 0.5,
                height: 0.25,
                left: 0.125,
                top: 0.0625
            }
        );
        assert_eq!(
            g.polygon,
            [
                Point {
                    x: 0.125,
                    y: 0.0625
                },
                Point {
                    x: 0.625,
                    y: 0.0625
                }
            ]
        );
        assert_eq!(
            b.relationships[0].kind,
            RelationshipType::Other("NEW_KIND".into())
        );
        assert_eq!(b.relationships[0].ids, ["a", "b"]);
        assert_eq!(b.children().collect::<Vec<_>>(), ["w"]);
        assert_eq!(
            (
                b.page,
                b.row_index,
                b.column_index,
                b.row_span,
                b.column_span
            ),
            (Some(2), Some(3), Some(4), Some(1), None)
        );
        assert_eq!(b.entity_types, ["COLUMN_HEADER", "FUTURE_ENTITY"]);
        assert_eq!(b.selection_status, Some(SelectionStatus::Selected));
        assert_eq!(
            b.query,
            Some(Query {
                text: "What?".into(),
                alias: Some("what".into())
            })
        );

        let w = Warning::from(
            &sdk::Warning::builder()
                .error_code("E")
                .pages(1)
                .pages(-1)
                .pages(3)
                .build(),
        );
        assert_eq!(
            w,
            Warning {
                error_code: "E".into(),
                pages: vec![1, 3]
            }
        );
    }

    #[test]
    fn blocks_without_ids_are_malformed() {
        let ok = sdk::Block::builder()
            .id("a")
            .block_type(sdk::BlockType::Word)
            .build();
        assert_eq!(convert_blocks(std::slice::from_ref(&ok)).unwrap().len(), 1);
        for bad in [
            sdk::Block::builder()
                .block_type(sdk::BlockType::Word)
                .build(),
            sdk::Block::builder()
                .id("")
                .block_type(sdk::BlockType::Word)
                .build(),
            sdk::Block::builder().id("b").build(),
        ] {
            assert!(matches!(
                convert_blocks(&[ok.clone(), bad]),
                Err(Error::Malformed(_))
            ));
        }
        assert_eq!(
            Block::from(&sdk::Block::builder().build()).block_type,
            BlockType::Other(String::new())
        );
    }
}
