//! Object keys: random keys that cannot collide, and checks on keys that callers supply.

use std::fmt;

use crate::Error;

/// S3's limit on a key's length, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// A checked S3 object key.
///
/// Built by [`ObjectKey::random`] (128 random bits, so two uploads never share a key) or by
/// [`ObjectKey::parse`], which refuses keys that would escape a prefix or confuse tools that
/// map keys to paths.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Checks a key supplied by a caller.
    ///
    /// Returns [`Error::InvalidKey`] when the key is empty, longer than 1024 bytes, starts
    /// with `/`, has an empty, `.` or `..` segment, or holds a backslash or a control
    /// character.
    pub fn parse(key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        check(&key, false)?;
        Ok(Self(key))
    }

    /// A fresh key: `prefix`, 32 hex digits of 128 random bits, then `.` and `extension`
    /// (nothing is appended when `extension` is empty).
    ///
    /// Returns [`Error::InvalidKey`] when the result would not be a valid key, and
    /// [`Error::Random`] if the operating system has no randomness to give.
    pub fn random(prefix: &KeyPrefix, extension: &str) -> Result<Self, Error> {
        if !extension
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::InvalidKey(format!(
                "extension {extension:?} may hold only letters, digits, '-' and '_'"
            )));
        }
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
        let mut key = String::with_capacity(prefix.0.len() + 33 + extension.len());
        key.push_str(&prefix.0);
        key.push_str(&hex::encode(bytes));
        if !extension.is_empty() {
            key.push('.');
            key.push_str(extension);
        }
        Self::parse(key)
    }

    /// The key as S3 stores it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the key lies under `prefix`.
    pub fn starts_with(&self, prefix: &KeyPrefix) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A checked key prefix such as `uploads/` or `uploads/user-42/`. May be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// Checks a prefix with the rules of [`ObjectKey::parse`]; the empty prefix is allowed.
    pub fn parse(prefix: impl Into<String>) -> Result<Self, Error> {
        let prefix = prefix.into();
        if !prefix.is_empty() {
            check(&prefix, true)?;
        }
        Ok(Self(prefix))
    }

    /// The prefix joined with one more path segment and a `/`: `uploads/` + `alice` gives
    /// `uploads/alice/`. The segment must not be empty nor hold `/`, `.`-only names, a
    /// backslash or control characters.
    pub fn join_segment(&self, segment: &str) -> Result<Self, Error> {
        if segment.is_empty() || segment.contains('/') {
            return Err(Error::InvalidKey(format!(
                "segment {segment:?} must be non-empty and hold no '/'"
            )));
        }
        let mut joined = self.0.clone();
        if !joined.is_empty() && !joined.ends_with('/') {
            joined.push('/');
        }
        joined.push_str(segment);
        joined.push('/');
        Self::parse(joined)
    }

    /// The prefix as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check(key: &str, is_prefix: bool) -> Result<(), Error> {
    let bad = |why: &str| Err(Error::InvalidKey(format!("{key:?}: {why}")));
    if key.is_empty() {
        return bad("is empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return bad("is longer than 1024 bytes");
    }
    if key.starts_with('/') {
        return bad("starts with '/'");
    }
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return bad(&format!("holds the control character {c:?}"));
    }
    if key.contains('\\') {
        return bad("holds a backslash");
    }
    let mut segments: Vec<&str> = key.split('/').collect();
    if is_prefix && segments.last() == Some(&"") {
        segments.pop();
    }
    for segment in segments {
        match segment {
            "" => return bad("has an empty path segment"),
            "." | ".." => return bad("has a '.' or '..' path segment"),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_are_long_and_distinct() {
        let prefix = KeyPrefix::parse("uploads/").expect("prefix");
        let a = ObjectKey::random(&prefix, "jpg").expect("key");
        let b = ObjectKey::random(&prefix, "jpg").expect("key");
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("uploads/"));
        assert!(a.as_str().ends_with(".jpg"));
        assert_eq!(a.as_str().len(), "uploads/".len() + 32 + 4);
        assert!(ObjectKey::random(&prefix, "../x").is_err());
        assert_eq!(
            ObjectKey::random(&KeyPrefix::default(), "")
                .expect("key")
                .as_str()
                .len(),
            32
        );
    }

    #[test]
    fn refuses_traversal_and_odd_keys() {
        for key in [
            "",
            "/abs",
            "a/../b",
            "..",
            "./a",
            "a//b",
            "a/",
            "a\\b",
            "a\u{0}b",
            "line\nbreak",
            "del\u{7f}",
            &"k".repeat(1025),
        ] {
            assert!(
                matches!(ObjectKey::parse(key), Err(Error::InvalidKey(_))),
                "{key:?} should be refused"
            );
        }
        for key in [
            "a",
            "photos/2024/cat.jpg",
            "with space.png",
            "ünïcode/ok",
            "a..b",
        ] {
            assert!(ObjectKey::parse(key).is_ok(), "{key:?} should pass");
        }
        assert!(ObjectKey::parse("k".repeat(1024)).is_ok());
    }

    #[test]
    fn prefixes() {
        assert!(KeyPrefix::parse("").is_ok());
        assert!(KeyPrefix::parse("uploads/").is_ok());
        assert!(KeyPrefix::parse("uploads//").is_err());
        assert!(KeyPrefix::parse("../").is_err());
        let p = KeyPrefix::parse("uploads").expect("prefix");
        assert_eq!(
            p.join_segment("alice").expect("join").as_str(),
            "uploads/alice/"
        );
        assert!(p.join_segment("..").is_err());
        assert!(p.join_segment("a/b").is_err());
        assert!(p.join_segment("").is_err());
    }
}
