//! Projects and pages as stored in DynamoDB, the S3 key layout, and the checks on names: plain
//! values and functions, no I/O.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use lambdakit_textract::s3::ScanKey;
use serde::Serialize;

use crate::Error;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The longest project name, in characters.
pub const MAX_PROJECT_NAME: usize = 100;

/// The most bytes of line text kept in one Pages item. DynamoDB items hold at most 400 KB; the
/// full Textract result is in S3 whatever the size, so a page past this keeps its first lines
/// here and is marked `lines_truncated`.
pub const MAX_LINE_BYTES: usize = 300_000;

/// Checks a project name, as a user typed it: 1 to 100 characters, no `/` (it is one segment of
/// the S3 keys), no control characters, no leading or trailing white space, not `.` or `..`.
/// Any script is fine.
///
/// Returns [`Error::BadRequest`] saying what is wrong.
pub fn check_project_name(name: &str) -> Result<(), Error> {
    let bad = |why: &str| Err(Error::BadRequest(format!("project name {why}")));
    if name.is_empty() {
        return bad("is empty");
    }
    if name.chars().count() > MAX_PROJECT_NAME {
        return bad(&format!("is longer than {MAX_PROJECT_NAME} characters"));
    }
    if name.contains('/') {
        return bad("contains '/'");
    }
    if name.chars().any(char::is_control) {
        return bad("contains a control character");
    }
    if name.trim() != name {
        return bad("starts or ends with white space");
    }
    if name == "." || name == ".." {
        return bad("is '.' or '..'");
    }
    Ok(())
}

/// Checks the user name from the `cognito:username` claim: not empty and no `/` (it is a
/// segment of the S3 keys and the first half of the Pages partition key `{user}/{project}`).
///
/// Returns [`Error::BadRequest`] otherwise.
pub fn check_user(user: &str) -> Result<(), Error> {
    if user.is_empty() || user.contains('/') || user.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "this user name cannot own projects (it is empty or contains '/')".into(),
        ));
    }
    Ok(())
}

/// Checks a Cognito identity id: `region:uuid`, as `Auth.currentCredentials()` returns it and
/// as it appears in `private/{identityId}/` keys.
///
/// Returns [`Error::BadRequest`] otherwise.
pub fn check_identity_id(id: &str) -> Result<(), Error> {
    let ok = id.len() <= 55
        && id.split_once(':').is_some_and(|(region, uuid)| {
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !uuid.is_empty()
                && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "{id:?} is not a Cognito identity id (region:uuid)"
        )))
    }
}

