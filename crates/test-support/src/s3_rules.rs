//! The checks real S3 makes on presigned requests and POST forms, which the emulator skips.
//!
//! moto's server stores whatever a presigned URL or form sends: it checks neither the
//! signature, nor the expiry, nor a POST policy's conditions. These functions make those
//! checks as S3 documents them, so a test can assert that S3 would refuse what the emulator
//! accepts. The signature is recomputed with `aws-sigv4`, the AWS SDK's own signer, over the
//! request as the client sends it; it shares no code with the signer under test.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use serde_json::Value;

/// Why S3 would refuse a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The signature does not match the request as sent (S3's `SignatureDoesNotMatch`).
    SignatureDoesNotMatch,
    /// The URL or policy has expired (S3's `AccessDenied`, "Request has expired").
    Expired,
    /// A signed header was not sent.
    MissingSignedHeader(String),
    /// A POST policy condition failed (S3's `AccessDenied`, "Invalid according to Policy").
    PolicyCondition(String),
    /// The file is outside `content-length-range` (S3's `EntityTooLarge` / `EntityTooSmall`).
    ContentLength(u64),
    /// The body does not match the signed `x-amz-checksum-sha256` (S3's `BadDigest`).
    BadDigest,
    /// The body's length differs from the signed `content-length`.
    LengthMismatch,
    /// The request is malformed.
    Malformed(String),
}

/// Checks a body against what the signed headers promise: S3 refuses a body whose length is
/// not the `content-length` sent, or whose SHA-256 is not the `x-amz-checksum-sha256` sent.
pub fn check_body(sent_headers: &[(&str, &str)], body: &[u8]) -> Result<(), Refusal> {
    let header = |name: &str| {
        sent_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    if let Some(len) = header("content-length")
        && len.parse::<usize>().ok() != Some(body.len())
    {
        return Err(Refusal::LengthMismatch);
    }
    if let Some(sum) = header("x-amz-checksum-sha256") {
        use sha2::Digest as _;
        let actual = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body));
        if actual != sum {
            return Err(Refusal::BadDigest);
        }
    }
    Ok(())
}

fn parse_amz_date(s: &str) -> Option<SystemTime> {
    // YYYYMMDDTHHMMSSZ
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    // days from civil (Howard Hinnant), for years >= 1970
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(days * 86_400 + hh * 3600 + mm * 60 + ss))
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                crate::gateway::percent_decode(k),
                crate::gateway::percent_decode(v),
            )
        })
        .collect()
}

/// Checks a presigned (query-string) request as S3 does: the URL has not expired at `now`,
/// every signed header was sent, and the signature recomputed with `secret` over the method,
/// URL and headers as sent matches.
pub fn check_presigned(
    method: &str,
    url: &str,
    sent_headers: &[(&str, &str)],
    secret: &str,
    now: SystemTime,
) -> Result<(), Refusal> {
    let (base, query) = url
        .split_once('?')
        .ok_or_else(|| Refusal::Malformed("no query string".into()))?;
    let params = query_pairs(query);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Refusal::Malformed(format!("no {name}")))
    };
    let date = get("X-Amz-Date")?;
    let signed_at =
        parse_amz_date(&date).ok_or_else(|| Refusal::Malformed(format!("bad date {date}")))?;
    let expires: u64 = get("X-Amz-Expires")?
        .parse()
        .map_err(|_| Refusal::Malformed("bad X-Amz-Expires".into()))?;
    if expires > 604_800 {
        return Err(Refusal::Malformed("X-Amz-Expires over 7 days".into()));
    }
    if now > signed_at + Duration::from_secs(expires) {
        return Err(Refusal::Expired);
    }
    let credential = get("X-Amz-Credential")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, _, region, service, _] = scope[..] else {
        return Err(Refusal::Malformed(format!("bad credential {credential}")));
    };
    let token = get("X-Amz-Security-Token").ok();
    let host = base
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .ok_or_else(|| Refusal::Malformed("no host".into()))?;

    // The headers S3 uses: the signed ones, as the client sent them.
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for name in get("X-Amz-SignedHeaders")?.split(';') {
        if name == "host" {
            headers.insert("host".into(), host.to_owned());
            continue;
        }
        let value = sent_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| (*v).to_owned())
            .ok_or_else(|| Refusal::MissingSignedHeader(name.to_owned()))?;
        headers.insert(name.to_owned(), value);
    }

    // The URL without the auth parameters: aws-sigv4 adds them back.
    let kept: Vec<String> = query
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-"))
        .map(str::to_owned)
        .collect();
    let unsigned_url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };

    let identity =
        aws_credential_types::Credentials::new(access_key, secret, token, None, "s3-rules").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires));
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    settings.session_token_mode = SessionTokenMode::Include;
    // S3 signs whatever the client listed, content-length included.
    settings.excluded_headers = Some(Vec::new());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|e| Refusal::Malformed(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        method,
        &unsigned_url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::UnsignedPayload,
    )
    .map_err(|e| Refusal::Malformed(e.to_string()))?;
    let expected = sign(signable, &params)
        .map_err(|e| Refusal::Malformed(e.to_string()))?
        .signature()
        .to_owned();
    if get("X-Amz-Signature")? == expected {
        Ok(())
    } else {
        Err(Refusal::SignatureDoesNotMatch)
    }
}

