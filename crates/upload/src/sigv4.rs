//! AWS Signature Version 4 for presigned S3 requests and POST policies.
//!
//! The SDK's presigner runs its whole request pipeline for every URL and derives the
//! signing key each time. Here the key is derived once per (day, region, service,
//! credentials) and reused, and the canonical request is written straight into one buffer.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::Error;

type HmacSha256 = Hmac<Sha256>;

/// The signing algorithm named in every SigV4 request.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// AWS credentials used to sign URLs and policies.
///
/// `Debug` never shows the secret key or the session token.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    expires_at: Option<SystemTime>,
    /// SHA-256 of the secret: tells cached signing keys apart without keeping more copies
    /// of the secret around.
    fingerprint: [u8; 32],
}

impl Credentials {
    /// Long-term credentials (an access key pair) with no session token and no expiry.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        let secret_access_key = secret_access_key.into();
        let fingerprint = Sha256::digest(secret_access_key.as_bytes()).into();
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key,
            session_token: None,
            expires_at: None,
            fingerprint,
        }
    }

    /// Adds the session token of temporary (STS) credentials; it is signed into every
    /// URL and policy as `X-Amz-Security-Token`.
    #[must_use]
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    /// Sets when these credentials expire. A presigned URL never outlives its credentials,
    /// so expiries are shortened to this instant.
    #[must_use]
    pub fn with_expiry(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The session token, if these are temporary credentials.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// When these credentials expire, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl From<&aws_credential_types::Credentials> for Credentials {
    fn from(c: &aws_credential_types::Credentials) -> Self {
        let mut out = Credentials::new(c.access_key_id(), c.secret_access_key());
        out.session_token = c.session_token().map(str::to_owned);
        out.expires_at = c.expiry();
        out
    }
}

impl From<aws_credential_types::Credentials> for Credentials {
    fn from(c: aws_credential_types::Credentials) -> Self {
        Credentials::from(&c)
    }
}

/// The instant a request is signed, in the two forms SigV4 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// `YYYYMMDDTHHMMSSZ`
    pub(crate) amz_date: [u8; 16],
}

