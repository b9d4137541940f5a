//! The issuers a verifier trusts, and the claims each one's tokens must carry.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::claims::{Claims, TokenUse};
use super::error::{JwtError, JwtErrorKind, quoted};

/// A check of the verified claims, run after every built-in check passed. Its error is the
/// verifier's error, so it decides the status (`Error::Forbidden` for 403,
/// `Error::Unauthorized` for 401, ...).
pub(crate) type ClaimsCheck = Arc<dyn Fn(&Claims) -> Result<(), crate::Error> + Send + Sync>;

/// Tokens of one Amazon Cognito user pool.
///
/// The issuer is `https://cognito-idp.<region>.amazonaws.com/<userPoolId>` and the keys are
/// fetched from `<issuer>/.well-known/jwks.json`. The constructors take what the verifier
/// cannot guess and must not skip: which token use (access or id) and which app client(s).
///
/// ```
/// use lambdakit_auth::jwt::CognitoUserPool;
///
/// let pool = CognitoUserPool::access_tokens("eu-west-1_AbCdEf123", "3n4b5urk1ft4fl3mg5e62d9ado")
///     .require_any_scope(["orders/read", "orders/admin"])
///     .require_any_group(["staff"]);
/// ```
#[derive(Clone)]
pub struct CognitoUserPool {
    user_pool_id: String,
    token_use: TokenUse,
    client_ids: Vec<String>,
    jwks_uri: Option<String>,
    requirements: Requirements,
}

impl CognitoUserPool {
    /// Accepts access tokens (`token_use` `"access"`) whose `client_id` is `client_id`.
    ///
    /// The user pool id (`<region>_<id>`) is checked when the verifier is built: a malformed
    /// one makes [`JwtVerifierBuilder::build`](super::JwtVerifierBuilder::build) fail with
    /// [`JwtErrorKind::InvalidConfig`].
    pub fn access_tokens(user_pool_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self::new(user_pool_id.into(), TokenUse::Access, client_id.into())
    }

    /// Accepts id tokens (`token_use` `"id"`) whose `aud` is `client_id`.
    ///
    /// The user pool id is checked when the verifier is built (see
    /// [`Self::access_tokens`]).
    pub fn id_tokens(user_pool_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self::new(user_pool_id.into(), TokenUse::Id, client_id.into())
    }

    fn new(user_pool_id: String, token_use: TokenUse, client_id: String) -> Self {
        Self {
            user_pool_id,
            token_use,
            client_ids: vec![client_id],
            jwks_uri: None,
            requirements: Requirements::default(),
        }
    }

    /// Also accepts tokens issued to this app client.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_ids.push(client_id.into());
        self
    }

    /// Requires at least one of `groups` in `cognito:groups`; a token without any is refused
    /// with [`JwtErrorKind::MissingGroup`] (403). Each call adds a requirement, and all must
    /// hold. An empty list can never hold and fails the build.
    pub fn require_any_group<S: Into<String>>(
        mut self,
        groups: impl IntoIterator<Item = S>,
    ) -> Self {
        self.requirements
            .groups
            .push(groups.into_iter().map(Into::into).collect());
        self
    }

    /// Requires at least one of `scopes` in `scope` (access tokens only: Cognito id tokens
    /// carry no scope, so the build fails); a token without any is refused with
    /// [`JwtErrorKind::MissingScope`] (403). Each call adds a requirement, and all must hold.
    pub fn require_any_scope<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.requirements
            .scopes
            .push(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Runs `check` on the claims of every token that passed the built-in checks; its error
    /// refuses the token. Calling it again replaces the check.
    pub fn check(
        mut self,
        check: impl Fn(&Claims) -> Result<(), crate::Error> + Send + Sync + 'static,
    ) -> Self {
        self.requirements.check = Some(Arc::new(check));
        self
    }

    /// Fetches the keys from `uri` instead of the user pool's own JWKS URI, for a local test
    /// server or a proxy. The issuer (and so the `iss` tokens must carry) is unchanged.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// The issuer URL, `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`.
    ///
    /// # Errors
    /// [`JwtErrorKind::InvalidConfig`] when the user pool id is not `<region>_<id>`.
    pub fn issuer(&self) -> Result<String, JwtError> {
        let region = user_pool_region(&self.user_pool_id)?;
        Ok(format!(
            "https://cognito-idp.{region}.amazonaws.com/{}",
            self.user_pool_id
        ))
    }

    pub(crate) fn into_rules(self) -> Result<IssuerRules, JwtError> {
        let issuer = self.issuer()?;
        if self.client_ids.iter().any(String::is_empty) {
            return Err(config("an empty client id"));
        }
        if self.token_use == TokenUse::Id && !self.requirements.scopes.is_empty() {
            return Err(config(
                "scopes are required of id tokens, which carry none; use access tokens",
            ));
        }
        self.requirements.validate()?;
        let jwks_uri = self
            .jwks_uri
            .unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        Ok(IssuerRules {
            issuer,
            jwks_uri,
            audience: AudienceRule::Cognito {
                token_use: self.token_use,
                client_ids: self.client_ids,
            },
            requirements: self.requirements,
        })
    }
}

