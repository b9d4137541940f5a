//! The authorizers on one machine: the sample events and configuration from `events/`, and a
//! stand-in for a Cognito user pool, [`CognitoStandIn`]: an RSA key signing RS256 access
//! tokens shaped like Cognito's, and its JWKS served over HTTP on `127.0.0.1`.
//!
//! For the demo and the tests; compiled only with the feature `local`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambdakit_auth::cache_key::CacheSettings;
use lambdakit_auth::jwt::{CognitoUserPool, JwtVerifier};
use serde_json::{Value, json};

use crate::authorizer::{ApiKeyAuthorizer, JwtAuthorizer};
use crate::config;
use crate::rules::{ApiKeys, RouteRules};

/// A boxed error for the stand-ins.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The sample authorizer event: `GET /reports` with the reporting dashboard's key.
pub const AUTHORIZER_EVENT: &str = include_str!("../events/authorizer-request.json");
/// The sample authorizer event of the JWT variant: `DELETE /reports/{id}` with an (expired)
/// Cognito access token.
pub const AUTHORIZER_JWT_EVENT: &str = include_str!("../events/authorizer-request-jwt.json");
/// The sample backend event, as API Gateway sends it after the authorizer allowed it.
pub const BACKEND_EVENT: &str = include_str!("../events/backend-request.json");
/// The sample `API_KEYS`: the hashes of [`REPORTING_KEY`] and [`OPS_KEY`].
pub const API_KEYS: &str = include_str!("../events/api-keys.json");
/// The sample `ROUTE_RULES`: readers and admins read, admins delete.
pub const ROUTE_RULES: &str = include_str!("../events/route-rules.json");

/// The sample key of the `reporting-dashboard` client (`GET /reports`, `GET /reports/{id}`).
/// Published here: never deploy with it.
pub const REPORTING_KEY: &str = "lk_7f615733b45ec8b5c29fbf995a86b1a91dad6664f5edc2bd";
/// The sample key of the `ops-cli` client (every route). Published here: never deploy with it.
pub const OPS_KEY: &str = "lk_0164647f6f7eae9c828d9d15126009755a37c95b1f16e3cc";

/// The stand-in user pool's id.
pub const USER_POOL_ID: &str = "us-east-1_Ab12Cd34E";
/// The stand-in user pool's app client id.
pub const CLIENT_ID: &str = "5b3v7ljrbd9kfq2h1t3e6g8n4c";

/// The cache settings of the template: `Authorization` and the route, five minutes.
pub fn template_cache() -> CacheSettings {
    match config::cache_settings(Some(config::DEFAULT_IDENTITY_SOURCES), Some("300")) {
        Ok(cache) => cache,
        // The defaults are valid; a failure here is a bug in them.
        Err(e) => panic!("the template's cache settings: {e}"),
    }
}

/// The API-key authorizer with the sample configuration and the template's cache settings.
pub fn api_key_authorizer() -> Result<ApiKeyAuthorizer, BoxError> {
    Ok(ApiKeyAuthorizer::new(
        ApiKeys::from_json(API_KEYS)?,
        template_cache(),
    ))
}

/// An authorizer event for `route_key` (`GET /reports/{id}`) with this `Authorization`
/// header (none when `None`), from the sample: the route in `routeKey`,
/// `requestContext.routeKey`, `routeArn` and the identity sources, the path with `{id}` as
/// `42`.
pub fn authorizer_event(route_key: &str, authorization: Option<&str>) -> Result<Value, BoxError> {
    let mut event: Value = serde_json::from_str(AUTHORIZER_EVENT)?;
    let (method, template) = route_key.split_once(' ').unwrap_or(("GET", "/"));
    let path = template.replace("{id}", "42");
    event["routeKey"] = json!(route_key);
    event["requestContext"]["routeKey"] = json!(route_key);
    event["routeArn"] = json!(format!(
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/{method}{path}"
    ));
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    let headers = event["headers"]
        .as_object_mut()
        .ok_or("the sample has no headers")?;
    match authorization {
        Some(value) => {
            headers.insert("authorization".into(), json!(value));
            event["identitySource"] = json!([value, route_key]);
        }
        None => {
            headers.remove("authorization");
            event["identitySource"] = json!([route_key]);
        }
    }
    Ok(event)
}

