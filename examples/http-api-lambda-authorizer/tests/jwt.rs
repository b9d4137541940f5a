//! The JWT authorizer against a local stand-in for a Cognito user pool (RS256 tokens shaped as
//! Cognito's, the JWKS served over HTTP on 127.0.0.1): each route's group rule holds, every
//! token that is not this pool's valid access token for this app client is denied, and an
//! unreachable JWKS denies rather than fails.

use example_http_api_lambda_authorizer::local::{
    AUTHORIZER_JWT_EVENT, CLIENT_ID, CognitoStandIn, authorizer_event,
};
use serde_json::{Value, json};

async fn pool() -> CognitoStandIn {
    CognitoStandIn::start().await.expect("stand-in pool")
}

fn with(mut claims: Value, edits: &[(&str, Value)]) -> Value {
    for (name, value) in edits {
        claims[*name] = value.clone();
    }
    claims
}

#[tokio::test]
async fn readers_read_and_only_admins_delete() {
    let pool = pool().await;
    let authorizer = pool.authorizer().expect("authorizer");
    let reader = pool.bearer("jane", &["readers"]).expect("token");
    let admin = pool.bearer("omar", &["admins", "readers"]).expect("token");
    let cases = [
        (&reader, "GET /reports", true),
        (&reader, "GET /reports/{id}", true),
        (&reader, "DELETE /reports/{id}", false),
        (&admin, "GET /reports", true),
        (&admin, "DELETE /reports/{id}", true),
    ];
    for (token, route, expected) in cases {
        let response = authorizer
            .authorize(authorizer_event(route, Some(token)).expect("event"))
            .await;
        assert_eq!(response.is_authorized, expected, "{route}");
    }

    let response = authorizer
        .authorize(authorizer_event("DELETE /reports/{id}", Some(&admin)).expect("event"))
        .await;
    assert_eq!(response.context["username"], "omar");
    assert_eq!(response.context["groups"], json!(["admins", "readers"]));
    assert_eq!(response.context["route"], "DELETE /reports/{id}");
    assert!(
        response.context["sub"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(pool.hits(), 1, "the JWKS is fetched once and cached");
}

#[tokio::test]
async fn a_route_without_a_rule_is_denied_without_looking_at_the_token() {
    let pool = pool().await;
    let authorizer = pool.authorizer().expect("authorizer");
    let admin = pool.bearer("omar", &["admins"]).expect("token");
    for route in ["POST /reports", "$default", "GET /admin"] {
        let response = authorizer
            .authorize(authorizer_event(route, Some(&admin)).expect("event"))
            .await;
        assert!(!response.is_authorized, "{route}");
    }
    assert_eq!(pool.hits(), 0, "no JWKS fetch for a route nobody may call");
}

#[tokio::test]
async fn tokens_that_are_not_this_pools_valid_access_tokens_are_denied() {
    let pool = pool().await;
    let authorizer = pool.authorizer().expect("authorizer");
    let claims = pool.access_claims("omar", &["admins"]);
    let now = claims["iat"].as_u64().expect("iat");
    let other_pool = CognitoStandIn::start().await.expect("other pool");

    let mut tokens: Vec<(&str, String)> = vec![
        (
            "expired",
            pool.sign(&with(
                claims.clone(),
                &[("exp", json!(now - 600)), ("iat", json!(now - 4200))],
            ))
            .expect("sign"),
        ),
        (
            "another user pool",
            pool.sign(&with(
                claims.clone(),
                &[(
                    "iss",
                    json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Zz99Yy88X"),
                )],
            ))
            .expect("sign"),
        ),
        (
            "another app client",
            pool.sign(&with(
                claims.clone(),
                &[("client_id", json!("1example23456789"))],
            ))
            .expect("sign"),
        ),
        (
            "an id token",
            pool.sign(&with(
                claims.clone(),
                &[("token_use", json!("id")), ("aud", json!(CLIENT_ID))],
            ))
            .expect("sign"),
        ),
        (
            "signed by another key with the same kid",
            other_pool.sign(&claims).expect("sign"),
        ),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    // The payload changed after signing: groups added.
    let good = pool
        .sign(&pool.access_claims("jane", &["readers"]))
        .expect("sign");
    let parts: Vec<&str> = good.split('.').collect();
    let forged_payload =
        base64_url(&serde_json::to_vec(&pool.access_claims("jane", &["admins"])).expect("json"));
    tokens.push((
        "tampered",
        format!("{}.{forged_payload}.{}", parts[0], parts[2]),
    ));
    // alg none, no signature.
    let none_header = base64_url(br#"{"alg":"none","kid":"local-1"}"#);
    tokens.push(("alg none", format!("{none_header}.{}.", parts[1])));

    for (what, token) in tokens {
        let response = authorizer
            .authorize(
                authorizer_event("DELETE /reports/{id}", Some(&format!("Bearer {token}")))
                    .expect("event"),
            )
            .await;
        assert!(!response.is_authorized, "{what} must be denied");
    }
    for header in [
        None,
        Some("Basic b21hcjpwYXNzd29yZA==".to_owned()),
        Some(good.clone()),
    ] {
        let response = authorizer
            .authorize(authorizer_event("GET /reports", header.as_deref()).expect("event"))
            .await;
        assert!(!response.is_authorized, "{header:?} is no Bearer token");
    }
}

#[tokio::test]
async fn an_unreachable_jwks_denies() {
    let pool = pool().await;
    pool.set_status(503);
    let authorizer = pool.authorizer().expect("authorizer");
    let admin = pool.bearer("omar", &["admins"]).expect("token");
    let response = authorizer
        .authorize(authorizer_event("GET /reports", Some(&admin)).expect("event"))
        .await;
    assert!(!response.is_authorized);
    assert!(pool.hits() >= 1);
}

#[tokio::test]
async fn the_sample_event_is_denied_as_is_and_allowed_with_a_fresh_admin_token() {
    let pool = pool().await;
    let authorizer = pool.authorizer().expect("authorizer");
    let mut event: Value = serde_json::from_str(AUTHORIZER_JWT_EVENT).expect("json");
    let response = authorizer.authorize(event.clone()).await;
    assert!(!response.is_authorized, "the sample's token is expired");

    let admin = pool.bearer("omar", &["admins"]).expect("token");
    event["headers"]["authorization"] = json!(admin);
    event["identitySource"][0] = json!(admin);
    let response = authorizer.authorize(event).await;
    assert!(response.is_authorized);
    assert_eq!(response.context["route"], "DELETE /reports/{id}");
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
