//! IAM policy responses: parity with Powertools' output, partitions, explicit effects, and every
//! way a policy refuses to be built.
#![allow(clippy::unwrap_used)]

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerResponse;
use aws_lambda_events::iam::IamPolicyCondition;
use lambdakit_auth::Error;
use lambdakit_auth::arn::{MethodArn, Verb};
use lambdakit_auth::policy::Policy;
use lambdakit_auth::response::{MAX_RESPONSE_BYTES, deny_on_error};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Powertools' test fixture ARN (`tests/unit/data_classes/required_dependencies/
/// test_api_gateway_authorizer.py`, aws-powertools/powertools-lambda-python at fa1c29f), with the
/// account widened to the twelve digits a real account id has: Powertools accepts `123456789`,
/// this crate refuses it.
const FANTOM: &str = "arn:aws:execute-api:us-west-1:123456789012:fantom/dev/GET/foo";
const FANTOM_BASE: &str = "arn:aws:execute-api:us-west-1:123456789012:fantom/dev";

fn arn(raw: &str) -> MethodArn {
    MethodArn::parse(raw).unwrap()
}

fn to_json(response: &ApiGatewayCustomAuthorizerResponse) -> Value {
    serde_json::to_value(response).unwrap()
}

/// What API Gateway reads, whichever of the equivalent spellings a serializer picks:
/// `aws_lambda_events` writes absent optional members as `null` and `Action` as a one-element
/// array, Powertools leaves them out and writes a string. IAM accepts both forms of `Action`, and
/// API Gateway treats a `null` member as absent.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match (k.as_str(), v) {
                    ("Action", Value::String(s)) => (k.clone(), json!([s])),
                    _ => (k.clone(), canonical(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Each case: our builder, and the dict Powertools' `APIGatewayAuthorizerResponse.asdict()`
/// returns for the same calls (copied from its unit tests, account widened as above).
#[test]
fn same_json_as_powertools() {
    let condition: IamPolicyCondition = serde_json::from_value(
        json!({"StringEquals": {"method.request.header.Content-Type": ["text/html"]}}),
    )
    .unwrap();
    let cases: Vec<(&str, ApiGatewayCustomAuthorizerResponse, Value)> = vec![
        (
            "allow_all_routes with context",
            Policy::new(&arn(FANTOM), "foo")
                .allow_all()
                .context("name", "Foo")
                .build()
                .unwrap(),
            json!({
                "principalId": "foo",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": "Allow",
                        "Resource": [format!("{FANTOM_BASE}/*/*")],
                    }],
                },
                "context": {"name": "Foo"},
            }),
        ),
        (
            "allow_all_routes with usage identifier key",
            Policy::new(
                &arn("arn:aws:execute-api:us-east-1:111111111111:api/dev/GET/y"),
                "cow",
            )
            .allow_all()
            .usage_identifier_key("key")
            .build()
            .unwrap(),
            json!({
                "principalId": "cow",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": "Allow",
                        "Resource": ["arn:aws:execute-api:us-east-1:111111111111:api/dev/*/*"],
                    }],
                },
                "usageIdentifierKey": "key",
            }),
        ),
        (
            "deny_all_routes",
            Policy::new(&arn(FANTOM), "foo").deny_all().build().unwrap(),
            json!({
                "principalId": "foo",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": "Deny",
                        "Resource": [format!("{FANTOM_BASE}/*/*")],
                    }],
                },
            }),
        ),
        (
            "allow_route",
            Policy::new(&arn(FANTOM), "foo")
                .allow(Verb::Get, "/foo")
                .build()
                .unwrap(),
            json!({
                "principalId": "foo",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": "Allow",
                        "Resource": [format!("{FANTOM_BASE}/GET/foo")],
                    }],
                },
            }),
        ),
        (
            "deny_route",
            Policy::new(&arn(FANTOM), "foo")
                .deny(Verb::Put, "foo")
                .build()
                .unwrap(),
            json!({
                "principalId": "foo",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": "Deny",
                        "Resource": [format!("{FANTOM_BASE}/PUT/foo")],
                    }],
                },
            }),
        ),
        (
            "allow_route with underscore",
            Policy::new(&arn(FANTOM), "foo")
                .allow(Verb::Get, "/has_underscore")
                .build()
                .unwrap(),
            json!({
                "principalId": "foo",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": "Allow",
                        "Resource": [format!("{FANTOM_BASE}/GET/has_underscore")],
                    }],
                },
            }),
        ),
        (
            // Powertools writes `"Condition": [{...}]`, a list, which is not IAM grammar: a
            // Condition is an object. Ours is the object, as IAM (and IamPolicyCondition) has it.
            "allow_route with conditions",
            Policy::new(&arn(FANTOM), "foo")
                .allow_if(Verb::Post, "/foo", condition)
                .build()
                .unwrap(),
            json!({
                "principalId": "foo",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": "Allow",
                        "Resource": [format!("{FANTOM_BASE}/POST/foo")],
                        "Condition": {"StringEquals": {"method.request.header.Content-Type": ["text/html"]}},
                    }],
                },
            }),
        ),
    ];
    for (name, ours, powertools) in cases {
        assert_eq!(canonical(&to_json(&ours)), canonical(&powertools), "{name}");
    }
}

