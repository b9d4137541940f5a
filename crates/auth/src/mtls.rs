//! Mutual TLS client certificates: verified from the PEM API Gateway passes, revoked by CRL.
//!
//! API Gateway's mutual TLS checks the client certificate against the truststore during the
//! handshake, but it does not check revocation, and the strings it adds to the event
//! (`subjectDN`, `serialNumber`, `validity`) are a summary, not a proof. This module verifies
//! the certificate itself, from `clientCertPem`, with [rustls-webpki]:
//!
//! - the path from the client certificate to a root of a [`TrustStore`] (a PEM bundle; roots
//!   are its self-signed certificates, the rest are intermediates), every signature checked;
//! - the validity period of every certificate of the path at the `now` the caller passes;
//! - `clientAuth` extended key usage (required by default) and `digitalSignature` key usage
//!   when a key usage extension is present; a CA certificate is refused as client certificate;
//! - revocation by CRL ([`CrlSet`], usually from a [`CrlCache`]): the CRL must come from the
//!   certificate's issuer, its signature must verify and its `nextUpdate` must not have passed;
//!   serials are compared as DER, leading zero byte included. By default
//!   ([`RevocationDepth::Chain`]) the intermediates are checked too, so the set needs the
//!   root's CRL as well as the issuing CA's. A certificate no CRL covers is denied: unknown
//!   status fails closed.
//!
//! A [`ClientCertificate`] comes out: subject and issuer DNs, serial, validity, subject
//! alternative names, SHA-256 fingerprint, and [`ClientCertificate::principal`] to map it to a
//! principal id. Every refusal is an [`Error::Mtls`](crate::Error::Mtls) whose
//! [`MtlsErrorKind`] says which check failed and which status to answer with (401 for the
//! certificate, 403 for no principal, 500 when the truststore or CRLs are unusable).
//!
//! The first certificate of `clientCertPem` is the client certificate; further certificates in
//! the PEM are used as untrusted intermediates to build a path (API Gateway passes the leaf
//! only, so intermediates normally come from the truststore bundle). A PEM block that is not a
//! certificate is refused.
//!
//! OCSP is not supported: revocation is by CRL only.
//!
//! ```no_run
//! use std::time::SystemTime;
//!
//! use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
//! use lambdakit_auth::mtls::{
//!     ClientCertVerifier, CrlCache, FetchError, PrincipalSource, TrustStore, client_cert_pem,
//! };
//!
//! # async fn run(event: ApiGatewayV2CustomAuthorizerV2Request) -> Result<(), lambdakit_auth::Error> {
//! // At cold start: the truststore bundle, and a cache of the CAs' CRLs (here from files; in a
//! // function, from S3 with a client the handler owns).
//! let truststore = TrustStore::from_pem(&std::fs::read("truststore.pem").unwrap_or_default())?;
//! let verifier = ClientCertVerifier::new(truststore);
//! let crls = CrlCache::new(|| async { Ok::<_, FetchError>(std::fs::read("crls.pem")?) });
//!
//! // Per request.
//! let pem = client_cert_pem(&event)?;
//! let cert = verifier.verify_with_crl_cache(pem, SystemTime::now(), &crls).await?;
//! let principal = cert.principal(PrincipalSource::CommonName)?;
//! # let _ = principal;
//! # Ok(())
//! # }
//! ```
//!
//! [rustls-webpki]: https://docs.rs/rustls-webpki

mod cert;
mod crl;
mod der;
mod error;
mod event;
mod trust;
mod verify;

pub use cert::{
    ClientCertificate, DistinguishedName, NameAttribute, PrincipalSource, SubjectAltName,
};
pub use crl::{CrlCache, CrlFetcher, CrlSet, FetchError, FetchFuture};
pub use error::{MtlsError, MtlsErrorKind};
pub use event::{ClientCertEvent, client_cert_pem};
pub use trust::TrustStore;
pub use verify::{ClientCertVerifier, ClientCertVerifierBuilder, RevocationCheck, RevocationDepth};
