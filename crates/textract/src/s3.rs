//! S3 event keys: decoding them the way S3 encodes them, and the document scanner's key layout.

use percent_encoding::percent_decode_str;

use crate::Error;

/// Decodes an object key from an S3 event notification.
///
/// S3 encodes keys in events like an HTML form: a space is `+`, and everything else outside a
/// small safe set is percent-encoded UTF-8 (a literal `+` arrives as `%2B`). Returns
/// [`Error::InvalidKey`] when the decoded bytes are not UTF-8.
///
/// ```
/// # use lambdakit_textract::s3::decode_event_key;
/// assert_eq!(decode_event_key("private/us-east-1%3Aab/My+Scan/1.png").unwrap(), "private/us-east-1:ab/My Scan/1.png");
/// assert_eq!(decode_event_key("a%2Bb").unwrap(), "a+b");
/// ```
pub fn decode_event_key(key: &str) -> Result<String, Error> {
    let spaced = key.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| Error::InvalidKey {
            key: key.to_owned(),
            reason: "not percent-encoded utf-8",
        })
}

/// A page image key of the document scanner: `private/{identityId}/{user}/{project}/{page}.{ext}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanKey {
    /// The Cognito identity id (`region:uuid`) that owns the `private/` prefix.
    pub identity_id: String,
    /// The user name.
    pub user: String,
    /// The project name.
    pub project: String,
    /// The page number.
    pub page: u32,
    /// The file extension, lower-cased (`png`, `jpg`, `jpeg`).
    pub extension: String,
}

impl ScanKey {
    /// Parses a decoded key (see [`decode_event_key`]). Returns [`Error::InvalidKey`] when the
    /// key has another shape, an empty part, a page that is not a positive number, or an
    /// extension other than `png`, `jpg` or `jpeg`.
    pub fn parse(key: &str) -> Result<Self, Error> {
        let bad = |reason| Error::InvalidKey {
            key: key.to_owned(),
            reason,
        };
        let parts: Vec<&str> = key.split('/').collect();
        let [prefix, identity_id, user, project, file] = parts.as_slice() else {
            return Err(bad(
                "expected private/{identityId}/{user}/{project}/{page}.{ext}",
            ));
        };
        if *prefix != "private" {
            return Err(bad("not under private/"));
        }
        if identity_id.is_empty() || user.is_empty() || project.is_empty() {
            return Err(bad("empty path segment"));
        }
        let (page, extension) = file
            .rsplit_once('.')
            .ok_or_else(|| bad("no file extension"))?;
        let extension = extension.to_ascii_lowercase();
        if !matches!(extension.as_str(), "png" | "jpg" | "jpeg") {
            return Err(bad("page images must be png or jpeg"));
        }
        let page: u32 = page.parse().map_err(|_| bad("page is not a number"))?;
        if page == 0 || !file.as_bytes()[0].is_ascii_digit() {
            return Err(bad("page numbers start at 1"));
        }
        Ok(Self {
            identity_id: identity_id.to_string(),
            user: user.to_string(),
            project: project.to_string(),
            page,
            extension,
        })
    }

    /// The key again (`private/{identityId}/{user}/{project}/{page}.{ext}`).
    pub fn key(&self) -> String {
        format!(
            "private/{}/{}/{}/{}.{}",
            self.identity_id, self.user, self.project, self.page, self.extension
        )
    }

    /// The Pages table's partition key for this page's project: `{user}/{project}`.
    pub fn project_id(&self) -> String {
        format!("{}/{}", self.user, self.project)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_decode_like_s3_encodes_them() {
        assert_eq!(decode_event_key("a+b%2Bc").unwrap(), "a b+c");
        assert_eq!(decode_event_key("caf%C3%A9/%E6%96%87").unwrap(), "café/文");
        assert!(matches!(
            decode_event_key("%FF"),
            Err(Error::InvalidKey { .. })
        ));
    }

    #[test]
    fn scan_keys() {
        let k = ScanKey::parse("private/us-east-1:1-2/alice/My Taxes/12.PNG").unwrap();
        assert_eq!(
            (k.user.as_str(), k.project.as_str(), k.page),
            ("alice", "My Taxes", 12)
        );
        assert_eq!(k.project_id(), "alice/My Taxes");
        assert_eq!(k.extension, "png");
        for bad in [
            "public/x/alice/p/1.png",
            "private/x/alice/p/0.png",
            "private/x/alice/p/+1.png",
            "private/x/alice/p/one.png",
            "private/x/alice/p/1.gif",
            "private/x/alice/p/q/1.png",
            "private//alice/p/1.png",
        ] {
            assert!(ScanKey::parse(bad).is_err(), "{bad}");
        }
    }
}
