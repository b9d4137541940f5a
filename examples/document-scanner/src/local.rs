//! The scanner on one machine: its bucket and tables on the local AWS emulator (moto's server,
//! `LAMBDAKIT_EMULATOR_URL`), Textract replaced by a server replaying recorded responses, and
//! the events S3 and API Gateway would send, built from the samples in `events/`.
//!
//! For the demo and the tests; compiled only with the feature `local`.

use std::path::PathBuf;

use aws_lambda_events::s3::S3Event;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_s3::primitives::ByteStream;
use lambdakit_test_support::emulator;
use serde_json::{Value, json};

use lambdakit_test_support::textract_replay::TextractReplay;
use lambdakit_textract::jobs::Textract;

use crate::process::{Processed, process_document};
use crate::{BoxError, Config, Scanner};

/// The sample S3 `ObjectCreated:Put` event.
pub const S3_EVENT: &str = include_str!("../events/s3-object-created.json");
/// The sample REST API event of FetchProjects (`GET /projects`, Cognito claims).
pub const FETCH_PROJECTS_EVENT: &str = include_str!("../events/fetch-projects.json");
/// The sample REST API event of CreateProject (`POST /projects`).
pub const CREATE_PROJECT_EVENT: &str = include_str!("../events/create-project.json");
/// The sample REST API event of DeleteProject (`DELETE /projects?project=...`).
pub const DELETE_PROJECT_EVENT: &str = include_str!("../events/delete-project.json");
/// The sample REST API event of FetchPageCount (`GET /pagecount?project=...`).
pub const FETCH_PAGE_COUNT_EVENT: &str = include_str!("../events/fetch-page-count.json");
/// The sample REST API event of GeneratePDF (`GET /pdf?project=...`).
pub const GENERATE_PDF_EVENT: &str = include_str!("../events/generate-pdf.json");

/// A Cognito identity id of the shape the web app's uploads carry.
pub const ALICE_IDENTITY: &str = "us-east-1:7d1f5c2e-9b8a-4c3d-a1e2-f3b4c5d6e7f8";
/// Another identity's id.
pub const BOB_IDENTITY: &str = "us-east-1:0b8f6a2e-1c3d-4e5f-8a9b-0c1d2e3f4a5b";

/// The sample pages: a page number, a real image and the recorded Textract response for it, from
/// `crates/textract/tests/fixtures` (see its `SOURCES.md`). Page 10 comes after page 2.
pub const SAMPLE_PAGES: [(u32, &str, &str); 4] = [
    (1, "receipt.jpg", "receipt.detect.json"),
    (2, "multicol.png", "multicol.detect.json"),
    (3, "paystub.jpg", "paystub.analyze.json"),
    (
        10,
        "twocol-header-footer.png",
        "twocol-header-footer.detect.json",
    ),
];

/// The folder of lambdakit-textract's fixtures.
pub fn textract_fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/textract/tests/fixtures"
    ))
}

/// Reads one of lambdakit-textract's fixtures.
pub fn textract_fixture(name: &str) -> Result<Vec<u8>, BoxError> {
    let path = textract_fixtures().join(name);
    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

/// An S3 client for the emulator (path-style).
pub fn s3() -> aws_sdk_s3::Client {
    emulator::s3()
}

/// A DynamoDB client for the emulator.
pub fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&emulator::sdk_config())
}

/// A Textract client sending to `endpoint_url` (a [`TextractReplay`]).
pub fn textract(endpoint_url: &str) -> aws_sdk_textract::Client {
    let config = aws_sdk_textract::config::Builder::from(&emulator::sdk_config())
        .endpoint_url(endpoint_url)
        .build();
    aws_sdk_textract::Client::from_conf(config)
}

/// Creates a bucket and the two tables, with names unique to this run, as the template does;
/// returns the settings naming them.
pub async fn create_resources(
    s3: &aws_sdk_s3::Client,
    dynamodb: &aws_sdk_dynamodb::Client,
) -> Result<Config, BoxError> {
    let bucket = emulator::bucket(s3, "scanner").await;
    let projects = lambdakit_test_support::unique_name("projects");
    let pages = lambdakit_test_support::unique_name("pages");
    create_table(
        dynamodb,
        &projects,
        ("username", ScalarAttributeType::S),
        ("project_name", ScalarAttributeType::S),
    )
    .await?;
    create_table(
        dynamodb,
        &pages,
        ("project", ScalarAttributeType::S),
        ("page", ScalarAttributeType::N),
    )
    .await?;
    Ok(Config::new(bucket, projects, pages))
}

