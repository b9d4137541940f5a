//! Presigned POST: a signed policy for browser form uploads.
//!
//! The policy and the form fields are built together, so every field the server sets has
//! its exact-match condition and the two cannot drift apart. For the same inputs, clock and
//! credentials, the policy document and signature are byte for byte those of boto3's
//! `generate_presigned_post`.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::Error;
use crate::key::{KeyPrefix, ObjectKey};
use crate::presign::{CannedAcl, Presigner, check_metadata, effective_expiry, serialize_time};
use crate::sigv4::{self, ALGORITHM, Credentials, Stamp};

/// Form fields a policy may not set itself: S3 or the signer sets them.
const RESERVED: &[&str] = &[
    "key",
    "bucket",
    "policy",
    "file",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-signature",
];

/// One policy condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `{"field": "value"}`: the form field must equal the value.
    Eq(String, String),
    /// `["starts-with", "$field", "prefix"]`: the field the client fills must start with
    /// the prefix (an empty prefix allows any value).
    StartsWith(String, String),
    /// `["content-length-range", min, max]`: the file's size in bytes, both ends included.
    ContentLengthRange(u64, u64),
}

/// Which key the form uploads to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PostKey {
    Exact(ObjectKey),
    /// `prefix${filename}`: S3 puts the browser's file name in place of `${filename}`.
    Filename(KeyPrefix),
}

/// A POST policy under construction, for browser form uploads.
///
/// The policy and the form fields are built together: every field the server sets gets its
/// exact-match condition, so the two cannot drift apart. For the same inputs, clock and
/// credentials, the policy document and signature are byte for byte those of boto3's
/// `generate_presigned_post`.
#[derive(Debug, Clone)]
#[must_use = "a PostPolicy does nothing until signed"]
pub struct PostPolicy {
    key: PostKey,
    fields: Vec<(String, String)>,
    conditions: Vec<Condition>,
    expires_in: Duration,
    error: Option<String>,
}

/// A signed POST form: the URL to post to and the fields to send before the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresignedPost {
    /// The form's action URL.
    pub url: String,
    /// The form fields, in order; `file` must come after them.
    pub fields: Fields,
    /// When the policy expires.
    #[serde(serialize_with = "serialize_time")]
    pub expires_at: SystemTime,
}

