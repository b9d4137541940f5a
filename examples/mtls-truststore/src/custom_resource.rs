//! Running a custom resource provider so that CloudFormation always gets an answer.
//!
//! A custom resource that never answers leaves its stack `CREATE_IN_PROGRESS` (or stuck in
//! rollback) for up to an hour. [`Runner::run`] answers every request it can read a
//! `ResponseURL` from: `SUCCESS` with the provider's [`Outcome`], or `FAILED` with a reason
//! when the provider returns an error, panics, runs out of time, or the request itself is
//! malformed. The body is kept within CloudFormation's 4096 bytes.
//!
//! A failed Create answers with a physical id starting with [`CREATE_FAILED`]; the Delete
//! CloudFormation sends for it on rollback succeeds without calling the provider, so a
//! resource that never existed cannot block its stack's rollback.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, SystemTime};

pub use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceRequest as Request,
    CloudFormationCustomResourceResponse as Response,
    CloudFormationCustomResourceResponseStatus as Status,
};
use serde_json::Value;

use crate::Error;
use crate::respond::Responder;

/// The largest response body CloudFormation accepts.
pub const RESPONSE_LIMIT: usize = 4096;
/// The start of the physical id of a resource whose Create failed.
pub const CREATE_FAILED: &str = "create-failed:";
/// The time kept back from the function's remaining time for sending the response.
pub const DEFAULT_RESPONSE_TIME: Duration = Duration::from_secs(8);

/// What a provider returns for a request it carried out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The resource's physical id. A different one on Update tells CloudFormation the
    /// resource was replaced: it then sends a Delete for the old one.
    pub physical_resource_id: String,
    /// `Fn::GetAtt` values.
    pub data: HashMap<String, String>,
    /// What was done, for the stack's events.
    pub reason: String,
}

/// The fields a response repeats from its request, read even from a request that is not
/// otherwise valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `RequestType`, as sent.
    pub request_type: String,
    /// The pre-signed URL to answer to.
    pub response_url: String,
    /// `StackId`.
    pub stack_id: String,
    /// `RequestId`.
    pub request_id: String,
    /// `LogicalResourceId`.
    pub logical_resource_id: String,
    /// `PhysicalResourceId` (Update and Delete).
    pub physical_resource_id: Option<String>,
}

impl Envelope {
    /// The envelope of a raw request, or `None` when it lacks a field needed to answer
    /// (`ResponseURL`, `StackId`, `RequestId`, `LogicalResourceId`).
    pub fn from_value(event: &Value) -> Option<Self> {
        let field = |name: &str| {
            event
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Some(Self {
            request_type: field("RequestType").unwrap_or_default(),
            response_url: field("ResponseURL")?,
            stack_id: field("StackId")?,
            request_id: field("RequestId")?,
            logical_resource_id: field("LogicalResourceId")?,
            physical_resource_id: field("PhysicalResourceId"),
        })
    }

    /// The physical id a failure answers with: the resource's own on Update and Delete (it
    /// must not change), a [`CREATE_FAILED`] id on Create.
    pub fn failure_physical_id(&self) -> String {
        self.physical_resource_id
            .clone()
            .unwrap_or_else(|| format!("{CREATE_FAILED}{}", self.request_id))
    }

    /// A `SUCCESS` response carrying `outcome`.
    pub fn success(&self, outcome: Outcome) -> Response {
        let mut response = self.response(Status::Success, outcome.reason);
        response.physical_resource_id = outcome.physical_resource_id;
        response.data = outcome.data;
        response
    }

    /// A `FAILED` response with `reason`.
    pub fn failure(&self, reason: impl Into<String>) -> Response {
        let mut response = self.response(Status::Failed, reason.into());
        response.physical_resource_id = self.failure_physical_id();
        response
    }

    fn response(&self, status: Status, reason: String) -> Response {
        let mut response = Response::default();
        response.status = status;
        response.reason = Some(reason);
        response.stack_id = self.stack_id.clone();
        response.request_id = self.request_id.clone();
        response.logical_resource_id = self.logical_resource_id.clone();
        response
    }
}

/// The JSON body of `response`, at most [`RESPONSE_LIMIT`] bytes: a long `Reason` is cut
/// (ending in `…`); a response whose `Data` alone is too large becomes `FAILED` saying so.
pub fn body(response: &Response) -> Vec<u8> {
    let mut response = response.clone();
    loop {
        let bytes = serde_json::to_vec(&response).unwrap_or_default();
        if bytes.len() <= RESPONSE_LIMIT {
            return bytes;
        }
        let over = bytes.len() - RESPONSE_LIMIT;
        let reason = response.reason.take().unwrap_or_default();
        if reason.len() > over + 3 {
            // Cutting n bytes of text removes at least n bytes of its JSON (escapes are longer).
            let mut end = reason.len() - over - 3;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            response.reason = Some(format!("{}…", &reason[..end]));
        } else if !response.data.is_empty() {
            response.data.clear();
            response.status = Status::Failed;
            response.reason = Some(format!(
                "the response's Data is larger than CloudFormation's {RESPONSE_LIMIT} bytes"
            ));
        } else {
            // Only the ids are left, and CloudFormation caps them well below the limit.
            response.reason = Some(String::new());
            return serde_json::to_vec(&response).unwrap_or_default();
        }
    }
}

/// Runs a provider on each request and always answers.
#[derive(Debug, Clone)]
pub struct Runner {
    responder: Responder,
    response_time: Duration,
}

impl Runner {
    /// A runner answering through `responder`, keeping [`DEFAULT_RESPONSE_TIME`] for it.
    pub fn new(responder: Responder) -> Self {
        Self {
            responder,
            response_time: DEFAULT_RESPONSE_TIME,
        }
    }

