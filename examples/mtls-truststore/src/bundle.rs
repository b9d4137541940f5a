//! The truststore itself, without I/O: PEM text in, one validated, ordered and deduplicated
//! PEM bundle out, as API Gateway reads it for mutual TLS.
//!
//! Every block must be a `CERTIFICATE` holding one X.509 certificate of a certificate
//! authority; a private key, a `TRUSTED CERTIFICATE`, a client (end-entity) certificate or a
//! truncated block is refused with a reason naming the source and the block. The bundle lists
//! the roots first (self-issued certificates), then each intermediate after the certificate
//! that signed it, so the file reads from the top of the chain down; every intermediate must
//! chain to a root in the bundle, its issuer's key checked against its signature. A certificate
//! given twice (the same DER bytes, from any source) is kept once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer as _;

use crate::Error;

/// The most certificates API Gateway takes in one truststore.
pub const MAX_CERTIFICATES: usize = 1000;
/// The largest truststore API Gateway takes, in bytes (1 MB).
pub const MAX_BYTES: usize = 1024 * 1024;

/// One PEM text and where it came from, for messages (`Certificates[0]`, `s3://bucket/key`).
#[derive(Debug, Clone)]
pub struct Source {
    /// Where the text came from.
    pub name: String,
    /// The PEM text.
    pub text: Vec<u8>,
}

impl Source {
    /// A source named `name` holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// One PEM block: its label (`CERTIFICATE`), its base64 body, and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label between `-----BEGIN ` and `-----`.
    pub label: String,
    /// The base64 body, without line breaks.
    pub base64: String,
    /// The 1-based line of the `BEGIN` line.
    pub line: usize,
}

impl PemBlock {
    /// The decoded body; the error says which block is not base64 (never what it holds).
    pub fn decode(&self) -> Result<Vec<u8>, String> {
        STANDARD.decode(self.base64.as_bytes()).map_err(|e| {
            format!(
                "the {} block of line {} is not valid base64 ({e})",
                self.label, self.line
            )
        })
    }
}

/// Splits PEM text into its blocks. Text between blocks (OpenSSL's `subject=` lines, comments)
/// is ignored; a block without its `END` line, an `END` without a `BEGIN`, mismatched labels
/// or headers inside a block are errors (a message without the source's name). The bodies
/// are decoded by [`PemBlock::decode`].
pub fn pem_blocks(text: &[u8]) -> Result<Vec<PemBlock>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "not UTF-8 text".to_owned())?;
    let mut blocks = Vec::new();
    // (label, line, body) of the block being read.
    let mut open: Option<(String, usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        let begin = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"));
        let end = line
            .strip_prefix("-----END ")
            .and_then(|l| l.strip_suffix("-----"));
        match (&mut open, begin, end) {
            (None, Some(label), _) => open = Some((label.to_owned(), line_no, String::new())),
            (None, None, Some(label)) => {
                return Err(format!("line {line_no}: END {label} without a BEGIN line"));
            }
            (None, None, None) => {}
            (Some((label, start, _)), Some(_), _) => {
                return Err(format!(
                    "line {line_no}: BEGIN inside the {label} block of line {start} (its END line is missing)"
                ));
            }
            (Some((label, start, body)), None, Some(end_label)) => {
                if end_label != label {
                    return Err(format!(
                        "line {line_no}: END {end_label} closes the BEGIN {label} of line {start}"
                    ));
                }
                blocks.push(PemBlock {
                    label: std::mem::take(label),
                    base64: std::mem::take(body),
                    line: *start,
                });
                open = None;
            }
            (Some((label, start, _)), None, None) if line.contains(':') => {
                // RFC 1421 headers: `Proc-Type: 4,ENCRYPTED` and the like.
                return Err(format!(
                    "the {label} block of line {start} has headers ({line:?}): not a plain certificate"
                ));
            }
            (Some((_, _, body)), None, None) => body.push_str(line),
        }
    }
    if let Some((label, start, _)) = open {
        return Err(format!(
            "the {label} block of line {start} has no END line (truncated?)"
        ));
    }
    Ok(blocks)
}

