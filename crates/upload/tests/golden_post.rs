//! Presigned POST policies against boto3's `generate_presigned_post`.
//!
//! `golden/post_vectors.json` is written by `golden/generate.py` (boto3/botocore 1.43.11, a
//! fixed clock, AWS's example credentials). Each case holds its inputs as data and boto3's
//! output; here every case is replayed through [`PostPolicy`] and the policy document, the
//! signature and every form field (name, value and order) must be boto3's, byte for byte.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use lambdakit_upload::{CannedAcl, Credentials, KeyPrefix, ObjectKey, PostPolicy, Presigner};
use serde_json::Value;

const VECTORS: &str = include_str!("golden/post_vectors.json");

fn vectors() -> Vec<Value> {
    let all: Value = serde_json::from_str(VECTORS).expect("post_vectors.json is JSON");
    assert_eq!(
        all["botocore"], "1.43.11",
        "vectors from the pinned botocore"
    );
    all["cases"].as_array().expect("cases").clone()
}

fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field:?} is a string in {v}"))
}

fn u64_of(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field:?} is an integer in {v}"))
}

fn acl(name: &str) -> CannedAcl {
    match name {
        "private" => CannedAcl::Private,
        "public-read" => CannedAcl::PublicRead,
        "authenticated-read" => CannedAcl::AuthenticatedRead,
        "bucket-owner-read" => CannedAcl::BucketOwnerRead,
        "bucket-owner-full-control" => CannedAcl::BucketOwnerFullControl,
        other => panic!("unknown canned ACL {other:?}"),
    }
}

/// The builder calls a case describes, in its order.
fn policy_of(case: &Value) -> PostPolicy {
    let mut policy = match (case["key"].as_str(), case["filename_prefix"].as_str()) {
        (Some(key), None) => PostPolicy::new(ObjectKey::parse(key).expect("valid key")),
        (None, Some(prefix)) => {
            PostPolicy::with_filename(KeyPrefix::parse(prefix).expect("valid prefix"))
        }
        _ => panic!("a case has either a key or a filename prefix: {case}"),
    };
    for op in case["ops"].as_array().expect("ops") {
        policy = match str_of(op, "op") {
            "field" => policy.field(str_of(op, "name"), str_of(op, "value")),
            "content_type" => policy.content_type(str_of(op, "value")),
            "acl" => policy.acl(acl(str_of(op, "value"))),
            "success_action_status" => policy.success_action_status(
                u16::try_from(u64_of(op, "status")).expect("status fits u16"),
            ),
            "success_action_redirect" => policy.success_action_redirect(str_of(op, "url")),
            "metadata" => policy.metadata(str_of(op, "name"), str_of(op, "value")),
            "starts_with" => policy.starts_with(str_of(op, "field"), str_of(op, "prefix")),
            "content_length_range" => {
                policy.content_length_range(u64_of(op, "min"), u64_of(op, "max"))
            }
            other => panic!("unknown op {other:?}"),
        };
    }
    if let Some(secs) = case["expires_in"].as_u64() {
        policy = policy.expires_in(Duration::from_secs(secs));
    }
    policy
}

fn credentials_of(case: &Value) -> Credentials {
    let creds = Credentials::new(
        str_of(case, "access_key_id"),
        str_of(case, "secret_access_key"),
    );
    match case["session_token"].as_str() {
        Some(token) => creds.with_session_token(token),
        None => creds,
    }
}

fn clock_of(case: &Value) -> SystemTime {
    SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64_of(case, "epoch_seconds"))
        + Duration::from_micros(u64_of(case, "subsec_micros"))
}

fn decode_policy(b64: &str) -> String {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("policy is base64");
    String::from_utf8(raw).expect("policy is UTF-8")
}

