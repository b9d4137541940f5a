//! The claims of a verified token.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::key::Algorithm;

/// A Cognito token's `token_use`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenUse {
    /// An access token (`"access"`): carries `client_id`, `scope`, `username`.
    Access,
    /// An id token (`"id"`): carries `aud` (the app client id), `cognito:username`, the
    /// user's attributes.
    Id,
}

impl TokenUse {
    /// The claim's value: `"access"` or `"id"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Id => "id",
        }
    }

    /// The token use named `value`, or `None` for anything but `"access"` and `"id"`.
    pub fn from_claim(value: &str) -> Option<Self> {
        match value {
            "access" => Some(Self::Access),
            "id" => Some(Self::Id),
            _ => None,
        }
    }
}

impl fmt::Display for TokenUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of a token that passed every check: the whole JSON object, plus typed accessors
/// for the claims authorizers use most.
///
/// Accessors return `None` (or nothing) for a claim that is absent or of another JSON type;
/// the registered claims the verifier checked (`iss`, `exp`, and `aud`, `token_use`,
/// `client_id`, `scope`, `cognito:groups` when configured) always have the right type.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    claims: Map<String, Value>,
    algorithm: Algorithm,
    key_id: String,
}

impl Claims {
    pub(crate) fn new(claims: Map<String, Value>, algorithm: Algorithm, key_id: String) -> Self {
        Self {
            claims,
            algorithm,
            key_id,
        }
    }

    fn str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The claim `name`, any JSON type.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// Every claim.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Every claim, owned.
    pub fn into_map(self) -> Map<String, Value> {
        self.claims
    }

    /// The issuer (`iss`), matched exactly against a configured issuer.
    pub fn iss(&self) -> &str {
        self.str("iss").unwrap_or_default()
    }

    /// The subject (`sub`): for Cognito, the user's stable id.
    pub fn sub(&self) -> Option<&str> {
        self.str("sub")
    }

    /// The user name: `username` (Cognito access tokens), else `cognito:username` (Cognito id
    /// tokens).
    pub fn username(&self) -> Option<&str> {
        self.str("username")
            .or_else(|| self.str("cognito:username"))
    }

    /// The Cognito groups (`cognito:groups`); none when the claim is absent.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.claims
            .get("cognito:groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    /// The scopes: `scope` split on spaces (RFC 8693, section 4.2); none when absent.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.str("scope")
            .into_iter()
            .flat_map(|scope| scope.split(' '))
            .filter(|scope| !scope.is_empty())
    }

    /// Whether the token has the scope `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// Whether the token is in the Cognito group `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups().any(|g| g == group)
    }

    /// The Cognito `token_use`, if it is `"access"` or `"id"`.
    pub fn token_use(&self) -> Option<TokenUse> {
        self.str("token_use").and_then(TokenUse::from_claim)
    }

    /// The app client the token was issued to: `client_id` (Cognito access tokens, OAuth 2.0
    /// access tokens per RFC 9068), else, for a Cognito id token, its `aud`.
    pub fn client_id(&self) -> Option<&str> {
        self.str("client_id").or_else(|| match self.token_use() {
            Some(TokenUse::Id) => self.str("aud"),
            _ => None,
        })
    }

    /// The audiences (`aud`, a string or an array of strings); none when absent.
    pub fn aud(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self.claims.get("aud") {
            Some(Value::String(one)) => (Some(one.as_str()), None),
            Some(Value::Array(many)) => (None, Some(many.iter().filter_map(Value::as_str))),
            _ => (None, None),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// When the token expires (`exp`, without the clock skew).
    pub fn expires_at(&self) -> SystemTime {
        self.claims
            .get("exp")
            .and_then(Value::as_f64)
            .and_then(|exp| Duration::try_from_secs_f64(exp).ok())
            .and_then(|since| UNIX_EPOCH.checked_add(since))
            .unwrap_or(UNIX_EPOCH)
    }

    /// The algorithm the token was signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` of the key that verified the token.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: serde_json::Value) -> Claims {
        let Value::Object(map) = json else {
            panic!("an object")
        };
        Claims::new(map, Algorithm::Rs256, "k".into())
    }

    #[test]
    fn cognito_access_token_accessors() {
        let c = claims(serde_json::json!({
            "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
            "sub": "1234", "username": "jane", "token_use": "access",
            "client_id": "client1", "scope": "orders/read  orders/write",
            "cognito:groups": ["admins", 3, "staff"], "exp": 1_700_000_000.5,
        }));
        assert_eq!(c.sub(), Some("1234"));
        assert_eq!(c.username(), Some("jane"));
        assert_eq!(c.token_use(), Some(TokenUse::Access));
        assert_eq!(c.client_id(), Some("client1"));
        assert_eq!(
            c.scopes().collect::<Vec<_>>(),
            ["orders/read", "orders/write"]
        );
        assert_eq!(c.groups().collect::<Vec<_>>(), ["admins", "staff"]);
        assert!(c.has_scope("orders/write") && !c.has_scope("orders"));
        assert!(c.in_group("admins") && !c.in_group("3"));
        assert_eq!(
            c.expires_at(),
            UNIX_EPOCH + Duration::from_millis(1_700_000_000_500)
        );
    }

    #[test]
    fn cognito_id_token_accessors() {
        let c = claims(serde_json::json!({
            "cognito:username": "jane", "token_use": "id", "aud": "client1",
        }));
        assert_eq!(c.username(), Some("jane"));
        assert_eq!(c.client_id(), Some("client1"));
        assert_eq!(c.aud().collect::<Vec<_>>(), ["client1"]);
        assert_eq!(c.groups().count(), 0);
        assert_eq!(c.scopes().count(), 0);
    }

    #[test]
    fn aud_array() {
        let c = claims(serde_json::json!({ "aud": ["a", "b"] }));
        assert_eq!(c.aud().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(c.client_id(), None);
    }
}
