//! Claims: `exp` required and checked at the clock-skew boundary, `nbf` and `iat`, claim
//! types, exact `iss` (picked before any fetch), `aud`, Cognito's `token_use`, client id,
//! groups and scopes, the custom check, and the typed accessors.

#![cfg(feature = "jwt")]

mod jwt_common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jwt_common::*;
use lambdakit_auth::Error;
use lambdakit_auth::jwt::{CognitoUserPool, JwtErrorKind, OidcIssuer, TokenUse};
use serde_json::json;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

async fn cognito() -> (TestKey, JwksServer) {
    let key = TestKey::rsa("cognito-1", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    (key, server)
}

#[tokio::test]
async fn a_cognito_access_token_verifies_with_typed_claims() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let claims = verifier
        .verify_bearer(&format!("Bearer {}", key.token(&access_claims())))
        .await
        .expect("valid");
    assert_eq!(claims.iss(), pool_issuer(POOL));
    assert_eq!(claims.sub(), Some("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"));
    assert_eq!(claims.username(), Some("jane"));
    assert_eq!(claims.token_use(), Some(TokenUse::Access));
    assert_eq!(claims.client_id(), Some(CLIENT));
    assert_eq!(claims.groups().collect::<Vec<_>>(), ["staff"]);
    assert_eq!(
        claims.scopes().collect::<Vec<_>>(),
        ["orders/read", "openid"]
    );
    assert_eq!(claims.get("version"), Some(&json!(2)));
    assert_eq!(
        claims.as_map().len(),
        access_claims().as_object().map_or(0, |m| m.len())
    );
}

#[tokio::test]
async fn exp_at_the_skew_boundary() {
    let (key, server) = cognito().await;
    let verifier = builder()
        .clock_skew(Duration::from_secs(10))
        .cognito(CognitoUserPool::access_tokens(POOL, CLIENT).jwks_uri(server.url()))
        .build()
        .expect("verifier");
    let exp = 2_000_000_000;
    let token = key.token(&with(
        access_claims(),
        &[("exp", json!(exp)), ("iat", json!(exp - 3600))],
    ));
    assert!(
        verifier.verify_at(&token, at(exp + 9)).await.is_ok(),
        "1 s inside the skew"
    );
    assert_eq!(
        kind(verifier.verify_at(&token, at(exp + 10)).await),
        JwtErrorKind::Expired
    );
    assert_eq!(
        kind(verifier.verify_at(&token, at(exp + 11)).await),
        JwtErrorKind::Expired
    );
}

#[tokio::test]
async fn exp_with_the_default_skew_of_60_seconds() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let exp = 2_000_000_000;
    let token = key.token(&with(
        access_claims(),
        &[("exp", json!(exp)), ("iat", json!(exp - 3600))],
    ));
    assert!(verifier.verify_at(&token, at(exp + 59)).await.is_ok());
    assert_eq!(
        kind(verifier.verify_at(&token, at(exp + 61)).await),
        JwtErrorKind::Expired
    );
}

#[tokio::test]
async fn a_zero_skew_refuses_at_exp() {
    let (key, server) = cognito().await;
    let verifier = builder()
        .clock_skew(Duration::ZERO)
        .cognito(CognitoUserPool::access_tokens(POOL, CLIENT).jwks_uri(server.url()))
        .build()
        .expect("verifier");
    let exp = 2_000_000_000;
    let token = key.token(&with(
        access_claims(),
        &[("exp", json!(exp)), ("iat", json!(exp - 3600))],
    ));
    assert!(verifier.verify_at(&token, at(exp - 1)).await.is_ok());
    assert_eq!(
        kind(verifier.verify_at(&token, at(exp)).await),
        JwtErrorKind::Expired
    );
}

#[tokio::test]
async fn a_missing_exp_is_refused() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let token = key.token(&without(access_claims(), &["exp"]));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::MissingExpiry
    );
}

#[tokio::test]
async fn a_string_exp_is_refused() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let exp = (now() + 3600).to_string();
    let token = key.token(&with(access_claims(), &[("exp", json!(exp))]));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::InvalidClaim
    );
}

#[tokio::test]
async fn a_string_nbf_is_refused() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let token = key.token(&with(access_claims(), &[("nbf", json!(now().to_string()))]));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::InvalidClaim
    );
}

#[tokio::test]
async fn a_future_nbf_is_refused() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let now = now();
    let inside = key.token(&with(access_claims(), &[("nbf", json!(now + 30))]));
    assert!(
        verifier.verify(&inside).await.is_ok(),
        "within the 60 s skew"
    );
    let beyond = key.token(&with(access_claims(), &[("nbf", json!(now + 120))]));
    assert_eq!(
        kind(verifier.verify(&beyond).await),
        JwtErrorKind::NotYetValid
    );
}

