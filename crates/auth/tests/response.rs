//! Simple responses, the 8 KB limit, the `Unauthorized` convention, and denying on any error.
#![allow(clippy::unwrap_used)]

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use lambdakit_auth::Error;
use lambdakit_auth::arn::{MethodArn, Verb};
use lambdakit_auth::policy::Policy;
use lambdakit_auth::response::{
    DENY_ALL_PRINCIPAL, DenyResponse, MAX_RESPONSE_BYTES, SimpleResponse, Unauthorized, check_size,
    deny_on_error, unauthorized_or_deny,
};
use serde_json::{Value, json};

/// Powertools' `APIGatewayAuthorizerResponseV2.asdict()`: `{"isAuthorized": ...}` with `context`
/// only when there is one. Ours writes an empty context as `null`, read by API Gateway as absent.
#[test]
fn simple_response_shape() {
    let cases = [
        (
            SimpleResponse::deny(),
            json!({"isAuthorized": false, "context": null}),
        ),
        (
            SimpleResponse::allow(),
            json!({"isAuthorized": true, "context": null}),
        ),
        (
            SimpleResponse::allow()
                .context("name", "Foo")
                .context("n", 3)
                .context("admin", false)
                .context("groups", json!(["a", "b"]))
                .context("claims", json!({"sub": "u1", "scopes": ["read"]})),
            json!({
                "isAuthorized": true,
                "context": {
                    "name": "Foo",
                    "n": 3,
                    "admin": false,
                    "groups": ["a", "b"],
                    "claims": {"sub": "u1", "scopes": ["read"]},
                },
            }),
        ),
    ];
    for (builder, expected) in cases {
        let response = builder.build().unwrap();
        assert_eq!(serde_json::to_value(&response).unwrap(), expected);
    }
    assert_eq!(
        serde_json::to_string(&SimpleResponse::deny().build().unwrap()).unwrap(),
        r#"{"isAuthorized":false,"context":null}"#
    );
}

/// Pads a context value so that the whole serialized response is exactly `target` bytes.
fn simple_of_size(target: usize) -> Result<ApiGatewayV2CustomAuthorizerSimpleResponse, Error> {
    let empty = serde_json::to_vec(&json!({"isAuthorized": true, "context": {"pad": ""}}))
        .unwrap()
        .len();
    SimpleResponse::allow()
        .context("pad", "x".repeat(target - empty))
        .build()
}

#[test]
fn the_8_kb_limit() {
    let at_limit = simple_of_size(MAX_RESPONSE_BYTES).unwrap();
    assert_eq!(
        serde_json::to_vec(&at_limit).unwrap().len(),
        MAX_RESPONSE_BYTES
    );
    assert_eq!(check_size(&at_limit).unwrap(), MAX_RESPONSE_BYTES);

    match simple_of_size(MAX_RESPONSE_BYTES + 1) {
        Err(Error::InvalidResponse(message)) => {
            assert!(message.contains("8193 bytes"), "{message}")
        }
        other => panic!("expected the limit to hold, got {other:?}"),
    }

    // The policy builder goes through the same check, context included.
    let method =
        MethodArn::parse("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/")
            .unwrap();
    let big = Policy::new(&method, "u")
        .allow_all()
        .context("pad", "x".repeat(MAX_RESPONSE_BYTES));
    assert!(matches!(
        big.clone().build(),
        Err(Error::InvalidResponse(_))
    ));
    assert!(matches!(big.build_v2(), Err(Error::InvalidResponse(_))));
    // Multi-byte characters count in bytes, as API Gateway counts them.
    let wide = SimpleResponse::allow()
        .context("pad", "\u{e9}".repeat(MAX_RESPONSE_BYTES / 2))
        .build();
    assert!(matches!(wide, Err(Error::InvalidResponse(_))));
}

#[test]
fn unauthorized_is_exactly_that_message() {
    assert_eq!(Unauthorized.to_string(), "Unauthorized");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Unauthorized);
    assert_eq!(boxed.to_string(), "Unauthorized");
}