/// The exact bytes handed to the Lambda runtime, pinned: key order, `null`s and all.
#[test]
fn serialized_bytes() {
    let response = Policy::new(&arn(FANTOM), "foo")
        .allow(Verb::Get, "/foo")
        .deny(Verb::Delete, "/foo")
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_string(&response).unwrap(),
        concat!(
            r#"{"principalId":"foo","policyDocument":{"Version":"2012-10-17","Statement":["#,
            r#"{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["arn:aws:execute-api:us-west-1:123456789012:fantom/dev/GET/foo"]},"#,
            r#"{"Action":["execute-api:Invoke"],"Effect":"Deny","Resource":["arn:aws:execute-api:us-west-1:123456789012:fantom/dev/DELETE/foo"]}"#,
            r#"]},"context":null,"usageIdentifierKey":null}"#
        )
    );
}

/// Powertools' `test_parse_api_gateway_arn_with_resource`: the method ARN of the event, parsed and
/// rebuilt from its verb and path, is the resource of the policy.
#[test]
fn method_arn_round_trips_into_the_policy() {
    let raw = "arn:aws:execute-api:us-east-2:123456789012:abcd1234/latest/GET/path/part/part/1";
    let event = json!({"type": "TOKEN", "methodArn": raw, "authorizationToken": "Bearer TOKEN"});
    let method = MethodArn::from_event(&event).unwrap();
    assert_eq!(method.path(), Some("path/part/part/1"));
    let response = Policy::new(&method, "fooPrinciple")
        .allow(method.verb().unwrap(), method.path().unwrap())
        .build()
        .unwrap();
    assert_eq!(
        to_json(&response)["policyDocument"]["Statement"][0]["Resource"][0],
        raw
    );
}

#[test]
fn partitions_are_kept_in_every_resource() {
    for (partition, region) in [
        ("aws-cn", "cn-north-1"),
        ("aws-us-gov", "us-gov-west-1"),
        ("aws-iso-b", "us-isob-east-1"),
    ] {
        let method = arn(&format!(
            "arn:{partition}:execute-api:{region}:123456789012:abcdef1234/prod/GET/pets/1"
        ));
        let response = Policy::new(&method, "user")
            .allow(Verb::Get, "/pets/*")
            .allow_arn(&method.any_method().unwrap())
            .deny(Verb::Delete, "*")
            .allow_all()
            .build()
            .unwrap();
        let json = to_json(&response);
        let resources: Vec<&str> = json["policyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Resource"].as_array().unwrap())
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(resources.len(), 4);
        let prefix = format!("arn:{partition}:execute-api:{region}:123456789012:abcdef1234/prod/");
        for resource in resources {
            assert!(
                resource.starts_with(&prefix),
                "{resource} is not in {partition}"
            );
        }
    }
}

