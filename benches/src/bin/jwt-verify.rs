//! JWT verification with lambdakit-auth, warm JWKS cache: tokens per second on one core.
//!
//! Run with `cargo build --release --package lambdakit-benches --bin jwt-verify` and then
//! `node benches/jwt_vs_aws_jwt_verify.mjs target/release/jwt-verify`, which generates the
//! keys and tokens, runs this binary on them and aws-jwt-verify on the same tokens, and prints
//! the ratio. By hand: `target/release/jwt-verify DIR SECONDS [ROUNDS]`, where DIR holds what
//! the script writes:
//!
//! - `config.json`: `{"userPoolId", "clientId", "issuer"}`;
//! - `jwks.json`: the user pool's JWKS (an RS256 and an ES256 key);
//! - `tokens-RS256.txt`, `tokens-ES256.txt`: one Cognito access token per line.
//!
//! The verifier is a `CognitoUserPool::access_tokens` verifier, as an API Gateway authorizer
//! would build it; the JWKS is put in its cache with `cache_jwks` (aws-jwt-verify's
//! `cacheJwks`), so no network is used. On a current-thread tokio runtime (one thread), each
//! token is verified once untimed (they must all pass), then the tokens are verified in turn,
//! with `verify(token).await`, for at least SECONDS; that ROUNDS times (default 1), keeping
//! the fastest round.
//!
//! Then, as a floor, the same signatures alone: the tokens split and base64url-decoded before
//! the clock starts, and only aws-lc-rs's `ParsedPublicKey::verify_sig` in the loop (the call
//! lambdakit-auth makes). No JWT verifier on this machine can beat that rate with aws-lc-rs.
//!
//! It prints one JSON line per algorithm with both rates, against wall-clock time and against
//! the process's CPU time (user + system, from `/proc/self/stat`).

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambdakit_auth::jwt::{CognitoUserPool, JwtVerifier};
use lambdakit_benches::cpu_time;
use serde_json::{Value, json};

/// Tokens verified between two looks at the clock.
const BATCH: usize = 256;

fn read(dir: &Path, name: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(name))
        .map_err(|e| format!("{}: {e}", dir.join(name).display()))
}

fn b64(field: &Value) -> Result<Vec<u8>, String> {
    let text = field.as_str().ok_or("a JWK member is not a string")?;
    URL_SAFE_NO_PAD.decode(text).map_err(|e| e.to_string())
}

/// The public key for `alg` in the JWKS, parsed once as lambdakit-auth parses it.
fn parsed_key(jwks: &Value, alg: &str) -> Result<ParsedPublicKey, String> {
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["alg"] == alg))
        .ok_or(format!("no {alg} key in jwks.json"))?;
    match alg {
        "RS256" => RsaPublicKeyComponents {
            n: b64(&jwk["n"])?,
            e: b64(&jwk["e"])?,
        }
        .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
        .map_err(|e| e.to_string()),
        "ES256" => {
            let mut point = vec![0x04];
            point.extend(b64(&jwk["x"])?);
            point.extend(b64(&jwk["y"])?);
            ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .map_err(|e| e.to_string())
        }
        other => Err(format!("no floor for {other}")),
    }
}

/// Runs `step` over the items in turn for at least `target`, `rounds` times, and returns the
/// rates of the fastest round (by CPU time): on a shared machine, other work only ever slows a
/// round down, so the best round is the closest to the code's own speed.
async fn timed<T>(
    items: &[T],
    target: Duration,
    rounds: usize,
    mut step: impl AsyncFnMut(&T),
) -> Value {
    let mut best: Option<Value> = None;
    let mut i = 0usize;
    for _ in 0..rounds {
        let cpu_start = cpu_time();
        let start = Instant::now();
        let mut n = 0usize;
        while start.elapsed() < target {
            for _ in 0..BATCH {
                step(black_box(&items[i])).await;
                i = (i + 1) % items.len();
            }
            n += BATCH;
        }
        let round = rates(
            n,
            start.elapsed().as_secs_f64(),
            (cpu_time() - cpu_start).as_secs_f64(),
        );
        if best
            .as_ref()
            .is_none_or(|b| b["per_cpu_second"].as_f64() < round["per_cpu_second"].as_f64())
        {
            best = Some(round);
        }
    }
    best.unwrap_or(Value::Null)
}

