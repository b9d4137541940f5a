//! Authorizer caching: a route-dependent decision cached without the route in its key is refused.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use lambdakit_auth::Error;
use lambdakit_auth::arn::{MethodArn, Verb};
use lambdakit_auth::cache_key::{CacheSettings, RouteDependence, route_dependence};
use lambdakit_auth::policy::Policy;
use lambdakit_auth::response::{SimpleResponse, deny_on_error};

const FIVE_MINUTES: Duration = Duration::from_secs(300);
const REQUEST: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/reports/7";

fn request() -> MethodArn {
    MethodArn::parse(REQUEST).unwrap()
}

/// (identity sources, ttl, whether a per-route decision may be cached)
const HTTP_AND_REST: &[(&[&str], Duration, bool)] = &[
    // HTTP API
    (&["$request.header.Authorization"], FIVE_MINUTES, false),
    (
        &[
            "$request.header.Authorization",
            "$request.querystring.tenant",
        ],
        FIVE_MINUTES,
        false,
    ),
    (
        &["$request.header.Authorization", "$context.routeKey"],
        FIVE_MINUTES,
        true,
    ),
    (&["$context.routeKey"], FIVE_MINUTES, true),
    (
        &["$request.header.Authorization", "$context.httpMethod"],
        FIVE_MINUTES,
        false,
    ),
    (
        &[
            "$request.header.Authorization",
            "$context.httpMethod",
            "$context.path",
        ],
        FIVE_MINUTES,
        true,
    ),
    // Names are case-sensitive in API Gateway: this is not the route key.
    (
        &["$request.header.Authorization", "$context.routekey"],
        FIVE_MINUTES,
        false,
    ),
    (&["$request.header.Authorization"], Duration::ZERO, true),
    // REST
    (
        &["method.request.header.Authorization"],
        FIVE_MINUTES,
        false,
    ),
    (
        &["method.request.header.Authorization", "context.httpMethod"],
        FIVE_MINUTES,
        false,
    ),
    (
        &[
            "method.request.header.Authorization",
            "context.resourcePath",
        ],
        FIVE_MINUTES,
        false,
    ),
    (
        &["method.request.header.Authorization, context.httpMethod, context.resourcePath"],
        FIVE_MINUTES,
        true,
    ),
    (
        &[
            "method.request.header.Authorization",
            "context.httpMethod",
            "context.resourceId",
        ],
        FIVE_MINUTES,
        true,
    ),
    (
        &["method.request.header.Authorization"],
        Duration::ZERO,
        true,
    ),
    // REST's `$context.routeKey` does not exist, and HTTP's would not be mixed with REST's; the
    // check only asks whether the key holds the route.
    (&["route.request.header.Auth"], FIVE_MINUTES, false),
];

#[test]
fn per_route_decisions_need_the_route_in_the_key() {
    for &(sources, ttl, cacheable) in HTTP_AND_REST {
        let cache = CacheSettings::new(sources, ttl).unwrap();
        assert!(
            cache.check(RouteDependence::SameOnEveryRoute).is_ok(),
            "{sources:?}: a route-independent decision is always cacheable"
        );
        let result = cache.check(RouteDependence::PerRoute);
        assert_eq!(
            result.is_ok(),
            cacheable,
            "{sources:?} ttl {ttl:?}: {result:?}"
        );
        if let Err(error) = result {
            assert_eq!(error.status(), 500);
            assert!(error.to_string().contains("$context.routeKey"), "{error}");
        }
    }
}

/// The case the module exists for: an HTTP API authorizer that allowed a read for a non-admin,
/// cached on the token alone, would also have allowed the delete. It denies instead.
#[test]
fn route_dependent_without_route_key_denies() {
    let cache = CacheSettings::new(["$request.header.Authorization"], FIVE_MINUTES).unwrap();
    let decide = |route_key: &str| -> Result<SimpleResponse, Error> {
        cache.check(RouteDependence::PerRoute)?;
        Ok(if route_key.starts_with("GET ") {
            SimpleResponse::allow()
        } else {
            SimpleResponse::deny()
        })
    };
    let response: ApiGatewayV2CustomAuthorizerSimpleResponse =
        deny_on_error(decide("GET /reports").and_then(SimpleResponse::build));
    assert!(!response.is_authorized);

    let keyed = CacheSettings::new(
        ["$request.header.Authorization", "$context.routeKey"],
        FIVE_MINUTES,
    )
    .unwrap();
    assert!(keyed.check(RouteDependence::PerRoute).is_ok());
}

fn rest(policy: Policy) -> ApiGatewayCustomAuthorizerResponse {
    policy.build().unwrap()
}

