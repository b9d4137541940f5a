//! Algorithms pinned per key: each supported algorithm verifies, and every way of making a
//! key verify a token it was not meant for fails (`alg: none`, HS256 keyed with the RSA public
//! key, an `alg` other than the JWK's, `use: enc`, a `kty` or `crv` that does not fit).

#![cfg(feature = "jwt")]

mod jwt_common;

use aws_lc_rs::hmac;
use jwt_common::*;
use lambdakit_auth::jwt::{Algorithm, JwtErrorKind};
use serde_json::json;

async fn verifies(key: TestKey, expected: Algorithm) {
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = oidc_verifier(&server);
    let claims = verifier
        .verify(&key.token(&oidc_claims()))
        .await
        .unwrap_or_else(|e| panic!("{} token refused: {e}", key.alg));
    assert_eq!(claims.algorithm(), expected);
    assert_eq!(claims.key_id(), key.kid);
    assert_eq!(claims.sub(), Some("user-1"));
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn rs256_verifies() {
    verifies(TestKey::rsa("rs256", "RS256"), Algorithm::Rs256).await;
}

#[tokio::test]
async fn rs384_verifies() {
    verifies(TestKey::rsa("rs384", "RS384"), Algorithm::Rs384).await;
}

#[tokio::test]
async fn rs512_verifies() {
    verifies(TestKey::rsa("rs512", "RS512"), Algorithm::Rs512).await;
}

#[tokio::test]
async fn es256_verifies() {
    verifies(TestKey::ec("es256", "ES256"), Algorithm::Es256).await;
}

#[tokio::test]
async fn es384_verifies() {
    verifies(TestKey::ec("es384", "ES384"), Algorithm::Es384).await;
}

#[tokio::test]
async fn eddsa_verifies() {
    verifies(TestKey::ed25519("ed"), Algorithm::EdDsa).await;
}

#[tokio::test]
async fn rsa_key_without_alg_verifies_each_rsa_algorithm() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk_with(|j| {
        j.remove("alg");
    })]))
    .await;
    let verifier = oidc_verifier(&server);
    assert!(verifier.verify(&key.token(&oidc_claims())).await.is_ok());
    // The same key material, but with RS384 signing: only the JWK's lack of alg permits it.
    let rs384 = TestKey::rsa("k", "RS384");
    assert!(verifier.verify(&rs384.token(&oidc_claims())).await.is_ok());
}

#[tokio::test]
async fn a_tampered_payload_fails_the_signature() {
    let key = TestKey::ec("k", "ES256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = oidc_verifier(&server);
    let token = key.token(&oidc_claims());
    let forged_claims = with(oidc_claims(), &[("sub", json!("admin"))]);
    let forged_payload = b64(forged_claims.to_string().as_bytes());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert_eq!(
        kind(verifier.verify(&forged).await),
        JwtErrorKind::InvalidSignature
    );
}

#[tokio::test]
async fn a_signature_by_another_key_fails() {
    let published = TestKey::ec("k", "ES256");
    let attacker = TestKey::ec("k", "ES256");
    let server = JwksServer::start(jwks(&[published.jwk()])).await;
    let verifier = oidc_verifier(&server);
    assert_eq!(
        kind(verifier.verify(&attacker.token(&oidc_claims())).await),
        JwtErrorKind::InvalidSignature
    );
}

#[tokio::test]
async fn alg_none_is_refused_without_a_fetch() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = oidc_verifier(&server);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(json!({"alg": alg, "kid": "k"}).to_string().as_bytes());
        let payload = b64(oidc_claims().to_string().as_bytes());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}.c2ln"),
        ] {
            assert_eq!(
                kind(verifier.verify(&token).await),
                JwtErrorKind::UnsupportedAlgorithm,
                "{alg}"
            );
        }
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn hs256_keyed_with_the_rsa_public_key_is_refused() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = oidc_verifier(&server);
    // Warm the cache so the attack meets a known kid with an RS256 key.
    assert!(verifier.verify(&key.token(&oidc_claims())).await.is_ok());

    let jwk = key.jwk();
    let n = jwk["n"].as_str().unwrap_or_default();
    // Every form of "the public key" a confused verifier might use as the HMAC secret.
    let secrets: Vec<Vec<u8>> = vec![
        serde_json::to_vec(&jwk).unwrap_or_default(),
        n.as_bytes().to_vec(),
        jwks(std::slice::from_ref(&jwk)),
    ];
    for alg in ["HS256", "HS384", "HS512"] {
        let hmac_alg = match alg {
            "HS256" => hmac::HMAC_SHA256,
            "HS384" => hmac::HMAC_SHA384,
            _ => hmac::HMAC_SHA512,
        };
        for secret in &secrets {
            let header = b64(json!({"alg": alg, "kid": "k", "typ": "JWT"})
                .to_string()
                .as_bytes());
            let payload = b64(oidc_claims().to_string().as_bytes());
            let input = format!("{header}.{payload}");
            let tag = hmac::sign(&hmac::Key::new(hmac_alg, secret), input.as_bytes());
            let token = format!("{input}.{}", b64(tag.as_ref()));
            assert_eq!(
                kind(verifier.verify(&token).await),
                JwtErrorKind::UnsupportedAlgorithm,
                "{alg}"
            );
        }
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_token_alg_other_than_the_jwk_alg_is_refused() {
    // The JWK says RS256; the token is a valid RS512 signature by the same key material.
    let rs256 = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[rs256.jwk()])).await;
    let verifier = oidc_verifier(&server);
    let rs384 = TestKey::rsa("k", "RS384");
    assert_eq!(
        kind(verifier.verify(&rs384.token(&oidc_claims())).await),
        JwtErrorKind::KeyMismatch
    );
    // An ES256 token naming the RSA key's kid.
    let ec = TestKey::ec("k", "ES256");
    assert_eq!(
        kind(verifier.verify(&ec.token(&oidc_claims())).await),
        JwtErrorKind::KeyMismatch
    );
}

