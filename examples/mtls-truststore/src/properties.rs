//! The custom resource's properties, as CloudFormation sends them (every scalar a string).
//!
//! ```yaml
//! TrustStore:
//!   Type: Custom::MtlsTrustStore
//!   Properties:
//!     ServiceToken: !GetAtt TrustStoreFunction.Arn
//!     Bucket: !Ref TrustStoreBucket        # versioned
//!     Key: truststore.pem
//!     Certificates:                        # inline PEM text, one or more blocks each
//!       - |
//!         -----BEGIN CERTIFICATE-----
//!         ...
//!     CertificateKeys:                     # objects holding PEM text
//!       - ca/issuing-ca.pem                # a key in CertificateBucket (default: Bucket)
//!       - s3://my-pki/root-ca.pem          # or an S3 URI
//!     CertificateBucket: my-pki            # optional
//!     RetainOnDelete: "true"               # optional, the default
//! ```

use serde_json::{Map, Value};

use crate::Error;

/// The names [`TrustStoreProperties::from_value`] accepts; any other is an error, so a typo
/// does not silently drop certificates.
pub const PROPERTY_NAMES: [&str; 7] = [
    "ServiceToken",
    "Bucket",
    "Key",
    "Certificates",
    "CertificateKeys",
    "CertificateBucket",
    "RetainOnDelete",
];

/// An S3 object: bucket and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
}

