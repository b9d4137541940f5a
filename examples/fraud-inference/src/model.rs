//! The transaction schema and a small deterministic model standing in for the blog's
//! SageMaker endpoint.

use serde::{Deserialize, Serialize};

/// One card transaction, as the producer writes it to the `Transactions` stream
/// (`events/transactions.jsonl`; schema in `events/SOURCES.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// A unique id (downstream de-duplicates on it: delivery is at least once).
    pub transaction_id: String,
    /// When the card was used, RFC 3339 UTC.
    pub event_time: String,
    /// An opaque card token.
    pub card_id: String,
    /// The amount in `currency`.
    pub amount: f64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The merchant.
    pub merchant_id: String,
    /// ISO 18245 merchant category code.
    pub merchant_category: String,
    /// The client's IP address.
    pub source_ip: String,
    /// The country the IP address is in (ISO 3166 alpha-2).
    pub ip_country: String,
    /// The country that issued the card.
    pub card_country: String,
}

/// The model's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Probability-like score in `[0, 1]`; higher is more suspicious.
    pub fraud_score: f64,
    /// Which model produced it.
    pub model_version: String,
}

/// A transaction with its score: what the consumer writes to `ScoredTransactions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The transaction, fields at the top level.
    #[serde(flatten)]
    pub transaction: Transaction,
    /// The model's score.
    pub fraud_score: f64,
    /// Which model produced it.
    pub model_version: String,
}

/// The model's name and version.
pub const MODEL_VERSION: &str = "lambdakit-logistic-1";

/// Merchant categories with more card fraud: money orders and wires, quasi-cash, gambling,
/// direct marketing.
const RISKY_CATEGORIES: [&str; 5] = ["4829", "6051", "6540", "7995", "5967"];

/// Scores a transaction with a fixed logistic model: the country of the IP differing from the
/// card's, risky merchant categories and large amounts raise the score.
pub fn score(tx: &Transaction) -> Score {
    let mut z = -4.0;
    if !tx.ip_country.eq_ignore_ascii_case(&tx.card_country) {
        z += 3.5;
    }
    if RISKY_CATEGORIES.contains(&tx.merchant_category.as_str()) {
        z += 1.5;
    }
    let amount = if tx.amount.is_finite() {
        tx.amount.max(0.0)
    } else {
        0.0
    };
    z += 0.8 * (1.0 + amount).log10();
    Score {
        fraud_score: 1.0 / (1.0 + (-z).exp()),
        model_version: MODEL_VERSION.to_owned(),
    }
}

/// The model endpoint's handling of one request body: `200` with a [`Score`], or `400` with
/// API Gateway's error shape `{"message": ...}` for a body that is not a transaction.
pub fn answer(body: &[u8]) -> (u16, Vec<u8>) {
    match serde_json::from_slice::<Transaction>(body) {
        Ok(tx) => (
            200,
            serde_json::to_vec(&score(&tx)).unwrap_or_else(|_| b"{}".to_vec()),
        ),
        Err(e) => (
            400,
            serde_json::to_vec(&serde_json::json!({
                "message": format!("the body is not a transaction: {e}")
            }))
            .unwrap_or_default(),
        ),
    }
}

/// The `fraud-model` Lambda's handler: API Gateway `POST /score` (REST, payload 1.0) in, the
/// [`answer`] out as JSON.
pub async fn handle(
    request: lambda_http::Request,
) -> Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error> {
    let (status, body) = answer(request.body().as_ref());
    Ok(lambda_http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(body))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(amount: f64, ip: &str, card: &str, mcc: &str) -> Transaction {
        Transaction {
            transaction_id: "t".into(),
            event_time: "2024-05-01T12:00:00.000Z".into(),
            card_id: "card-1".into(),
            amount,
            currency: "USD".into(),
            merchant_id: "m".into(),
            merchant_category: mcc.into(),
            source_ip: "192.0.2.1".into(),
            ip_country: ip.into(),
            card_country: card.into(),
        }
    }

    #[test]
    fn foreign_ip_and_risky_merchants_raise_the_score() {
        let home = score(&tx(50.0, "US", "US", "5411")).fraud_score;
        let abroad = score(&tx(50.0, "RU", "US", "5411")).fraud_score;
        let risky = score(&tx(50.0, "RU", "US", "6051")).fraud_score;
        assert!(home < 0.1, "{home}");
        assert!(abroad > home && risky > abroad, "{home} {abroad} {risky}");
        assert!(risky > 0.5);
        let nonsense = score(&tx(f64::NAN, "US", "US", "5411")).fraud_score;
        assert!((0.0..=1.0).contains(&nonsense));
    }

    #[test]
    fn the_endpoint_answers_400_for_a_body_that_is_not_a_transaction() {
        let (status, body) = answer(b"Hello World");
        assert_eq!(status, 400);
        assert!(String::from_utf8_lossy(&body).contains("not a transaction"));
        let good = serde_json::to_vec(&tx(10.0, "US", "US", "5411")).expect("json");
        let (status, body) = answer(&good);
        assert_eq!(status, 200);
        let score: Score = serde_json::from_slice(&body).expect("score");
        assert_eq!(score.model_version, MODEL_VERSION);
    }
}