#[tokio::test]
async fn an_encryption_key_is_refused() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk_with(|j| {
        j.insert("use".into(), json!("enc"));
    })]))
    .await;
    let verifier = oidc_verifier(&server);
    let err = verifier.verify(&key.token(&oidc_claims())).await;
    assert_eq!(kind(err), JwtErrorKind::KeyMismatch);
}

#[tokio::test]
async fn kty_that_does_not_fit_the_alg_is_refused() {
    // An EC key published as kty RSA, and an RSA key claiming alg ES256.
    let ec = TestKey::ec("ec", "ES256");
    let rsa = TestKey::rsa("rsa", "RS256");
    let server = JwksServer::start(jwks(&[
        ec.jwk_with(|j| {
            j.insert("kty".into(), json!("RSA"));
        }),
        rsa.jwk_with(|j| {
            j.insert("alg".into(), json!("ES256"));
        }),
    ]))
    .await;
    let verifier = oidc_verifier(&server);
    assert_eq!(
        kind(verifier.verify(&ec.token(&oidc_claims())).await),
        JwtErrorKind::KeyMismatch
    );
    assert_eq!(
        kind(verifier.verify(&rsa.token(&oidc_claims())).await),
        JwtErrorKind::KeyMismatch
    );
}

#[tokio::test]
async fn crv_that_does_not_fit_the_alg_is_refused() {
    // A P-256 key published as P-384: its coordinates are the wrong size for the curve.
    let p256 = TestKey::ec("p256", "ES256");
    // A P-384 key published with alg ES256.
    let p384 = TestKey::ec("p384", "ES384");
    // An Ed25519 key published as X25519 (a key agreement curve).
    let ed = TestKey::ed25519("ed");
    // A valid P-256 key published without alg: its curve pins it to ES256.
    let unpinned = TestKey::ec("unpinned", "ES256");
    let server = JwksServer::start(jwks(&[
        unpinned.jwk_with(|j| {
            j.remove("alg");
        }),
        p256.jwk_with(|j| {
            j.insert("crv".into(), json!("P-384"));
            j.remove("alg");
        }),
        p384.jwk_with(|j| {
            j.insert("alg".into(), json!("ES256"));
        }),
        ed.jwk_with(|j| {
            j.insert("crv".into(), json!("X25519"));
        }),
    ]))
    .await;
    let verifier = oidc_verifier(&server);
    assert_eq!(
        kind(verifier.verify(&p256.token(&oidc_claims())).await),
        JwtErrorKind::KeyMismatch
    );
    assert_eq!(
        kind(verifier.verify(&p384.token(&oidc_claims())).await),
        JwtErrorKind::KeyMismatch
    );
    assert_eq!(
        kind(verifier.verify(&ed.token(&oidc_claims())).await),
        JwtErrorKind::KeyMismatch
    );
    assert!(
        verifier
            .verify(&unpinned.token(&oidc_claims()))
            .await
            .is_ok()
    );
    let header = json!({"alg": "ES384", "kid": "unpinned"});
    assert_eq!(
        kind(
            verifier
                .verify(&unpinned.sign(&header, &oidc_claims()))
                .await
        ),
        JwtErrorKind::KeyMismatch
    );
    assert_eq!(server.hits(), 1);
}
