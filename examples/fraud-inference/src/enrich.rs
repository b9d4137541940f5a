//! One batch of transactions through the async operator, as the blog's Flink job does with
//! `AsyncDataStream.unorderedWait(stream, Sig4SignedHttpRequestAsyncFunction, 30 s, 20)`.

use std::time::Duration;

use futures_util::{StreamExt, stream};
use lambdakit_enrich::http::{Reply, SignedClient, retry_transient};
use lambdakit_enrich::{AsyncIo, Metrics, Outcome, Retry, RetryBudget};
use serde::Serialize;
use tokio::time::Instant;

use crate::model::{Score, Scored, Transaction};

/// How the batch is enriched.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Calls in flight plus results not yet emitted (the blog: 20).
    pub capacity: usize,
    /// Per transaction, from arrival to final result, retries included (the blog: 30 s).
    pub timeout: Duration,
    /// Retries per transaction for 429, 5xx and transport errors.
    pub max_retries: u32,
    /// Extra calls retries may add, as a fraction of first calls (the retry budget).
    pub retry_ratio: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            capacity: 20,
            timeout: Duration::from_secs(30),
            max_retries: 3,
            retry_ratio: 0.2,
        }
    }
}

/// What became of one transaction.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The model scored it.
    Scored(Box<Scored>),
    /// The model refused it for good (a 4xx other than 429): retrying will not help.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The model's error body.
        message: String,
    },
    /// Retries ran out on 429, 5xx or transport errors.
    Failed(String),
    /// Its timeout passed.
    TimedOut,
    /// The invocation ran out of time before it finished; its call was cancelled.
    Unfinished,
}

impl Verdict {
    /// True when the transaction was scored.
    pub fn is_scored(&self) -> bool {
        matches!(self, Verdict::Scored(_))
    }
}

/// A transaction and its position in the batch; serialises as the transaction alone.
#[derive(Debug, Serialize)]
struct Indexed {
    #[serde(skip)]
    index: usize,
    #[serde(flatten)]
    tx: Transaction,
}

/// The verdicts of a batch, in input order, with the operator's counters.
#[derive(Debug)]
pub struct Report {
    /// One verdict per input transaction, in input order.
    pub verdicts: Vec<Verdict>,
    /// The operator's counters (calls, retries, timeouts, ...).
    pub metrics: Metrics,
    /// Per scored transaction, the time from arrival to its score.
    pub latencies: Vec<Duration>,
}

/// Scores `transactions` through `client` (a SigV4-signed `POST /score`), at most
/// `settings.capacity` at a time. When `stop_at` comes, calls still in progress are cancelled
/// and their transactions are [`Verdict::Unfinished`]: a Lambda stops before its own timeout
/// so it can report them as batch item failures.
pub async fn score_batch(
    client: &SignedClient,
    transactions: Vec<Transaction>,
    settings: &Settings,
    stop_at: Option<Instant>,
) -> Report {
    let count = transactions.len();
    let input = stream::iter(
        transactions
            .into_iter()
            .enumerate()
            .map(|(index, tx)| Indexed { index, tx }),
    );
    let retry = retry_transient(Retry::exponential(
        Duration::from_millis(50),
        Duration::from_secs(2),
        settings.max_retries,
    ));
    let scored = AsyncIo::unordered(settings.capacity)
        .timeout(settings.timeout)
        .retry(retry)
        .retry_budget(RetryBudget::new(settings.retry_ratio, 5.0))
        .run(input, client.json::<Score>());
    let mut scored = std::pin::pin!(scored);

    let mut verdicts: Vec<Option<Verdict>> = vec![None; count];
    let mut latencies = Vec::with_capacity(count);
    loop {
        let next = match stop_at {
            Some(at) => match tokio::time::timeout_at(at, scored.next()).await {
                Ok(next) => next,
                Err(_) => {
                    let unfinished = scored.as_mut().drain();
                    tracing::warn!(
                        unfinished = unfinished.len(),
                        "stopping before the invocation's deadline"
                    );
                    for left in unfinished {
                        verdicts[left.index] = Some(Verdict::Unfinished);
                    }
                    break;
                }
            },
            None => scored.next().await,
        };
        let Some(done) = next else { break };
        let Indexed { index, tx } = done.input;
        let verdict = match done.outcome {
            Outcome::Ok(reply) | Outcome::Fallback(reply) => {
                latencies.push(done.elapsed);
                verdict_of(tx, reply)
            }
            Outcome::TimedOut => Verdict::TimedOut,
            Outcome::Failed(error) => Verdict::Failed(error_chain(&error)),
            _ => Verdict::Failed("unknown outcome".into()),
        };
        verdicts[index] = Some(verdict);
    }
    Report {
        verdicts: verdicts
            .into_iter()
            .map(|v| v.unwrap_or(Verdict::Unfinished))
            .collect(),
        metrics: scored.metrics(),
        latencies,
    }
}

fn verdict_of(tx: Transaction, reply: Reply<Score>) -> Verdict {
    let status = reply.status.as_u16();
    match reply.value {
        Some(score) => Verdict::Scored(Box::new(Scored {
            transaction: tx,
            fraud_score: score.fraud_score,
            model_version: score.model_version,
        })),
        None if status == 429 || status >= 500 => {
            Verdict::Failed(format!("the model answered {status} after every retry"))
        }
        None => Verdict::Refused {
            status,
            message: String::from_utf8_lossy(&reply.error_body).into_owned(),
        },
    }
}

/// An error and its sources on one line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
