//! The truststore: the CA certificates client certificates must chain to.

use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, TrustAnchor};
use webpki::EndEntityCert;

use super::error::{MtlsErrorKind, refused};
use crate::Error;

/// The CA certificates a client certificate must chain to, parsed from a PEM bundle like the
/// one API Gateway's mutual TLS truststore holds.
///
/// Self-signed certificates in the bundle (subject equal to issuer) become trust anchors; the
/// others are intermediate CAs, used to build a path from the client certificate to an anchor
/// but not trusted on their own. So a bundle must hold at least one root, and a client
/// certificate issued by an intermediate is accepted only if that intermediate chains to a
/// root of the bundle, with the intermediate's validity (and, with
/// [`RevocationDepth::Chain`](super::RevocationDepth::Chain), revocation) checked too.
#[derive(Debug, Clone)]
pub struct TrustStore {
    pub(crate) anchors: Vec<TrustAnchor<'static>>,
    pub(crate) intermediates: Vec<CertificateDer<'static>>,
}

impl TrustStore {
    /// Parses a PEM bundle of one or more `CERTIFICATE` blocks.
    ///
    /// Returns [`MtlsErrorKind::InvalidTruststore`] (500) when the bundle is not PEM, holds a block other than a certificate, holds a certificate that does not
    /// parse, or holds no self-signed root.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let invalid = |why: String| refused(MtlsErrorKind::InvalidTruststore, why);
        let certs = pem_certificates(pem, usize::MAX).map_err(|e| invalid(e.to_string()))?;
        let mut anchors = Vec::new();
        let mut intermediates = Vec::new();
        for (i, der) in certs.into_iter().enumerate() {
            let cert = EndEntityCert::try_from(&der)
                .map_err(|e| invalid(format!("certificate {} does not parse: {e:?}", i + 1)))?;
            if cert.subject() == cert.issuer() {
                let anchor = webpki::anchor_from_trusted_cert(&der)
                    .map_err(|e| {
                        invalid(format!("certificate {} is no trust anchor: {e:?}", i + 1))
                    })?
                    .to_owned();
                anchors.push(anchor);
            } else {
                intermediates.push(der.clone());
            }
        }
        if anchors.is_empty() {
            return Err(invalid("no self-signed root ca in the bundle".to_owned()));
        }
        Ok(Self {
            anchors,
            intermediates,
        })
    }

    /// How many root CAs (trust anchors) the bundle holds.
    pub fn root_count(&self) -> usize {
        self.anchors.len()
    }

    /// How many intermediate CAs the bundle holds.
    pub fn intermediate_count(&self) -> usize {
        self.intermediates.len()
    }
}

/// Why a PEM input was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PemProblem {
    #[error("not pem: {0}")]
    Syntax(String),
    #[error("unexpected pem block {0:?}: only CERTIFICATE blocks are allowed")]
    NotCertificate(SectionKind),
    #[error("no CERTIFICATE block")]
    Empty,
    #[error("more than {0} certificates")]
    TooMany(usize),
}

/// The DER of every `CERTIFICATE` block, in order. Text outside blocks is ignored (as PEM
/// allows); blocks of unknown labels are skipped by the parser; a block of another known kind
/// (a private key, a CRL) is refused.
pub(crate) fn pem_certificates(
    pem: &[u8],
    max: usize,
) -> Result<Vec<CertificateDer<'static>>, PemProblem> {
    let mut certs = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem) {
        let (kind, der) = section.map_err(|e| PemProblem::Syntax(e.to_string()))?;
        if kind != SectionKind::Certificate {
            return Err(PemProblem::NotCertificate(kind));
        }
        if certs.len() == max {
            return Err(PemProblem::TooMany(max));
        }
        certs.push(CertificateDer::from(der));
    }
    if certs.is_empty() {
        return Err(PemProblem::Empty);
    }
    Ok(certs)
}