fn rates(n: usize, wall: f64, cpu: f64) -> Value {
    json!({
        "n": n,
        "elapsed_s": wall,
        "cpu_s": cpu,
        "per_second": n as f64 / wall,
        "per_cpu_second": if cpu > 0.0 { n as f64 / cpu } else { 0.0 },
    })
}

async fn run(dir: &Path, seconds: f64, rounds: usize) -> Result<(), String> {
    let config: Value =
        serde_json::from_str(&read(dir, "config.json")?).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        config[name]
            .as_str()
            .map(str::to_owned)
            .ok_or(format!("config.json has no {name}"))
    };
    let verifier = JwtVerifier::builder()
        .cognito(CognitoUserPool::access_tokens(
            field("userPoolId")?,
            field("clientId")?,
        ))
        .build()
        .map_err(|e| e.to_string())?;
    let jwks_text = read(dir, "jwks.json")?;
    verifier
        .cache_jwks(&field("issuer")?, jwks_text.as_bytes())
        .map_err(|e| e.to_string())?;
    let jwks: Value = serde_json::from_str(&jwks_text).map_err(|e| e.to_string())?;

    for alg in ["RS256", "ES256"] {
        let tokens: Vec<String> = read(dir, &format!("tokens-{alg}.txt"))?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if tokens.is_empty() {
            return Err(format!("no {alg} tokens"));
        }
        for token in &tokens {
            verifier
                .verify(token)
                .await
                .map_err(|e| format!("an {alg} token was refused: {e}"))?;
        }
        let target = Duration::from_secs_f64(seconds);
        let mut line = timed(&tokens, target, rounds, async |token: &String| {
            black_box(verifier.verify(token).await.is_ok());
        })
        .await;

        let key = parsed_key(&jwks, alg)?;
        let split: Vec<(Vec<u8>, Vec<u8>)> = tokens
            .iter()
            .map(|t| {
                let (input, sig) = t.rsplit_once('.').ok_or("not a jws")?;
                Ok((
                    input.as_bytes().to_vec(),
                    URL_SAFE_NO_PAD.decode(sig).map_err(|e| e.to_string())?,
                ))
            })
            .collect::<Result<_, String>>()?;
        for (input, sig) in &split {
            key.verify_sig(input, sig)
                .map_err(|_| format!("an {alg} signature does not verify"))?;
        }
        let signature_only = timed(
            &split,
            target,
            rounds,
            async |(input, sig): &(Vec<u8>, Vec<u8>)| {
                black_box(key.verify_sig(input, sig).is_ok());
            },
        )
        .await;

        line["implementation"] = json!("lambdakit-auth");
        line["alg"] = json!(alg);
        line["tokens"] = json!(tokens.len());
        line["signature_only"] = signature_only;
        println!("{line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [dir, seconds, rest @ ..] if rest.len() <= 1 => {
            let rounds = rest.first().map_or(Ok(1), |r| r.parse::<usize>());
            match (seconds.parse::<f64>(), rounds) {
                (Ok(s), Ok(r)) if s > 0.0 && r > 0 => Some((dir.clone(), s, r)),
                _ => None,
            }
        }
        _ => None,
    };
    let Some((dir, seconds, rounds)) = parsed else {
        eprintln!(
            "usage: jwt-verify DIR SECONDS [ROUNDS] (DIR as written by \
             benches/jwt_vs_aws_jwt_verify.mjs; the best of ROUNDS runs of SECONDS each)"
        );
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Path::new(&dir), seconds, rounds)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jwt-verify: {e}");
            ExitCode::FAILURE
        }
    }
}
