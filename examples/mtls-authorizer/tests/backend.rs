//! The backend behind the authorizer: the verified caller reaches it, and a request that did
//! not go through the authorizer is refused.

use example_mtls_authorizer::backend;
use example_mtls_authorizer::local::{BACKEND_EVENT, backend_request};
use serde_json::{Value, json};

fn body(response: &lambda_http::Response<lambda_http::Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).expect("json")
}

#[test]
fn the_sample_request_answers_with_the_verified_caller() {
    let request = lambda_http::request::from_str(BACKEND_EVENT).expect("event");
    let response = backend::handle(&request);
    assert_eq!(response.status(), 200);
    let body = body(&response);
    assert_eq!(body["principal"], "partner-1.example.com");
    assert_eq!(body["certificate"]["serialNumber"], "2001");
    assert!(body["certificate"].get("principal").is_none());
}

#[test]
fn the_context_is_passed_through_and_its_absence_is_a_403() {
    let context = json!({"principal": "partner-9", "serialNumber": "1009"});
    let response = backend::handle(&backend_request(&context).expect("request"));
    assert_eq!(response.status(), 200);
    assert_eq!(
        body(&response),
        json!({"principal": "partner-9", "certificate": {"serialNumber": "1009"}})
    );
    let response = backend::handle(&backend_request(&Value::Null).expect("request"));
    assert_eq!(response.status(), 403);
}
