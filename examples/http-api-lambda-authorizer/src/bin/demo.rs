//! `cargo xtask demo` for the HTTP API Lambda authorizers: the decisions API Gateway would get
//! for each caller and route. The API-key authorizer with the sample clients (a reporting
//! dashboard that may read, an ops tool that may do anything), the JWT authorizer with tokens
//! of a local stand-in for a Cognito user pool (a reader, an admin, an expired token), and the
//! backend answering with the authorizer's context. No AWS service or emulator is needed.
//!
//! Run with `cargo xtask demo`, or
//! `cargo run -p example-http-api-lambda-authorizer --features local --bin http-api-lambda-authorizer-demo`.

use example_http_api_lambda_authorizer::backend;
use example_http_api_lambda_authorizer::local::{
    BoxError, CognitoStandIn, OPS_KEY, REPORTING_KEY, api_key_authorizer, authorizer_event,
    backend_request,
};

const ROUTES: [&str; 4] = [
    "GET /reports",
    "GET /reports/{id}",
    "DELETE /reports/{id}",
    "POST /reports",
];

fn verdict(allowed: bool) -> &'static str {
    if allowed { "allow" } else { "deny" }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .init();

    println!("API keys (http-authorizer), cache key: Authorization + routeKey, TTL 300 s");
    let authorizer = api_key_authorizer()?;
    let callers = [
        (
            "reporting-dashboard",
            Some(format!("Bearer {REPORTING_KEY}")),
        ),
        ("ops-cli", Some(format!("Bearer {OPS_KEY}"))),
        ("unknown key", Some("Bearer lk_0000".to_owned())),
        ("no header", None),
    ];
    for (caller, header) in &callers {
        for route in ROUTES {
            let response = authorizer.authorize(authorizer_event(route, header.as_deref())?);
            println!(
                "  {caller:<20} {route:<22} {}",
                verdict(response.is_authorized)
            );
        }
    }

    println!(
        "  (without the header API Gateway answers 401 itself: an identity source is missing)"
    );

    println!(
        "\nCognito tokens (http-authorizer-jwt), rules: readers and admins read, admins delete"
    );
    let pool = CognitoStandIn::start().await?;
    let jwt = pool.authorizer()?;
    let mut expired = pool.access_claims("omar", &["admins"]);
    expired["exp"] = serde_json::json!(1_768_475_100);
    let tokens = [
        ("jane (readers)", pool.bearer("jane", &["readers"])?),
        ("omar (admins)", pool.bearer("omar", &["admins"])?),
        ("omar, expired", format!("Bearer {}", pool.sign(&expired)?)),
    ];
    for (who, token) in &tokens {
        for route in ROUTES {
            let response = jwt.authorize(authorizer_event(route, Some(token))?).await;
            println!(
                "  {who:<20} {route:<22} {}",
                verdict(response.is_authorized)
            );
        }
    }
    println!("  JWKS fetched {} time(s)", pool.hits());

    println!("\nBackend, behind an allowed request");
    let allowed = jwt
        .authorize(authorizer_event(
            "DELETE /reports/{id}",
            Some(&tokens[1].1),
        )?)
        .await;
    let response = backend::handle(&backend_request("DELETE /reports/{id}", &allowed.context)?);
    println!(
        "  {} {}",
        response.status(),
        String::from_utf8_lossy(response.body().as_ref())
    );
    Ok(())
}