#[test]
fn rest_policy_route_dependence() {
    let request = request();
    let base = || Policy::new(&request, "alice");
    let cases: Vec<(&str, ApiGatewayCustomAuthorizerResponse, RouteDependence)> = vec![
        (
            "exact method arn",
            rest(base().allow_arn(&request)),
            RouteDependence::PerRoute,
        ),
        (
            "exact method arn, built from verb and path",
            rest(base().allow(Verb::Get, "/reports/7")),
            RouteDependence::PerRoute,
        ),
        (
            "exact arn beside unrelated exact arns",
            rest(base().allow(Verb::Get, "/other").allow_arn(&request)),
            RouteDependence::PerRoute,
        ),
        (
            "allow all",
            rest(base().allow_all()),
            RouteDependence::SameOnEveryRoute,
        ),
        (
            "wildcard path covering the request",
            rest(base().allow(Verb::Get, "/reports/*")),
            RouteDependence::SameOnEveryRoute,
        ),
        (
            "exact arn and a wildcard covering it",
            rest(base().allow_arn(&request).allow_arn(&request.stage_wide())),
            RouteDependence::SameOnEveryRoute,
        ),
        (
            "any method on the path",
            rest(base().allow_arn(&request.any_method().unwrap())),
            RouteDependence::SameOnEveryRoute,
        ),
        (
            "a deny of the exact arn (a cached deny fails closed)",
            rest(base().deny_arn(&request)),
            RouteDependence::SameOnEveryRoute,
        ),
        (
            "allow of another route only",
            rest(base().allow(Verb::Post, "/reports")),
            RouteDependence::SameOnEveryRoute,
        ),
    ];
    let cached = CacheSettings::new(["method.request.header.Authorization"], FIVE_MINUTES).unwrap();
    let uncached =
        CacheSettings::new(["method.request.header.Authorization"], Duration::ZERO).unwrap();
    let keyed = CacheSettings::new(
        [
            "method.request.header.Authorization",
            "context.httpMethod",
            "context.resourcePath",
        ],
        FIVE_MINUTES,
    )
    .unwrap();
    for (name, response, expected) in cases {
        assert_eq!(
            route_dependence(&response.policy_document, &request),
            expected,
            "{name}"
        );
        let result = cached.check_policy(&response, &request);
        assert_eq!(
            result.is_err(),
            expected == RouteDependence::PerRoute,
            "{name}: {result:?}"
        );
        assert!(uncached.check_policy(&response, &request).is_ok(), "{name}");
        assert!(keyed.check_policy(&response, &request).is_ok(), "{name}");
    }
}

/// The check composes with `deny_on_error`: the exact-ARN policy, cached, becomes a Deny.
#[test]
fn cached_exact_policy_denies() {
    let request = request();
    let cache = CacheSettings::new(["method.request.header.Authorization"], FIVE_MINUTES).unwrap();
    let decide = || -> Result<ApiGatewayCustomAuthorizerResponse, Error> {
        let response = Policy::new(&request, "alice").allow_arn(&request).build()?;
        cache.check_policy(&response, &request)?;
        Ok(response)
    };
    let response = serde_json::to_value(deny_on_error(decide())).unwrap();
    assert_eq!(response["policyDocument"]["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        response["policyDocument"]["Statement"][0]["Resource"][0],
        "*"
    );
}

#[test]
fn settings_are_validated() {
    for bad in [
        &["Authorization"][..],
        &["header.Authorization"],
        &["$request.header."],
        &["$request.header.Authorization", "$contxt.routeKey"],
        &["request.header.Authorization"],
    ] {
        assert!(
            matches!(
                CacheSettings::new(bad, FIVE_MINUTES),
                Err(Error::InvalidResponse(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        CacheSettings::new(Vec::<String>::new(), FIVE_MINUTES),
        Err(Error::InvalidResponse(_))
    ));
    let none = CacheSettings::new(Vec::<String>::new(), Duration::ZERO).unwrap();
    assert!(!none.is_enabled());
    assert!(
        CacheSettings::disabled()
            .check(RouteDependence::PerRoute)
            .is_ok()
    );

    let split = CacheSettings::new(
        ["method.request.header.Authorization, method.request.querystring.Name"],
        FIVE_MINUTES,
    )
    .unwrap();
    assert_eq!(
        split.identity_sources(),
        [
            "method.request.header.Authorization",
            "method.request.querystring.Name"
        ]
    );
    assert_eq!(split.ttl(), FIVE_MINUTES);
    assert!(!split.keys_on_route());
}
