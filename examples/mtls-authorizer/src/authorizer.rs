//! The authorizer: the client certificate API Gateway passes
//! (`requestContext.authentication.clientCert.clientCertPem`) verified with
//! [`lambdakit_auth::mtls`] against the CA bundle and the CAs' CRLs, answered with a simple
//! response.
//!
//! API Gateway has already checked the certificate's chain against the truststore during the
//! TLS handshake, but it does not check revocation, and it passes the certificate to the
//! authorizer on every route. This function checks everything again from the PEM (the
//! `subjectDN`, `serialNumber` and `validity` strings next to it are never trusted), adds the
//! CRL check, and denies on anything but a clear yes: no certificate, an untrusted, expired or
//! revoked one, a CRL that cannot be fetched or is past its `nextUpdate`.

use std::time::{SystemTime, UNIX_EPOCH};

pub use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerSimpleResponse as Response;
use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use lambdakit_auth::Error as AuthError;
use lambdakit_auth::mtls::{
    ClientCertVerifier, CrlCache, CrlFetcher, PrincipalSource, TrustStore, client_cert_pem,
};
use lambdakit_auth::response::{SimpleResponse, deny_on_error};
use serde_json::Value;

use crate::Error;
use crate::config::Config;
use crate::s3::S3Object;

/// The mutual TLS authorizer, over a CRL source `F` ([`S3Object`] in the function).
#[derive(Debug)]
pub struct MtlsAuthorizer<F = S3Object> {
    verifier: ClientCertVerifier,
    crls: CrlCache<F>,
    principal: PrincipalSource,
}

impl MtlsAuthorizer<S3Object> {
    /// Reads the truststore from S3 (the version the configuration names, if any) and sets up
    /// the CRL cache on the CRL object; called once, at cold start.
    ///
    /// Errors: the truststore cannot be read ([`Error::NotFound`], [`Error::S3`]) or holds no
    /// usable root ([`Error::Auth`]).
    pub async fn load(s3: aws_sdk_s3::Client, config: &Config) -> Result<Self, Error> {
        let pem = S3Object::new(s3.clone(), config.truststore.clone())
            .read()
            .await?;
        let truststore = TrustStore::from_pem(&pem)?;
        tracing::info!(
            truststore = %config.truststore,
            roots = truststore.root_count(),
            intermediates = truststore.intermediate_count(),
            "truststore loaded"
        );
        let crls = CrlCache::new(S3Object::new(s3, config.crl.clone())).with_ttl(config.crl_ttl);
        Ok(Self::new(truststore, crls, config))
    }
}

impl<F: CrlFetcher> MtlsAuthorizer<F> {
    /// An authorizer trusting `truststore`, with CRLs from `crls`, naming callers and checking
    /// revocation as `config` says.
    pub fn new(truststore: TrustStore, crls: CrlCache<F>, config: &Config) -> Self {
        let verifier = ClientCertVerifier::builder(truststore)
            .revocation_depth(config.revocation_depth)
            .build();
        Self {
            verifier,
            crls,
            principal: config.principal,
        }
    }

    /// The decision at `now`: allow with the caller's `principal`, `subjectDN`, `issuerDN`,
    /// `serialNumber`, `fingerprint` and `notAfter` (seconds since the epoch) as context, or
    /// the reason to deny.
    pub async fn decide(&self, event: Value, now: SystemTime) -> Result<SimpleResponse, AuthError> {
        let request: ApiGatewayV2CustomAuthorizerV2Request = serde_json::from_value(event)
            .map_err(|_| AuthError::Unauthorized("not an HTTP API authorizer event".into()))?;
        if request.version.as_deref() != Some("2.0") {
            return Err(AuthError::Unauthorized(
                "not payload format 2.0 (set AuthorizerPayloadFormatVersion 2.0)".into(),
            ));
        }
        let pem = client_cert_pem(&request)?;
        let cert = self
            .verifier
            .verify_with_crl_cache(pem, now, &self.crls)
            .await?;
        let principal = cert.principal(self.principal)?;
        tracing::info!(
            %principal,
            serial = %cert.serial_hex(),
            route = request.route_key.as_deref().unwrap_or(""),
            "allowed"
        );
        let not_after = cert
            .not_after()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        Ok(SimpleResponse::allow()
            .context("principal", principal)
            .context("subjectDN", cert.subject().as_str())
            .context("issuerDN", cert.issuer().as_str())
            .context("serialNumber", cert.serial_hex())
            .context("fingerprint", cert.fingerprint_sha256())
            .context("notAfter", not_after))
    }

    /// The answer to `event` now: [`Self::decide`], any error a deny.
    pub async fn authorize(&self, event: Value) -> Response {
        self.authorize_at(event, SystemTime::now()).await
    }

    /// The answer to `event` at `now`.
    pub async fn authorize_at(&self, event: Value, now: SystemTime) -> Response {
        deny_on_error(
            self.decide(event, now)
                .await
                .and_then(SimpleResponse::build),
        )
    }
}
