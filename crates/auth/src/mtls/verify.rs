//! Verifying a client certificate: chain, usage, validity, revocation.

use std::time::{SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage, RevocationCheckDepth,
    RevocationOptionsBuilder, UnknownStatusPolicy,
};

use super::cert::ClientCertificate;
use super::crl::{CrlCache, CrlFetcher, CrlSet};
use super::der;
use super::error::{MtlsErrorKind, refused};
use super::trust::{TrustStore, pem_certificates};
use crate::Error;

/// How revocation is checked for one verification.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum RevocationCheck<'a> {
    /// Check against these CRLs: each certificate the depth covers must be covered by a CRL
    /// from its issuer whose signature verifies and whose `nextUpdate` has not passed, and must
    /// not be listed in it. A certificate no CRL covers is denied (unknown status).
    Crls(&'a CrlSet),
    /// Do not check revocation. Only for truststores whose CAs publish no CRL: a revoked
    /// certificate is then accepted until it expires.
    Disabled,
}

/// Which certificates of the path revocation is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RevocationDepth {
    /// The client certificate and every intermediate CA: the CRL set needs a CRL from each
    /// CA of the path, root included (the root's CRL covers the intermediates it signed).
    #[default]
    Chain,
    /// Only the client certificate: the CRL set needs a CRL from the CA that issued it.
    EndEntity,
}

/// Verifies client certificates against a [`TrustStore`].
///
/// Build one per process (at cold start) and share it; verification takes `&self`.
#[derive(Debug, Clone)]
pub struct ClientCertVerifier {
    trust: TrustStore,
    revocation_depth: RevocationDepth,
    require_client_auth_eku: bool,
    max_pem_bytes: usize,
    max_certificates: usize,
}

/// Builds a [`ClientCertVerifier`]; see [`ClientCertVerifier::builder`].
#[derive(Debug, Clone)]
pub struct ClientCertVerifierBuilder {
    inner: ClientCertVerifier,
}

impl ClientCertVerifierBuilder {
    /// Which certificates revocation is checked for; [`RevocationDepth::Chain`] by default.
    pub fn revocation_depth(mut self, depth: RevocationDepth) -> Self {
        self.inner.revocation_depth = depth;
        self
    }

    /// Whether the client certificate must carry the extended key usage extension with
    /// `clientAuth` (the default). With `false`, a certificate without the extension is
    /// accepted as RFC 5280 allows; one with the extension but without `clientAuth` is always
    /// refused.
    pub fn require_client_auth_eku(mut self, require: bool) -> Self {
        self.inner.require_client_auth_eku = require;
        self
    }

    /// The largest client certificate PEM accepted, in bytes; 64 KiB by default.
    pub fn max_pem_bytes(mut self, max: usize) -> Self {
        self.inner.max_pem_bytes = max;
        self
    }

    /// The most certificates accepted in the client certificate PEM (leaf included); 8 by
    /// default.
    pub fn max_certificates(mut self, max: usize) -> Self {
        self.inner.max_certificates = max.max(1);
        self
    }

    /// The verifier.
    pub fn build(self) -> ClientCertVerifier {
        self.inner
    }
}

/// A client certificate PEM that parsed: the leaf first, then any certificates sent with it.
#[derive(Debug)]
struct ClientChain {
    certs: Vec<CertificateDer<'static>>,
}

impl ClientCertVerifier {
    /// A verifier with the defaults: revocation checked for the whole chain, `clientAuth`
    /// extended key usage required.
    pub fn new(trust: TrustStore) -> Self {
        Self::builder(trust).build()
    }

    /// A builder starting from the defaults of [`new`](Self::new).
    pub fn builder(trust: TrustStore) -> ClientCertVerifierBuilder {
        ClientCertVerifierBuilder {
            inner: Self {
                trust,
                revocation_depth: RevocationDepth::default(),
                require_client_auth_eku: true,
                max_pem_bytes: 64 * 1024,
                max_certificates: 8,
            },
        }
    }

    /// Verifies the client certificate PEM (API Gateway's `clientCertPem`) at `now`.
    ///
    /// The first certificate of the PEM is the client certificate; any that follow are
    /// treated as untrusted intermediates that may help build a path to a root of the
    /// truststore (API Gateway passes the leaf only). Checks, all of which must pass:
    ///
    /// - the certificate chains to a root of the truststore, every signature verifying;
    /// - `now` is within the validity period of every certificate of the path;
    /// - the client certificate is not a CA, its extended key usage includes `clientAuth`
    ///   (see [`ClientCertVerifierBuilder::require_client_auth_eku`]) and, if it has a key
    ///   usage extension, that asserts `digitalSignature`;
    /// - with [`RevocationCheck::Crls`], none of the certificates the
    ///   [`RevocationDepth`] covers is revoked, by a CRL whose issuer, signature and
    ///   `nextUpdate` verify; unknown status denies.
    ///
    /// Errors are [`Error::Mtls`] with the [`MtlsErrorKind`] of the first check that failed:
    /// 401 kinds when the PEM is missing, too large, malformed or truncated, or the certificate
    /// is untrusted, expired, not yet valid, revoked or not for client authentication; 500
    /// kinds when revocation cannot be decided ([`MtlsErrorKind::RevocationUnknown`]: no CRL
    /// from the issuer; [`MtlsErrorKind::CrlInvalid`]: CRL signature invalid;
    /// [`MtlsErrorKind::CrlExpired`]: CRL past `nextUpdate`).
    pub fn verify(
        &self,
        pem: &str,
        now: SystemTime,
        revocation: RevocationCheck<'_>,
    ) -> Result<ClientCertificate, Error> {
        let chain = self.parse(pem)?;
        self.verify_chain(&chain, now, revocation)
    }

