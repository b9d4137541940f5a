//! Where API Gateway puts the client certificate in its events.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert,
    ApiGatewayV2CustomAuthorizerV1Request, ApiGatewayV2CustomAuthorizerV2Request,
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContextAuthenticationClientCert,
};

use super::error::{MtlsErrorKind, refused};
use crate::Error;

/// An event that may carry the mutual TLS client certificate.
///
/// Only `clientCertPem` is read: the `subjectDN`, `issuerDN`, `serialNumber` and `validity`
/// strings next to it are informational and never trusted; the verifier reads all of that
/// from the certificate itself.
pub trait ClientCertEvent {
    /// The `clientCertPem` the event carries, or `None` when the request came without one
    /// (mutual TLS not enabled on the custom domain, or the default endpoint used).
    fn client_cert_pem(&self) -> Option<&str>;
}

/// REST API request authorizer: `requestContext.identity.clientCert`.
impl ClientCertEvent for ApiGatewayCustomAuthorizerRequestTypeRequest {
    fn client_cert_pem(&self) -> Option<&str> {
        self.request_context
            .identity
            .as_ref()?
            .client_cert
            .as_ref()?
            .client_cert_pem()
    }
}

/// HTTP API authorizer, payload format 2.0: `requestContext.authentication.clientCert`.
impl ClientCertEvent for ApiGatewayV2CustomAuthorizerV2Request {
    fn client_cert_pem(&self) -> Option<&str> {
        self.request_context
            .authentication
            .as_ref()?
            .client_cert
            .as_ref()?
            .client_cert_pem()
    }
}

/// HTTP API authorizer, payload format 1.0: `requestContext.identity.clientCert`.
impl ClientCertEvent for ApiGatewayV2CustomAuthorizerV1Request {
    fn client_cert_pem(&self) -> Option<&str> {
        self.request_context
            .identity
            .client_cert
            .as_ref()?
            .client_cert_pem()
    }
}

/// HTTP API integration event, payload format 2.0: `requestContext.authentication.clientCert`.
impl ClientCertEvent for ApiGatewayV2httpRequest {
    fn client_cert_pem(&self) -> Option<&str> {
        self.request_context
            .authentication
            .as_ref()?
            .client_cert
            .as_ref()?
            .client_cert_pem()
    }
}

/// The `clientCert` object of HTTP API (payload 2.0) events.
impl ClientCertEvent for ApiGatewayV2httpRequestContextAuthenticationClientCert {
    fn client_cert_pem(&self) -> Option<&str> {
        self.client_cert_pem.as_deref()
    }
}

/// The `clientCert` object of REST API events and HTTP API payload 1.0 events.
impl ClientCertEvent for ApiGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert {
    fn client_cert_pem(&self) -> Option<&str> {
        self.client_cert_pem.as_deref()
    }
}

/// The client certificate PEM of `event`.
///
/// Returns [`MtlsErrorKind::NoCertificate`] (401) when the event carries no client certificate
/// or an empty one.
pub fn client_cert_pem<E: ClientCertEvent + ?Sized>(event: &E) -> Result<&str, Error> {
    match event.client_cert_pem() {
        Some(pem) if !pem.trim().is_empty() => Ok(pem),
        _ => Err(refused(
            MtlsErrorKind::NoCertificate,
            "no clientCert in the request",
        )),
    }
}