/// One CA certificate of a [`Bundle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaCertificate {
    /// The DER bytes.
    pub der: Vec<u8>,
    /// The subject, as text (`C=US, O=Example Corp, CN=...`).
    pub subject: String,
    /// The issuer, as text.
    pub issuer: String,
    /// Self-issued (subject and issuer are the same name): a root.
    pub root: bool,
    /// The end of its validity, seconds since the Unix epoch.
    pub not_after: i64,
    /// Where it was first found: the source's name and the block's line.
    pub origin: String,
}

/// A validated truststore: its certificates in order and the PEM text to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    certificates: Vec<CaCertificate>,
    duplicates: usize,
    pem: String,
}

impl Bundle {
    /// The certificates, roots first, each intermediate after its issuer.
    pub fn certificates(&self) -> &[CaCertificate] {
        &self.certificates
    }

    /// How many certificates the bundle holds.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether the bundle is empty (never, for a bundle [`build`] returns).
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// How many certificates were given more than once and kept once.
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }

    /// The subjects of the certificates expired at `now` (seconds since the Unix epoch). They
    /// are kept: API Gateway reports them as warnings on the domain name.
    pub fn expired(&self, now: i64) -> Vec<&str> {
        self.certificates
            .iter()
            .filter(|c| c.not_after < now)
            .map(|c| c.subject.as_str())
            .collect()
    }

    /// The truststore file: each certificate as a `CERTIFICATE` block, 64 base64 characters a
    /// line, `\n` line ends, nothing else.
    pub fn pem(&self) -> &str {
        &self.pem
    }
}

struct Parsed<'a> {
    cert: X509Certificate<'a>,
    der: &'a [u8],
    origin: String,
}

/// Builds the truststore from `sources`, in the order given.
///
/// Errors ([`Error::Certificate`], the reason names the source and line): no certificate at
/// all; a block that is not a `CERTIFICATE`; a block that is not one X.509 certificate; a
/// certificate that is not a CA (`basicConstraints` `CA:FALSE`, or an intermediate without
/// `CA:TRUE`); an intermediate whose issuer is not in the bundle or did not sign it; more than
/// [`MAX_CERTIFICATES`] certificates or [`MAX_BYTES`] bytes.
pub fn build(sources: &[Source]) -> Result<Bundle, Error> {
    let mut blocks: Vec<(String, Vec<u8>)> = Vec::new();
    for source in sources {
        let found = pem_blocks(&source.text)
            .map_err(|e| Error::Certificate(format!("{}: {e}", source.name)))?;
        if found.is_empty() {
            return Err(Error::Certificate(format!(
                "{}: no PEM block (expected -----BEGIN CERTIFICATE-----)",
                source.name
            )));
        }
        for block in found {
            let origin = format!("{} line {}", source.name, block.line);
            if block.label != "CERTIFICATE" {
                return Err(Error::Certificate(not_a_certificate(&origin, &block.label)));
            }
            let der = block
                .decode()
                .map_err(|e| Error::Certificate(format!("{}: {e}", source.name)))?;
            blocks.push((origin, der));
        }
    }
    if blocks.is_empty() {
        return Err(Error::Certificate("no CA certificate given".into()));
    }

    // Parse, keeping the first of identical certificates.
    let mut parsed: Vec<Parsed<'_>> = Vec::new();
    let mut duplicates = 0;
    for (origin, der) in &blocks {
        if parsed.iter().any(|p| p.der == der.as_slice()) {
            duplicates += 1;
            continue;
        }
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|e| Error::Certificate(format!("{origin}: not an X.509 certificate ({e})")))?;
        if !rest.is_empty() {
            return Err(Error::Certificate(format!(
                "{origin}: {} bytes after the certificate",
                rest.len()
            )));
        }
        parsed.push(Parsed {
            cert,
            der,
            origin: origin.clone(),
        });
    }
    if parsed.len() > MAX_CERTIFICATES {
        return Err(Error::Certificate(format!(
            "{} certificates: API Gateway takes at most {MAX_CERTIFICATES} in a truststore",
            parsed.len()
        )));
    }

    for p in &parsed {
        check_ca(p)?;
    }
    let order = order(&parsed)?;

    let mut pem = String::new();
    let mut certificates = Vec::with_capacity(order.len());
    for index in order {
        let p = &parsed[index];
        push_pem(&mut pem, p.der);
        certificates.push(CaCertificate {
            der: p.der.to_vec(),
            subject: p.cert.subject().to_string(),
            issuer: p.cert.issuer().to_string(),
            root: is_self_issued(&p.cert),
            not_after: p.cert.validity().not_after.timestamp(),
            origin: p.origin.clone(),
        });
    }
    if pem.len() > MAX_BYTES {
        return Err(Error::Certificate(format!(
            "the truststore would be {} bytes: API Gateway takes at most {MAX_BYTES}",
            pem.len()
        )));
    }
    Ok(Bundle {
        certificates,
        duplicates,
        pem,
    })
}

