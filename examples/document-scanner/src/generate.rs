//! GeneratePDF: a project's pages, in page order, as a searchable PDF (each page image with
//! Textract's words as an invisible text layer) or a text-only PDF; inline when it fits in a
//! Lambda response, otherwise in S3 behind a presigned link.

use futures_util::StreamExt as _;
use lambdakit_textract::Document;
use lambdakit_textract::pdf::{SearchablePdf, text_only};
use serde::Serialize;

use crate::model::{PageRecord, base64_len, export_prefix, page_lines};
use crate::{Error, Scanner};

/// Page images fetched from S3 at once while the PDF is built.
const FETCH_CONCURRENCY: usize = 4;

/// Which PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The page images with an invisible, searchable text layer (the default).
    #[default]
    Searchable,
    /// The pages' text only (`?mode=text`): small, and readable where the images are not needed.
    Text,
}

impl Mode {
    /// Parses the `mode` query parameter: absent or `searchable`, or `text`.
    ///
    /// Returns [`Error::BadRequest`] for anything else.
    pub fn parse(value: Option<&str>) -> Result<Self, Error> {
        match value {
            None | Some("") | Some("searchable") => Ok(Self::Searchable),
            Some("text") => Ok(Self::Text),
            Some(other) => Err(Error::BadRequest(format!(
                "mode {other:?} is not 'searchable' or 'text'"
            ))),
        }
    }
}

/// A generated PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generated {
    /// Small enough to return in the response body.
    Inline {
        /// The PDF.
        pdf: Vec<u8>,
        /// Its page numbers, in order.
        pages: Vec<u32>,
    },
    /// Written to S3; the response carries a presigned link.
    Link(Link),
}

/// Where a large PDF was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// A presigned GET URL.
    pub url: String,
    /// How long it works, in seconds.
    pub expires_in: u64,
    /// The object key (under `exports/`).
    pub key: String,
    /// The PDF's size.
    pub bytes: usize,
    /// Its page numbers, in order.
    pub pages: Vec<u32>,
}

/// GeneratePDF: builds the project's PDF.
///
/// Returns [`Error::NotFound`] when the project does not exist or has no pages yet,
/// [`Error::Conflict`] when a page's image is gone from S3 (upload it again),
/// [`Error::Textract`] when an image cannot be embedded.
pub async fn generate_pdf(
    scanner: &Scanner,
    user: &str,
    name: &str,
    mode: Mode,
) -> Result<Generated, Error> {
    let project = scanner.project(user, name).await?;
    let pages = scanner.store().pages(&project.id()).await?;
    if pages.is_empty() {
        return Err(Error::NotFound(format!(
            "project {name:?} has no pages yet"
        )));
    }
    let numbers: Vec<u32> = pages.iter().map(|p| p.page).collect();
    let pdf = match mode {
        Mode::Text => text_pdf(scanner, &pages).await?,
        Mode::Searchable => searchable_pdf(scanner, name, pages).await?,
    };
    let config = scanner.config();
    if base64_len(pdf.len()) <= config.pdf_inline_limit {
        return Ok(Generated::Inline {
            pdf,
            pages: numbers,
        });
    }
    // Lambda answers at most 6 MB: a larger PDF goes to S3, and the response is a link.
    let key = format!("{}{}.pdf", export_prefix(user, name), export_id());
    let bytes = pdf.len();
    scanner.objects().put(&key, pdf, "application/pdf").await?;
    let url = scanner
        .objects()
        .presign_get(&key, config.url_expiry)
        .await?;
    tracing::info!(%key, bytes, "pdf too large to return inline; written to s3");
    Ok(Generated::Link(Link {
        url,
        expires_in: config.url_expiry.as_secs(),
        key,
        bytes,
        pages: numbers,
    }))
}

async fn text_pdf(scanner: &Scanner, pages: &[PageRecord]) -> Result<Vec<u8>, Error> {
    let mut texts = Vec::with_capacity(pages.len());
    for page in pages {
        if page.lines_truncated {
            // The item kept only the first lines; the whole text is in the Textract result.
            if let Some(json) = scanner.objects().get(&page.textract_key).await? {
                let document = Document::from_json(&json)?;
                texts.push(page_lines(&document).join("\n"));
                continue;
            }
        }
        texts.push(page.text());
    }
    Ok(text_only(texts))
}

async fn searchable_pdf(
    scanner: &Scanner,
    name: &str,
    pages: Vec<PageRecord>,
) -> Result<Vec<u8>, Error> {
    let objects = scanner.objects();
    // Fetched a few at a time, in page order; each is added as soon as it and those before it
    // are in, so at most a few images are held besides the PDF.
    let mut fetched = futures_util::stream::iter(pages)
        .map(|page| async move {
            let image = objects.get(&page.image_key).await?.ok_or_else(|| {
                Error::Conflict(format!(
                    "the image of page {} is missing; upload it again",
                    page.page
                ))
            })?;
            let result = objects.get(&page.textract_key).await?;
            Ok::<_, Error>((page, image, result))
        })
        .buffered(FETCH_CONCURRENCY);
    let mut pdf = SearchablePdf::new().title(name);
    while let Some(next) = fetched.next().await {
        let (page, image, result) = next?;
        let document = match result {
            Some(json) => Some(Document::from_json(&json)?),
            None => {
                tracing::warn!(
                    page = page.page,
                    "no textract result; the page has no text layer"
                );
                None
            }
        };
        pdf.add_page(&image, document.as_ref().and_then(|d| d.page(1)))?;
    }
    Ok(pdf.finish())
}

/// A name for an exported PDF: the time in milliseconds and 8 random hex digits.
fn export_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let mut random = [0u8; 4];
    // Without randomness the time alone still names it; two exports in one millisecond then
    // share a key, and the second replaces the first.
    let _ = getrandom::fill(&mut random);
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{millis}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(Mode::parse(None).expect("mode"), Mode::Searchable);
        assert_eq!(Mode::parse(Some("text")).expect("mode"), Mode::Text);
        assert!(matches!(
            Mode::parse(Some("docx")),
            Err(Error::BadRequest(_))
        ));
    }

    #[test]
    fn export_ids_differ() {
        assert_ne!(export_id(), export_id());
    }
}
