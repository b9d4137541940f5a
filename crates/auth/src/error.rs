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
}

impl Error {
    /// The HTTP status API Gateway answers the client with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::InvalidResponse(_) | Self::Unavailable(_) => 500,
        }
    }
}
