//! The `fraud-consumer` handler on real Kinesis streams (the local emulator) and a local model
//! endpoint that checks SigV4 and the API key: what is written, and what is reported back to
//! Lambda so nothing is lost.

use std::time::{Duration, SystemTime};

use example_fraud_inference::consumer::Consumer;
use example_fraud_inference::enrich::Settings;
use example_fraud_inference::local::{
    self, ModelEndpoint, StreamRecord, create_stream, kinesis_event, read_jsonl, read_stream,
    sample_event,
};
use example_fraud_inference::model::{Scored, Transaction, score};
use lambdakit_enrich::http::SignedClient;
use lambdakit_test_support::signed_server::SignedServer;
use lambdakit_test_support::{emulator, unique_name, workspace_root};

fn transactions() -> Vec<Transaction> {
    read_jsonl(&workspace_root().join("examples/fraud-inference/events/transactions.jsonl"))
        .expect("transactions.jsonl")
}

fn kinesis() -> aws_sdk_kinesis::Client {
    aws_sdk_kinesis::Client::new(&emulator::sdk_config())
}

async fn output_stream(kinesis: &aws_sdk_kinesis::Client) -> String {
    let name = unique_name("scored");
    create_stream(kinesis, &name).await.expect("output stream");
    name
}

fn consumer(
    server: &SignedServer,
    kinesis: &aws_sdk_kinesis::Client,
    output: &str,
    settings: Settings,
) -> Consumer {
    let model = SignedClient::builder(format!("{}/score", server.url()))
        .region(local::REGION)
        .credentials(local::credentials())
        .api_key(local::API_KEY)
        .build()
        .expect("client");
    Consumer::new(model, kinesis.clone(), output, settings)
}

/// Records as the event source mapping would deliver them, with increasing sequence numbers.
fn records(txs: &[Transaction]) -> Vec<StreamRecord> {
    txs.iter()
        .enumerate()
        .map(|(i, tx)| StreamRecord {
            sequence_number: format!("4956816737333333333333333333333333333333333333333333{i:04}"),
            partition_key: tx.card_id.clone(),
            data: serde_json::to_vec(tx).expect("json"),
        })
        .collect()
}