#[tokio::test]
async fn a_future_iat_is_refused() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let now = now();
    let inside = key.token(&with(access_claims(), &[("iat", json!(now + 30))]));
    assert!(
        verifier.verify(&inside).await.is_ok(),
        "within the 60 s skew"
    );
    let beyond = key.token(&with(access_claims(), &[("iat", json!(now + 120))]));
    assert_eq!(
        kind(verifier.verify(&beyond).await),
        JwtErrorKind::IssuedInFuture
    );
}

#[tokio::test]
async fn a_wrong_iss_is_refused_without_a_fetch() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    for iss in [
        json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"),
        json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_testpool1"),
        json!("https://evil.example.com"),
        json!(""),
    ] {
        let token = key.token(&with(access_claims(), &[("iss", iss.clone())]));
        assert_eq!(
            kind(verifier.verify(&token).await),
            JwtErrorKind::UnknownIssuer,
            "{iss}"
        );
    }
    assert_eq!(server.hits(), 0, "no JWKS fetch for an unknown issuer");
}

#[tokio::test]
async fn a_missing_or_non_string_iss_is_refused_without_a_fetch() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let token = key.token(&without(access_claims(), &["iss"]));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::UnknownIssuer
    );
    let token = key.token(&with(
        access_claims(),
        &[("iss", json!([pool_issuer(POOL)]))],
    ));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::InvalidClaim
    );
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn a_trailing_slash_in_iss_matters() {
    let key = TestKey::ec("k", "ES256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let without_slash = oidc_verifier(&server);
    let with_slash = builder()
        .oidc(OidcIssuer::new(
            format!("{OIDC_ISSUER}/"),
            server.url(),
            AUDIENCE,
        ))
        .build()
        .expect("verifier");
    let slashed = key.token(&with(
        oidc_claims(),
        &[("iss", json!(format!("{OIDC_ISSUER}/")))],
    ));
    let plain = key.token(&oidc_claims());
    assert_eq!(
        kind(without_slash.verify(&slashed).await),
        JwtErrorKind::UnknownIssuer
    );
    assert_eq!(
        kind(with_slash.verify(&plain).await),
        JwtErrorKind::UnknownIssuer
    );
    assert_eq!(server.hits(), 0);
    assert!(with_slash.verify(&slashed).await.is_ok());
    assert!(without_slash.verify(&plain).await.is_ok());
}

#[tokio::test]
async fn a_wrong_aud_is_refused() {
    let key = TestKey::ec("k", "ES256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = oidc_verifier(&server);
    for aud in [
        json!("api://other"),
        json!(["api://other", "api://orders/"]),
        json!([]),
    ] {
        let token = key.token(&with(oidc_claims(), &[("aud", aud.clone())]));
        assert_eq!(
            kind(verifier.verify(&token).await),
            JwtErrorKind::InvalidAudience,
            "{aud}"
        );
    }
    let token = key.token(&without(oidc_claims(), &["aud"]));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::InvalidAudience
    );
    let token = key.token(&with(oidc_claims(), &[("aud", json!([AUDIENCE, 7]))]));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::InvalidClaim
    );
}

#[tokio::test]
async fn an_aud_array_containing_the_audience_verifies() {
    let key = TestKey::ec("k", "ES256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = oidc_verifier(&server);
    let token = key.token(&with(
        oidc_claims(),
        &[("aud", json!(["api://billing", AUDIENCE]))],
    ));
    let claims = verifier.verify(&token).await.expect("valid");
    assert_eq!(
        claims.aud().collect::<Vec<_>>(),
        ["api://billing", AUDIENCE]
    );
}

#[tokio::test]
async fn an_id_token_where_an_access_token_is_expected_is_refused() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let err = verifier.verify(&key.token(&id_claims())).await;
    assert_eq!(kind(err), JwtErrorKind::InvalidTokenUse);
}

#[tokio::test]
async fn an_access_token_where_an_id_token_is_expected_is_refused() {
    let (key, server) = cognito().await;
    let verifier = builder()
        .cognito(CognitoUserPool::id_tokens(POOL, CLIENT).jwks_uri(server.url()))
        .build()
        .expect("verifier");
    assert_eq!(
        kind(verifier.verify(&key.token(&access_claims())).await),
        JwtErrorKind::InvalidTokenUse
    );
    let claims = verifier
        .verify(&key.token(&id_claims()))
        .await
        .expect("an id token");
    assert_eq!(claims.username(), Some("jane"));
    assert_eq!(claims.client_id(), Some(CLIENT));
    assert_eq!(claims.get("email"), Some(&json!("jane@example.com")));
}

#[tokio::test]
async fn a_missing_token_use_is_refused() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let token = key.token(&without(access_claims(), &["token_use"]));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::InvalidTokenUse
    );
}