    /// [`verify`](Self::verify) with the CRLs of `cache`, fetched (once, shared) if stale.
    ///
    /// A PEM that does not parse is refused before the cache is consulted.
    pub async fn verify_with_crl_cache<F: CrlFetcher>(
        &self,
        pem: &str,
        now: SystemTime,
        cache: &CrlCache<F>,
    ) -> Result<ClientCertificate, Error> {
        let chain = self.parse(pem)?;
        let crls = cache.get(now).await?;
        self.verify_chain(&chain, now, RevocationCheck::Crls(&crls))
    }

    fn parse(&self, pem: &str) -> Result<ClientChain, Error> {
        if pem.trim().is_empty() {
            return Err(refused(MtlsErrorKind::NoCertificate, "empty pem"));
        }
        if pem.len() > self.max_pem_bytes {
            return Err(refused(
                MtlsErrorKind::Malformed,
                format!("pem larger than {} bytes", self.max_pem_bytes),
            ));
        }
        let certs = pem_certificates(pem.as_bytes(), self.max_certificates)
            .map_err(|e| refused(MtlsErrorKind::Malformed, e.to_string()))?;
        Ok(ClientChain { certs })
    }

    fn verify_chain(
        &self,
        chain: &ClientChain,
        now: SystemTime,
        revocation: RevocationCheck<'_>,
    ) -> Result<ClientCertificate, Error> {
        let Some((leaf, sent)) = chain.certs.split_first() else {
            return Err(refused(MtlsErrorKind::NoCertificate, "empty pem"));
        };
        let end_entity = EndEntityCert::try_from(leaf).map_err(|e| {
            refused(
                MtlsErrorKind::Malformed,
                format!("certificate does not parse: {e:?}"),
            )
        })?;
        let intermediates: Vec<CertificateDer<'_>> = sent
            .iter()
            .chain(&self.trust.intermediates)
            .map(|c| CertificateDer::from(c.as_ref()))
            .collect();

        let crls: Vec<&CertRevocationList<'_>> = match revocation {
            RevocationCheck::Crls(set) => set.crls.iter().collect(),
            RevocationCheck::Disabled => Vec::new(),
        };
        let options = match revocation {
            RevocationCheck::Disabled => None,
            RevocationCheck::Crls(_) => Some(
                RevocationOptionsBuilder::new(&crls)
                    .map_err(|_| refused(MtlsErrorKind::RevocationUnknown, "empty crl set"))?
                    .with_depth(match self.revocation_depth {
                        RevocationDepth::Chain => RevocationCheckDepth::Chain,
                        RevocationDepth::EndEntity => RevocationCheckDepth::EndEntity,
                    })
                    .with_status_policy(UnknownStatusPolicy::Deny)
                    .with_expiration_policy(ExpirationPolicy::Enforce)
                    .build(),
            ),
        };

        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.trust.anchors,
                &intermediates,
                UnixTime::since_unix_epoch(since_epoch),
                KeyUsage::client_auth(),
                options,
                None,
            )
            .map_err(|e| {
                let error = map_webpki_error(&e);
                tracing::info!(webpki_error = ?e, %error, "client certificate denied");
                error
            })?;

        let info = der::parse_certificate(leaf.as_ref())
            .map_err(|_| refused(MtlsErrorKind::Malformed, "certificate extensions malformed"))?;
        if self.require_client_auth_eku
            && !info
                .extended_key_usages
                .as_ref()
                .is_some_and(|ekus| ekus.iter().any(|oid| oid == der::OID_CLIENT_AUTH))
        {
            return Err(refused(
                MtlsErrorKind::InvalidUsage,
                "no clientAuth extended key usage",
            ));
        }
        if info.digital_signature == Some(false) {
            return Err(refused(
                MtlsErrorKind::InvalidUsage,
                "key usage lacks digitalSignature",
            ));
        }
        Ok(ClientCertificate::from_info(info, leaf.as_ref()))
    }
}

/// The kind of a rustls-webpki refusal; the detail is webpki's own description.
fn map_webpki_error(error: &webpki::Error) -> Error {
    use webpki::Error as E;
    #[allow(deprecated)]
    let kind = match error {
        E::CertRevoked => MtlsErrorKind::Revoked,
        E::CertExpired { .. } => MtlsErrorKind::Expired,
        E::CertNotValidYet { .. } => MtlsErrorKind::NotYetValid,
        E::UnknownIssuer => MtlsErrorKind::UntrustedIssuer,
        E::RequiredEkuNotFound
        | E::RequiredEkuNotFoundContext(_)
        | E::EmptyEkuExtension
        | E::CaUsedAsEndEntity => MtlsErrorKind::InvalidUsage,
        E::BadDer | E::BadDerTime | E::TrailingData(_) | E::UnsupportedCertVersion => {
            MtlsErrorKind::Malformed
        }
        E::UnknownRevocationStatus => MtlsErrorKind::RevocationUnknown,
        E::CrlExpired { .. } => MtlsErrorKind::CrlExpired,
        E::InvalidCrlSignatureForPublicKey
        | E::UnsupportedCrlSignatureAlgorithm
        | E::UnsupportedCrlSignatureAlgorithmContext(_)
        | E::UnsupportedCrlSignatureAlgorithmForPublicKey
        | E::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_)
        | E::IssuerNotCrlSigner
        | E::UnsupportedIndirectCrl
        | E::UnsupportedRevocationReasonsPartitioning
        | E::UnsupportedCrlIssuingDistributionPoint => MtlsErrorKind::CrlInvalid,
        _ => MtlsErrorKind::InvalidCertificate,
    };
    refused(kind, format!("{error:?}"))
}