#[test]
fn every_effect_is_written_out() {
    let response = Policy::new(&arn(FANTOM), "foo")
        .allow(Verb::Get, "/a")
        .deny(Verb::Get, "/b")
        .build()
        .unwrap();
    let text = serde_json::to_string(&response).unwrap();
    assert!(text.contains(r#""Effect":"Allow""#), "{text}");
    assert!(text.contains(r#""Effect":"Deny""#), "{text}");
    assert!(text.contains(r#""Version":"2012-10-17""#), "{text}");
    for statement in to_json(&response)["policyDocument"]["Statement"]
        .as_array()
        .unwrap()
    {
        assert!(statement["Effect"].is_string(), "{statement}");
    }
}

/// Allow and Deny on the same resource: both statements stay, so IAM's evaluation denies.
#[test]
fn deny_is_kept_beside_allow() {
    let response = Policy::new(&arn(FANTOM), "foo")
        .allow(Verb::Get, "/foo")
        .allow_all()
        .deny(Verb::Get, "/foo")
        .build()
        .unwrap();
    let statements = to_json(&response)["policyDocument"]["Statement"].clone();
    assert_eq!(
        statements,
        json!([
            {"Action": ["execute-api:Invoke"], "Effect": "Allow",
             "Resource": [format!("{FANTOM_BASE}/GET/foo"), format!("{FANTOM_BASE}/*/*")]},
            {"Action": ["execute-api:Invoke"], "Effect": "Deny",
             "Resource": [format!("{FANTOM_BASE}/GET/foo")]},
        ])
    );
}

#[test]
fn statements_are_grouped_like_powertools() {
    let condition: IamPolicyCondition =
        serde_json::from_value(json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}})).unwrap();
    let response = Policy::new(&arn(FANTOM), "foo")
        .allow(Verb::Get, "/a")
        .allow_if(Verb::Post, "/b", condition.clone())
        .allow(Verb::Get, "/a")
        .allow(Verb::Get, "/c")
        .allow_if(Verb::Put, "/d", IamPolicyCondition::new())
        .deny_if(Verb::Delete, "/e", condition)
        .build()
        .unwrap();
    let statements = to_json(&response)["policyDocument"]["Statement"].clone();
    let shape: Vec<(String, Vec<String>, bool)> = statements
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Effect"].as_str().unwrap().to_owned(),
                s["Resource"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        r.as_str()
                            .unwrap()
                            .rsplit_once("/dev/")
                            .unwrap()
                            .1
                            .to_owned()
                    })
                    .collect(),
                s.get("Condition").is_some(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            ("Allow".into(), vec!["POST/b".into()], true),
            // Duplicates collapse; an empty condition is no condition.
            (
                "Allow".into(),
                vec!["GET/a".into(), "GET/c".into(), "PUT/d".into()],
                false
            ),
            ("Deny".into(), vec!["DELETE/e".into()], true),
        ]
    );
}

#[test]
fn websocket_connect_policy() {
    let connect = arn("arn:aws-cn:execute-api:cn-north-1:123456789012:wsapi12345/prod/$connect");
    let allowed = Policy::new(&connect, "user")
        .allow_route_key("$connect")
        .build()
        .unwrap();
    assert_eq!(
        to_json(&allowed)["policyDocument"]["Statement"][0]["Resource"][0],
        "arn:aws-cn:execute-api:cn-north-1:123456789012:wsapi12345/prod/$connect"
    );
    // `*/*` would not match `prod/$connect`: for a route ARN, everything is `prod/*`.
    let all = Policy::new(&connect, "user").allow_all().build().unwrap();
    assert_eq!(
        to_json(&all)["policyDocument"]["Statement"][0]["Resource"][0],
        "arn:aws-cn:execute-api:cn-north-1:123456789012:wsapi12345/prod/*"
    );
    let denied = Policy::new(&connect, "user")
        .deny_route_key("$connect")
        .build()
        .unwrap();
    assert_eq!(
        to_json(&denied)["policyDocument"]["Statement"][0]["Effect"],
        "Deny"
    );
}

fn invalid(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::InvalidResponse(message)) => message,
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
}

#[test]
fn refused_policies() {
    let method = arn(FANTOM);
    let other_api = arn("arn:aws:execute-api:us-west-1:123456789012:otherapi/dev/GET/foo");
    let other_partition = arn("arn:aws-cn:execute-api:us-west-1:123456789012:fantom/dev/GET/foo");
    let empty_values: IamPolicyCondition =
        serde_json::from_value(json!({"StringEquals": {}})).unwrap();
    let cases: Vec<(
        &str,
        Result<ApiGatewayCustomAuthorizerResponse, Error>,
        &str,
    )> = vec![
        (
            "no statements",
            Policy::new(&method, "foo").build(),
            "no statements",
        ),
        (
            "only a context",
            Policy::new(&method, "foo").context("a", "b").build(),
            "no statements",
        ),
        (
            "empty principal",
            Policy::new(&method, "").allow_all().build(),
            "principalId",
        ),
        (
            "blank principal",
            Policy::new(&method, "  ").allow_all().build(),
            "principalId",
        ),
        (
            "bad path",
            Policy::new(&method, "foo")
                .allow(Verb::Get, "/pets/{id}")
                .allow_all()
                .build(),
            "path",
        ),
        (
            "query string in path",
            Policy::new(&method, "foo")
                .allow(Verb::Get, "/a?b=c")
                .build(),
            "wildcard",
        ),
        (
            "wildcard inside a segment",
            Policy::new(&method, "foo").allow(Verb::Get, "/a*b").build(),
            "wildcard",
        ),
        (
            "another api",
            Policy::new(&method, "foo").allow_arn(&other_api).build(),
            "otherapi",
        ),
        (
            "another partition",
            Policy::new(&method, "foo")
                .deny_arn(&other_partition)
                .build(),
            "aws-cn",
        ),
        (
            "condition without values",
            Policy::new(&method, "foo")
                .allow_if(Verb::Get, "/a", empty_values)
                .build(),
            "without values",
        ),
        (
            "empty usage identifier key",
            Policy::new(&method, "foo")
                .allow_all()
                .usage_identifier_key("")
                .build(),
            "usage identifier key",
        ),
    ];
    for (name, result, needle) in cases {
        let message = invalid(result);
        assert!(message.contains(needle), "{name}: {message}");
    }
    let message = invalid(
        Policy::new(&method, "foo")
            .allow_all()
            .usage_identifier_key("key")
            .build_v2(),
    );
    assert!(message.contains("REST"), "{message}");
}