    /// Keeps `time` of the function's remaining time for sending the response.
    pub fn response_time(mut self, time: Duration) -> Self {
        self.response_time = time;
        self
    }

    /// The provider's time in an invocation that must end by `deadline` (the Lambda
    /// context's): what is left, less the response time. Zero when nothing is left.
    pub fn budget(&self, deadline: SystemTime) -> Duration {
        deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(self.response_time)
    }

    /// Parses `event`, runs `provider` on it for at most `budget`, and PUTs the outcome to the
    /// request's `ResponseURL`; returns the response sent.
    ///
    /// The provider runs on its own task: a panic becomes a `FAILED` response, and so does
    /// running past `budget` (the task is then cancelled). A Delete of a resource whose
    /// Create failed succeeds without calling the provider.
    ///
    /// Errors: [`Error::Request`] when the event has no `ResponseURL` (or ids) to answer
    /// with, [`Error::Respond`] when the response could not be delivered. The invocation
    /// should fail then, so the error is in the function's logs and metrics.
    pub async fn run<F, Fut>(
        &self,
        event: Value,
        budget: Duration,
        provider: F,
    ) -> Result<Response, Error>
    where
        F: FnOnce(Request) -> Fut,
        Fut: Future<Output = Result<Outcome, Error>> + Send + 'static,
    {
        let Some(envelope) = Envelope::from_value(&event) else {
            tracing::error!(
                "the event has no ResponseURL, StackId, RequestId or LogicalResourceId: nothing to answer"
            );
            return Err(Error::Request(
                "no ResponseURL, StackId, RequestId or LogicalResourceId".into(),
            ));
        };
        tracing::info!(
            request_type = %envelope.request_type,
            logical_resource_id = %envelope.logical_resource_id,
            physical_resource_id = envelope.physical_resource_id.as_deref().unwrap_or(""),
            stack_id = %envelope.stack_id,
            "custom resource request"
        );
        let response = match serde_json::from_value::<Request>(event) {
            Err(e) => envelope.failure(Error::Request(e.to_string()).to_string()),
            Ok(Request::Delete(delete))
                if delete.physical_resource_id.starts_with(CREATE_FAILED) =>
            {
                envelope.success(Outcome {
                    physical_resource_id: delete.physical_resource_id,
                    data: HashMap::new(),
                    reason: "nothing to delete: the resource was never created".into(),
                })
            }
            Ok(request) => {
                let mut task = tokio::spawn(provider(request));
                match tokio::time::timeout(budget, &mut task).await {
                    Ok(Ok(Ok(outcome))) => envelope.success(outcome),
                    Ok(Ok(Err(error))) => envelope.failure(error.to_string()),
                    Ok(Err(join)) => envelope.failure(
                        Error::Panicked(match join.try_into_panic() {
                            Ok(payload) => panic_message(payload.as_ref()),
                            Err(e) => e.to_string(),
                        })
                        .to_string(),
                    ),
                    Err(_) => {
                        task.abort();
                        envelope.failure(Error::Timeout(budget).to_string())
                    }
                }
            }
        };
        match response.status {
            Status::Success => tracing::info!(
                physical_resource_id = %response.physical_resource_id,
                reason = response.reason.as_deref().unwrap_or(""),
                "SUCCESS"
            ),
            _ => tracing::warn!(
                physical_resource_id = %response.physical_resource_id,
                reason = response.reason.as_deref().unwrap_or(""),
                "FAILED"
            ),
        }
        let status = self
            .responder
            .send(&envelope.response_url, body(&response), self.response_time)
            .await?;
        tracing::info!(status, "response delivered");
        Ok(response)
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope() -> Envelope {
        Envelope::from_value(&json!({
            "RequestType": "Create",
            "ResponseURL": "https://cr-response-bucket.s3.us-east-1.amazonaws.com/key?sig=1",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
            "RequestId": "82304eb2-bdda-469f-a33b-a3f1406d0a52",
            "LogicalResourceId": "TrustStore"
        }))
        .expect("envelope")
    }

    #[test]
    fn a_failed_create_gets_a_physical_id_its_delete_recognises() {
        let failed = envelope().failure("bad");
        assert_eq!(
            failed.physical_resource_id,
            "create-failed:82304eb2-bdda-469f-a33b-a3f1406d0a52"
        );
        let mut update = envelope();
        update.physical_resource_id = Some("s3://b/k?versionId=1".into());
        assert_eq!(
            update.failure("bad").physical_resource_id,
            "s3://b/k?versionId=1"
        );
    }

    #[test]
    fn the_body_has_every_field_cloudformation_reads() {
        let body: Value = serde_json::from_slice(&body(&envelope().failure("why"))).expect("json");
        assert_eq!(body["Status"], "FAILED");
        assert_eq!(body["Reason"], "why");
        assert_eq!(body["RequestId"], "82304eb2-bdda-469f-a33b-a3f1406d0a52");
        assert_eq!(body["LogicalResourceId"], "TrustStore");
        assert!(
            body["StackId"]
                .as_str()
                .is_some_and(|s| s.contains(":stack/"))
        );
        assert!(body["PhysicalResourceId"].is_string());
        assert_eq!(body["NoEcho"], false);
    }

    #[test]
    fn a_long_reason_is_cut_to_fit_4096_bytes() {
        // Quotes double when escaped; multi-byte characters must not be split.
        let reason = "é\"".repeat(3000);
        let bytes = body(&envelope().failure(reason));
        assert!(bytes.len() <= RESPONSE_LIMIT, "{}", bytes.len());
        let body: Value = serde_json::from_slice(&bytes).expect("still JSON");
        assert!(body["Reason"].as_str().expect("reason").ends_with('…'));
        assert_eq!(body["Status"], "FAILED");
    }

    #[test]
    fn data_too_large_turns_the_answer_into_a_failure() {
        let outcome = Outcome {
            physical_resource_id: "p".into(),
            data: HashMap::from([("Big".to_owned(), "x".repeat(5000))]),
            reason: String::new(),
        };
        let bytes = body(&envelope().success(outcome));
        assert!(bytes.len() <= RESPONSE_LIMIT);
        let body: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(body["Status"], "FAILED");
        assert!(body["Reason"].as_str().expect("reason").contains("4096"));
    }

    #[test]
    fn an_event_without_a_response_url_has_no_envelope() {
        assert!(Envelope::from_value(&json!({"RequestType": "Create"})).is_none());
        assert!(Envelope::from_value(&json!("not an object")).is_none());
    }
}
