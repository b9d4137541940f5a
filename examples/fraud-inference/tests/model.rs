//! The `fraud-model` handler on the sample API Gateway event (`events/score-request.json`).

use example_fraud_inference::model::{MODEL_VERSION, Score, handle};
use lambda_http::Body;

fn sample() -> lambda_http::Request {
    let path = lambdakit_test_support::workspace_root()
        .join("examples/fraud-inference/events/score-request.json");
    let text = std::fs::read_to_string(path).expect("sample event");
    lambda_http::request::from_str(&text).expect("an API Gateway REST event")
}

#[tokio::test]
async fn the_sample_request_is_scored() {
    let response = handle(sample()).await.expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let score: Score = serde_json::from_slice(response.body().as_ref()).expect("score json");
    assert_eq!(score.model_version, MODEL_VERSION);
    // The sample body is transactions.jsonl line 26, a card used from another country.
    assert!(score.fraud_score > 0.5, "{}", score.fraud_score);
}

#[tokio::test]
async fn a_body_that_is_not_a_transaction_is_a_400() {
    let mut request = sample();
    *request.body_mut() = Body::from("Hello World");
    let response = handle(request).await.expect("response");
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("not a transaction"))
    );
}