impl S3Location {
    /// Parses `s3://bucket/key`, or takes a plain key as one in `default_bucket`. `None` for an
    /// empty key or an `s3://` URI without a key.
    pub fn parse(text: &str, default_bucket: &str) -> Option<Self> {
        let (bucket, key) = match text.strip_prefix("s3://") {
            Some(rest) => rest.split_once('/')?,
            None => (default_bucket, text),
        };
        (!bucket.is_empty() && !key.is_empty()).then(|| Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// The validated properties of a truststore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStoreProperties {
    /// Where the truststore goes: `Bucket` and `Key`.
    pub truststore: S3Location,
    /// `Certificates`: inline PEM texts.
    pub certificates: Vec<String>,
    /// `CertificateKeys`: objects holding PEM texts.
    pub certificate_objects: Vec<S3Location>,
    /// `RetainOnDelete`: keep the truststore's object version when the resource is deleted
    /// (the default), or delete that version (and only it).
    pub retain_on_delete: bool,
}

impl TrustStoreProperties {
    /// Reads `ResourceProperties`.
    ///
    /// Errors ([`Error::Properties`]): not an object; an unknown property; `Bucket` or `Key`
    /// missing, empty or not a string; `Certificates` or `CertificateKeys` not a string or a
    /// list of strings; neither giving a certificate; `RetainOnDelete` not `true` or `false`.
    pub fn from_value(properties: &Value) -> Result<Self, Error> {
        let map = properties
            .as_object()
            .ok_or_else(|| Error::Properties("ResourceProperties is not an object".into()))?;
        if let Some(unknown) = map.keys().find(|k| !PROPERTY_NAMES.contains(&k.as_str())) {
            return Err(Error::Properties(format!(
                "unknown property {unknown:?} (known: {})",
                PROPERTY_NAMES[1..].join(", ")
            )));
        }
        let bucket = required_string(map, "Bucket")?;
        if !valid_bucket_name(&bucket) {
            return Err(Error::Properties(format!(
                "Bucket {bucket:?} is not an S3 bucket name"
            )));
        }
        let key = required_string(map, "Key")?;
        if key.ends_with('/') || key.len() > 900 {
            return Err(Error::Properties(format!(
                "Key {key:?} must name an object (not end in /, at most 900 bytes)"
            )));
        }
        let certificates = string_list(map, "Certificates")?;
        let source_bucket = match map.get("CertificateBucket") {
            None => bucket.clone(),
            Some(_) => required_string(map, "CertificateBucket")?,
        };
        let certificate_objects = string_list(map, "CertificateKeys")?
            .iter()
            .map(|text| {
                S3Location::parse(text, &source_bucket).ok_or_else(|| {
                    Error::Properties(format!(
                        "CertificateKeys entry {text:?} is neither a key nor s3://bucket/key"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if certificates.iter().all(|c| c.trim().is_empty()) && certificate_objects.is_empty() {
            return Err(Error::Properties(
                "no CA certificates: set Certificates (PEM text) or CertificateKeys (S3 objects)"
                    .into(),
            ));
        }
        let retain_on_delete = match map.get("RetainOnDelete") {
            None => true,
            Some(value) => parse_bool(value).ok_or_else(|| {
                Error::Properties(format!(
                    "RetainOnDelete must be \"true\" or \"false\", not {value}"
                ))
            })?,
        };
        Ok(Self {
            truststore: S3Location { bucket, key },
            certificates: certificates
                .into_iter()
                .filter(|c| !c.trim().is_empty())
                .collect(),
            certificate_objects,
            retain_on_delete,
        })
    }
}

/// `RetainOnDelete` of any properties, however broken the rest: `true` unless it reads
/// `false`. A Delete must succeed for a resource whose properties never were valid, and
/// deletes nothing unless told to.
pub fn retain_on_delete(properties: &Value) -> bool {
    properties
        .get("RetainOnDelete")
        .and_then(parse_bool)
        .unwrap_or(true)
}

fn parse_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn required_string(map: &Map<String, Value>, name: &str) -> Result<String, Error> {
    match map.get(name) {
        None => Err(Error::Properties(format!("{name} is required"))),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(other) => Err(Error::Properties(format!(
            "{name} must be a non-empty string, not {other}"
        ))),
    }
}

fn string_list(map: &Map<String, Value>, name: &str) -> Result<Vec<String>, Error> {
    match map.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    Error::Properties(format!("{name}[{i}] must be a string, not {item}"))
                })
            })
            .collect(),
        Some(other) => Err(Error::Properties(format!(
            "{name} must be a string or a list of strings, not {other}"
        ))),
    }
}

fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cloudformation_strings_are_read() {
        let props = TrustStoreProperties::from_value(&json!({
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "Bucket": "truststores",
            "Key": "api/truststore.pem",
            "Certificates": "-----BEGIN CERTIFICATE-----",
            "CertificateKeys": ["ca/issuing.pem", "s3://pki-bucket/root.pem"],
            "RetainOnDelete": "false"
        }))
        .expect("valid");
        assert_eq!(
            props.truststore.to_string(),
            "s3://truststores/api/truststore.pem"
        );
        assert_eq!(props.certificates.len(), 1);
        assert_eq!(
            props.certificate_objects,
            vec![
                S3Location::parse("s3://truststores/ca/issuing.pem", "").expect("uri"),
                S3Location::parse("s3://pki-bucket/root.pem", "").expect("uri"),
            ]
        );
        assert!(!props.retain_on_delete);
    }

    #[test]
    fn certificate_keys_default_to_the_certificate_bucket() {
        let props = TrustStoreProperties::from_value(&json!({
            "Bucket": "truststores", "Key": "t.pem",
            "CertificateKeys": "root.pem", "CertificateBucket": "pki"
        }))
        .expect("valid");
        assert_eq!(
            props.certificate_objects[0].to_string(),
            "s3://pki/root.pem"
        );
        assert!(props.retain_on_delete, "retained unless told otherwise");
    }

    #[test]
    fn each_mistake_has_its_own_reason() {
        let cases = [
            (json!("x"), "not an object"),
            (
                json!({"Key": "k", "Certificates": "c"}),
                "Bucket is required",
            ),
            (
                json!({"Bucket": "b-b", "Certificates": "c"}),
                "Key is required",
            ),
            (
                json!({"Bucket": "", "Key": "k", "Certificates": "c"}),
                "Bucket must be",
            ),
            (
                json!({"Bucket": "My_Bucket", "Key": "k", "Certificates": "c"}),
                "not an S3 bucket name",
            ),
            (
                json!({"Bucket": "b-b", "Key": "dir/", "Certificates": "c"}),
                "must name an object",
            ),
            (json!({"Bucket": "b-b", "Key": "k"}), "no CA certificates"),
            (
                json!({"Bucket": "b-b", "Key": "k", "Certificates": ["  "]}),
                "no CA certificates",
            ),
            (
                json!({"Bucket": "b-b", "Key": "k", "Certificates": [1]}),
                "Certificates[0] must be a string",
            ),
            (
                json!({"Bucket": "b-b", "Key": "k", "Certificate": "c"}),
                "unknown property \"Certificate\"",
            ),
            (
                json!({"Bucket": "b-b", "Key": "k", "CertificateKeys": ["s3://b"]}),
                "neither a key",
            ),
            (
                json!({"Bucket": "b-b", "Key": "k", "Certificates": "c", "RetainOnDelete": "yes"}),
                "RetainOnDelete",
            ),
        ];
        for (value, expected) in cases {
            let Err(Error::Properties(reason)) = TrustStoreProperties::from_value(&value) else {
                panic!("{value} must be refused");
            };
            assert!(reason.contains(expected), "{value}: {reason}");
        }
    }

    #[test]
    fn delete_retains_unless_clearly_told() {
        assert!(retain_on_delete(&json!(null)));
        assert!(retain_on_delete(&json!({"RetainOnDelete": "maybe"})));
        assert!(retain_on_delete(&json!({"RetainOnDelete": "TRUE"})));
        assert!(!retain_on_delete(&json!({"RetainOnDelete": "false"})));
        assert!(!retain_on_delete(&json!({"RetainOnDelete": false})));
    }
}