fn not_a_certificate(origin: &str, label: &str) -> String {
    if label.contains("PRIVATE KEY") {
        // Never echo the key.
        format!(
            "{origin}: a {label}, not a CERTIFICATE: a truststore holds public CA certificates only; \
             treat that key as exposed"
        )
    } else if label == "TRUSTED CERTIFICATE" {
        format!(
            "{origin}: an OpenSSL TRUSTED CERTIFICATE: convert it with \
             `openssl x509 -in ca.pem -out ca-plain.pem` first"
        )
    } else {
        format!("{origin}: a {label} block, not a CERTIFICATE")
    }
}

fn is_self_issued(cert: &X509Certificate<'_>) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw()
}

fn check_ca(p: &Parsed<'_>) -> Result<(), Error> {
    let constraints = p.cert.basic_constraints().map_err(|e| {
        Error::Certificate(format!(
            "{}: unreadable basicConstraints extension ({e})",
            p.origin
        ))
    })?;
    let subject = p.cert.subject();
    match constraints {
        Some(ext) if !ext.value.ca => Err(Error::Certificate(format!(
            "{}: {subject} is not a CA certificate (basicConstraints CA:FALSE); a truststore \
             holds the CAs that issue client certificates, not the client certificates",
            p.origin
        ))),
        Some(_) => Ok(()),
        // A v1 (or extension-less) self-signed root is still a trust anchor.
        None if is_self_issued(&p.cert) => Ok(()),
        None => Err(Error::Certificate(format!(
            "{}: {subject} has no basicConstraints CA:TRUE: clients cannot chain through it",
            p.origin
        ))),
    }
}

