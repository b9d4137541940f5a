//! The API-key authorizer on HTTP API authorizer events (payload 2.0): each client's key opens
//! its routes and no other, anything malformed or unknown is `isAuthorized: false` without a
//! panic, and a cache configuration that could replay one route's answer on another denies
//! everything.

use std::time::Duration;

use example_http_api_lambda_authorizer::authorizer::ApiKeyAuthorizer;
use example_http_api_lambda_authorizer::local::{
    AUTHORIZER_EVENT, OPS_KEY, REPORTING_KEY, api_key_authorizer, authorizer_event,
};
use example_http_api_lambda_authorizer::rules::ApiKeys;
use lambdakit_auth::cache_key::CacheSettings;
use proptest::prelude::*;
use serde_json::{Value, json};

fn authorizer() -> ApiKeyAuthorizer {
    api_key_authorizer().expect("authorizer")
}

fn allowed(authorizer: &ApiKeyAuthorizer, route: &str, authorization: Option<&str>) -> bool {
    authorizer
        .authorize(authorizer_event(route, authorization).expect("event"))
        .is_authorized
}

#[test]
fn the_sample_event_is_allowed_with_the_client_in_the_context() {
    let response = authorizer().authorize(serde_json::from_str(AUTHORIZER_EVENT).expect("json"));
    let body = serde_json::to_value(&response).expect("json");
    assert_eq!(body["isAuthorized"], true, "{body}");
    assert_eq!(
        body["context"],
        json!({"client": "reporting-dashboard", "route": "GET /reports"})
    );
}

#[test]
fn each_client_may_call_its_routes_and_no_other() {
    let authorizer = authorizer();
    let reporting = format!("Bearer {REPORTING_KEY}");
    let ops = format!("Bearer {OPS_KEY}");
    let cases = [
        (&reporting, "GET /reports", true),
        (&reporting, "GET /reports/{id}", true),
        (&reporting, "DELETE /reports/{id}", false),
        (&reporting, "POST /reports", false),
        (&reporting, "$default", false),
        (&ops, "GET /reports", true),
        (&ops, "DELETE /reports/{id}", true),
        (&ops, "$default", true),
    ];
    for (authorization, route, expected) in cases {
        assert_eq!(
            allowed(&authorizer, route, Some(authorization)),
            expected,
            "{route} with {}",
            &authorization[..12]
        );
    }
    // The denial of a route the client may not call carries no context.
    let denied = authorizer
        .authorize(authorizer_event("DELETE /reports/{id}", Some(&reporting)).expect("event"));
    assert!(!denied.is_authorized);
    assert_eq!(denied.context, Value::Null);
}

#[test]
fn missing_unknown_or_misspelt_keys_are_denied() {
    let authorizer = authorizer();
    let route = "GET /reports";
    let near_misses = [
        None,
        Some(REPORTING_KEY.to_owned()),           // no scheme
        Some(format!("Basic {REPORTING_KEY}")),   // another scheme
        Some(format!("Bearer  {REPORTING_KEY}")), // two spaces
        Some(format!("Bearer {REPORTING_KEY} ")), // trailing space
        Some(format!("Bearer {}", REPORTING_KEY.to_uppercase())),
        Some(format!("Bearer {}", &REPORTING_KEY[1..])),
        Some(format!("Bearer {REPORTING_KEY}x")),
        Some("Bearer ".to_owned()),
        Some(String::new()),
    ];
    for authorization in near_misses {
        assert!(
            !allowed(&authorizer, route, authorization.as_deref()),
            "{authorization:?}"
        );
    }
    // The scheme is case-insensitive, and so is the header's name.
    assert!(allowed(
        &authorizer,
        route,
        Some(&format!("bearer {REPORTING_KEY}"))
    ));
    let mut event = authorizer_event(route, None).expect("event");
    event["headers"]["Authorization"] = json!(format!("Bearer {REPORTING_KEY}"));
    assert!(authorizer.authorize(event).is_authorized);
}