#[test]
fn unauthorized_or_deny_maps_401_403() {
    let ok = ApiGatewayCustomAuthorizerResponse::deny_all();
    assert!(unauthorized_or_deny(Ok(ok.clone())).unwrap() == ok);

    let err = unauthorized_or_deny::<ApiGatewayCustomAuthorizerResponse>(Err(Error::Unauthorized(
        "token expired at 12:00".into(),
    )))
    .unwrap_err();
    // No detail leaks into the message API Gateway matches on.
    assert_eq!(err.to_string(), "Unauthorized");

    for error in [
        Error::Forbidden("no admin group".into()),
        Error::InvalidResponse("empty policy".into()),
        Error::Unavailable("jwks down".into()),
    ] {
        let response =
            unauthorized_or_deny::<ApiGatewayCustomAuthorizerResponse>(Err(error)).unwrap();
        assert_denies_all(&serde_json::to_value(&response).unwrap());
    }
}

fn assert_denies_all(json: &Value) {
    assert_eq!(json["principalId"], DENY_ALL_PRINCIPAL, "{json}");
    let statements = json["policyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{json}");
    assert_eq!(statements[0]["Effect"], "Deny", "{json}");
    assert_eq!(statements[0]["Resource"], json!(["*"]), "{json}");
    assert_eq!(json["policyDocument"]["Version"], "2012-10-17", "{json}");
}

/// A REST TOKEN authorizer written the way the crate intends: typed event, and every failure,
/// parse errors included, through `deny_on_error`.
fn token_authorizer(event: &Value) -> ApiGatewayCustomAuthorizerResponse {
    deny_on_error((|| {
        let event: ApiGatewayCustomAuthorizerRequest = serde_json::from_value(event.clone())
            .map_err(|e| Error::InvalidResponse(format!("malformed event: {e}")))?;
        let token = event
            .authorization_token
            .as_deref()
            .ok_or_else(|| Error::Unauthorized("no token".into()))?;
        let method = MethodArn::from_event(&event)?;
        if token != "Bearer good" {
            return Err(Error::Forbidden("unknown token".into()));
        }
        Policy::new(&method, "user-1")
            .allow(Verb::Get, "/pets/*")
            .build()
    })())
}

#[test]
fn deny_on_error_on_malformed_events() {
    let good_arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets/1";
    let allowed = token_authorizer(&json!({
        "type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": good_arn,
    }));
    assert_eq!(
        serde_json::to_value(&allowed).unwrap()["policyDocument"]["Statement"][0]["Effect"],
        "Allow"
    );

    let malformed = [
        json!(null),
        json!(42),
        json!("a string"),
        json!([]),
        json!({}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer good"}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": null}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": 7}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": ""}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": "arn:aws:s3:::bucket"}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234"}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": "arn:*:execute-api:*:*:*/*/*/*"}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": format!("{good_arn}/{}", "a".repeat(2000))}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/caf\u{e9}/\u{0}"}),
        json!({"type": "TOKEN", "authorizationToken": ["Bearer good"], "methodArn": good_arn}),
        json!({"type": "TOKEN", "methodArn": good_arn}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer bad", "methodArn": good_arn}),
    ];
    for event in malformed {
        let response = token_authorizer(&event);
        assert_denies_all(&serde_json::to_value(&response).unwrap());
    }
}

#[test]
fn deny_on_error_for_every_response_type() {
    let simple: ApiGatewayV2CustomAuthorizerSimpleResponse =
        deny_on_error(Err::<_, Error>(Error::Unavailable("jwks".into())));
    assert!(!simple.is_authorized);
    let v2: ApiGatewayV2CustomAuthorizerIamPolicyResponse =
        deny_on_error(Err::<_, &str>("anything displayable"));
    assert_denies_all(&serde_json::to_value(&v2).unwrap());
    // And passes a decision through untouched.
    let allowed = deny_on_error(SimpleResponse::allow().build());
    assert!(allowed.is_authorized);
}