async fn create_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
    partition: (&str, ScalarAttributeType),
    sort: (&str, ScalarAttributeType),
) -> Result<(), BoxError> {
    let mut request = dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for ((attribute, kind), key_type) in [(partition, KeyType::Hash), (sort, KeyType::Range)] {
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(kind)
                    .build()?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(attribute)
                    .key_type(key_type)
                    .build()?,
            );
    }
    request.send().await?;
    Ok(())
}

/// The key of a page image: `private/{identityId}/{user}/{project}/{page}.{ext}`.
pub fn page_key(identity_id: &str, user: &str, project: &str, page: u32, ext: &str) -> String {
    format!("private/{identity_id}/{user}/{project}/{page}.{ext}")
}

/// Uploads a page image as the web app does (`Storage.put(..., {level: "private"})`).
pub async fn upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    image: Vec<u8>,
) -> Result<(), BoxError> {
    let content_type = if key.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    };
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(ByteStream::from(image))
        .send()
        .await?;
    Ok(())
}

/// Encodes an object key as S3 does in event notifications: like an HTML form, a space is `+`
/// and every byte outside `A-Z a-z 0-9 - _ . * /` is `%XX` (so `:` is `%3A` and `+` is `%2B`).
pub fn encode_event_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The sample `ObjectCreated:Put` event for `key` (not yet encoded) in `bucket`, `size` bytes.
pub fn s3_event(bucket: &str, key: &str, size: usize) -> Result<S3Event, BoxError> {
    let mut event: Value = serde_json::from_str(S3_EVENT)?;
    let s3 = &mut event["Records"][0]["s3"];
    s3["bucket"]["name"] = json!(bucket);
    s3["bucket"]["arn"] = json!(format!("arn:aws:s3:::{bucket}"));
    s3["object"]["key"] = json!(encode_event_key(key));
    s3["object"]["size"] = json!(size);
    Ok(serde_json::from_value(event)?)
}

/// A REST API proxy event from one of the samples, for `user` (`None`: no authorizer claims),
/// with its query parameters and body replaced when given.
pub fn api_request(
    sample: &str,
    user: Option<&str>,
    query: Option<&[(&str, &str)]>,
    body: Option<&str>,
) -> Result<lambda_http::Request, BoxError> {
    let mut event: Value = serde_json::from_str(sample)?;
    match user {
        Some(user) => {
            event["requestContext"]["authorizer"]["claims"]["cognito:username"] = json!(user);
        }
        None => event["requestContext"]["authorizer"] = Value::Null,
    }
    if let Some(query) = query {
        let single: serde_json::Map<String, Value> = query
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let multi: serde_json::Map<String, Value> = query
            .iter()
            .map(|(k, v)| (k.to_string(), json!([v])))
            .collect();
        event["queryStringParameters"] = Value::Object(single);
        event["multiValueQueryStringParameters"] = Value::Object(multi);
    }
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    Ok(lambda_http::request::from_str(&event.to_string())?)
}

/// A recorded Textract response with the first words of its first line of at least
/// `words.len()` words replaced by `words`, and the line's text made of its words: text in any
/// script, placed where Textract found the original words.
pub fn with_first_line(recording: &[u8], words: &[&str]) -> Result<Vec<u8>, BoxError> {
    let mut response: Value = serde_json::from_slice(recording)?;
    let blocks = response["Blocks"]
        .as_array_mut()
        .ok_or("the recording has no Blocks")?;
    let children_of = |block: &Value| -> Vec<String> {
        block["Relationships"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["Type"] == "CHILD")
            .flat_map(|r| r["Ids"].as_array().cloned().unwrap_or_default())
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect()
    };
    // The first line with room for every word.
    let line = blocks
        .iter()
        .position(|b| b["BlockType"] == "LINE" && children_of(b).len() >= words.len())
        .ok_or("the recording has no LINE with that many words")?;
    let children = children_of(&blocks[line]);
    let mut texts = Vec::new();
    for (id, word) in children.iter().zip(words) {
        if let Some(block) = blocks.iter_mut().find(|b| b["Id"] == id.as_str()) {
            block["Text"] = json!(word);
        }
        texts.push(*word);
    }
    for id in children.iter().skip(words.len()) {
        if let Some(text) = blocks
            .iter()
            .find(|b| b["Id"] == id.as_str())
            .and_then(|b| b["Text"].as_str())
        {
            texts.push(text);
        }
    }
    let text = texts.join(" ");
    blocks[line]["Text"] = json!(text);
    Ok(serde_json::to_vec(&response)?)
}

