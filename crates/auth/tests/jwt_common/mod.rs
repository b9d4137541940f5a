//! What the `jwt_*` tests share: keys generated in the test, tokens signed with them, and a
//! real JWKS endpoint on `127.0.0.1`.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use lambdakit_auth::Error;
use lambdakit_auth::jwt::{
    CognitoUserPool, JwtErrorKind, JwtVerifier, JwtVerifierBuilder, OidcIssuer,
};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

pub const REGION: &str = "eu-west-1";
pub const POOL: &str = "eu-west-1_TestPool1";
pub const CLIENT: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
pub const OIDC_ISSUER: &str = "https://idp.example.com";
pub const AUDIENCE: &str = "api://orders";

pub fn pool_issuer(pool: &str) -> String {
    format!("https://cognito-idp.{REGION}.amazonaws.com/{pool}")
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

enum Signer {
    Rsa(&'static RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private key with its `kid`, its JOSE `alg`, and its public JWK.
pub struct TestKey {
    pub kid: String,
    pub alg: &'static str,
    signer: Arc<Signer>,
    jwk: Value,
}

impl Clone for TestKey {
    fn clone(&self) -> Self {
        Self {
            kid: self.kid.clone(),
            alg: self.alg,
            signer: Arc::clone(&self.signer),
            jwk: self.jwk.clone(),
        }
    }
}

fn rsa_pair(size: aws_lc_rs::rsa::KeySize) -> &'static RsaKeyPair {
    static K2048: OnceLock<RsaKeyPair> = OnceLock::new();
    static K3072: OnceLock<RsaKeyPair> = OnceLock::new();
    let cell = match size {
        aws_lc_rs::rsa::KeySize::Rsa3072 => &K3072,
        _ => &K2048,
    };
    cell.get_or_init(|| RsaKeyPair::generate(size).expect("rsa key generation"))
}

impl TestKey {
    /// An RSA key (2048 bits; 3072 for RS512, to exercise another size) for `alg`, shared
    /// within the test binary: RSA key generation is slow in debug builds.
    pub fn rsa(kid: &str, alg: &'static str) -> Self {
        let (size, encoding): (_, &'static dyn signature::RsaEncoding) = match alg {
            "RS256" => (
                aws_lc_rs::rsa::KeySize::Rsa2048,
                &signature::RSA_PKCS1_SHA256,
            ),
            "RS384" => (
                aws_lc_rs::rsa::KeySize::Rsa2048,
                &signature::RSA_PKCS1_SHA384,
            ),
            "RS512" => (
                aws_lc_rs::rsa::KeySize::Rsa3072,
                &signature::RSA_PKCS1_SHA512,
            ),
            other => panic!("not an RSA alg: {other}"),
        };
        let pair = rsa_pair(size);
        let public = pair.public_key();
        let jwk = json!({
            "kty": "RSA", "kid": kid, "alg": alg, "use": "sig",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        });
        Self {
            kid: kid.into(),
            alg,
            signer: Arc::new(Signer::Rsa(pair, encoding)),
            jwk,
        }
    }

    /// A fresh EC key for `ES256` (P-256) or `ES384` (P-384).
    pub fn ec(kid: &str, alg: &'static str) -> Self {
        let (signing, crv, size) = match alg {
            "ES256" => (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32),
            "ES384" => (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48),
            other => panic!("not an EC alg: {other}"),
        };
        let pair = EcdsaKeyPair::generate(signing).expect("ec key generation");
        let point = pair.public_key().as_ref().to_vec();
        assert_eq!(point.len(), 1 + 2 * size);
        let jwk = json!({
            "kty": "EC", "kid": kid, "alg": alg, "use": "sig", "crv": crv,
            "x": b64(&point[1..=size]), "y": b64(&point[1 + size..]),
        });
        Self {
            kid: kid.into(),
            alg,
            signer: Arc::new(Signer::Ec(pair)),
            jwk,
        }
    }

    /// A fresh Ed25519 key (`EdDSA`).
    pub fn ed25519(kid: &str) -> Self {
        let pair = Ed25519KeyPair::generate().expect("ed25519 key generation");
        let jwk = json!({
            "kty": "OKP", "kid": kid, "alg": "EdDSA", "use": "sig", "crv": "Ed25519",
            "x": b64(pair.public_key().as_ref()),
        });
        Self {
            kid: kid.into(),
            alg: "EdDSA",
            signer: Arc::new(Signer::Ed(pair)),
            jwk,
        }
    }

    /// The public JWK.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The public JWK with `edit` applied (to remove or change members).
    pub fn jwk_with(&self, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
        let mut jwk = self.jwk.clone();
        if let Value::Object(map) = &mut jwk {
            edit(map);
        }
        jwk
    }

    /// The signature of `input` with this key.
    pub fn signature(&self, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &*self.signer {
            Signer::Rsa(pair, encoding) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(*encoding, &rng, input, &mut sig)
                    .expect("rsa sign");
                sig
            }
            Signer::Ec(pair) => pair.sign(&rng, input).expect("ec sign").as_ref().to_vec(),
            Signer::Ed(pair) => pair.sign(input).as_ref().to_vec(),
        }
    }

    /// A token with `header` and `claims`, signed with this key (whatever `header` says).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self.signature(input.as_bytes());
        format!("{input}.{}", b64(&sig))
    }

    /// The usual header: this key's `alg` and `kid`, `typ` JWT.
    pub fn header(&self) -> Value {
        json!({"alg": self.alg, "kid": self.kid, "typ": "JWT"})
    }

    /// A token with the usual header and `claims`.
    pub fn token(&self, claims: &Value) -> String {
        self.sign(&self.header(), claims)
    }
}

