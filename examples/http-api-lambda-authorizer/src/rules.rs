//! Who may call which route, from configuration, without I/O.
//!
//! Routes are HTTP API route keys exactly as the API defines them and as API Gateway puts them
//! in the authorizer event's `routeKey`: `GET /reports`, `DELETE /reports/{id}`, `$default`.
//! A route that no rule names is denied.
//!
//! - [`ApiKeys`] (the `http-authorizer` function): clients, each with the SHA-256 of its API
//!   key and the routes it may call. Keys are never stored, only their hashes, and compared in
//!   constant time.
//! - [`RouteRules`] (the `http-authorizer-jwt` function): for each route, the Cognito groups
//!   or OAuth scopes a token must carry.

use std::collections::{BTreeMap, BTreeSet};

use lambdakit_auth::jwt::Claims;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Error;

/// The methods a route key may start with.
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

/// Checks a route key: `$default`, or a method (or `ANY`), a space, and a path starting with
/// `/`.
pub fn check_route_key(route: &str) -> Result<(), Error> {
    if route == "$default" {
        return Ok(());
    }
    let valid = route.split_once(' ').is_some_and(|(method, path)| {
        METHODS.contains(&method) && path.starts_with('/') && !path.contains(char::is_whitespace)
    });
    if valid {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{route:?} is not a route key (\"GET /reports\", \"ANY /{{proxy+}}\", \"$default\")"
        )))
    }
}

/// The lowercase hex SHA-256 of an API key: what the configuration holds instead of the key.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The routes a caller may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routes {
    /// Every route (`["*"]` in the configuration).
    All,
    /// These route keys only.
    Only(BTreeSet<String>),
}

impl Routes {
    /// Whether `route_key` is one of them.
    pub fn contains(&self, route_key: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(routes) => routes.contains(route_key),
        }
    }

    fn parse(what: &str, routes: Vec<String>) -> Result<Self, Error> {
        if routes.is_empty() {
            return Err(Error::Config(format!(
                "{what}: no routes (use [\"*\"] for every route)"
            )));
        }
        if routes.iter().any(|r| r == "*") {
            return if routes.len() == 1 {
                Ok(Self::All)
            } else {
                Err(Error::Config(format!(
                    "{what}: \"*\" must be the only route"
                )))
            };
        }
        for route in &routes {
            check_route_key(route).map_err(|e| Error::Config(format!("{what}: {e}")))?;
        }
        Ok(Self::Only(routes.into_iter().collect()))
    }
}

/// One client of the API-key authorizer.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiClient {
    name: String,
    key_sha256: [u8; 32],
    routes: Routes,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash is not the key, but nothing about keys goes to logs.
        f.debug_struct("ApiClient")
            .field("name", &self.name)
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// Its name, which the authorizer passes to the backend.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The routes it may call.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientConfig {
    client: String,
    #[serde(rename = "keySha256")]
    key_sha256: String,
    routes: Vec<String>,
}

/// The clients of the API-key authorizer.
///
/// The configuration (`API_KEYS`) is a JSON list:
///
/// ```json
/// [
///   {"client": "reporting", "keySha256": "<hex sha-256 of the key>", "routes": ["GET /reports", "GET /reports/{id}"]},
///   {"client": "admin-cli", "keySha256": "<...>", "routes": ["*"]}
/// ]
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeys {
    clients: Vec<ApiClient>,
}