async fn written(kinesis: &aws_sdk_kinesis::Client, stream: &str) -> Vec<(String, Scored)> {
    read_stream(kinesis, stream)
        .await
        .expect("read output")
        .into_iter()
        .map(|r| {
            (
                r.partition_key,
                serde_json::from_slice(&r.data).expect("scored json"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_batch_is_scored_and_written_in_order_under_its_partition_keys() {
    let kinesis = kinesis();
    let output = output_stream(&kinesis).await;
    let server = ModelEndpoint::default().start().await.expect("endpoint");
    let consumer = consumer(&server, &kinesis, &output, Settings::default());
    let txs: Vec<Transaction> = transactions().into_iter().take(60).collect();

    let (response, summary) = consumer
        .handle(kinesis_event(&records(&txs)).expect("event"), None)
        .await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    assert_eq!((summary.received, summary.written), (60, 60));

    let out = written(&kinesis, &output).await;
    assert_eq!(out.len(), 60);
    for ((key, scored), tx) in out.iter().zip(&txs) {
        assert_eq!(&scored.transaction, tx, "input order kept");
        assert_eq!(key, &tx.card_id, "partition key kept");
        // JSON keeps 17 significant digits; the last bit may round.
        assert!((scored.fraud_score - score(tx).fraud_score).abs() < 1e-12);
    }
    assert_eq!(
        server.stats().refused_signature() + server.stats().refused_api_key(),
        0
    );
}

#[tokio::test]
async fn a_record_that_is_not_a_transaction_is_reported_not_dropped() {
    let kinesis = kinesis();
    let output = output_stream(&kinesis).await;
    let server = ModelEndpoint::default().start().await.expect("endpoint");
    let consumer = consumer(&server, &kinesis, &output, Settings::default());
    let event = sample_event("kinesis-transactions-malformed.json").expect("sample");
    let poison = event.records[1].kinesis.sequence_number.clone();

    let (response, summary) = consumer.handle(event, None).await;
    let failures: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failures, [Some(poison)]);
    assert_eq!(summary.written, 1);
    assert_eq!(written(&kinesis, &output).await.len(), 1);
}

#[tokio::test]
async fn transient_model_errors_are_retried_and_permanent_failures_reported() {
    let kinesis = kinesis();
    let txs: Vec<Transaction> = transactions().into_iter().take(40).collect();

    // 20% of requests fail with 500: retries cure them all.
    let output = output_stream(&kinesis).await;
    let flaky = ModelEndpoint {
        error_rate: 0.2,
        seed: 11,
        ..ModelEndpoint::default()
    };
    let server = flaky.start().await.expect("endpoint");
    let (response, summary) = consumer(&server, &kinesis, &output, Settings::default())
        .handle(kinesis_event(&records(&txs)).expect("event"), None)
        .await;
    assert!(server.stats().injected_errors() > 0);
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(summary.written, 40);

    // Every request fails: every record is reported, none written, and the retry budget keeps
    // the calls far below 40 × (1 + 3 retries).
    let output = output_stream(&kinesis).await;
    let down = ModelEndpoint {
        error_rate: 1.0,
        ..ModelEndpoint::default()
    };
    let server = down.start().await.expect("endpoint");
    let (response, summary) = consumer(&server, &kinesis, &output, Settings::default())
        .handle(kinesis_event(&records(&txs)).expect("event"), None)
        .await;
    assert_eq!(response.batch_item_failures.len(), 40);
    assert_eq!(summary.written, 0);
    assert!(written(&kinesis, &output).await.is_empty());
    let requests = server.stats().requests();
    assert!(requests < 40 * 2, "{requests} requests for 40 records");
}

#[tokio::test]
async fn the_handler_stops_before_the_deadline_and_reports_unfinished_records() {
    let kinesis = kinesis();
    let output = output_stream(&kinesis).await;
    let server = ModelEndpoint::default().start().await.expect("endpoint");
    server.set_hang(true);
    let consumer = consumer(&server, &kinesis, &output, Settings::default());
    let txs: Vec<Transaction> = transactions().into_iter().take(5).collect();
    // The invocation has 4 s left; the handler keeps 3 s back to answer.
    let deadline = SystemTime::now() + Duration::from_secs(4);
    let started = std::time::Instant::now();
    let (response, summary) = consumer
        .handle(
            kinesis_event(&records(&txs)).expect("event"),
            Some(deadline),
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered before the deadline"
    );
    assert_eq!(response.batch_item_failures.len(), 5);
    assert_eq!(summary.written, 0);
}

#[tokio::test]
async fn a_failed_put_records_reports_every_scored_record() {
    let kinesis = kinesis();
    let server = ModelEndpoint::default().start().await.expect("endpoint");
    // The output stream does not exist.
    let consumer = consumer(
        &server,
        &kinesis,
        &unique_name("missing"),
        Settings::default(),
    );
    let txs: Vec<Transaction> = transactions().into_iter().take(10).collect();
    let (response, summary) = consumer
        .handle(kinesis_event(&records(&txs)).expect("event"), None)
        .await;
    assert_eq!(response.batch_item_failures.len(), 10);
    assert_eq!(summary.written, 0);
}

#[derive(serde::Deserialize)]
struct CreatedKey {
    id: String,
}

#[tokio::test]
async fn the_api_key_value_is_read_from_api_gateway_by_id() {
    // Create a key on the emulator's API Gateway with a signed POST /apikeys, then read its
    // value back by id as the consumer does at cold start.
    let base = emulator::url();
    let creds =
        aws_credential_types::provider::SharedCredentialsProvider::new(emulator::credentials());
    let value = format!("fraud-key-{}", unique_name("v"));
    let create = SignedClient::builder(format!("{base}/apikeys"))
        .region(emulator::REGION)
        .service("apigateway")
        .credentials(creds.clone())
        .build()
        .expect("client");
    let body =
        serde_json::json!({ "name": unique_name("consumer"), "enabled": true, "value": value });
    let created = create
        .post_json::<CreatedKey>(serde_json::to_vec(&body).expect("json"))
        .await
        .expect("create key");
    assert!(created.status.is_success(), "{:?}", created.error_body);
    let id = created.value.expect("key id").id;

    let read = example_fraud_inference::consumer::read_api_key_at(
        &base,
        &id,
        emulator::REGION,
        creds.clone(),
    )
    .await
    .expect("read key");
    assert_eq!(read, value);

    // An id that is not one is refused before any call; an unknown id is an error, not a key.
    for bad in ["", "../apikeys", "id?x=1"] {
        assert!(
            example_fraud_inference::consumer::read_api_key_at(
                &base,
                bad,
                emulator::REGION,
                creds.clone()
            )
            .await
            .is_err()
        );
    }
    assert!(
        example_fraud_inference::consumer::read_api_key_at(
            &base,
            "doesnotexist1",
            emulator::REGION,
            creds
        )
        .await
        .is_err()
    );
}