/// The text of a one-page Textract result's lines, in reading order: what a Pages item keeps.
pub fn page_lines(document: &lambdakit_textract::Document) -> Vec<String> {
    document
        .page(1)
        .map(|page| {
            page.reading_order()
                .into_iter()
                .filter_map(|line| line.text.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The Pages partition key of a project: `{user}/{project}`.
pub fn project_id(user: &str, project: &str) -> String {
    format!("{user}/{project}")
}

/// Where the page images of a project are: `private/{identityId}/{user}/{project}/`. The
/// trailing `/` keeps project `tax` from matching project `taxes`.
pub fn image_prefix(identity_id: &str, user: &str, project: &str) -> String {
    format!("private/{identity_id}/{user}/{project}/")
}

/// Where the Textract results of a project are: `textract/{identityId}/{user}/{project}/`.
/// Outside `private/`, so writing them does not trigger ProcessDocument again.
pub fn textract_prefix(identity_id: &str, user: &str, project: &str) -> String {
    format!("textract/{identity_id}/{user}/{project}/")
}

/// Where the large PDFs of a project are written: `exports/{user}/{project}/`.
pub fn export_prefix(user: &str, project: &str) -> String {
    format!("exports/{user}/{project}/")
}

/// The key of a page's Textract result: `textract/{identityId}/{user}/{project}/{page}.json`.
pub fn textract_key(scan: &ScanKey) -> String {
    format!(
        "{}{}.json",
        textract_prefix(&scan.identity_id, &scan.user, &scan.project),
        scan.page
    )
}

/// The length of `n` bytes in base64 (with padding).
pub fn base64_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}

/// A project: one item of the Projects table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// The owner (`username`, the partition key).
    pub user: String,
    /// The name (`project_name`, the sort key).
    pub name: String,
    /// The Cognito identity id whose `private/` prefix holds the pages (`identity_id`).
    pub identity_id: String,
    /// When it was created, RFC 3339 (`created_at`).
    pub created_at: String,
}

impl Project {
    /// The item.
    pub fn to_item(&self) -> Item {
        HashMap::from([
            ("username".into(), s(&self.user)),
            ("project_name".into(), s(&self.name)),
            ("identity_id".into(), s(&self.identity_id)),
            ("created_at".into(), s(&self.created_at)),
        ])
    }

    /// Reads an item. Returns [`Error::Internal`] when an attribute is missing or of another
    /// type.
    pub fn from_item(item: &Item) -> Result<Self, Error> {
        Ok(Self {
            user: get_s(item, "username")?,
            name: get_s(item, "project_name")?,
            identity_id: get_s(item, "identity_id")?,
            created_at: get_s(item, "created_at").unwrap_or_default(),
        })
    }

    /// The Pages partition key of this project.
    pub fn id(&self) -> String {
        project_id(&self.user, &self.name)
    }
}

/// One page: one item of the Pages table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRecord {
    /// `{user}/{project}` (`project`, the partition key).
    pub project: String,
    /// The page number (`page`, the sort key, stored as a number so 2 sorts before 10).
    pub page: u32,
    /// The page's lines in reading order (`lines`, a list: the order matters and lines repeat).
    pub lines: Vec<String>,
    /// Whether `lines` was cut at [`MAX_LINE_BYTES`] (`lines_truncated`).
    pub lines_truncated: bool,
    /// The image's S3 key (`image_key`).
    pub image_key: String,
    /// The Textract result's S3 key (`textract_key`).
    pub textract_key: String,
    /// The identity that uploaded it (`identity_id`).
    pub identity_id: String,
    /// When it was last processed, RFC 3339 (`updated_at`).
    pub updated_at: String,
}

impl PageRecord {
    /// The item.
    pub fn to_item(&self) -> Item {
        HashMap::from([
            ("project".into(), s(&self.project)),
            ("page".into(), AttributeValue::N(self.page.to_string())),
            (
                "lines".into(),
                AttributeValue::L(self.lines.iter().map(|l| s(l)).collect()),
            ),
            (
                "lines_truncated".into(),
                AttributeValue::Bool(self.lines_truncated),
            ),
            ("image_key".into(), s(&self.image_key)),
            ("textract_key".into(), s(&self.textract_key)),
            ("identity_id".into(), s(&self.identity_id)),
            ("updated_at".into(), s(&self.updated_at)),
        ])
    }

    /// Reads an item. Returns [`Error::Internal`] when an attribute is missing or of another
    /// type.
    pub fn from_item(item: &Item) -> Result<Self, Error> {
        let lines = match item.get("lines") {
            Some(AttributeValue::L(values)) => values
                .iter()
                .map(|v| {
                    v.as_s()
                        .cloned()
                        .map_err(|_| Error::Internal("a page line is not a string".into()))
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
            Some(_) => return Err(Error::Internal("page lines are not a list".into())),
        };
        Ok(Self {
            project: get_s(item, "project")?,
            page: page_number(item)?,
            lines,
            lines_truncated: matches!(
                item.get("lines_truncated"),
                Some(AttributeValue::Bool(true))
            ),
            image_key: get_s(item, "image_key")?,
            textract_key: get_s(item, "textract_key")?,
            identity_id: get_s(item, "identity_id").unwrap_or_default(),
            updated_at: get_s(item, "updated_at").unwrap_or_default(),
        })
    }

    /// The page's text: its lines, one per line.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Keeps the first lines that fit in `max_bytes` of text; says whether any were left out.
pub fn cap_lines(lines: Vec<String>, max_bytes: usize) -> (Vec<String>, bool) {
    let mut total = 0usize;
    let mut kept = Vec::with_capacity(lines.len());
    let all = lines.len();
    for line in lines {
        total = total.saturating_add(line.len());
        if total > max_bytes {
            break;
        }
        kept.push(line);
    }
    let truncated = kept.len() < all;
    (kept, truncated)
}

/// The `page` attribute of a Pages item.
pub fn page_number(item: &Item) -> Result<u32, Error> {
    match item.get("page") {
        Some(AttributeValue::N(n)) => n
            .parse()
            .map_err(|_| Error::Internal(format!("page number {n:?} is not a u32"))),
        _ => Err(Error::Internal("a page item has no numeric page".into())),
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn get_s(item: &Item, name: &str) -> Result<String, Error> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(Error::Internal(format!("item has no string {name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names() {
        for good in [
            "My Taxes",
            "Steuererklärung 2024",
            "東京の領収書",
            "a.b",
            "x",
        ] {
            assert!(check_project_name(good).is_ok(), "{good}");
        }
        let long = "x".repeat(MAX_PROJECT_NAME + 1);
        for bad in [
            "",
            "a/b",
            " lead",
            "trail ",
            "tab\tname",
            ".",
            "..",
            long.as_str(),
        ] {
            assert!(
                matches!(check_project_name(bad), Err(Error::BadRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn identity_ids() {
        assert!(check_identity_id("us-east-1:0b8f6a2e-1c3d-4e5f-8a9b-0c1d2e3f4a5b").is_ok());
        for bad in [
            "",
            "us-east-1",
            ":abc",
            "us-east-1:",
            "us-east-1:../x",
            "a/b:cd",
        ] {
            assert!(check_identity_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn users() {
        assert!(check_user("alice").is_ok());
        assert!(check_user("0b8f6a2e-1c3d-4e5f-8a9b-0c1d2e3f4a5b").is_ok());
        assert!(check_user("").is_err());
        assert!(check_user("a/b").is_err());
    }

    #[test]
    fn prefixes_end_with_a_slash_so_tax_is_not_taxes() {
        assert_eq!(image_prefix("id", "u", "tax"), "private/id/u/tax/");
        assert!(!"private/id/u/taxes/1.png".starts_with(&image_prefix("id", "u", "tax")));
        let scan = ScanKey::parse("private/us-east-1:ab/alice/My Taxes/12.png").expect("key");
        assert_eq!(
            textract_key(&scan),
            "textract/us-east-1:ab/alice/My Taxes/12.json"
        );
    }

    #[test]
    fn base64_lengths() {
        assert_eq!(base64_len(0), 0);
        assert_eq!(base64_len(1), 4);
        assert_eq!(base64_len(3), 4);
        assert_eq!(base64_len(4), 8);
        assert_eq!(base64_len(3_750_000), 5_000_000);
    }

    #[test]
    fn items_round_trip_and_pages_are_numbers() {
        let page = PageRecord {
            project: "alice/My Taxes".into(),
            page: 10,
            lines: vec!["Grüße".into(), "東京".into(), "Grüße".into()],
            lines_truncated: false,
            image_key: "private/id/alice/My Taxes/10.png".into(),
            textract_key: "textract/id/alice/My Taxes/10.json".into(),
            identity_id: "us-east-1:ab".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
        };
        let item = page.to_item();
        assert_eq!(item.get("page"), Some(&AttributeValue::N("10".into())));
        assert_eq!(PageRecord::from_item(&item).expect("page"), page);

        let project = Project {
            user: "alice".into(),
            name: "My Taxes".into(),
            identity_id: "us-east-1:ab".into(),
            created_at: "2024-01-01T00:00:00Z".into(),
        };
        assert_eq!(
            Project::from_item(&project.to_item()).expect("project"),
            project
        );
        assert!(matches!(
            Project::from_item(&Item::new()),
            Err(Error::Internal(_))
        ));
    }

    #[test]
    fn lines_are_capped_whole() {
        let lines = vec!["aaaa".to_string(), "bbbb".into(), "cccc".into()];
        assert_eq!(cap_lines(lines.clone(), 100), (lines.clone(), false));
        assert_eq!(
            cap_lines(lines, 9),
            (vec!["aaaa".to_string(), "bbbb".into()], true)
        );
    }
}