/// The order of the bundle: roots in the order given, then, pass after pass, every certificate
/// whose issuer is already placed and whose signature that issuer's key verifies.
fn order(parsed: &[Parsed<'_>]) -> Result<Vec<usize>, Error> {
    let mut placed: Vec<usize> = (0..parsed.len())
        .filter(|&i| is_self_issued(&parsed[i].cert))
        .collect();
    let mut progress = true;
    while progress && placed.len() < parsed.len() {
        progress = false;
        for i in 0..parsed.len() {
            if placed.contains(&i) {
                continue;
            }
            let issuer = parsed[i].cert.issuer().as_raw();
            let signed = placed.iter().any(|&j| {
                parsed[j].cert.subject().as_raw() == issuer
                    && parsed[i]
                        .cert
                        .verify_signature(Some(parsed[j].cert.public_key()))
                        .is_ok()
            });
            if signed {
                placed.push(i);
                progress = true;
            }
        }
    }
    if let Some(i) = (0..parsed.len()).find(|i| !placed.contains(i)) {
        let p = &parsed[i];
        let issuer = p.cert.issuer();
        let named = parsed
            .iter()
            .any(|q| q.cert.subject().as_raw() == issuer.as_raw());
        let message = if named {
            format!(
                "{}: {} names {issuer} as its issuer, but no certificate of that name in the \
                 bundle signed it (or that one does not reach a root)",
                p.origin,
                p.cert.subject()
            )
        } else {
            format!(
                "{}: {} was issued by {issuer}, which is not in the bundle: add it, and every CA \
                 up to the root",
                p.origin,
                p.cert.subject()
            )
        };
        return Err(Error::Certificate(message));
    }
    Ok(placed)
}

fn push_pem(out: &mut String, der: &[u8]) {
    let encoded = STANDARD.encode(der);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        // Base64 is ASCII.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_split_and_text_between_them_is_ignored() {
        let text = "subject=CN = x\n-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\r\nnote\n-----BEGIN FOO-----\n-----END FOO-----\n";
        let blocks = pem_blocks(text.as_bytes()).expect("blocks");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert_eq!(blocks[0].decode(), Ok(vec![0, 1, 2, 3]));
        assert_eq!(blocks[0].line, 2);
        assert_eq!(blocks[1].label, "FOO");
    }

    #[test]
    fn broken_framing_is_an_error_naming_the_line() {
        let truncated = "-----BEGIN CERTIFICATE-----\nAAEC\n";
        assert!(
            pem_blocks(truncated.as_bytes())
                .expect_err("truncated")
                .contains("line 1 has no END")
        );
        let stray_end = "x\n-----END CERTIFICATE-----\n";
        assert!(
            pem_blocks(stray_end.as_bytes())
                .expect_err("stray")
                .contains("line 2")
        );
        let mismatched = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END X509 CRL-----\n";
        assert!(
            pem_blocks(mismatched.as_bytes())
                .expect_err("mismatched")
                .contains("closes")
        );
        let not_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(
            pem_blocks(not_base64.as_bytes()).expect("framing")[0]
                .decode()
                .expect_err("base64")
                .contains("not valid base64")
        );
        let encrypted = "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nAAEC\n-----END CERTIFICATE-----\n";
        assert!(
            pem_blocks(encrypted.as_bytes())
                .expect_err("headers")
                .contains("headers")
        );
    }

    #[test]
    fn a_private_key_is_refused_without_echoing_it() {
        let key =
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n";
        let Err(Error::Certificate(reason)) = build(&[Source::new("Certificates[1]", key)]) else {
            panic!("a key must be refused");
        };
        assert!(
            reason.starts_with("Certificates[1] line 1: a PRIVATE KEY"),
            "{reason}"
        );
        assert!(!reason.contains("c2VjcmV0"), "{reason}");
    }

    #[test]
    fn a_certificate_block_of_garbage_is_not_a_certificate() {
        let garbage = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        let Err(Error::Certificate(reason)) = build(&[Source::new("s3://b/ca.pem", garbage)])
        else {
            panic!("garbage must be refused");
        };
        assert!(
            reason.starts_with("s3://b/ca.pem line 1: not an X.509 certificate"),
            "{reason}"
        );
    }

    #[test]
    fn text_without_any_block_is_refused() {
        let Err(Error::Certificate(reason)) = build(&[Source::new("Certificates[0]", "MIIB...")])
        else {
            panic!("no block");
        };
        assert!(reason.contains("no PEM block"), "{reason}");
        assert!(matches!(build(&[]), Err(Error::Certificate(_))));
    }

    #[test]
    fn pem_output_wraps_at_64_columns() {
        let mut out = String::new();
        push_pem(&mut out, &[7u8; 100]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        // 100 bytes are 136 base64 characters: 64, 64, 8.
        assert_eq!(lines[2].len(), 64);
        assert_eq!(lines[3].len(), 8);
        assert_eq!(lines[4], "-----END CERTIFICATE-----");
    }
}