#[test]
fn rest_context_holds_scalars_only() {
    let ok = Policy::new(&arn(FANTOM), "foo")
        .allow_all()
        .context("s", "x")
        .context("n", 1)
        .context("f", 1.5)
        .context("b", true)
        .build()
        .unwrap();
    assert_eq!(
        to_json(&ok)["context"],
        json!({"s": "x", "n": 1, "f": 1.5, "b": true})
    );
    for (name, value) in [
        ("array", json!(["a", "b"])),
        ("object", json!({"nested": 1})),
        ("null", Value::Null),
        ("array of objects", json!([{"a": 1}])),
    ] {
        let message = invalid(
            Policy::new(&arn(FANTOM), "foo")
                .allow_all()
                .context("fine", "x")
                .context("bad", value.clone())
                .build(),
        );
        assert!(message.contains("\"bad\""), "{name}: {message}");
        // The HTTP API payload 2.0 response takes arrays and objects.
        if !value.is_null() {
            let v2 = Policy::new(&arn(FANTOM), "foo")
                .allow_all()
                .context("bad", value.clone())
                .build_v2()
                .unwrap();
            assert_eq!(v2.context["bad"], value, "{name}");
        }
    }
}

#[test]
fn v2_policy_shape() {
    let route = arn("arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request");
    let response = Policy::new(&route, "abcdef")
        .allow_arn(&route)
        .context("arrayKey", json!(["value1", "value2"]))
        .context("mapKey", json!({"value1": "value2"}))
        .build_v2()
        .unwrap();
    assert_eq!(
        canonical(&serde_json::to_value(&response).unwrap()),
        json!({
            "principalId": "abcdef",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Action": ["execute-api:Invoke"],
                    "Effect": "Allow",
                    "Resource": ["arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request"],
                }],
            },
            "context": {"arrayKey": ["value1", "value2"], "mapKey": {"value1": "value2"}},
        })
    );
}

/// A policy that would not fit in API Gateway's 8 KB is refused whole, not cut.
#[test]
fn oversized_policy_is_refused() {
    let mut policy = Policy::new(&arn(FANTOM), "foo");
    for i in 0..200 {
        policy = policy.allow(Verb::Get, &format!("/items/{i}"));
    }
    let message = invalid(policy.clone().build());
    assert!(
        message.contains(&MAX_RESPONSE_BYTES.to_string()),
        "{message}"
    );
    assert!(matches!(policy.build_v2(), Err(Error::InvalidResponse(_))));
}

fn decide(event: &Value) -> Result<ApiGatewayCustomAuthorizerResponse, Error> {
    let method = MethodArn::from_event(event)?;
    Policy::new(&method, "user").allow_all().build()
}

proptest! {
    /// Whatever the methodArn, deciding never panics; an ARN that does not parse denies.
    #[test]
    fn any_method_arn_decides_or_denies(raw in ".{0,200}") {
        let response = deny_on_error(decide(&json!({"methodArn": raw})));
        let json = to_json(&response);
        match MethodArn::parse(&raw) {
            Ok(method) => {
                prop_assert_eq!(method.to_string(), raw);
                prop_assert_eq!(&json["policyDocument"]["Statement"][0]["Effect"], "Allow");
            }
            Err(_) => {
                prop_assert_eq!(&json["policyDocument"]["Statement"][0]["Effect"], "Deny");
                prop_assert_eq!(&json["policyDocument"]["Statement"][0]["Resource"], &json!(["*"]));
            }
        }
    }

    /// ARNs of the right shape round-trip, and their policies keep their partition.
    #[test]
    fn well_formed_arns_round_trip(
        partition in "aws(-[a-z]{2,4}){0,2}",
        region in "[a-z]{2,4}(-[a-z]{3,5}){1,2}-[0-9]",
        stage in "[A-Za-z0-9_-]{1,20}",
        verb in proptest::sample::select(Verb::ALL.to_vec()),
        path in "([A-Za-z0-9._~-]{1,8}/){0,4}[A-Za-z0-9._~-]{0,8}",
    ) {
        let raw = format!("arn:{partition}:execute-api:{region}:123456789012:abcdef1234/{stage}/{verb}/{path}");
        let method = MethodArn::parse(&raw).unwrap();
        prop_assert_eq!(method.to_string(), raw);
        prop_assert_eq!(method.partition(), partition.as_str());
        let response = Policy::new(&method, "user").allow(verb, &path).build().unwrap();
        let json = to_json(&response);
        let resource = json["policyDocument"]["Statement"][0]["Resource"][0].as_str().unwrap().to_owned();
        prop_assert_eq!(resource, method.to_string());
    }
}