#[test]
fn malformed_events_are_denied_never_a_panic() {
    let authorizer = authorizer();
    let good = || {
        authorizer_event("GET /reports", Some(&format!("Bearer {REPORTING_KEY}"))).expect("event")
    };
    assert!(
        authorizer.authorize(good()).is_authorized,
        "the base event is allowed"
    );

    let mut events: Vec<(&str, Value)> = vec![
        ("null", Value::Null),
        ("a number", json!(42)),
        ("a string", json!("GET /reports")),
        ("an empty object", json!({})),
    ];
    let mut edit = |what: &'static str, change: &dyn Fn(&mut Value)| {
        let mut event = good();
        change(&mut event);
        events.push((what, event));
    };
    edit("payload 1.0", &|e| e["version"] = json!("1.0"));
    edit("no version", &|e| {
        e.as_object_mut().map(|o| o.remove("version"));
    });
    edit("a TOKEN event", &|e| e["type"] = json!("TOKEN"));
    edit("no routeKey", &|e| {
        e.as_object_mut().map(|o| o.remove("routeKey"));
    });
    edit("an empty routeKey", &|e| e["routeKey"] = json!(""));
    edit("routeKey of another type", &|e| {
        e["routeKey"] = json!(["GET /reports"])
    });
    edit("routeKeys that differ", &|e| {
        e["requestContext"]["routeKey"] = json!("DELETE /reports/{id}")
    });
    edit("no requestContext", &|e| {
        e.as_object_mut().map(|o| o.remove("requestContext"));
    });
    edit("headers as a string", &|e| {
        e["headers"] = json!("authorization: x")
    });
    edit("an Authorization number", &|e| {
        e["headers"]["authorization"] = json!(7)
    });
    edit("two Authorization headers", &|e| {
        e["headers"]["authorization"] = json!([
            format!("Bearer {REPORTING_KEY}"),
            format!("Bearer {OPS_KEY}")
        ])
    });
    edit("a header with a newline", &|e| {
        e["headers"]["authorization"] = json!(format!("Bearer {REPORTING_KEY}\r\nx: y"))
    });
    for (what, event) in events {
        let response = authorizer.authorize(event);
        assert!(!response.is_authorized, "{what} must be denied");
    }
}

#[test]
fn a_cache_keyed_on_the_token_alone_denies_everything() {
    // TTL 300 with only the Authorization header in the key: the reporting dashboard's allowed
    // `GET /reports` would be replayed on `DELETE /reports/{id}` for five minutes.
    let leaky = CacheSettings::new(["$request.header.Authorization"], Duration::from_secs(300))
        .expect("settings");
    let authorizer = ApiKeyAuthorizer::new(
        ApiKeys::from_json(example_http_api_lambda_authorizer::local::API_KEYS).expect("keys"),
        leaky,
    );
    assert!(!allowed(
        &authorizer,
        "GET /reports",
        Some(&format!("Bearer {REPORTING_KEY}"))
    ));
    // Without caching the same configuration is safe.
    let uncached = ApiKeyAuthorizer::new(
        ApiKeys::from_json(example_http_api_lambda_authorizer::local::API_KEYS).expect("keys"),
        CacheSettings::new(["$request.header.Authorization"], Duration::ZERO).expect("settings"),
    );
    assert!(allowed(
        &uncached,
        "GET /reports",
        Some(&format!("Bearer {REPORTING_KEY}"))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the header and route, the answer is a response, and an allow only for a known
    /// key on one of its routes.
    #[test]
    fn only_a_known_key_on_its_route_is_ever_allowed(
        authorization in prop_oneof![
            any::<String>(),
            "Bearer [ -~]{0,60}",
            Just(format!("Bearer {REPORTING_KEY}")),
            Just(format!("Bearer {OPS_KEY}")),
        ],
        route in prop_oneof![
            any::<String>(),
            Just("GET /reports".to_owned()),
            Just("DELETE /reports/{id}".to_owned()),
            "(GET|POST|DELETE) /[a-z{}/]{0,20}",
        ],
    ) {
        let authorizer = authorizer();
        let mut event = authorizer_event("GET /reports", None).expect("event");
        event["headers"]["authorization"] = json!(authorization);
        event["routeKey"] = json!(route);
        event["requestContext"]["routeKey"] = json!(route);
        let response = authorizer.authorize(event);
        let may = (authorization == format!("Bearer {OPS_KEY}") && !route.is_empty())
            || (authorization == format!("Bearer {REPORTING_KEY}")
                && (route == "GET /reports" || route == "GET /reports/{id}"));
        prop_assert_eq!(response.is_authorized, may);
    }
}
