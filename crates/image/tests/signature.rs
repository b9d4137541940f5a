//! Signed URLs and `expires`, with Serverless Image Handler's own cases as data
//! (`test/image-request/setup.spec.ts`, `recreate-query-string.spec.ts`,
//! `decode-request.spec.ts` of v8.0.1; `setup.spec.ts` of v6.3.3).

use std::collections::BTreeMap;

use lambdakit_image::signature::{
    self, SignatureMode, check_expires, query_string_to_sign, sign_url, verify,
};
use time::OffsetDateTime;
use time::macros::datetime;

/// setup.spec.ts (v6 and v8): this path signed with the key `secret`.
const SPEC_PATH: &str =
    "/eyJidWNrZXQiOiJ2YWxpZEJ1Y2tldCIsImtleSI6InZhbGlkS2V5IiwiZWRpdHMiOnsidG9Gb3JtYXQiOiJwbmcifX0=";
const SPEC_SIGNATURE: &str = "4d41311006641a56de7bca8abdbda91af254506107a2c7b338a13ca2fa95eac3";

fn q(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn serverless_image_handler_spec_signature_verifies_in_both_modes() {
    let query = q(&[("signature", SPEC_SIGNATURE)]);
    for mode in [SignatureMode::PathOnly, SignatureMode::PathAndQuery] {
        verify(SPEC_PATH, &query, b"secret", mode).expect("the spec's signature");
        assert_eq!(
            signature::signature(SPEC_PATH, &query, b"secret", mode),
            SPEC_SIGNATURE
        );
    }
}

#[test]
fn spec_errors_have_serverless_image_handler_bodies() {
    // Missing, empty: 400 AuthorizationQueryParametersError.
    for query in [q(&[]), q(&[("signature", "")]), q(&[("width", "1")])] {
        let e =
            verify(SPEC_PATH, &query, b"secret", SignatureMode::default()).expect_err("missing");
        assert_eq!(
            e.to_json(),
            r#"{"status":400,"code":"AuthorizationQueryParametersError","message":"Query-string requires the signature parameter."}"#
        );
    }
    // "invalid": 403 SignatureDoesNotMatch.
    let e = verify(
        SPEC_PATH,
        &q(&[("signature", "invalid")]),
        b"secret",
        SignatureMode::default(),
    )
    .expect_err("mismatch");
    assert_eq!(
        e.to_json(),
        r#"{"status":403,"code":"SignatureDoesNotMatch","message":"Signature does not match."}"#
    );
    assert_eq!(
        signature::validation_failure().to_json(),
        r#"{"status":500,"code":"SignatureValidationFailure","message":"Signature validation failed."}"#
    );
}

#[test]
fn recreate_query_string_spec_cases() {
    let cases = [
        (
            q(&[
                ("signature", "test-signature"),
                ("expires", "test-expires"),
                ("format", "png"),
            ]),
            "expires=test-expires&format=png",
        ),
        (
            q(&[
                ("grayscale", "true"),
                ("expires", "test-expires"),
                ("format", "png"),
            ]),
            "expires=test-expires&format=png&grayscale=true",
        ),
        (
            q(&[
                ("signature", "test-signature"),
                ("expires", "test-expires"),
                ("format", "png"),
                ("fit", "cover"),
                ("width", "100"),
                ("height", "100"),
                ("rotate", "90"),
                ("flip", "true"),
                ("flop", "true"),
                ("grayscale", "true"),
            ]),
            "expires=test-expires&fit=cover&flip=true&flop=true&format=png&grayscale=true&height=100&rotate=90&width=100",
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(query_string_to_sign(&query), expected);
    }
}

#[test]
fn v8_signs_path_and_sorted_query_v6_the_path_only() {
    // Expected values computed independently with Python's hmac module:
    // hmac.new(b"secret", (path + "?expires=20991231T235959Z&format=png&width=100").encode(), sha256)
    let query = q(&[
        ("width", "100"),
        ("format", "png"),
        ("expires", "20991231T235959Z"),
    ]);
    assert_eq!(
        signature::signature(SPEC_PATH, &query, b"secret", SignatureMode::PathAndQuery),
        "071eae4aceb6ecd5152c8ce61b92d3e0b862540725443e30deb964f97692d6f9"
    );
    assert_eq!(
        signature::signature(SPEC_PATH, &query, b"secret", SignatureMode::PathOnly),
        SPEC_SIGNATURE
    );
    // JavaScript's entry sort: "a+" before "a" (Python: b"/fit-in/200x300/a+.jpg?a+=1&a=2").
    assert_eq!(
        signature::signature(
            "/fit-in/200x300/a+.jpg",
            &q(&[("a", "2"), ("a+", "1")]),
            b"secret",
            SignatureMode::PathAndQuery
        ),
        "a61cb2939cdc671d07452984cf038b924f491ac223f292c5619b312a2fabbaed"
    );
    // A v6 signature does not verify in v8 mode once there is a query, and back.
    let mut signed = query.clone();
    signed.insert(
        "signature".into(),
        signature::signature(SPEC_PATH, &query, b"secret", SignatureMode::PathOnly),
    );
    verify(SPEC_PATH, &signed, b"secret", SignatureMode::PathOnly).expect("v6");
    assert_eq!(
        verify(SPEC_PATH, &signed, b"secret", SignatureMode::PathAndQuery)
            .expect_err("v8")
            .status(),
        403
    );
}

fn flip_one_byte(s: &str, at: usize) -> String {
    let mut bytes = s.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).expect("ascii")
}

#[test]
fn any_one_byte_change_fails() {
    let path = "/fit-in/300x200/filters:grayscale()/photos/cat.jpg";
    let query = q(&[("format", "webp"), ("width", "300")]);
    for mode in [SignatureMode::PathOnly, SignatureMode::PathAndQuery] {
        let sig = signature::signature(path, &query, b"k3y", mode);
        let mut signed = query.clone();
        signed.insert("signature".into(), sig.clone());
        verify(path, &signed, b"k3y", mode).expect("signed");

        for at in 0..path.len() {
            let e = verify(&flip_one_byte(path, at), &signed, b"k3y", mode).expect_err("path");
            assert_eq!(e.code(), "SignatureDoesNotMatch");
        }
        for at in 0..sig.len() {
            let mut bad = signed.clone();
            bad.insert("signature".into(), flip_one_byte(&sig, at));
            assert_eq!(
                verify(path, &bad, b"k3y", mode).expect_err("sig").code(),
                "SignatureDoesNotMatch"
            );
        }
        // Upper case hex is another string: Serverless Image Handler compares strings.
        let mut upper = signed.clone();
        upper.insert("signature".into(), sig.to_uppercase());
        assert!(verify(path, &upper, b"k3y", mode).is_err());
        // A truncated or extended signature.
        for other in [&sig[..63], &format!("{sig}0")] {
            let mut bad = signed.clone();
            bad.insert("signature".into(), other.to_owned());
            assert!(verify(path, &bad, b"k3y", mode).is_err());
        }
        assert!(verify(path, &signed, b"k3Y", mode).is_err(), "another key");
    }
    // Query changes fail in v8 mode only.
    let v8 = signature::signature(path, &query, b"k3y", SignatureMode::PathAndQuery);
    let v6 = signature::signature(path, &query, b"k3y", SignatureMode::PathOnly);
    for (name, value) in [("format", "webq"), ("width", "301"), ("height", "1")] {
        let mut bad = query.clone();
        bad.insert(name.into(), value.into());
        bad.insert("signature".into(), v8.clone());
        assert_eq!(
            verify(path, &bad, b"k3y", SignatureMode::PathAndQuery)
                .expect_err("query")
                .status(),
            403
        );
        bad.insert("signature".into(), v6.clone());
        verify(path, &bad, b"k3y", SignatureMode::PathOnly).expect("v6 ignores the query");
    }
}

fn parse_url(url: &str) -> (String, BTreeMap<String, String>) {
    let (path, query) = url.split_once('?').expect("a query");
    let query = query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("k=v");
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .expect("utf-8")
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect();
    (path.to_owned(), query)
}

#[test]
fn sign_url_round_trips() {
    let query = q(&[
        ("width", "100"),
        ("text", "a b&c=d/é"),
        ("expires", "20991231T235959Z"),
    ]);
    for mode in [SignatureMode::PathOnly, SignatureMode::PathAndQuery] {
        let url = sign_url("/photos/cat.jpg", &query, b"secret", mode);
        assert!(url.starts_with("/photos/cat.jpg?"), "{url}");
        assert!(url.contains("text=a%20b%26c%3Dd%2F%C3%A9"), "{url}");
        let (path, parsed) = parse_url(&url);
        verify(&path, &parsed, b"secret", mode).expect("round trip");
        assert!(url.ends_with(&format!("&signature={}", parsed["signature"])));
    }
    // No query: `?signature=` alone.
    let url = sign_url(
        SPEC_PATH,
        &BTreeMap::new(),
        b"secret",
        SignatureMode::PathAndQuery,
    );
    assert_eq!(url, format!("{SPEC_PATH}?signature={SPEC_SIGNATURE}"));
}

#[test]
fn expires_spec_cases() {
    let now = OffsetDateTime::now_utc();
    // decode-request.spec.ts.
    let expired = check_expires(&q(&[("expires", "19700101T000000Z")]), now).expect_err("past");
    assert_eq!(
        expired.to_json(),
        r#"{"status":400,"code":"ImageRequestExpired","message":"Request has expired."}"#
    );
    for bad in ["19700001T000000Z", "19700101S000000Z", "19700101T000000"] {
        let e = check_expires(&q(&[("expires", bad)]), now).expect_err(bad);
        assert_eq!(
            e.to_json(),
            r#"{"status":400,"code":"ImageRequestExpiryFormat","message":"Request has invalid expires value. The expires query param should map to a real date and follow the following format: YYYYMMDDTHHmmssZ (Ex: Jan 2nd, 1970 at 12:03:04PM UTC becomes 19700102T120304Z)."}"#
        );
    }
    assert_eq!(check_expires(&q(&[]), now).expect("none"), None);
}

#[test]
fn seconds_to_expiry_round_down() {
    let query = q(&[("expires", "20300101T000100Z")]);
    assert_eq!(
        check_expires(&query, datetime!(2030-01-01 00:00:00 UTC)).expect("ahead"),
        Some(60)
    );
    assert_eq!(
        check_expires(&query, datetime!(2030-01-01 00:00:00.5 UTC)).expect("ahead"),
        Some(59)
    );
    assert_eq!(
        check_expires(&query, datetime!(2030-01-01 00:01:00 UTC)).expect("now"),
        Some(0)
    );
    assert_eq!(
        check_expires(&query, datetime!(2030-01-01 00:01:00.001 UTC))
            .expect_err("just past")
            .code(),
        "ImageRequestExpired"
    );
}
