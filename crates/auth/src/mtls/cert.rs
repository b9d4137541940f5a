//! What a verified client certificate tells the caller.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::der::{self, CertInfo, RawName, RawSan};
use super::error::{MtlsErrorKind, refused};
use crate::Error;

/// A client certificate that chained to the truststore, is within its validity period, is
/// allowed for client authentication and was not revoked at the time it was verified.
///
/// Only [`ClientCertVerifier`](super::ClientCertVerifier) creates one, so holding a
/// `ClientCertificate` means verification passed. Every field comes from the certificate's
/// own DER, never from the strings API Gateway puts next to it in the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    subject: DistinguishedName,
    issuer: DistinguishedName,
    serial_der: Vec<u8>,
    not_before: SystemTime,
    not_after: SystemTime,
    subject_alt_names: Vec<SubjectAltName>,
    fingerprint_sha256: [u8; 32],
    der: Vec<u8>,
}

impl ClientCertificate {
    pub(crate) fn from_info(info: CertInfo, der: &[u8]) -> Self {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
        let mut fingerprint_sha256 = [0u8; 32];
        fingerprint_sha256.copy_from_slice(digest.as_ref());
        Self {
            subject: DistinguishedName::from_raw(&info.subject),
            issuer: DistinguishedName::from_raw(&info.issuer),
            serial_der: info.serial,
            not_before: system_time(info.not_before),
            not_after: system_time(info.not_after),
            subject_alt_names: info
                .sans
                .into_iter()
                .map(SubjectAltName::from_raw)
                .collect(),
            fingerprint_sha256,
            der: der.to_vec(),
        }
    }

    /// The subject's distinguished name.
    pub fn subject(&self) -> &DistinguishedName {
        &self.subject
    }

    /// The issuer's distinguished name (the CA that signed the leaf).
    pub fn issuer(&self) -> &DistinguishedName {
        &self.issuer
    }

    /// The serial number as lowercase hex without separators or sign byte: `"01"`,
    /// `"80a1ff"`. The DER sign byte (`00` before a byte with its high bit set) is left out.
    pub fn serial_hex(&self) -> String {
        let mut bytes = self.serial_der.as_slice();
        while let [0, rest @ ..] = bytes {
            if rest.is_empty() {
                break;
            }
            bytes = rest;
        }
        der::hex(bytes)
    }

    /// The serial number exactly as encoded in the certificate (DER `INTEGER` contents, sign
    /// byte included): the bytes revocation is checked against.
    pub fn serial_der(&self) -> &[u8] {
        &self.serial_der
    }

    /// Start of the validity period (`notBefore`).
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// End of the validity period (`notAfter`).
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// The subject alternative names, in certificate order; empty when there are none.
    pub fn subject_alt_names(&self) -> &[SubjectAltName] {
        &self.subject_alt_names
    }

    /// SHA-256 of the certificate's DER as lowercase hex: a stable identifier for pinning.
    pub fn fingerprint_sha256(&self) -> String {
        der::hex(&self.fingerprint_sha256)
    }

    /// The certificate's DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Maps the certificate to a principal id, for a policy's `principalId` or a lookup.
    ///
    /// Returns [`MtlsErrorKind::NoPrincipal`] (403) when the certificate does not carry exactly
    /// one value of the requested kind: a certificate with two e-mail SANs names two principals, and
    /// picking one would be a guess.
    pub fn principal(&self, source: PrincipalSource) -> Result<String, Error> {
        let exactly_one = |what: &str, mut values: Vec<String>| {
            if values.len() == 1 {
                Ok(values.remove(0))
            } else {
                Err(refused(
                    MtlsErrorKind::NoPrincipal,
                    format!("{} {what} values, expected exactly one", values.len()),
                ))
            }
        };
        let sans = |pick: fn(&SubjectAltName) -> Option<String>| {
            self.subject_alt_names.iter().filter_map(pick).collect()
        };
        match source {
            PrincipalSource::CommonName => exactly_one(
                "subject common name",
                self.subject.values("CN").map(str::to_owned).collect(),
            ),
            PrincipalSource::Subject => Ok(self.subject.as_str().to_owned()),
            PrincipalSource::SerialNumber => Ok(self.serial_hex()),
            PrincipalSource::Fingerprint => Ok(self.fingerprint_sha256()),
            PrincipalSource::Email => exactly_one(
                "e-mail subject alternative name",
                sans(|san| match san {
                    SubjectAltName::Email(v) => Some(v.clone()),
                    _ => None,
                }),
            ),
            PrincipalSource::Uri => exactly_one(
                "uri subject alternative name",
                sans(|san| match san {
                    SubjectAltName::Uri(v) => Some(v.clone()),
                    _ => None,
                }),
            ),
            PrincipalSource::Dns => exactly_one(
                "dns subject alternative name",
                sans(|san| match san {
                    SubjectAltName::Dns(v) => Some(v.clone()),
                    _ => None,
                }),
            ),
        }
    }
}

