//! The crate's one error type.

/// Everything that makes an authorizer deny, or refuse to build a response.
///
/// Every variant denies: there is no error a handler can turn into "allow" by accident.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller presented no credentials or malformed ones: API Gateway's 401
    /// (`Unauthorized` for REST token authorizers).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Valid credentials that are not allowed here: 403.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A response or policy this crate refuses to build (empty policy, bad ARN, context too
    /// large, route-dependent decision without the route in the identity sources): 500.
    #[error("invalid authorizer response: {0}")]
    InvalidResponse(String),
    /// A dependency the decision needs is unavailable (JWKS endpoint, CRL): 500, never allow.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A JWT was refused, or a JWT verifier could not be built: the [`JwtError`]'s kind says
    /// which check failed. 401 for a token that is not valid, 403 for a valid token without
    /// a required group or scope, 500 for an invalid configuration (see
    /// [`JwtErrorKind::status`](crate::jwt::JwtErrorKind::status)).
    ///
    /// [`JwtError`]: crate::jwt::JwtError
    #[cfg(feature = "jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
    #[error("jwt: {0}")]
    Jwt(#[from] crate::jwt::JwtError),
    /// A client certificate was refused, or the truststore or CRLs its verification needs are
    /// unusable: the [`MtlsError`]'s kind says which. 401 for a certificate that is missing or
    /// not valid, 403 for one that maps to no principal, 500 for an unusable truststore or CRL
    /// (see [`MtlsErrorKind::status`](crate::mtls::MtlsErrorKind::status)).
    ///
    /// [`MtlsError`]: crate::mtls::MtlsError
    #[cfg(feature = "mtls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mtls")))]
    #[error("mtls: {0}")]
    Mtls(#[from] crate::mtls::MtlsError),
}

impl Error {
    /// The HTTP status API Gateway answers the client with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::InvalidResponse(_) | Self::Unavailable(_) => 500,
            #[cfg(feature = "jwt")]
            Self::Jwt(e) => e.status(),
            #[cfg(feature = "mtls")]
            Self::Mtls(e) => e.status(),
        }
    }
}