/// The sample backend event for `route_key` (its path with `{id}` as `42`) with the
/// authorizer's `context` (none when `Value::Null`).
pub fn backend_request(route_key: &str, context: &Value) -> Result<lambda_http::Request, BoxError> {
    let mut event: Value = serde_json::from_str(BACKEND_EVENT)?;
    let (method, template) = route_key.split_once(' ').unwrap_or(("GET", "/"));
    let path = template.replace("{id}", "42");
    event["routeKey"] = json!(route_key);
    event["rawPath"] = json!(path);
    event["requestContext"]["routeKey"] = json!(route_key);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    match context {
        Value::Null => {
            event["requestContext"]
                .as_object_mut()
                .ok_or("no requestContext")?
                .remove("authorizer");
        }
        context => event["requestContext"]["authorizer"]["lambda"] = context.clone(),
    }
    Ok(lambda_http::request::from_str(&event.to_string())?)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A Cognito user pool on one machine: an RSA key (kid `local-1`) that signs RS256 tokens
/// carrying the pool's issuer, and an HTTP server on `127.0.0.1` serving its JWKS at the
/// path Cognito uses, `/<pool id>/.well-known/jwks.json`.
#[derive(Debug)]
pub struct CognitoStandIn {
    key: Arc<RsaKeyPair>,
    kid: String,
    addr: SocketAddr,
    status: Arc<AtomicU16>,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CognitoStandIn {
    /// Generates the key and starts serving its JWKS.
    pub async fn start() -> Result<Self, BoxError> {
        let key = Arc::new(
            RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?,
        );
        let kid = "local-1".to_owned();
        let public = key.public_key();
        let jwks = json!({ "keys": [{
            "alg": "RS256", "e": b64(public.exponent().big_endian_without_leading_zero()),
            "kid": kid, "kty": "RSA",
            "n": b64(public.modulus().big_endian_without_leading_zero()), "use": "sig",
        }]})
        .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let status = Arc::new(AtomicU16::new(200));
        let hits = Arc::new(AtomicUsize::new(0));
        let (shared_status, shared_hits) = (Arc::clone(&status), Arc::clone(&hits));
        let path = format!("/{USER_POOL_ID}/.well-known/jwks.json");
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (jwks, path, status, hits) = (
                    jwks.clone(),
                    path.clone(),
                    Arc::clone(&shared_status),
                    Arc::clone(&shared_hits),
                );
                tokio::spawn(async move {
                    let service = service_fn(move |request: hyper::Request<_>| {
                        hits.fetch_add(1, Ordering::SeqCst);
                        let status = match status.load(Ordering::SeqCst) {
                            200 if request.uri().path() != path => 404,
                            other => other,
                        };
                        let body = if status == 200 {
                            jwks.clone()
                        } else {
                            String::new()
                        };
                        async move {
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(body)))
                                    .unwrap_or_default(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            key,
            kid,
            addr,
            status,
            hits,
            task,
        })
    }

    /// The JWKS URL, `http://127.0.0.1:<port>/<pool id>/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("http://{}/{USER_POOL_ID}/.well-known/jwks.json", self.addr)
    }

    /// The issuer Cognito puts in `iss`, `https://cognito-idp.us-east-1.amazonaws.com/<pool id>`.
    pub fn issuer(&self) -> String {
        format!("https://cognito-idp.us-east-1.amazonaws.com/{USER_POOL_ID}")
    }

    /// Answers the JWKS requests with `status` from now on (503: the pool's endpoint is down).
    pub fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// How many JWKS requests were made.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// A verifier of this pool's access tokens for [`CLIENT_ID`], fetching from the local
    /// JWKS.
    pub fn verifier(&self) -> Result<JwtVerifier, BoxError> {
        Ok(JwtVerifier::builder()
            .cognito(
                CognitoUserPool::access_tokens(USER_POOL_ID, CLIENT_ID).jwks_uri(self.jwks_url()),
            )
            .allow_http_to_loopback()
            .jwks_timeout(Duration::from_millis(500))
            .build()?)
    }

    /// The JWT authorizer with the sample `ROUTE_RULES`, this pool and the template's cache
    /// settings.
    pub fn authorizer(&self) -> Result<JwtAuthorizer, BoxError> {
        Ok(JwtAuthorizer::new(
            self.verifier()?,
            RouteRules::from_json(ROUTE_RULES)?,
            template_cache(),
        ))
    }

    /// The claims of an access token this pool would issue to `username` in `groups`, valid
    /// for an hour, shaped as Cognito's.
    pub fn access_claims(&self, username: &str, groups: &[&str]) -> Value {
        let now = now();
        json!({
            "sub": format!("5f1c2a3b-{:0>4}-4c5d-8e9f-0a1b2c3d4e5f", username.len()),
            "cognito:groups": groups,
            "iss": self.issuer(),
            "version": 2,
            "client_id": CLIENT_ID,
            "origin_jti": "8b7e6d5c-4b3a-4291-8f7e-6d5c4b3a2918",
            "event_id": "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": now,
            "exp": now + 3600,
            "iat": now,
            "jti": "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5",
            "username": username,
        })
    }

    /// `claims` signed RS256 with this pool's key.
    pub fn sign(&self, claims: &Value) -> Result<String, BoxError> {
        let header = json!({ "kid": self.kid, "alg": "RS256" });
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "RSA signing failed")?;
        Ok(format!("{input}.{}", b64(&signature)))
    }

    /// `Bearer <access token>` for `username` in `groups`.
    pub fn bearer(&self, username: &str, groups: &[&str]) -> Result<String, BoxError> {
        Ok(format!(
            "Bearer {}",
            self.sign(&self.access_claims(username, groups))?
        ))
    }
}

impl Drop for CognitoStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}
