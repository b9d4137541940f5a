//! ProcessDocument: an S3 `ObjectCreated` event for a page image in, Textract's text and
//! positions out, to S3 (the whole result) and DynamoDB (the lines in reading order).

use aws_lambda_events::s3::{S3Event, S3EventRecord};
use lambdakit_textract::jobs::{Source, Textract};
use lambdakit_textract::model::{DocumentMetadata, Response};
use lambdakit_textract::s3::{ScanKey, decode_event_key};
use serde::Serialize;

use crate::model::{MAX_LINE_BYTES, PageRecord, cap_lines, page_lines, project_id, textract_key};
use crate::scanner::now;
use crate::{Error, Scanner, error};

/// What one event came to.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Processed {
    /// Pages stored.
    pub pages: Vec<StoredPage>,
    /// Records left alone for good (logged): a key that is not a page image, a project that
    /// does not exist or belongs to another identity, a document Textract cannot read.
    /// Retrying cannot help them.
    pub skipped: Vec<Skipped>,
    /// Records that failed for a reason that may pass (throttling, a network error, a service
    /// error): the function fails so Lambda retries the event.
    pub failed: Vec<Skipped>,
}

/// A page stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredPage {
    /// `{user}/{project}`.
    pub project: String,
    /// The page number.
    pub page: u32,
    /// How many lines it has.
    pub lines: usize,
    /// Where the Textract result is.
    pub textract_key: String,
}

/// A record not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// The object key, as the event has it (still encoded).
    pub key: String,
    /// Why.
    pub reason: String,
}

impl Processed {
    /// `Ok` when nothing failed; otherwise [`Error::Internal`] naming the failed keys, so the
    /// Lambda invocation fails and Lambda retries the event (what was stored is written again
    /// the same way: processing is idempotent).
    pub fn into_result(self) -> Result<Self, Error> {
        if self.failed.is_empty() {
            Ok(self)
        } else {
            let keys: Vec<&str> = self.failed.iter().map(|f| f.key.as_str()).collect();
            Err(Error::Internal(format!(
                "{} page(s) failed and will be retried: {}",
                keys.len(),
                keys.join(", ")
            )))
        }
    }
}

enum Outcome {
    Stored(StoredPage),
    Skip(String),
    Fail(String),
}

/// ProcessDocument's handler: every record of the event, one after the other. Never fails by
/// itself: see [`Processed::into_result`].
pub async fn process_document(scanner: &Scanner, textract: &Textract, event: S3Event) -> Processed {
    let mut processed = Processed::default();
    for record in &event.records {
        let raw_key = record.s3.object.key.clone().unwrap_or_default();
        match process_record(scanner, textract, record).await {
            Outcome::Stored(page) => {
                tracing::info!(project = %page.project, page = page.page, lines = page.lines, "page stored");
                processed.pages.push(page);
            }
            Outcome::Skip(reason) => {
                tracing::warn!(key = %raw_key, %reason, "record skipped");
                processed.skipped.push(Skipped {
                    key: raw_key,
                    reason,
                });
            }
            Outcome::Fail(reason) => {
                tracing::error!(key = %raw_key, %reason, "record failed; the event will be retried");
                processed.failed.push(Skipped {
                    key: raw_key,
                    reason,
                });
            }
        }
    }
    processed
}