impl ApiKeys {
    /// Reads the configuration.
    ///
    /// Errors ([`Error::Config`]): not a JSON list of `{client, keySha256, routes}`; an empty
    /// or repeated client name; a hash that is not 64 hex digits, or the same hash twice; an
    /// empty route list, a malformed route key, `"*"` with other routes.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let configs: Vec<ClientConfig> =
            serde_json::from_str(text).map_err(|e| Error::Config(format!("API_KEYS: {e}")))?;
        let mut clients: Vec<ApiClient> = Vec::with_capacity(configs.len());
        for config in configs {
            let name = config.client.trim().to_owned();
            if name.is_empty() {
                return Err(Error::Config("API_KEYS: a client without a name".into()));
            }
            if clients.iter().any(|c| c.name == name) {
                return Err(Error::Config(format!("API_KEYS: client {name:?} twice")));
            }
            let key_sha256 = decode_hash(&config.key_sha256).ok_or_else(|| {
                Error::Config(format!(
                    "API_KEYS: {name}: keySha256 must be 64 hex digits (printf %s \"$KEY\" | sha256sum)"
                ))
            })?;
            if clients.iter().any(|c| c.key_sha256 == key_sha256) {
                return Err(Error::Config(format!(
                    "API_KEYS: {name}: the same key as another client"
                )));
            }
            let routes = Routes::parse(&format!("API_KEYS: {name}"), config.routes)?;
            clients.push(ApiClient {
                name,
                key_sha256,
                routes,
            });
        }
        Ok(Self { clients })
    }

    /// The client whose key is `key`, if any. Every client's hash is compared, in constant
    /// time, whether one matched already or not.
    pub fn client(&self, key: &str) -> Option<&ApiClient> {
        let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut found = None;
        for client in &self.clients {
            if bool::from(client.key_sha256.ct_eq(&presented)) {
                found = Some(client);
            }
        }
        found
    }

    /// The clients.
    pub fn clients(&self) -> &[ApiClient] {
        &self.clients
    }
}

fn decode_hash(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

/// What a token must carry to call one route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Requirement {
    /// At least one of these Cognito groups (`cognito:groups`), when not empty.
    #[serde(default)]
    pub any_group: Vec<String>,
    /// At least one of these OAuth scopes (`scope`), when not empty.
    #[serde(default)]
    pub any_scope: Vec<String>,
}

impl Requirement {
    /// Whether `claims` meet it: each non-empty list has a member in the token. An empty
    /// requirement (`{}`) is met by every valid token.
    pub fn is_met_by(&self, claims: &Claims) -> bool {
        (self.any_group.is_empty() || self.any_group.iter().any(|g| claims.in_group(g)))
            && (self.any_scope.is_empty() || self.any_scope.iter().any(|s| claims.has_scope(s)))
    }
}

/// The routes of the JWT authorizer and what each requires.
///
/// The configuration (`ROUTE_RULES`) is a JSON object from route key to [`Requirement`]:
///
/// ```json
/// {
///   "GET /reports": {"anyGroup": ["readers", "admins"]},
///   "GET /reports/{id}": {"anyGroup": ["readers", "admins"]},
///   "DELETE /reports/{id}": {"anyGroup": ["admins"]},
///   "GET /me": {}
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRules {
    routes: BTreeMap<String, Requirement>,
}