/// Ordered form fields; serialized as a JSON object in this order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The value of a field, by exact name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Iterates over (name, value) pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl PostPolicy {
    /// A policy for uploads to exactly `key`.
    ///
    /// A key holding `${filename}` makes [`PostPolicy::sign`] fail with
    /// [`Error::InvalidRequest`]: S3 replaces it with the browser's file name, so it cannot
    /// match exactly; use [`PostPolicy::with_filename`].
    pub fn new(key: ObjectKey) -> Self {
        let has_filename = key.as_str().contains("${filename}");
        let mut policy = Self::with_key(PostKey::Exact(key));
        if has_filename {
            policy.error = Some("a key with ${filename} needs PostPolicy::with_filename".into());
        }
        policy
    }

    /// A policy for uploads under `prefix`, named by the browser's file name: the `key`
    /// field is `prefix${filename}` and the condition is `starts-with $key prefix`.
    pub fn with_filename(prefix: KeyPrefix) -> Self {
        Self::with_key(PostKey::Filename(prefix))
    }

    fn with_key(key: PostKey) -> Self {
        Self {
            key,
            fields: Vec::new(),
            conditions: Vec::new(),
            expires_in: Duration::from_secs(3600),
            error: None,
        }
    }

    /// Adds a form field the server sets, with its exact-match condition.
    ///
    /// Reserved names (`key`, `policy`, `x-amz-*` signing fields, `file`, `bucket`) make
    /// [`PostPolicy::sign`] fail with [`Error::InvalidRequest`].
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        let value = value.into();
        if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
            self.error
                .get_or_insert(format!("the form field {name:?} is set by the signer"));
        } else if self
            .fields
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(&name))
        {
            self.error
                .get_or_insert(format!("the form field {name:?} is set twice"));
        }
        self.conditions
            .push(Condition::Eq(name.clone(), value.clone()));
        self.fields.push((name, value));
        self
    }

    /// Signs the content type: the `Content-Type` field with its condition.
    pub fn content_type(self, content_type: impl Into<String>) -> Self {
        self.field("Content-Type", content_type)
    }

    /// Lets the client fill `field` with any value starting with `prefix`, such as
    /// `starts_with("Content-Type", "image/")`. The client must send that field.
    pub fn starts_with(mut self, field: impl Into<String>, prefix: impl Into<String>) -> Self {
        let field = field.into();
        let field = field.strip_prefix('$').map(str::to_owned).unwrap_or(field);
        self.conditions
            .push(Condition::StartsWith(format!("${field}"), prefix.into()));
        self
    }

    /// Limits the file's size to `min..=max` bytes.
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        if min > max {
            self.error
                .get_or_insert(format!("content-length-range {min}..={max} is empty"));
        }
        self.conditions
            .push(Condition::ContentLengthRange(min, max));
        self
    }

    /// Sets a canned ACL (the `acl` field).
    pub fn acl(self, acl: CannedAcl) -> Self {
        self.field("acl", acl.as_str())
    }

    /// The status S3 answers a successful upload with: 200, 201 (with an XML body) or 204
    /// (S3's default). Others make [`PostPolicy::sign`] fail.
    pub fn success_action_status(mut self, status: u16) -> Self {
        if ![200, 201, 204].contains(&status) {
            self.error.get_or_insert(format!(
                "success_action_status {status} is not 200, 201 or 204"
            ));
        }
        self.field("success_action_status", status.to_string())
    }

    /// Where S3 redirects the browser after a successful upload.
    pub fn success_action_redirect(self, url: impl Into<String>) -> Self {
        self.field("success_action_redirect", url)
    }

    /// User metadata stored with the object (`x-amz-meta-<name>`).
    pub fn metadata(mut self, name: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        if let Err(e) = check_metadata(name, &value) {
            self.error.get_or_insert(e.to_string());
        }
        self.field(format!("x-amz-meta-{name}"), value)
    }

    /// How long the policy is valid (default one hour, at most 7 days).
    pub fn expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = expires_in;
        self
    }

    /// The conditions added so far (without the bucket, key and signing conditions).
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Signs the policy at `now` for the presigner's bucket.
    ///
    /// Returns [`Error::InvalidRequest`] for a reserved, repeated or malformed field,
    /// [`Error::ExpiryTooLong`] over 7 days, and [`Error::CredentialsExpired`].
    pub fn sign(
        &self,
        presigner: &Presigner,
        creds: &Credentials,
        now: SystemTime,
    ) -> Result<PresignedPost, Error> {
        if let Some(e) = &self.error {
            return Err(Error::InvalidRequest(e.clone()));
        }
        let now = sigv4::whole_seconds(now);
        let expires = effective_expiry(self.expires_in, creds, now)?;
        let expires_at = now + Duration::from_secs(expires);
        let stamp = Stamp::new(now)?;
        let credential = format!(
            "{}/{}/{}/s3/aws4_request",
            creds.access_key_id(),
            stamp.date(),
            presigner.region()
        );

        // The same order as boto3: the caller's conditions, bucket, key, then the signer's.
        let mut json = String::with_capacity(512);
        json.push_str("{\"expiration\": ");
        py_str(&mut json, &sigv4::iso8601(expires_at));
        json.push_str(", \"conditions\": [");
        for condition in &self.conditions {
            write_condition(&mut json, condition);
            json.push_str(", ");
        }
        py_pair(&mut json, "bucket", presigner.bucket());
        json.push_str(", ");
        let key_field = match &self.key {
            PostKey::Exact(key) => {
                py_pair(&mut json, "key", key.as_str());
                key.as_str().to_owned()
            }
            PostKey::Filename(prefix) => {
                write_condition(
                    &mut json,
                    &Condition::StartsWith("$key".into(), prefix.as_str().into()),
                );
                format!("{prefix}${{filename}}")
            }
        };
        let mut signer_fields = vec![
            ("x-amz-algorithm", ALGORITHM.to_owned()),
            ("x-amz-credential", credential),
            ("x-amz-date", stamp.amz_date().to_owned()),
        ];
        if let Some(token) = creds.session_token() {
            signer_fields.push(("x-amz-security-token", token.to_owned()));
        }
        for (name, value) in &signer_fields {
            json.push_str(", ");
            py_pair(&mut json, name, value);
        }
        json.push_str("]}");

        let policy = base64::engine::general_purpose::STANDARD.encode(json.as_bytes());
        let key = presigner
            .cache()
            .signing_key(creds, stamp.date(), presigner.region(), "s3");
        let signature = sigv4::signature(&key, policy.as_bytes());

        let mut fields = self.fields.clone();
        fields.push(("key".into(), key_field));
        fields.extend(signer_fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
        fields.push(("policy".into(), policy));
        fields.push(("x-amz-signature".into(), signature));
        tracing::debug!(
            bucket = presigner.bucket(),
            expires,
            "presigned POST policy"
        );
        Ok(PresignedPost {
            url: presigner.post_url(),
            fields: Fields(fields),
            expires_at,
        })
    }
}

/// Signs an already-encoded policy (for policies written by hand, as in AWS's examples).
pub fn sign_policy(
    presigner: &Presigner,
    creds: &Credentials,
    date: SystemTime,
    policy_base64: &str,
) -> Result<String, Error> {
    let stamp = Stamp::new(date)?;
    let key = presigner
        .cache()
        .signing_key(creds, stamp.date(), presigner.region(), "s3");
    Ok(sigv4::signature(&key, policy_base64.as_bytes()))
}

