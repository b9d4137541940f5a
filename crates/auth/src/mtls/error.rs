//! Why a client certificate was refused, as a value a handler (and a test) can match on.

use std::fmt;

/// Which check refused a client certificate, or why revocation could not be decided.
///
/// Every kind denies. [`MtlsErrorKind::status`] gives the HTTP status API Gateway should answer
/// with: 401 for a certificate that is missing or not valid, 403 for a valid certificate that
/// maps to no principal, 500 when the truststore or the CRLs the decision needs are unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MtlsErrorKind {
    /// The request carries no client certificate (no `clientCert`, or an empty PEM).
    NoCertificate,
    /// The PEM is malformed or truncated, too large, holds too many certificates or a block
    /// that is not a certificate, or the certificate's DER does not parse.
    Malformed,
    /// The certificate does not chain to a root of the truststore.
    UntrustedIssuer,
    /// The certificate, or a CA of its path, expired before the verification time.
    Expired,
    /// The certificate, or a CA of its path, is not valid yet at the verification time.
    NotYetValid,
    /// The certificate, or a CA of its path, is listed in its issuer's CRL.
    Revoked,
    /// The certificate may not be used for client authentication: its extended key usage
    /// lacks `clientAuth` (or is absent while required), its key usage lacks
    /// `digitalSignature`, or it is a CA certificate.
    InvalidUsage,
    /// Another path validation failure: a signature that does not verify, a path too long,
    /// a name constraint violated, an unsupported algorithm.
    InvalidCertificate,
    /// A verified certificate has no single value to map to a principal: 403.
    NoPrincipal,
    /// No CRL from the issuer of a certificate whose revocation must be checked: 500.
    RevocationUnknown,
    /// A CRL is not usable: it does not parse, its signature does not verify, its issuer may
    /// not sign CRLs, or it uses a feature rustls-webpki does not support: 500.
    CrlInvalid,
    /// The CRL is past its `nextUpdate` (and no fresher one could be fetched): 500.
    CrlExpired,
    /// The CRL could not be fetched and none is cached: 500.
    CrlUnavailable,
    /// The truststore bundle is unusable (not PEM, a certificate that does not parse, no
    /// self-signed root): 500.
    InvalidTruststore,
}

impl MtlsErrorKind {
    /// The HTTP status API Gateway should answer with: 403 for [`Self::NoPrincipal`], 500 for
    /// the truststore and CRL kinds, 401 for every other kind.
    pub fn status(self) -> u16 {
        match self {
            Self::NoPrincipal => 403,
            Self::RevocationUnknown
            | Self::CrlInvalid
            | Self::CrlExpired
            | Self::CrlUnavailable
            | Self::InvalidTruststore => 500,
            _ => 401,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::NoCertificate => "no client certificate",
            Self::Malformed => "malformed client certificate",
            Self::UntrustedIssuer => "client certificate not issued by a trusted ca",
            Self::Expired => "client certificate expired",
            Self::NotYetValid => "client certificate not yet valid",
            Self::Revoked => "client certificate revoked",
            Self::InvalidUsage => "client certificate not valid for client authentication",
            Self::InvalidCertificate => "invalid client certificate",
            Self::NoPrincipal => "no principal in the client certificate",
            Self::RevocationUnknown => "revocation status unknown",
            Self::CrlInvalid => "invalid certificate revocation list",
            Self::CrlExpired => "certificate revocation list expired",
            Self::CrlUnavailable => "certificate revocation list unavailable",
            Self::InvalidTruststore => "invalid truststore",
        }
    }
}

impl fmt::Display for MtlsErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A refused client certificate (or unusable truststore or CRL): its [`MtlsErrorKind`] and a
/// short, lowercase detail for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtlsError {
    kind: MtlsErrorKind,
    detail: String,
}

impl MtlsError {
    pub(crate) fn new(kind: MtlsErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// Which check refused the certificate.
    pub fn kind(&self) -> MtlsErrorKind {
        self.kind
    }

    /// What exactly failed, for logs.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The HTTP status API Gateway should answer with (see [`MtlsErrorKind::status`]).
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
}

impl fmt::Display for MtlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.kind, self.detail)
        }
    }
}

impl std::error::Error for MtlsError {}

/// The crate error for `kind`.
pub(crate) fn refused(kind: MtlsErrorKind, detail: impl Into<String>) -> crate::Error {
    MtlsError::new(kind, detail).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(MtlsErrorKind::Revoked.status(), 401);
        assert_eq!(MtlsErrorKind::NoCertificate.status(), 401);
        assert_eq!(MtlsErrorKind::NoPrincipal.status(), 403);
        assert_eq!(MtlsErrorKind::CrlExpired.status(), 500);
        assert_eq!(MtlsErrorKind::RevocationUnknown.status(), 500);
    }

    #[test]
    fn display_is_lowercase_kind_and_detail() {
        let e = MtlsError::new(MtlsErrorKind::Revoked, "serial 1001");
        assert_eq!(e.to_string(), "client certificate revoked: serial 1001");
        assert_eq!(
            MtlsError::new(MtlsErrorKind::Expired, "").to_string(),
            "client certificate expired"
        );
    }
}