impl fmt::Debug for CognitoUserPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoUserPool")
            .field("user_pool_id", &self.user_pool_id)
            .field("token_use", &self.token_use)
            .field("client_ids", &self.client_ids)
            .field("jwks_uri", &self.jwks_uri)
            .field("requirements", &self.requirements)
            .finish()
    }
}

/// Tokens of a generic OpenID Connect (or OAuth 2.0 JWT) issuer: `iss` must equal the issuer
/// exactly (a trailing slash matters) and `aud` must hold one of the audiences.
///
/// ```
/// use lambdakit_auth::jwt::OidcIssuer;
///
/// let issuer = OidcIssuer::new(
///     "https://accounts.example.com",
///     "https://accounts.example.com/.well-known/jwks.json",
///     "api://orders",
/// )
/// .require_any_scope(["orders.read"]);
/// ```
#[derive(Clone)]
pub struct OidcIssuer {
    issuer: String,
    jwks_uri: String,
    audiences: Vec<String>,
    requirements: Requirements,
}

impl OidcIssuer {
    /// Accepts tokens with `iss` equal to `issuer`, signed by a key of the JWKS at `jwks_uri`,
    /// with `audience` in `aud`.
    ///
    /// The JWKS URI is checked when the verifier is built (HTTPS, see
    /// [`JwtVerifierBuilder::build`](super::JwtVerifierBuilder::build)).
    pub fn new(
        issuer: impl Into<String>,
        jwks_uri: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            jwks_uri: jwks_uri.into(),
            audiences: vec![audience.into()],
            requirements: Requirements::default(),
        }
    }

    /// Also accepts tokens with this audience.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Requires at least one of `scopes` in `scope` (space-separated); a token without any is
    /// refused with [`JwtErrorKind::MissingScope`] (403). Each call adds a requirement, and
    /// all must hold. An empty list can never hold and fails the build.
    pub fn require_any_scope<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.requirements
            .scopes
            .push(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Runs `check` on the claims of every token that passed the built-in checks; its error
    /// refuses the token. Calling it again replaces the check.
    pub fn check(
        mut self,
        check: impl Fn(&Claims) -> Result<(), crate::Error> + Send + Sync + 'static,
    ) -> Self {
        self.requirements.check = Some(Arc::new(check));
        self
    }

    pub(crate) fn into_rules(self) -> Result<IssuerRules, JwtError> {
        if self.issuer.is_empty() {
            return Err(config("an empty issuer"));
        }
        if self.audiences.iter().any(String::is_empty) {
            return Err(config("an empty audience"));
        }
        self.requirements.validate()?;
        Ok(IssuerRules {
            issuer: self.issuer,
            jwks_uri: self.jwks_uri,
            audience: AudienceRule::Oidc {
                audiences: self.audiences,
            },
            requirements: self.requirements,
        })
    }
}

impl fmt::Debug for OidcIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcIssuer")
            .field("issuer", &self.issuer)
            .field("jwks_uri", &self.jwks_uri)
            .field("audiences", &self.audiences)
            .field("requirements", &self.requirements)
            .finish()
    }
}