fn write_condition(out: &mut String, condition: &Condition) {
    match condition {
        Condition::Eq(k, v) => py_pair(out, k, v),
        Condition::StartsWith(k, v) => {
            out.push_str("[\"starts-with\", ");
            py_str(out, k);
            out.push_str(", ");
            py_str(out, v);
            out.push(']');
        }
        Condition::ContentLengthRange(min, max) => {
            let _ = write!(out, "[\"content-length-range\", {min}, {max}]");
        }
    }
}

fn py_pair(out: &mut String, k: &str, v: &str) {
    out.push('{');
    py_str(out, k);
    out.push_str(": ");
    py_str(out, v);
    out.push('}');
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii=True`).
fn py_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS_POLICY_B64: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";

    fn aws_example() -> (Presigner, Credentials, SystemTime) {
        let p = Presigner::builder()
            .bucket("sigv4examplebucket")
            .region("us-east-1")
            .build()
            .expect("presigner");
        let c = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        );
        (
            p,
            c,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_451_347_200),
        )
    }

    #[test]
    fn signs_the_aws_documentation_example() {
        // "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)",
        // Amazon S3 API Reference: the published policy and its published signature.
        let (p, c, now) = aws_example();
        assert_eq!(
            sign_policy(&p, &c, now, AWS_POLICY_B64).expect("signature"),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
    }

    #[test]
    fn builds_the_aws_example_conditions() {
        // The same conditions built with the builder decode to the same JSON document
        // (AWS wrote theirs by hand, with other whitespace and milliseconds).
        let (p, c, now) = aws_example();
        let policy = PostPolicy::with_filename(KeyPrefix::parse("user/user1/").expect("prefix"))
            .acl(CannedAcl::PublicRead)
            .success_action_redirect(
                "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
            )
            .starts_with("Content-Type", "image/")
            .metadata("uuid", "14365123651274")
            .field("x-amz-server-side-encryption", "AES256")
            .starts_with("$x-amz-meta-tag", "")
            .expires_in(Duration::from_secs(36 * 3600));
        let signed = policy.sign(&p, &c, now).expect("signed");
        let decode = |b64: &str| -> serde_json::Value {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64");
            serde_json::from_slice(&raw).expect("json")
        };
        let ours = decode(signed.fields.get("policy").expect("policy"));
        let theirs = decode(AWS_POLICY_B64);
        let set = |v: &serde_json::Value| {
            let mut items: Vec<String> = v["conditions"]
                .as_array()
                .expect("conditions")
                .iter()
                .map(|c| c.to_string())
                .collect();
            items.sort();
            items
        };
        assert_eq!(set(&ours), set(&theirs));
        assert_eq!(ours["expiration"], "2015-12-30T12:00:00Z");
        assert_eq!(signed.fields.get("key"), Some("user/user1/${filename}"));
        assert_eq!(
            signed.fields.get("x-amz-credential"),
            Some("AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request")
        );
    }

    #[test]
    fn refuses_inconsistent_policies() {
        let (p, c, now) = aws_example();
        let key = ObjectKey::parse("a.jpg").expect("key");
        let bad = [
            PostPolicy::new(key.clone()).field("key", "other"),
            PostPolicy::new(key.clone()).field("Policy", "x"),
            PostPolicy::new(key.clone())
                .field("acl", "a")
                .field("ACL", "b"),
            PostPolicy::new(key.clone()).content_length_range(10, 1),
            PostPolicy::new(key.clone()).success_action_status(302),
            PostPolicy::new(key.clone()).metadata("Bad Name", "v"),
            PostPolicy::new(key.clone()).expires_in(Duration::from_secs(8 * 24 * 3600)),
            PostPolicy::new(ObjectKey::parse("up/${filename}").expect("key")),
        ];
        for policy in bad {
            let err = policy.sign(&p, &c, now).expect_err("refused");
            assert_eq!(err.status(), 400, "{err}");
        }
    }

    proptest::proptest! {
        /// Whatever a field holds, the policy is valid JSON and decodes to the same text.
        #[test]
        fn any_string_survives_the_policy_json(text in "\\PC*|[\\x00-\\x1f\"\\\\]*") {
            let mut json = String::new();
            py_str(&mut json, &text);
            proptest::prop_assert!(json.is_ascii());
            let back: String = serde_json::from_str(&json).expect("valid JSON");
            proptest::prop_assert_eq!(back, text);
        }
    }

    #[test]
    fn python_json_strings() {
        let mut s = String::new();
        py_str(&mut s, "a\"b\\c\n\u{1}é😀/");
        assert_eq!(s, r#""a\"b\\c\n\u0001\u00e9\ud83d\ude00/""#);
    }
}