impl Stamp {
    pub(crate) fn new(at: SystemTime) -> Result<Self, Error> {
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| Error::InvalidRequest("signing time is before 1970".into()))?
            .as_secs();
        let (y, m, d, hh, mm, ss) = civil(secs);
        if y > 9999 {
            return Err(Error::InvalidRequest("signing time is after 9999".into()));
        }
        let mut amz_date = *b"00000000T000000Z";
        let mut put = |at: usize, width: usize, mut n: u64| {
            for i in (at..at + width).rev() {
                amz_date[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, 4, y);
        put(4, 2, m);
        put(6, 2, d);
        put(9, 2, hh);
        put(11, 2, mm);
        put(13, 2, ss);
        Ok(Self { amz_date })
    }

    pub(crate) fn amz_date(&self) -> &str {
        // Only ASCII digits, 'T' and 'Z' are ever written.
        std::str::from_utf8(&self.amz_date).unwrap_or("")
    }

    pub(crate) fn date(&self) -> &str {
        &self.amz_date()[..8]
    }
}

/// Splits seconds since the epoch into UTC (year, month, day, hour, minute, second).
pub(crate) fn civil(secs: u64) -> (u64, u64, u64, u64, u64, u64) {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm, for days >= 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form of a POST policy's `expiration` as boto3 writes it.
pub(crate) fn iso8601(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let (y, m, d, hh, mm, ss) = civil(secs);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

#[derive(Clone)]
struct CachedKey {
    date: [u8; 8],
    region: String,
    service: &'static str,
    access_key_id: String,
    fingerprint: [u8; 32],
    key: [u8; 32],
}

/// Derives SigV4 signing keys and keeps the last one.
///
/// A key is valid for one day, one region, one service and one secret: a Lambda container
/// signing thousands of URLs derives it once a day (or when its credentials rotate).
#[derive(Default)]
pub(crate) struct KeyCache {
    last: Mutex<Option<CachedKey>>,
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache").finish_non_exhaustive()
    }
}

impl Clone for KeyCache {
    fn clone(&self) -> Self {
        let last = self.last.lock().map(|g| g.clone()).unwrap_or(None);
        Self {
            last: Mutex::new(last),
        }
    }
}

impl KeyCache {
    pub(crate) fn signing_key(
        &self,
        creds: &Credentials,
        date: &str,
        region: &str,
        service: &'static str,
    ) -> [u8; 32] {
        let hit = |c: &CachedKey| {
            c.date == date.as_bytes()
                && c.service == service
                && c.region == region
                && c.access_key_id == creds.access_key_id
                && c.fingerprint == creds.fingerprint
        };
        if let Ok(guard) = self.last.lock()
            && let Some(cached) = guard.as_ref().filter(|c| hit(c))
        {
            return cached.key;
        }
        let key = derive_key(&creds.secret_access_key, date, region, service);
        if let Ok(mut guard) = self.last.lock() {
            let mut d = [0u8; 8];
            d.copy_from_slice(&date.as_bytes()[..8]);
            *guard = Some(CachedKey {
                date: d,
                region: region.to_owned(),
                service,
                access_key_id: creds.access_key_id.clone(),
                fingerprint: creds.fingerprint,
                key,
            });
        }
        key
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
pub(crate) fn derive_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut k = Vec::with_capacity(4 + secret.len());
    k.extend_from_slice(b"AWS4");
    k.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&k, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Hex HMAC-SHA256 of `string_to_sign` under a derived signing key.
pub(crate) fn signature(key: &[u8; 32], string_to_sign: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    push_hex(&mut out, &hmac(key, string_to_sign));
    out
}

/// Appends `s` percent-encoded as SigV4 wants: everything but `A-Za-z0-9-_.~` is encoded,
/// and `/` too unless `keep_slash`.
pub(crate) fn uri_encode(out: &mut String, s: &str, keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let plain = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
    };
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !plain(b) {
            // Runs of plain bytes are copied whole. A non-empty `start..i` holds only ASCII,
            // so both ends are character boundaries (an empty one may not be).
            if start < i {
                out.push_str(&s[start..i]);
            }
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push_str(&s[start..]);
    }
}

/// Appends the lowercase hex of 32 bytes without a heap allocation.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8; 32]) {
    let mut buf = [0u8; 64];
    if hex::encode_to_slice(bytes, &mut buf).is_ok() {
        out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
    }
}

/// Appends a header value as SigV4's Trimall wants it: without leading or trailing
/// whitespace, and with each run of spaces inside it as one space (as S3 reads it).
fn push_trimmed(out: &mut String, value: &str) {
    let mut words = value.trim().split(' ').filter(|w| !w.is_empty());
    if let Some(first) = words.next() {
        out.push_str(first);
        for word in words {
            out.push(' ');
            out.push_str(word);
        }
    }
}

/// `at` without its fraction of a second: SigV4 dates have whole seconds, and expiries are
/// computed from the same instant.
pub(crate) fn whole_seconds(at: SystemTime) -> SystemTime {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// What a presigned query-string request signs.
#[derive(Debug)]
pub(crate) struct QueryRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) host: &'a str,
    /// Already URI-encoded absolute path.
    pub(crate) path: &'a str,
    /// Extra query parameters (not the `X-Amz-*` ones), unencoded.
    pub(crate) params: &'a [(&'a str, &'a str)],
    /// Signed headers other than `host`, lowercase names, sorted by name.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) region: &'a str,
    pub(crate) expires: u64,
}

/// Signs `req` for the query string and appends the full encoded query (with
/// `X-Amz-Signature`) to `out`.
pub(crate) fn presign_query(
    out: &mut String,
    cache: &KeyCache,
    creds: &Credentials,
    stamp: &Stamp,
    req: &QueryRequest<'_>,
) {
    let date = stamp.date();
    let mut signed_headers = String::from("");
    let mut all_headers: Vec<(&str, &str)> = Vec::with_capacity(req.headers.len() + 1);
    all_headers.extend_from_slice(req.headers);
    all_headers.push(("host", req.host));
    all_headers.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (i, (name, _)) in all_headers.iter().enumerate() {
        if i > 0 {
            signed_headers.push(';');
        }
        signed_headers.push_str(name);
    }

    let mut credential = String::with_capacity(64);
    credential.push_str(&creds.access_key_id);
    credential.push('/');
    credential.push_str(date);
    credential.push('/');
    credential.push_str(req.region);
    credential.push_str("/s3/aws4_request");

    let expires = req.expires.to_string();
    let mut params: Vec<(&str, &str)> = Vec::with_capacity(req.params.len() + 7);
    params.extend_from_slice(req.params);
    params.push(("X-Amz-Algorithm", ALGORITHM));
    params.push(("X-Amz-Credential", &credential));
    params.push(("X-Amz-Date", stamp.amz_date()));
    params.push(("X-Amz-Expires", &expires));
    if let Some(token) = creds.session_token.as_deref() {
        params.push(("X-Amz-Security-Token", token));
    }
    params.push(("X-Amz-SignedHeaders", &signed_headers));
    // Names are ASCII letters, digits and '-', so sorting raw names sorts encoded names.
    params.sort_unstable_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));

    let query_start = out.len();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        uri_encode(out, k, false);
        out.push('=');
        uri_encode(out, v, false);
    }
    let query = &out[query_start..];

    let mut canonical = String::with_capacity(query.len() + 256);
    canonical.push_str(req.method);
    canonical.push('\n');
    canonical.push_str(req.path);
    canonical.push('\n');
    canonical.push_str(query);
    canonical.push('\n');
    for (name, value) in &all_headers {
        canonical.push_str(name);
        canonical.push(':');
        push_trimmed(&mut canonical, value);
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&signed_headers);
    canonical.push_str("\nUNSIGNED-PAYLOAD");

    let mut sts = String::with_capacity(160);
    sts.push_str(ALGORITHM);
    sts.push('\n');
    sts.push_str(stamp.amz_date());
    sts.push('\n');
    sts.push_str(date);
    sts.push('/');
    sts.push_str(req.region);
    sts.push_str("/s3/aws4_request\n");
    push_hex(&mut sts, &Sha256::digest(canonical.as_bytes()).into());

    let key = cache.signing_key(creds, date, req.region, "s3");
    out.push_str("&X-Amz-Signature=");
    push_hex(out, &hmac(&key, sts.as_bytes()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        // 2015-12-29T00:00:00Z
        assert_eq!(civil(1_451_347_200), (2015, 12, 29, 0, 0, 0));
        // 2024-02-29T23:59:59Z, a leap day
        assert_eq!(civil(1_709_251_199), (2024, 2, 29, 23, 59, 59));
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_451_476_800);
        assert_eq!(iso8601(at), "2015-12-30T12:00:00Z");
        assert_eq!(
            Stamp::new(at).ok().map(|s| s.amz_date),
            Some(*b"20151230T120000Z")
        );
    }

    #[test]
    fn derived_key_matches_aws_documentation() {
        // "Examples of how to derive a signing key for Signature Version 4" (AWS General Reference).
        let key = derive_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn cache_tells_secrets_apart() {
        let cache = KeyCache::default();
        let a = Credentials::new("AKID", "secret-one");
        let b = Credentials::new("AKID", "secret-two");
        let ka = cache.signing_key(&a, "20240101", "us-east-1", "s3");
        let kb = cache.signing_key(&b, "20240101", "us-east-1", "s3");
        assert_ne!(ka, kb);
        assert_eq!(ka, derive_key("secret-one", "20240101", "us-east-1", "s3"));
        assert_eq!(cache.signing_key(&b, "20240102", "us-east-1", "s3"), {
            derive_key("secret-two", "20240102", "us-east-1", "s3")
        });
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::new("AKIDEXAMPLE", "super-secret").with_session_token("tok-secret");
        let shown = format!("{c:?}");
        assert!(shown.contains("AKIDEXAMPLE"));
        assert!(!shown.contains("super-secret"));
        assert!(!shown.contains("tok-secret"));
    }

    #[test]
    fn encodes_like_sigv4() {
        let mut s = String::new();
        uri_encode(&mut s, "a b/c+d~é", true);
        assert_eq!(s, "a%20b/c%2Bd~%C3%A9");
        s.clear();
        uri_encode(&mut s, "éé😀x", true);
        assert_eq!(s, "%C3%A9%C3%A9%F0%9F%98%80x");
        s.clear();
        uri_encode(&mut s, "a/b", false);
        assert_eq!(s, "a%2Fb");
    }
}
