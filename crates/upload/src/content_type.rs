//! The content types an upload may have, and the file extension each one gets.

use crate::Error;

/// Common media types and the extension a generated key gets for each.
const KNOWN: &[(&str, &str)] = &[
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/gif", "gif"),
    ("image/webp", "webp"),
    ("image/avif", "avif"),
    ("image/heic", "heic"),
    ("image/tiff", "tiff"),
    ("image/svg+xml", "svg"),
    ("application/pdf", "pdf"),
    ("application/json", "json"),
    ("application/zip", "zip"),
    ("application/gzip", "gz"),
    ("application/octet-stream", "bin"),
    ("text/plain", "txt"),
    ("text/csv", "csv"),
    ("video/mp4", "mp4"),
    ("video/quicktime", "mov"),
    ("video/webm", "webm"),
    ("audio/mpeg", "mp3"),
    ("audio/wav", "wav"),
    ("audio/ogg", "ogg"),
];

/// An allow-list of content types, each with the extension of the keys it gets.
///
/// Types are compared without case and without parameters (`image/JPEG; q=1` is
/// `image/jpeg`); the canonical lowercase form is what gets signed, so it is what the
/// client must send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentTypes {
    allowed: Vec<(String, String)>,
}

impl ContentTypes {
    /// An empty list: every type is refused until one is allowed.
    pub fn new() -> Self {
        Self::default()
    }

    /// The blog's default: JPEG images only.
    pub fn jpeg_only() -> Self {
        Self {
            allowed: vec![("image/jpeg".into(), "jpg".into())],
        }
    }

    /// Allows a well-known type, with its usual extension.
    ///
    /// Returns [`Error::UnsupportedContentType`] for a type this crate has no extension for;
    /// use [`ContentTypes::allow_with_extension`] for those.
    pub fn allow(mut self, content_type: &str) -> Result<Self, Error> {
        let essence = essence(content_type);
        let ext = KNOWN
            .iter()
            .find(|(t, _)| *t == essence)
            .map(|(_, e)| *e)
            .ok_or_else(|| Error::UnsupportedContentType {
                content_type: content_type.to_owned(),
                allowed: "a well-known type; use allow_with_extension for others".into(),
            })?;
        self.push(essence, ext.to_owned());
        Ok(self)
    }

    /// Allows any type, with the given extension (letters, digits, `-` and `_`).
    pub fn allow_with_extension(
        mut self,
        content_type: &str,
        extension: &str,
    ) -> Result<Self, Error> {
        let essence = essence(content_type);
        let valid_type = essence.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && essence.bytes().all(|c| c.is_ascii_graphic())
        });
        if !valid_type {
            return Err(Error::InvalidRequest(format!(
                "{content_type:?} is not a media type"
            )));
        }
        if extension.is_empty()
            || !extension
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::InvalidRequest(format!(
                "extension {extension:?} may hold only letters, digits, '-' and '_'"
            )));
        }
        self.push(essence, extension.to_owned());
        Ok(self)
    }

    fn push(&mut self, essence: String, ext: String) {
        if !self.allowed.iter().any(|(t, _)| *t == essence) {
            self.allowed.push((essence, ext));
        }
    }

    /// Looks up `content_type`: its canonical form and its extension.
    ///
    /// Returns [`Error::UnsupportedContentType`] when it is not allowed.
    pub fn check(&self, content_type: &str) -> Result<(&str, &str), Error> {
        let essence = essence(content_type);
        self.allowed
            .iter()
            .find(|(t, _)| *t == essence)
            .map(|(t, e)| (t.as_str(), e.as_str()))
            .ok_or_else(|| Error::UnsupportedContentType {
                content_type: content_type.to_owned(),
                allowed: self.list(),
            })
    }

    /// The allowed types, comma-separated.
    pub fn list(&self) -> String {
        let names: Vec<&str> = self.allowed.iter().map(|(t, _)| t.as_str()).collect();
        names.join(", ")
    }

    /// True when no type is allowed.
    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty()
    }
}

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_maps_extensions() {
        let types = ContentTypes::new()
            .allow("image/jpeg")
            .and_then(|t| t.allow("image/png"))
            .and_then(|t| t.allow_with_extension("application/x-parquet", "parquet"))
            .expect("types");
        assert_eq!(types.check("image/jpeg").ok(), Some(("image/jpeg", "jpg")));
        assert_eq!(
            types.check(" Image/JPEG ; q=1").ok(),
            Some(("image/jpeg", "jpg"))
        );
        assert_eq!(
            types.check("application/x-parquet").ok(),
            Some(("application/x-parquet", "parquet"))
        );
        let err = types.check("text/html").expect_err("html is refused");
        assert_eq!(err.status(), 415);
        assert!(err.to_string().contains("image/jpeg, image/png"));
        assert!(ContentTypes::new().allow("application/x-unknown").is_err());
        assert!(
            ContentTypes::new()
                .allow_with_extension("nonsense", "x")
                .is_err()
        );
        assert!(
            ContentTypes::new()
                .allow_with_extension("a/b", "../x")
                .is_err()
        );
        assert!(ContentTypes::new().check("image/jpeg").is_err());
    }
}