async fn process_record(scanner: &Scanner, textract: &Textract, record: &S3EventRecord) -> Outcome {
    if let Some(name) = record.event_name.as_deref()
        && !name.starts_with("ObjectCreated:")
    {
        return Outcome::Skip(format!("{name} is not an ObjectCreated event"));
    }
    let Some(raw_key) = record.s3.object.key.as_deref() else {
        return Outcome::Skip("the record has no object key".into());
    };
    // S3 encodes keys in events like a form: `+` is a space, `%3A` a colon.
    let key = match decode_event_key(raw_key) {
        Ok(key) => key,
        Err(e) => return Outcome::Skip(e.to_string()),
    };
    let scan = match ScanKey::parse(&key) {
        Ok(scan) => scan,
        Err(e) => return Outcome::Skip(e.to_string()),
    };
    let bucket = record.s3.bucket.name.as_deref().unwrap_or_default();
    if bucket != scanner.objects().bucket() {
        return Outcome::Skip(format!("bucket {bucket:?} is not the scanner's"));
    }

    // The identity in the key wrote the image (IAM lets each identity write only under its
    // own `private/{identityId}/`); the project says which identity its owner uses. Any other
    // identity cannot add pages to someone else's project by naming it in the key.
    let project = match scanner.store().project(&scan.user, &scan.project).await {
        Ok(Some(project)) => project,
        Ok(None) => {
            return Outcome::Skip(format!(
                "no project {:?} of user {:?}",
                scan.project, scan.user
            ));
        }
        Err(e) => return Outcome::Fail(error::chain(&e)),
    };
    if project.identity_id != scan.identity_id {
        return Outcome::Skip(format!(
            "identity {} does not own project {:?} of user {:?}",
            scan.identity_id, scan.project, scan.user
        ));
    }

    let source = Source::S3 {
        bucket: bucket.to_owned(),
        key: key.clone(),
        version: record
            .s3
            .object
            .version_id
            .clone()
            .filter(|v| !v.is_empty() && v != "null"),
    };
    let document = match textract.detect_text(source).await {
        Ok(document) => document,
        Err(e) if is_permanent(&e) => return Outcome::Skip(error::chain(&e)),
        Err(e) => return Outcome::Fail(error::chain(&e)),
    };

    let lines = page_lines(&document);
    let line_count = lines.len();
    // The whole result (every block with its geometry) goes to S3: it can be larger than a
    // DynamoDB item may be, and GeneratePDF places the text layer with it.
    let response = Response {
        document_metadata: DocumentMetadata { pages: 1 },
        blocks: document.blocks().to_vec(),
        ..Response::default()
    };
    let json = match serde_json::to_vec(&response) {
        Ok(json) => json,
        Err(e) => return Outcome::Fail(format!("serializing the textract result: {e}")),
    };
    let textract_key = textract_key(&scan);
    if let Err(e) = scanner
        .objects()
        .put(&textract_key, json, "application/json")
        .await
    {
        return Outcome::Fail(error::chain(&e));
    }
    let (lines, lines_truncated) = cap_lines(lines, MAX_LINE_BYTES);
    let page = PageRecord {
        project: project_id(&scan.user, &scan.project),
        page: scan.page,
        lines,
        lines_truncated,
        image_key: key,
        textract_key: textract_key.clone(),
        identity_id: scan.identity_id.clone(),
        updated_at: now(),
    };
    // A second upload of the same page replaces the item (and the result in S3): same key,
    // same outcome, however often the event is delivered.
    match scanner.store().put_page_of(&project, &page).await {
        Ok(true) => {}
        Ok(false) => {
            return Outcome::Skip(format!(
                "project {:?} of user {:?} was deleted or changed hands while the page was read",
                scan.project, scan.user
            ));
        }
        Err(e) => return Outcome::Fail(error::chain(&e)),
    }
    Outcome::Stored(StoredPage {
        project: page.project,
        page: page.page,
        lines: line_count,
        textract_key,
    })
}

/// Whether retrying cannot help: the document itself is the problem (gone, unreadable, too
/// large, not an image) or the result is malformed. Throttling, service errors, network
/// errors and access denied (a deployment problem worth the alarm of a failed invocation)
/// are retried.
pub fn is_permanent(error: &lambdakit_textract::Error) -> bool {
    use aws_sdk_textract::Error as Sdk;
    match error {
        lambdakit_textract::Error::Service { source, .. } => {
            source.downcast_ref::<Sdk>().is_some_and(|e| {
                matches!(
                    e,
                    Sdk::InvalidS3ObjectException(_)
                        | Sdk::UnsupportedDocumentException(_)
                        | Sdk::BadDocumentException(_)
                        | Sdk::DocumentTooLargeException(_)
                        | Sdk::InvalidParameterException(_)
                )
            })
        }
        lambdakit_textract::Error::Timeout { .. } => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_documents_are_permanent_throttling_is_not() {
        let service = |e: aws_sdk_textract::Error| lambdakit_textract::Error::Service {
            operation: "DetectDocumentText",
            source: Box::new(e),
        };
        let bad = aws_sdk_textract::types::error::UnsupportedDocumentException::builder().build();
        assert!(is_permanent(&service(
            aws_sdk_textract::Error::UnsupportedDocumentException(bad)
        )));
        let throttled = aws_sdk_textract::types::error::ThrottlingException::builder().build();
        assert!(!is_permanent(&service(
            aws_sdk_textract::Error::ThrottlingException(throttled)
        )));
        let io = lambdakit_textract::Error::Service {
            operation: "DetectDocumentText",
            source: Box::new(std::io::Error::other("connection refused")),
        };
        assert!(!is_permanent(&io));
    }
}
