//! Malformed input is refused before any key is fetched: the identity source, the segment
//! count, base64url, JSON, the size limit, `crit`.

#![cfg(feature = "jwt")]

mod jwt_common;

use jwt_common::*;
use lambdakit_auth::jwt::{CognitoUserPool, JwtErrorKind};
use serde_json::json;

async fn setup() -> (TestKey, JwksServer, lambdakit_auth::jwt::JwtVerifier) {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = cognito_verifier(&server, |p| p);
    (key, server, verifier)
}

#[tokio::test]
async fn two_segments_are_refused() {
    let (key, server, verifier) = setup().await;
    let token = key.token(&access_claims());
    let (two, _) = token.rsplit_once('.').unwrap_or_default();
    assert_eq!(kind(verifier.verify(two).await), JwtErrorKind::Malformed);
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn four_segments_are_refused() {
    let (key, server, verifier) = setup().await;
    let token = key.token(&access_claims());
    // A valid token with a fourth segment, and a JWE-like five-segment token.
    for extra in [
        format!("{token}.e30"),
        format!("{token}."),
        format!("{token}.a.b"),
    ] {
        assert_eq!(kind(verifier.verify(&extra).await), JwtErrorKind::Malformed);
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn bad_base64url_is_refused() {
    let (key, server, verifier) = setup().await;
    let token = key.token(&access_claims());
    let parts: Vec<&str> = token.split('.').collect();
    for bad in [
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}*.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}+/", parts[0], parts[1], parts[2]),
        // Standard base64 instead of base64url.
        format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            parts[2].replace('-', "+").replace('_', "/")
        ),
    ] {
        if bad == token {
            continue;
        }
        assert_eq!(
            kind(verifier.verify(&bad).await),
            JwtErrorKind::Malformed,
            "{bad}"
        );
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn bad_json_is_refused() {
    let (key, server, verifier) = setup().await;
    let header = b64(key.header().to_string().as_bytes());
    let payload = b64(access_claims().to_string().as_bytes());
    for (h, p) in [
        (b64(b"{\"alg\":\"RS256\",\"kid\":\"k\""), payload.clone()),
        (header.clone(), b64(b"{\"exp\":1,}")),
        (header.clone(), b64(b"[1,2]")),
        (header.clone(), b64(b"null")),
        (header.clone(), b64(&[0xff, 0xfe, b'{', b'}'])),
        (b64(b"\"RS256\""), payload.clone()),
    ] {
        let input = format!("{h}.{p}");
        let token = format!("{input}.{}", b64(&key.signature(input.as_bytes())));
        assert_eq!(
            kind(verifier.verify(&token).await),
            JwtErrorKind::Malformed,
            "{input}"
        );
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn duplicated_claims_are_refused() {
    let (key, server, verifier) = setup().await;
    let claims = access_claims().to_string();
    let duplicated = format!("{},\"exp\":99999999999}}", claims.trim_end_matches('}'));
    let input = format!(
        "{}.{}",
        b64(key.header().to_string().as_bytes()),
        b64(duplicated.as_bytes())
    );
    let token = format!("{input}.{}", b64(&key.signature(input.as_bytes())));
    assert_eq!(kind(verifier.verify(&token).await), JwtErrorKind::Malformed);
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn an_oversized_token_is_refused() {
    let (key, server, verifier) = setup().await;
    let big = with(access_claims(), &[("padding", json!("x".repeat(8 * 1024)))]);
    assert_eq!(
        kind(verifier.verify(&key.token(&big)).await),
        JwtErrorKind::TooLarge
    );
    assert_eq!(server.hits(), 0);

    let roomy = builder()
        .max_token_bytes(16 * 1024)
        .cognito(CognitoUserPool::access_tokens(POOL, CLIENT).jwks_uri(server.url()))
        .build()
        .expect("verifier");
    assert!(roomy.verify(&key.token(&big)).await.is_ok());
}

#[tokio::test]
async fn a_crit_header_is_refused() {
    let (key, server, verifier) = setup().await;
    let header = json!({"alg": "RS256", "kid": "k", "crit": ["b64"], "b64": false});
    assert_eq!(
        kind(verifier.verify(&key.sign(&header, &access_claims())).await),
        JwtErrorKind::CriticalHeader
    );
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn an_empty_signature_is_refused() {
    let (key, server, verifier) = setup().await;
    let token = key.token(&access_claims());
    let (input, _) = token.rsplit_once('.').unwrap_or_default();
    assert_eq!(
        kind(verifier.verify(&format!("{input}.")).await),
        JwtErrorKind::InvalidSignature
    );
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn only_bearer_identity_sources_are_accepted() {
    let (key, _server, verifier) = setup().await;
    let token = key.token(&access_claims());
    for accepted in [
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("BEARER {token}"),
    ] {
        assert!(
            verifier.verify_bearer(&accepted).await.is_ok(),
            "{accepted}"
        );
    }
    for refused in [
        String::new(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        token.clone(),
        format!("Bearer  {token}"),
        format!(" Bearer {token}"),
        format!("Bearer {token} "),
        format!("Basic {token}"),
        format!("JWT {token}"),
        format!("Bearer {token}, Bearer {token}"),
    ] {
        assert_eq!(
            kind(verifier.verify_bearer(&refused).await),
            JwtErrorKind::NotBearer,
            "{refused:?}"
        );
    }
}