impl RouteRules {
    /// Reads the configuration.
    ///
    /// Errors ([`Error::Config`]): not a JSON object of route key to `{anyGroup, anyScope}`;
    /// a malformed route key; an empty object (no route could ever be called).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let routes: BTreeMap<String, Requirement> =
            serde_json::from_str(text).map_err(|e| Error::Config(format!("ROUTE_RULES: {e}")))?;
        if routes.is_empty() {
            return Err(Error::Config("ROUTE_RULES: no routes".into()));
        }
        for route in routes.keys() {
            check_route_key(route).map_err(|e| Error::Config(format!("ROUTE_RULES: {e}")))?;
        }
        Ok(Self { routes })
    }

    /// What `route_key` requires; `None` for a route no rule names (deny).
    pub fn requirement(&self, route_key: &str) -> Option<&Requirement> {
        self.routes.get(route_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "k3y-for-tests-only";

    fn keys() -> ApiKeys {
        ApiKeys::from_json(&format!(
            r#"[{{"client": "reporting", "keySha256": "{}", "routes": ["GET /reports"]}},
                {{"client": "admin", "keySha256": "{}", "routes": ["*"]}}]"#,
            key_hash(KEY),
            key_hash("admin-key")
        ))
        .expect("keys")
    }

    #[test]
    fn a_key_finds_its_client_and_only_its_routes() {
        let keys = keys();
        let client = keys.client(KEY).expect("client");
        assert_eq!(client.name(), "reporting");
        assert!(client.routes().contains("GET /reports"));
        assert!(!client.routes().contains("GET /reports/{id}"));
        assert!(!client.routes().contains("get /reports"));
        assert!(
            keys.client("admin-key")
                .expect("admin")
                .routes()
                .contains("DELETE /x")
        );
        assert!(keys.client("k3y-for-tests-onl").is_none());
        assert!(keys.client("").is_none());
    }

    #[test]
    fn debug_output_has_no_key_material() {
        let text = format!("{:?}", keys());
        assert!(!text.contains(&key_hash(KEY)), "{text}");
        assert!(!text.contains(&key_hash(KEY)[..16]), "{text}");
    }

    #[test]
    fn configuration_mistakes_are_named() {
        let hash = key_hash(KEY);
        let cases = [
            ("{}".to_owned(), "API_KEYS"),
            (
                format!(r#"[{{"client": "", "keySha256": "{hash}", "routes": ["*"]}}]"#),
                "without a name",
            ),
            (
                r#"[{"client": "a", "keySha256": "abc", "routes": ["*"]}]"#.to_owned(),
                "64 hex digits",
            ),
            (
                format!(r#"[{{"client": "a", "keySha256": "{hash}", "routes": []}}]"#),
                "no routes",
            ),
            (
                format!(r#"[{{"client": "a", "keySha256": "{hash}", "routes": ["/reports"]}}]"#),
                "not a route key",
            ),
            (
                format!(r#"[{{"client": "a", "keySha256": "{hash}", "routes": ["*", "GET /x"]}}]"#),
                "only route",
            ),
            (
                format!(
                    r#"[{{"client": "a", "keySha256": "{hash}", "routes": ["*"], "key": "x"}}]"#
                ),
                "unknown field",
            ),
            (
                format!(
                    r#"[{{"client": "a", "keySha256": "{hash}", "routes": ["*"]}}, {{"client": "b", "keySha256": "{hash}", "routes": ["*"]}}]"#
                ),
                "same key",
            ),
            (
                format!(
                    r#"[{{"client": "a", "keySha256": "{hash}", "routes": ["*"]}}, {{"client": "a", "keySha256": "{}", "routes": ["*"]}}]"#,
                    key_hash("x")
                ),
                "twice",
            ),
        ];
        for (text, expected) in cases {
            let error = ApiKeys::from_json(&text).expect_err(&text).to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn route_keys_are_checked() {
        for good in [
            "$default",
            "GET /reports",
            "ANY /{proxy+}",
            "DELETE /reports/{id}",
        ] {
            assert!(check_route_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "GET",
            "GET reports",
            "FETCH /x",
            "get /x",
            "GET /a b",
            "*",
        ] {
            assert!(check_route_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn route_rules_read_and_refuse() {
        let rules =
            RouteRules::from_json(r#"{"GET /reports": {"anyGroup": ["readers"]}, "GET /me": {}}"#)
                .expect("rules");
        assert_eq!(
            rules
                .requirement("GET /reports")
                .map(|r| r.any_group.clone()),
            Some(vec!["readers".to_owned()])
        );
        assert_eq!(rules.requirement("GET /me"), Some(&Requirement::default()));
        assert_eq!(rules.requirement("DELETE /reports/{id}"), None);
        assert!(RouteRules::from_json("{}").is_err());
        assert!(RouteRules::from_json(r#"{"GET /x": {"groups": ["a"]}}"#).is_err());
        assert!(RouteRules::from_json(r#"{"/x": {}}"#).is_err());
    }
}