/// A JWKS document holding `keys`.
pub fn jwks(keys: &[Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

/// Claims of a Cognito access token of [`POOL`] for [`CLIENT`], valid for an hour.
pub fn access_claims() -> Value {
    let now = now();
    json!({
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:groups": ["staff"],
        "iss": pool_issuer(POOL),
        "version": 2,
        "client_id": CLIENT,
        "origin_jti": "11111111-2222-3333-4444-555555555555",
        "token_use": "access",
        "scope": "orders/read openid",
        "auth_time": now,
        "exp": now + 3600,
        "iat": now,
        "jti": "66666666-7777-8888-9999-000000000000",
        "username": "jane",
    })
}

/// Claims of a Cognito id token of [`POOL`] for [`CLIENT`], valid for an hour.
pub fn id_claims() -> Value {
    let now = now();
    json!({
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:groups": ["staff"],
        "email_verified": true,
        "iss": pool_issuer(POOL),
        "cognito:username": "jane",
        "origin_jti": "11111111-2222-3333-4444-555555555555",
        "aud": CLIENT,
        "event_id": "99999999-8888-7777-6666-555555555555",
        "token_use": "id",
        "auth_time": now,
        "exp": now + 3600,
        "iat": now,
        "jti": "66666666-7777-8888-9999-000000000000",
        "email": "jane@example.com",
    })
}

/// Claims of an OIDC token of [`OIDC_ISSUER`] for [`AUDIENCE`], valid for an hour.
pub fn oidc_claims() -> Value {
    let now = now();
    json!({
        "iss": OIDC_ISSUER, "sub": "user-1", "aud": AUDIENCE,
        "iat": now, "exp": now + 3600, "scope": "orders.read",
    })
}

/// Claims with members set (added or replaced).
pub fn with(mut claims: Value, edits: &[(&str, Value)]) -> Value {
    if let Value::Object(map) = &mut claims {
        for (name, value) in edits {
            map.insert((*name).to_owned(), value.clone());
        }
    }
    claims
}

/// Removes members from claims.
pub fn without(mut claims: Value, names: &[&str]) -> Value {
    if let Value::Object(map) = &mut claims {
        for name in names {
            map.remove(*name);
        }
    }
    claims
}

/// The kind of a refusal, or a panic naming the unexpected outcome.
pub fn kind<T: std::fmt::Debug>(result: Result<T, Error>) -> JwtErrorKind {
    match result {
        Err(Error::Jwt(e)) => e.kind(),
        other => panic!("expected a jwt refusal, got {other:?}"),
    }
}

/// A verifier for access tokens of [`POOL`] whose JWKS is at `server`, with options.
pub fn cognito_verifier(
    server: &JwksServer,
    pool: impl FnOnce(CognitoUserPool) -> CognitoUserPool,
) -> JwtVerifier {
    builder()
        .cognito(pool(
            CognitoUserPool::access_tokens(POOL, CLIENT).jwks_uri(server.url()),
        ))
        .build()
        .expect("verifier")
}

/// A verifier for [`OIDC_ISSUER`] tokens whose JWKS is at `server`.
pub fn oidc_verifier(server: &JwksServer) -> JwtVerifier {
    builder()
        .oidc(OidcIssuer::new(OIDC_ISSUER, server.url(), AUDIENCE))
        .build()
        .expect("verifier")
}

/// A builder that may fetch from the local server.
pub fn builder() -> JwtVerifierBuilder {
    JwtVerifier::builder().allow_http_to_loopback()
}

#[derive(Default)]
struct ServerState {
    body: Mutex<Vec<u8>>,
    status: AtomicU16,
    hang: AtomicBool,
    delay: Mutex<Duration>,
    hits: AtomicUsize,
}

/// A JWKS endpoint on `127.0.0.1` (HTTP/1.1, hyper) that counts requests and can answer with
/// another status, slowly, or never.
pub struct JwksServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    accept: JoinHandle<()>,
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn answer(
    state: Arc<ServerState>,
    _request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    state.hits.fetch_add(1, SeqCst);
    let delay = *state.delay.lock().unwrap_or_else(PoisonError::into_inner);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if state.hang.load(SeqCst) {
        std::future::pending::<()>().await;
    }
    let body = state
        .body
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(state.status.load(SeqCst)).unwrap_or(hyper::StatusCode::OK);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

impl JwksServer {
    /// Serves `jwks` with status 200.
    pub async fn start(jwks: Vec<u8>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(ServerState {
            body: Mutex::new(jwks),
            status: AtomicU16::new(200),
            ..ServerState::default()
        });
        let for_accept = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&for_accept);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(Arc::clone(&state), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            state,
            accept,
        }
    }

    /// The JWKS URL, `http://127.0.0.1:<port>/.well-known/jwks.json`.
    pub fn url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    /// How many requests arrived.
    pub fn hits(&self) -> usize {
        self.state.hits.load(SeqCst)
    }

    /// Serves `jwks` from now on.
    pub fn set_jwks(&self, jwks: Vec<u8>) {
        *self
            .state
            .body
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = jwks;
    }

    /// Answers with `status` from now on.
    pub fn set_status(&self, status: u16) {
        self.state.status.store(status, SeqCst);
    }

    /// Never answers (while on).
    pub fn set_hang(&self, hang: bool) {
        self.state.hang.store(hang, SeqCst);
    }

    /// Waits this long before answering.
    pub fn set_delay(&self, delay: Duration) {
        *self
            .state
            .delay
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = delay;
    }
}