#[tokio::test]
async fn another_app_client_is_refused() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p.client_id("second-client"));
    let token = key.token(&with(
        access_claims(),
        &[("client_id", json!("third-client"))],
    ));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::InvalidClientId
    );
    let token = key.token(&with(
        access_claims(),
        &[("client_id", json!("second-client"))],
    ));
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn a_token_from_another_user_pool_is_refused_without_a_fetch() {
    // Both pools' JWKS are served; the verifier trusts only POOL. A validly signed token of
    // the other pool (its own key, its own iss) must be refused before any fetch.
    let (_, server) = cognito().await;
    let other_key = TestKey::rsa("other-pool-key", "RS256");
    let other_server = JwksServer::start(jwks(&[other_key.jwk()])).await;
    let verifier = cognito_verifier(&server, |p| p);
    let other_pool = "eu-west-1_OtherPool";
    let token = other_key.token(&with(
        access_claims(),
        &[("iss", json!(pool_issuer(other_pool)))],
    ));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::UnknownIssuer
    );
    assert_eq!(server.hits() + other_server.hits(), 0);
}

#[tokio::test]
async fn several_issuers_each_with_its_own_keys() {
    let cognito_key = TestKey::rsa("cognito-1", "RS256");
    let oidc_key = TestKey::ed25519("oidc-1");
    let cognito_server = JwksServer::start(jwks(&[cognito_key.jwk()])).await;
    let oidc_server = JwksServer::start(jwks(&[oidc_key.jwk()])).await;
    let verifier = builder()
        .cognito(CognitoUserPool::access_tokens(POOL, CLIENT).jwks_uri(cognito_server.url()))
        .oidc(OidcIssuer::new(OIDC_ISSUER, oidc_server.url(), AUDIENCE))
        .build()
        .expect("verifier");
    assert!(
        verifier
            .verify(&oidc_key.token(&oidc_claims()))
            .await
            .is_ok()
    );
    assert_eq!((cognito_server.hits(), oidc_server.hits()), (0, 1));
    assert!(
        verifier
            .verify(&cognito_key.token(&access_claims()))
            .await
            .is_ok()
    );
    assert_eq!((cognito_server.hits(), oidc_server.hits()), (1, 1));
    // The OIDC key cannot sign for the Cognito issuer: it is not in that issuer's JWKS.
    let crossed = TestKey::ed25519("cognito-1");
    assert_eq!(
        kind(verifier.verify(&crossed.token(&access_claims())).await),
        JwtErrorKind::KeyMismatch
    );
}

#[tokio::test]
async fn a_missing_group_is_forbidden() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p.require_any_group(["admins", "auditors"]));
    let err = verifier
        .verify(&key.token(&access_claims()))
        .await
        .expect_err("staff only");
    assert_eq!(err.status(), 403);
    assert_eq!(kind(Err::<(), _>(err)), JwtErrorKind::MissingGroup);
    let token = key.token(&with(
        access_claims(),
        &[("cognito:groups", json!(["auditors"]))],
    ));
    assert!(verifier.verify(&token).await.is_ok());
    let token = key.token(&without(access_claims(), &["cognito:groups"]));
    assert_eq!(
        kind(verifier.verify(&token).await),
        JwtErrorKind::MissingGroup
    );
}

#[tokio::test]
async fn a_missing_scope_is_forbidden() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p.require_any_scope(["orders/write"]));
    let err = verifier
        .verify(&key.token(&access_claims()))
        .await
        .expect_err("read only");
    assert_eq!(err.status(), 403);
    assert_eq!(kind(Err::<(), _>(err)), JwtErrorKind::MissingScope);
    let token = key.token(&with(
        access_claims(),
        &[("scope", json!("openid orders/write"))],
    ));
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn the_custom_check_runs_last_and_decides_the_error() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| {
        p.check(
            |claims| match claims.get("custom:tenant").and_then(|t| t.as_str()) {
                Some("acme") => Ok(()),
                _ => Err(Error::Forbidden("not an acme user".into())),
            },
        )
    });
    let err = verifier
        .verify(&key.token(&access_claims()))
        .await
        .expect_err("no tenant");
    assert!(
        matches!(&err, Error::Forbidden(m) if m == "not an acme user"),
        "{err:?}"
    );
    let token = key.token(&with(access_claims(), &[("custom:tenant", json!("acme"))]));
    assert!(verifier.verify(&token).await.is_ok());
    // Built-in checks come first: an expired token never reaches the custom check.
    let expired = key.token(&with(
        access_claims(),
        &[("exp", json!(1_000_000)), ("iat", json!(999_000))],
    ));
    assert_eq!(kind(verifier.verify(&expired).await), JwtErrorKind::Expired);
}

#[tokio::test]
async fn refusals_of_invalid_tokens_are_401() {
    let (key, server) = cognito().await;
    let verifier = cognito_verifier(&server, |p| p);
    let err = verifier
        .verify(&key.token(&id_claims()))
        .await
        .expect_err("id token");
    assert_eq!(err.status(), 401);
    let err = verifier
        .verify_bearer("Basic dXNlcjpwYXNz")
        .await
        .expect_err("basic");
    assert_eq!(err.status(), 401);
}
