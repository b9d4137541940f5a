//! The backend behind both APIs: it trusts API Gateway to have run the authorizer and answers
//! with what the authorizer's context says about the caller, so a deployment can be checked
//! with `curl`.

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

/// `200 {"route", "caller", "path"}` where `caller` is the authorizer's context. A request
/// without one (which API Gateway never sends past an authorizer) is a 403, so the function
/// called directly does not pretend someone was authorized.
pub fn handle(request: &Request) -> Response<Body> {
    let caller = authorizer_context(request);
    let route = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.route_key.clone(),
        _ => None,
    };
    let (status, body) = if caller.is_empty() {
        (403, json!({ "message": "Forbidden" }))
    } else {
        (
            200,
            json!({ "route": route, "path": request.uri().path(), "caller": caller }),
        )
    };
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}