fn config(detail: impl Into<String>) -> JwtError {
    JwtError::new(JwtErrorKind::InvalidConfig, detail)
}

/// The region of a user pool id `<region>_<id>`, where the region is like `eu-west-1` or
/// `us-gov-west-1` and the id is ASCII letters and digits.
fn user_pool_region(user_pool_id: &str) -> Result<&str, JwtError> {
    let invalid = || config(format!("invalid user pool id {}", quoted(user_pool_id)));
    let (region, id) = user_pool_id.split_once('_').ok_or_else(invalid)?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid());
    }
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts.len() <= 4
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
        && (parts.len() == 3 || parts[1] == "gov");
    if well_formed {
        Ok(region)
    } else {
        Err(invalid())
    }
}

/// Group and scope requirements and the custom check, shared by both kinds of issuer.
#[derive(Clone, Default)]
pub(crate) struct Requirements {
    groups: Vec<Vec<String>>,
    scopes: Vec<Vec<String>>,
    check: Option<ClaimsCheck>,
}

impl Requirements {
    fn validate(&self) -> Result<(), JwtError> {
        if self.groups.iter().any(Vec::is_empty) {
            return Err(config("an empty list of groups can never be satisfied"));
        }
        if self.scopes.iter().any(Vec::is_empty) {
            return Err(config("an empty list of scopes can never be satisfied"));
        }
        Ok(())
    }
}

impl fmt::Debug for Requirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requirements")
            .field("groups", &self.groups)
            .field("scopes", &self.scopes)
            .field("check", &self.check.as_ref().map(|_| "Fn(&Claims)"))
            .finish()
    }
}

#[derive(Debug, Clone)]
enum AudienceRule {
    Cognito {
        token_use: TokenUse,
        client_ids: Vec<String>,
    },
    Oidc {
        audiences: Vec<String>,
    },
}

/// One trusted issuer, ready to check claims.
#[derive(Debug, Clone)]
pub(crate) struct IssuerRules {
    pub(crate) issuer: String,
    pub(crate) jwks_uri: String,
    audience: AudienceRule,
    requirements: Requirements,
}

fn invalid_claim(detail: impl Into<String>) -> JwtError {
    JwtError::new(JwtErrorKind::InvalidClaim, detail)
}

/// `aud` as a list, or an error when it is neither a string nor an array of strings.
fn audiences(claims: &Map<String, Value>) -> Result<Vec<&str>, JwtError> {
    match claims.get("aud") {
        None => Ok(Vec::new()),
        Some(Value::String(one)) => Ok(vec![one]),
        Some(Value::Array(many)) => many
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| invalid_claim("aud is not a string or an array of strings"))
            })
            .collect(),
        Some(_) => Err(invalid_claim("aud is not a string or an array of strings")),
    }
}

fn string_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid_claim(format!("{name} is not a string"))),
    }
}