fn system_time(secs: i64) -> SystemTime {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    let time = if secs >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    time.unwrap_or(UNIX_EPOCH)
}

/// Which part of a verified certificate names the principal; see
/// [`ClientCertificate::principal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrincipalSource {
    /// The subject's single common name (`CN`).
    CommonName,
    /// The whole subject DN, as [`DistinguishedName::as_str`] renders it.
    Subject,
    /// The serial number, as [`ClientCertificate::serial_hex`] renders it.
    SerialNumber,
    /// The SHA-256 fingerprint of the certificate.
    Fingerprint,
    /// The single e-mail (`rfc822Name`) subject alternative name.
    Email,
    /// The single URI subject alternative name (a SPIFFE id, for example).
    Uri,
    /// The single DNS subject alternative name.
    Dns,
}

/// A distinguished name read from a certificate.
///
/// Renders like API Gateway's `subjectDN`: attributes in certificate order (most general
/// first, `C=US,O=Example,CN=client`, the reverse of RFC 4514's order), separated by `,`,
/// with `+` inside multi-valued RDNs and RFC 4514 escaping of `, + " \ < > ;`, a leading `#`
/// or space and a trailing space. Values that are not strings render as `#` and hex DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    rendered: String,
    attributes: Vec<NameAttribute>,
}

impl DistinguishedName {
    fn from_raw(raw: &RawName) -> Self {
        Self {
            rendered: der::render_name(raw),
            attributes: raw
                .iter()
                .flatten()
                .map(|a| NameAttribute {
                    name: a.name.clone(),
                    value: a.value.clone(),
                })
                .collect(),
        }
    }

    /// The rendered name, for example `C=US,O=Example Corp,CN=client-1`.
    pub fn as_str(&self) -> &str {
        &self.rendered
    }

    /// Every attribute, in certificate order (multi-valued RDNs flattened).
    pub fn attributes(&self) -> &[NameAttribute] {
        &self.attributes
    }

    /// The string values of the attributes with this short name (`"CN"`, `"O"`, `"OU"`, ...)
    /// or dotted OID, in certificate order. Values that are not strings are skipped.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes
            .iter()
            .filter(move |a| a.name == name)
            .filter_map(|a| a.value.as_deref())
    }

    /// The common name when the name has exactly one `CN`; `None` when it has none or several.
    pub fn common_name(&self) -> Option<&str> {
        let mut values = self.values("CN");
        match (values.next(), values.next()) {
            (Some(cn), None) => Some(cn),
            _ => None,
        }
    }
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

/// One attribute of a [`DistinguishedName`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NameAttribute {
    /// Short name (`CN`, `O`, `OU`, `C`, `L`, `ST`, `DC`, `UID`, `emailAddress`, ...) or the
    /// dotted OID for other attribute types.
    pub name: String,
    /// The value when it is a string type; `None` otherwise.
    pub value: Option<String>,
}

/// A subject alternative name of a verified certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectAltName {
    /// `dNSName`.
    Dns(String),
    /// `rfc822Name` (an e-mail address).
    Email(String),
    /// `uniformResourceIdentifier`.
    Uri(String),
    /// `iPAddress`.
    Ip(IpAddr),
    /// `directoryName`.
    DirectoryName(DistinguishedName),
    /// Another kind, described: `otherName:<oid>`, `registeredID:<oid>`, `x400Address`,
    /// `ediPartyName`.
    Other(String),
}

impl SubjectAltName {
    fn from_raw(raw: RawSan) -> Self {
        match raw {
            RawSan::Dns(v) => Self::Dns(v),
            RawSan::Email(v) => Self::Email(v),
            RawSan::Uri(v) => Self::Uri(v),
            RawSan::Ip(v) => Self::Ip(v),
            RawSan::DirectoryName(name) => Self::DirectoryName(DistinguishedName::from_raw(&name)),
            RawSan::Other(v) => Self::Other(v),
        }
    }
}
