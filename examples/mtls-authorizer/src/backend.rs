//! The function behind the API: it answers with the caller the authorizer verified, so a
//! deployment can be checked with `curl --cert`.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt as _, Response};
use serde_json::{Map, Value, json};

/// The authorizer's context of a request (`requestContext.authorizer.lambda`); empty when
/// there is none.
pub fn authorizer_context(request: &Request) -> Map<String, Value> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .map(|a| {
                a.fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Map::new(),
    }
}

/// `200 {"principal", "certificate": {...}}` from the authorizer's context; `403` without one
/// (the function called other than through the authorizer).
pub fn handle(request: &Request) -> Response<Body> {
    let mut caller = authorizer_context(request);
    let (status, body) = match caller.remove("principal") {
        Some(principal) => (
            200,
            json!({ "principal": principal, "certificate": caller }),
        ),
        None => (403, json!({ "message": "Forbidden" })),
    };
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}