/// The JSON body of an API response.
pub fn json_body(response: &lambda_http::Response<lambda_http::Body>) -> Result<Value, BoxError> {
    Ok(serde_json::from_slice(response.body().as_ref())?)
}

/// The number of pages of a PDF: its `/Type /Page` objects (not `/Pages`), however spaced.
pub fn pdf_page_count(pdf: &[u8]) -> usize {
    let mut count = 0;
    let mut rest = pdf;
    while let Some(at) = find(rest, b"/Type") {
        rest = &rest[at + b"/Type".len()..];
        let after = rest
            .iter()
            .position(|b| !b" \r\n\t".contains(b))
            .map_or(&[][..], |i| &rest[i..]);
        if after.starts_with(b"/Page") && !after[b"/Page".len()..].starts_with(b"s") {
            count += 1;
        }
    }
    count
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A whole scanner on the emulator: bucket and tables unique to it, the clients, and Textract
/// replaying recorded responses.
#[derive(Debug)]
pub struct Stack {
    /// The functions' clients and settings.
    pub scanner: Scanner,
    /// S3 on the emulator.
    pub s3: aws_sdk_s3::Client,
    /// DynamoDB on the emulator.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The replaying Textract.
    pub replay: TextractReplay,
    /// ProcessDocument's Textract adapter, pointed at `replay`.
    pub textract: Textract,
}

impl Stack {
    /// Creates the bucket and the tables, lets `configure` change the settings (page sizes,
    /// the inline PDF limit, ...), and starts the replaying Textract.
    pub async fn start(configure: impl FnOnce(&mut Config)) -> Result<Self, BoxError> {
        let (s3, dynamodb) = (self::s3(), self::dynamodb());
        let mut config = create_resources(&s3, &dynamodb).await?;
        configure(&mut config);
        let scanner = Scanner::new(config, s3.clone(), dynamodb.clone());
        let replay = TextractReplay::start().await;
        let textract = Textract::new(self::textract(&replay.endpoint_url()));
        Ok(Self {
            scanner,
            s3,
            dynamodb,
            replay,
            textract,
        })
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.scanner.config().bucket
    }

    /// Uploads `image` under `key`, records `recording` as Textract's answer for it, and runs
    /// ProcessDocument on the upload's `ObjectCreated:Put` event.
    pub async fn upload_and_process(
        &self,
        key: &str,
        image: Vec<u8>,
        recording: &[u8],
    ) -> Result<Processed, BoxError> {
        let size = image.len();
        upload(&self.s3, self.bucket(), key, image).await?;
        self.replay.add(key, recording);
        let event = s3_event(self.bucket(), key, size)?;
        Ok(process_document(&self.scanner, &self.textract, event).await)
    }

    /// [`Self::upload_and_process`] with one of [`SAMPLE_PAGES`]' image and recording, as page
    /// `page` of `user`'s `project`, uploaded by `identity_id`.
    pub async fn upload_sample(
        &self,
        identity_id: &str,
        user: &str,
        project: &str,
        page: u32,
        sample: (&str, &str),
    ) -> Result<Processed, BoxError> {
        let (image, recording) = sample;
        let ext = image.rsplit('.').next().unwrap_or("png");
        let key = page_key(identity_id, user, project, page, ext);
        self.upload_and_process(
            &key,
            textract_fixture(image)?,
            &textract_fixture(recording)?,
        )
        .await
    }
}
