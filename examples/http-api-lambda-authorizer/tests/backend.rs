//! The backend behind the authorizers: what the authorizer put in its context reaches the
//! function, and a request that never went through an authorizer is refused.

use example_http_api_lambda_authorizer::backend;
use example_http_api_lambda_authorizer::local::{
    BACKEND_EVENT, REPORTING_KEY, api_key_authorizer, authorizer_event, backend_request,
};
use serde_json::{Value, json};

fn body(response: &lambda_http::Response<lambda_http::Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).expect("json")
}

#[test]
fn the_sample_request_answers_with_the_caller() {
    let request = lambda_http::request::from_str(BACKEND_EVENT).expect("event");
    let response = backend::handle(&request);
    assert_eq!(response.status(), 200);
    assert_eq!(
        body(&response),
        json!({
            "route": "GET /reports",
            "path": "/reports",
            "caller": {"client": "reporting-dashboard", "route": "GET /reports"}
        })
    );
}

#[test]
fn the_authorizers_context_is_what_the_backend_sees() {
    let allowed = api_key_authorizer().expect("authorizer").authorize(
        authorizer_event(
            "GET /reports/{id}",
            Some(&format!("Bearer {REPORTING_KEY}")),
        )
        .expect("event"),
    );
    assert!(allowed.is_authorized);
    let request = backend_request("GET /reports/{id}", &allowed.context).expect("request");
    let response = backend::handle(&request);
    assert_eq!(response.status(), 200);
    assert_eq!(body(&response)["caller"], allowed.context);
    assert_eq!(body(&response)["path"], "/reports/42");
    assert_eq!(body(&response)["route"], "GET /reports/{id}");
}

#[test]
fn a_request_without_an_authorizer_context_is_refused() {
    let request = backend_request("GET /reports", &Value::Null).expect("request");
    let response = backend::handle(&request);
    assert_eq!(response.status(), 403);
}