impl IssuerRules {
    /// Checks the audience, Cognito's `token_use` and client id, groups and scopes: every
    /// claim rule but the times, which the verifier checks first.
    pub(crate) fn check_claims(&self, claims: &Map<String, Value>) -> Result<(), JwtError> {
        match &self.audience {
            AudienceRule::Oidc {
                audiences: accepted,
            } => {
                let aud = audiences(claims)?;
                if !aud.iter().any(|a| accepted.iter().any(|x| x == a)) {
                    return Err(JwtError::new(
                        JwtErrorKind::InvalidAudience,
                        if aud.is_empty() {
                            "no aud".to_owned()
                        } else {
                            "aud holds no accepted audience".to_owned()
                        },
                    ));
                }
            }
            AudienceRule::Cognito {
                token_use,
                client_ids,
            } => {
                let used = string_claim(claims, "token_use")?;
                if used != Some(token_use.as_str()) {
                    return Err(JwtError::new(
                        JwtErrorKind::InvalidTokenUse,
                        match used {
                            Some(used) => format!(
                                "token_use is {}, {} tokens are expected",
                                quoted(used),
                                token_use
                            ),
                            None => format!("no token_use, {token_use} tokens are expected"),
                        },
                    ));
                }
                let client_id = match token_use {
                    TokenUse::Access => string_claim(claims, "client_id")?.into_iter().collect(),
                    TokenUse::Id => audiences(claims)?,
                };
                if !client_id.iter().any(|c| client_ids.iter().any(|x| x == c)) {
                    return Err(JwtError::new(
                        JwtErrorKind::InvalidClientId,
                        match token_use {
                            TokenUse::Access => "client_id is not an accepted app client",
                            TokenUse::Id => "aud is not an accepted app client",
                        },
                    ));
                }
            }
        }

        if !self.requirements.groups.is_empty() {
            let groups: Vec<&str> = match claims.get("cognito:groups") {
                None => Vec::new(),
                Some(Value::Array(groups)) => groups
                    .iter()
                    .map(|g| {
                        g.as_str().ok_or_else(|| {
                            invalid_claim("cognito:groups is not an array of strings")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(invalid_claim("cognito:groups is not an array of strings")),
            };
            for any_of in &self.requirements.groups {
                if !any_of.iter().any(|g| groups.contains(&g.as_str())) {
                    return Err(JwtError::new(
                        JwtErrorKind::MissingGroup,
                        format!("in none of the groups {any_of:?}"),
                    ));
                }
            }
        }

        if !self.requirements.scopes.is_empty() {
            let scope = string_claim(claims, "scope")?.unwrap_or_default();
            for any_of in &self.requirements.scopes {
                if !any_of
                    .iter()
                    .any(|s| scope.split(' ').any(|have| have == s))
                {
                    return Err(JwtError::new(
                        JwtErrorKind::MissingScope,
                        format!("none of the scopes {any_of:?}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Runs the custom check, if any.
    pub(crate) fn custom_check(&self, claims: &Claims) -> Result<(), crate::Error> {
        match &self.requirements.check {
            Some(check) => check(claims),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_pool_ids() {
        for (id, region) in [
            ("eu-west-1_AbCdEf123", "eu-west-1"),
            ("us-gov-west-1_abc", "us-gov-west-1"),
            ("ap-southeast-5_X", "ap-southeast-5"),
            ("il-central-1_9", "il-central-1"),
        ] {
            assert_eq!(user_pool_region(id).ok(), Some(region), "{id}");
        }
        for id in [
            "",
            "eu-west-1",
            "eu-west-1_",
            "eu-west_abc",
            "EU-west-1_abc",
            "eu-west-1_ab-c",
            "eu-west-1_ab/../c",
            "eu-west-x_abc",
            "e-west-1_abc",
            "eu-foo-west-1_abc",
        ] {
            assert!(user_pool_region(id).is_err(), "{id}");
        }
    }

    #[test]
    fn cognito_issuer_and_jwks_uri() {
        let rules = CognitoUserPool::access_tokens("eu-west-1_AbC", "client")
            .into_rules()
            .expect("valid");
        assert_eq!(
            rules.issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
        );
        assert_eq!(
            rules.jwks_uri,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/.well-known/jwks.json"
        );
    }

    #[test]
    fn unsatisfiable_configurations_fail() {
        let kind = |r: Result<IssuerRules, JwtError>| r.err().map(|e| e.kind());
        assert_eq!(
            kind(
                CognitoUserPool::id_tokens("eu-west-1_a", "c")
                    .require_any_scope(["s"])
                    .into_rules()
            ),
            Some(JwtErrorKind::InvalidConfig)
        );
        assert_eq!(
            kind(
                CognitoUserPool::access_tokens("eu-west-1_a", "c")
                    .require_any_group(Vec::<String>::new())
                    .into_rules()
            ),
            Some(JwtErrorKind::InvalidConfig)
        );
        assert_eq!(
            kind(CognitoUserPool::access_tokens("eu-west-1_a", "").into_rules()),
            Some(JwtErrorKind::InvalidConfig)
        );
        assert_eq!(
            kind(OidcIssuer::new("https://i", "https://i/jwks", "").into_rules()),
            Some(JwtErrorKind::InvalidConfig)
        );
    }

    fn check(rules: &IssuerRules, claims: serde_json::Value) -> Result<(), JwtErrorKind> {
        let Value::Object(map) = claims else {
            panic!("an object")
        };
        rules.check_claims(&map).map_err(|e| e.kind())
    }

    #[test]
    fn groups_and_scopes_are_and_of_or() {
        let rules = CognitoUserPool::access_tokens("eu-west-1_a", "c")
            .require_any_group(["admins", "staff"])
            .require_any_group(["eu"])
            .require_any_scope(["read", "admin"])
            .into_rules()
            .expect("valid");
        let base = |groups: serde_json::Value, scope: &str| serde_json::json!({"token_use":"access","client_id":"c","cognito:groups":groups,"scope":scope});
        assert_eq!(
            check(&rules, base(serde_json::json!(["staff", "eu"]), "x read")),
            Ok(())
        );
        assert_eq!(
            check(&rules, base(serde_json::json!(["staff"]), "read")),
            Err(JwtErrorKind::MissingGroup)
        );
        assert_eq!(
            check(&rules, base(serde_json::json!(["admins", "eu"]), "reader")),
            Err(JwtErrorKind::MissingScope)
        );
        assert_eq!(
            check(&rules, base(serde_json::json!("admins eu"), "read")),
            Err(JwtErrorKind::InvalidClaim)
        );
        assert_eq!(
            check(
                &rules,
                serde_json::json!({"token_use":"access","client_id":"c","scope":"read"})
            ),
            Err(JwtErrorKind::MissingGroup)
        );
    }

    #[test]
    fn cognito_client_ids() {
        let access = CognitoUserPool::access_tokens("eu-west-1_a", "c1")
            .client_id("c2")
            .into_rules()
            .expect("valid");
        assert_eq!(
            check(
                &access,
                serde_json::json!({"token_use":"access","client_id":"c2"})
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &access,
                serde_json::json!({"token_use":"access","client_id":"c3"})
            ),
            Err(JwtErrorKind::InvalidClientId)
        );
        // An access token's aud is not its client id.
        assert_eq!(
            check(
                &access,
                serde_json::json!({"token_use":"access","aud":"c1"})
            ),
            Err(JwtErrorKind::InvalidClientId)
        );
        assert_eq!(
            check(&access, serde_json::json!({"token_use":"id","aud":"c1"})),
            Err(JwtErrorKind::InvalidTokenUse)
        );
        let id = CognitoUserPool::id_tokens("eu-west-1_a", "c1")
            .into_rules()
            .expect("valid");
        assert_eq!(
            check(&id, serde_json::json!({"token_use":"id","aud":"c1"})),
            Ok(())
        );
        assert_eq!(
            check(&id, serde_json::json!({"token_use":"id","client_id":"c1"})),
            Err(JwtErrorKind::InvalidClientId)
        );
        assert_eq!(
            check(&id, serde_json::json!({"aud":"c1"})),
            Err(JwtErrorKind::InvalidTokenUse)
        );
    }

    #[test]
    fn oidc_audiences() {
        let rules = OidcIssuer::new("https://i", "https://i/jwks", "a1")
            .audience("a2")
            .into_rules()
            .expect("valid");
        assert_eq!(check(&rules, serde_json::json!({"aud":"a2"})), Ok(()));
        assert_eq!(check(&rules, serde_json::json!({"aud":["x","a1"]})), Ok(()));
        assert_eq!(
            check(&rules, serde_json::json!({"aud":["x"]})),
            Err(JwtErrorKind::InvalidAudience)
        );
        assert_eq!(
            check(&rules, serde_json::json!({})),
            Err(JwtErrorKind::InvalidAudience)
        );
        assert_eq!(
            check(&rules, serde_json::json!({"aud":["a1", 1]})),
            Err(JwtErrorKind::InvalidClaim)
        );
        assert_eq!(
            check(&rules, serde_json::json!({"aud":1})),
            Err(JwtErrorKind::InvalidClaim)
        );
    }
}