#[test]
fn post_policies_match_boto3_byte_for_byte() {
    let cases = vectors();
    assert!(!cases.is_empty());
    for case in &cases {
        let name = str_of(case, "name");
        let bucket = str_of(case, "bucket");
        let boto3 = &case["boto3"];
        let presigner = Presigner::builder()
            .bucket(bucket)
            .region(str_of(case, "region"))
            .build()
            .expect("presigner");
        let now = clock_of(case);
        let signed = policy_of(case)
            .sign(&presigner, &credentials_of(case), now)
            .unwrap_or_else(|e| panic!("{name}: signing failed: {e}"));

        // The decoded document first: a mismatch here is readable, unlike in base64.
        let ours = signed.fields.get("policy").expect("policy field");
        assert_eq!(
            decode_policy(ours),
            str_of(boto3, "policy"),
            "{name}: policy document"
        );
        let expected: Vec<(String, String)> = boto3["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().expect("field name").to_owned(),
                    pair[1].as_str().expect("field value").to_owned(),
                )
            })
            .collect();
        let field = |name: &str| {
            expected
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(Some(ours), field("policy"), "{name}: base64 policy");
        assert_eq!(
            signed.fields.get("x-amz-signature"),
            field("x-amz-signature"),
            "{name}: x-amz-signature"
        );
        assert_eq!(signed.fields.0, expected, "{name}: form fields and order");

        // The URL is not signed, and boto3's depends on its client configuration. Its default
        // client posts to the global `https://<bucket>.s3.amazonaws.com/` in every region of
        // the aws partition (botocore's `_should_use_global_endpoint`; S3 routes it to the
        // bucket's region, though a bucket younger than a day may answer with a redirect).
        // lambdakit always uses the regional host, as boto3 does with
        // `addressing_style="virtual"` and `us_east_1_regional_endpoint="regional"`: that
        // URL is `regional_url`, and it must be ours, in us-east-1 as well.
        let regional = str_of(boto3, "regional_url");
        if bucket.contains('.') {
            // Path style: boto3 leaves off the slash after the bucket, which S3 accepts
            // either way; lambdakit always ends the form's action with `/`.
            assert_eq!(signed.url, format!("{regional}/"), "{name}: url");
        } else {
            assert_eq!(signed.url, regional, "{name}: url");
            assert_eq!(
                str_of(boto3, "url"),
                format!("https://{bucket}.s3.amazonaws.com/"),
                "{name}: boto3's default client uses the global endpoint"
            );
        }

        // `expires_at` agrees with the policy's `expiration` to the second (the policy, like
        // `x-amz-date`, drops the clock's fraction of a second).
        let expires = case["expires_in"].as_u64().unwrap_or(3600);
        let expires_at = signed
            .expires_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        assert_eq!(
            expires_at,
            u64_of(case, "epoch_seconds") + expires,
            "{name}: expires_at"
        );
    }
}

#[test]
fn vectors_cover_what_the_claim_is_about() {
    // Regenerating must not quietly drop the cases the byte-for-byte claim rests on.
    let cases = vectors();
    let any = |pred: &dyn Fn(&Value) -> bool| cases.iter().any(pred);
    let policy_has = |needle: &str| any(&|c| str_of(&c["boto3"], "policy").contains(needle));
    assert!(any(&|c| c["region"] == "us-east-1"));
    assert!(any(&|c| c["region"] == "eu-west-1"));
    assert!(any(&|c| c["session_token"].is_string()));
    assert!(any(&|c| c["filename_prefix"].is_string()));
    assert!(any(&|c| c["expires_in"].is_null()));
    assert!(any(&|c| c["expires_in"].as_u64() == Some(7 * 24 * 3600)));
    assert!(any(&|c| u64_of(c, "subsec_micros") > 0));
    for needle in [
        "\"acl\"",
        "success_action_status",
        "success_action_redirect",
        "x-amz-meta-",
        "content-length-range",
        "starts-with",
        "x-amz-security-token",
        r"\u00e9",
        r"\ud83d\ude00",
        r#"\"hi\" \\ "#,
        r"\t",
        r"\u007f",
    ] {
        assert!(policy_has(needle), "no vector's policy holds {needle}");
    }
}