/// Checks a browser POST form as S3 does: the signature over the `policy` field, the
/// policy's expiration, every condition against the form fields (with `bucket` and the
/// file's size), and that every form field is covered by a condition.
pub fn check_post(
    fields: &[(&str, &str)],
    bucket: &str,
    file_len: u64,
    secret: &str,
    now: SystemTime,
) -> Result<(), Refusal> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let policy_b64 = field("policy").ok_or_else(|| Refusal::Malformed("no policy".into()))?;
    let credential =
        field("x-amz-credential").ok_or_else(|| Refusal::Malformed("no credential".into()))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [_, date, region, service, _] = scope[..] else {
        return Err(Refusal::Malformed(format!("bad credential {credential}")));
    };
    let key = aws_sigv4::sign::v4::generate_signing_key(
        secret,
        parse_amz_date(&format!("{date}T000000Z"))
            .ok_or_else(|| Refusal::Malformed("bad date".into()))?,
        region,
        service,
    );
    let expected = aws_sigv4::sign::v4::calculate_signature(key, policy_b64.as_bytes());
    if field("x-amz-signature") != Some(expected.as_str()) {
        return Err(Refusal::SignatureDoesNotMatch);
    }

    let raw = base64::engine::general_purpose::STANDARD
        .decode(policy_b64)
        .map_err(|_| Refusal::Malformed("policy is not base64".into()))?;
    let policy: Value = serde_json::from_slice(&raw)
        .map_err(|_| Refusal::Malformed("policy is not JSON".into()))?;
    let expiration = policy["expiration"]
        .as_str()
        .ok_or_else(|| Refusal::Malformed("no expiration".into()))?;
    // "2015-12-30T12:00:00.000Z" -> "20151230T120000"
    let compact: String = expiration
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let expires_at = compact
        .get(..15)
        .and_then(|s| parse_amz_date(&format!("{s}Z")))
        .ok_or_else(|| Refusal::Malformed(format!("bad expiration {expiration}")))?;
    if now > expires_at {
        return Err(Refusal::Expired);
    }

    let value_of = |name: &str| -> Option<String> {
        if name.eq_ignore_ascii_case("bucket") {
            return Some(bucket.to_owned());
        }
        field(name).map(str::to_owned)
    };
    let mut covered: Vec<String> = vec!["bucket".into()];
    let conditions = policy["conditions"]
        .as_array()
        .ok_or_else(|| Refusal::Malformed("no conditions".into()))?;
    for condition in conditions {
        match condition {
            Value::Object(map) => {
                for (name, want) in map {
                    let want = want.as_str().unwrap_or_default();
                    if value_of(name).as_deref() != Some(want) {
                        return Err(Refusal::PolicyCondition(format!("{name} must be {want:?}")));
                    }
                    covered.push(name.to_ascii_lowercase());
                }
            }
            Value::Array(items) => match items.first().and_then(Value::as_str) {
                Some("content-length-range") => {
                    let min = items.get(1).and_then(Value::as_u64).unwrap_or(0);
                    let max = items.get(2).and_then(Value::as_u64).unwrap_or(0);
                    if !(min..=max).contains(&file_len) {
                        return Err(Refusal::ContentLength(file_len));
                    }
                }
                Some(op @ ("eq" | "starts-with")) => {
                    let name = items
                        .get(1)
                        .and_then(Value::as_str)
                        .and_then(|n| n.strip_prefix('$'))
                        .ok_or_else(|| Refusal::Malformed(format!("bad condition {condition}")))?;
                    let want = items.get(2).and_then(Value::as_str).unwrap_or_default();
                    let have = value_of(name).unwrap_or_default();
                    let ok = if op == "eq" {
                        have == want
                    } else {
                        have.starts_with(want)
                    };
                    if !ok {
                        return Err(Refusal::PolicyCondition(format!(
                            "{name} fails {op} {want:?}"
                        )));
                    }
                    covered.push(name.to_ascii_lowercase());
                }
                _ => return Err(Refusal::Malformed(format!("unknown condition {condition}"))),
            },
            _ => return Err(Refusal::Malformed(format!("bad condition {condition}"))),
        }
    }
    // S3: "Each form field that you specify in a form (except x-amz-signature, file, policy,
    // and field names that have an x-ignore- prefix) must appear in the list of conditions."
    for (name, _) in fields {
        let lower = name.to_ascii_lowercase();
        let exempt = ["x-amz-signature", "file", "policy"].contains(&lower.as_str())
            || lower.starts_with("x-ignore-");
        if !exempt && !covered.contains(&lower) {
            return Err(Refusal::PolicyCondition(format!(
                "extra field {name} has no condition"
            )));
        }
    }
    Ok(())
}
