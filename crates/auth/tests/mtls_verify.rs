//! Client certificate verification: chain, usage, validity, revocation, malformed input.

#![cfg(feature = "mtls")]
#![allow(clippy::unwrap_used)]

mod mtls_support;

use lambdakit_auth::mtls::{
    ClientCertVerifier, CrlSet, MtlsErrorKind, PrincipalSource, RevocationCheck, RevocationDepth,
    SubjectAltName, TrustStore,
};
use mtls_support::*;
use rcgen::{ExtendedKeyUsagePurpose, KeyUsagePurpose, SerialNumber};

fn verifier(pki: &Pki) -> ClientCertVerifier {
    ClientCertVerifier::new(pki.truststore())
}

fn crls(bytes: &[u8]) -> CrlSet {
    CrlSet::parse(bytes).unwrap()
}

#[test]
fn valid_chain_root_intermediate_leaf_is_accepted_with_its_names() {
    let pki = Pki::new("Valid");
    let crls = crls(&pki.clean_crls());
    let pem = pki.client(client_params("client-1"));

    let cert = verifier(&pki)
        .verify(&pem, now(), RevocationCheck::Crls(&crls))
        .unwrap();

    assert_eq!(cert.subject().as_str(), "C=US,O=Example Corp,CN=client-1");
    assert_eq!(cert.subject().common_name(), Some("client-1"));
    assert_eq!(
        cert.issuer().as_str(),
        "C=US,O=Example Corp,CN=Valid Issuing CA"
    );
    assert_eq!(cert.serial_hex(), "1001");
    assert_eq!(cert.serial_der(), &[0x10, 0x01]);
    assert_eq!(
        cert.subject_alt_names(),
        &[
            SubjectAltName::Email("client-1@example.com".into()),
            SubjectAltName::Uri("spiffe://example.com/client-1".into()),
        ]
    );
    assert_eq!(cert.not_before(), now() - days(30));
    assert_eq!(cert.not_after(), now() + days(335));
    assert_eq!(cert.fingerprint_sha256().len(), 64);
    assert_eq!(
        cert.principal(PrincipalSource::CommonName).unwrap(),
        "client-1"
    );
    assert_eq!(
        cert.principal(PrincipalSource::Email).unwrap(),
        "client-1@example.com"
    );
    assert_eq!(
        cert.principal(PrincipalSource::Uri).unwrap(),
        "spiffe://example.com/client-1"
    );
    assert_eq!(
        cert.principal(PrincipalSource::SerialNumber).unwrap(),
        "1001"
    );
    let no_dns = cert.principal(PrincipalSource::Dns);
    assert_eq!(kind(no_dns), MtlsErrorKind::NoPrincipal);
}

#[test]
fn leaf_whose_extended_key_usage_lacks_client_auth_is_rejected() {
    let pki = Pki::new("ServerOnly");
    let crls = crls(&pki.clean_crls());
    let mut params = client_params("server");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];

    let result = verifier(&pki).verify(&pki.client(params), now(), RevocationCheck::Crls(&crls));

    assert_eq!(kind(result), MtlsErrorKind::InvalidUsage);
}

#[test]
fn leaf_without_extended_key_usage_is_rejected_unless_allowed() {
    let pki = Pki::new("NoEku");
    let crls = crls(&pki.clean_crls());
    let mut params = client_params("legacy");
    params.extended_key_usages = Vec::new();
    let pem = pki.client(params);

    let strict = verifier(&pki).verify(&pem, now(), RevocationCheck::Crls(&crls));
    let lenient = ClientCertVerifier::builder(pki.truststore())
        .require_client_auth_eku(false)
        .build()
        .verify(&pem, now(), RevocationCheck::Crls(&crls));

    assert_eq!(kind(strict), MtlsErrorKind::InvalidUsage);
    assert_eq!(lenient.unwrap().subject().common_name(), Some("legacy"));
}

#[test]
fn leaf_whose_key_usage_lacks_digital_signature_is_rejected() {
    let pki = Pki::new("KeyUsage");
    let crls = crls(&pki.clean_crls());
    let mut params = client_params("encipher-only");
    params.key_usages = vec![KeyUsagePurpose::KeyEncipherment];

    let result = verifier(&pki).verify(&pki.client(params), now(), RevocationCheck::Crls(&crls));

    assert_eq!(kind(result), MtlsErrorKind::InvalidUsage);
}

#[test]
fn ca_certificate_presented_as_client_certificate_is_rejected() {
    let pki = Pki::new("CaAsLeaf");
    let crls = crls(&pki.clean_crls());

    let result = verifier(&pki).verify(
        &cert_pem(pki.intermediate.der()),
        now(),
        RevocationCheck::Crls(&crls),
    );

    assert_eq!(kind(result), MtlsErrorKind::InvalidUsage);
}

#[test]
fn revoked_serial_is_rejected() {
    let pki = Pki::new("Revoked");
    let next = now() + days(7);
    let bytes =
        crl_pem(&pki.root_crl(&[], next)) + &crl_pem(&pki.intermediate_crl(&[&[0x10, 0x01]], next));
    let crls = crls(bytes.as_bytes());

    let result = verifier(&pki).verify(
        &pki.client(client_params("revoked")),
        now(),
        RevocationCheck::Crls(&crls),
    );

    assert_eq!(kind(result), MtlsErrorKind::Revoked);
}

#[test]
fn revoked_serial_with_high_bit_set_and_leading_zero_byte_is_rejected() {
    // 0x80... needs a 0x00 sign byte in DER: the certificate and the CRL both encode
    // 00 80 00 00 01, and the comparison is of those DER bytes.
    let pki = Pki::new("HighBit");
    let serial: &[u8] = &[0x80, 0x00, 0x00, 0x01];
    let mut params = client_params("high-bit");
    params.serial_number = Some(SerialNumber::from_slice(serial));
    let pem = pki.client(params);
    let next = now() + days(7);
    let revoking = crl_pem(&pki.root_crl(&[], next))
        + &crl_pem(&pki.intermediate_crl(&[&[0x00, 0x80, 0x00, 0x00, 0x01]], next));

    let result = verifier(&pki).verify(
        &pem,
        now(),
        RevocationCheck::Crls(&crls(revoking.as_bytes())),
    );

    assert_eq!(kind(result), MtlsErrorKind::Revoked);
}

#[test]
fn serial_that_differs_only_by_a_leading_byte_is_not_revoked() {
    // The CRL revokes 0x01 (DER 01); the certificate is 0x0101 (DER 01 01): different serials,
    // and the certificate reports its serial with the sign byte stripped from the hex only.
    let pki = Pki::new("Prefix");
    let mut params = client_params("prefix");
    params.serial_number = Some(SerialNumber::from_slice(&[0x80, 0x01]));
    let pem = pki.client(params);
    let next = now() + days(7);
    let crl = crl_pem(&pki.root_crl(&[], next))
        + &crl_pem(&pki.intermediate_crl(&[&[0x01], &[0x80]], next));

    let cert = verifier(&pki)
        .verify(&pem, now(), RevocationCheck::Crls(&crls(crl.as_bytes())))
        .unwrap();

    assert_eq!(cert.serial_der(), &[0x00, 0x80, 0x01]);
    assert_eq!(cert.serial_hex(), "8001");
}

#[test]
fn revoked_intermediate_is_rejected_with_chain_depth() {
    let pki = Pki::new("RevokedIntermediate");
    let next = now() + days(7);
    let bytes =
        crl_pem(&pki.root_crl(&[&[0x20]], next)) + &crl_pem(&pki.intermediate_crl(&[], next));

    let result = verifier(&pki).verify(
        &pki.client(client_params("child")),
        now(),
        RevocationCheck::Crls(&crls(bytes.as_bytes())),
    );

    assert_eq!(kind(result), MtlsErrorKind::Revoked);
}

#[test]
fn chain_depth_without_the_roots_crl_denies_and_end_entity_depth_accepts() {
    let pki = Pki::new("Depth");
    let only_intermediate = crls(&pki.intermediate_crl(&[], now() + days(7)));
    let pem = pki.client(client_params("depth"));

    let chain = verifier(&pki).verify(&pem, now(), RevocationCheck::Crls(&only_intermediate));
    let end_entity = ClientCertVerifier::builder(pki.truststore())
        .revocation_depth(RevocationDepth::EndEntity)
        .build()
        .verify(&pem, now(), RevocationCheck::Crls(&only_intermediate));

    assert_eq!(kind(chain), MtlsErrorKind::RevocationUnknown);
    assert!(end_entity.is_ok(), "{end_entity:?}");
}

#[test]
fn revocation_disabled_accepts_without_crls() {
    let pki = Pki::new("NoCrl");

    let result = verifier(&pki).verify(
        &pki.client(client_params("no-crl")),
        now(),
        RevocationCheck::Disabled,
    );

    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn expired_client_certificate_is_rejected() {
    let pki = Pki::new("Expired");
    let crls = crls(&pki.clean_crls());
    let mut params = client_params("expired");
    params.not_before = at(now() - days(400));
    params.not_after = at(now() - days(1));

    let result = verifier(&pki).verify(&pki.client(params), now(), RevocationCheck::Crls(&crls));

    assert_eq!(kind(result), MtlsErrorKind::Expired);
}

#[test]
fn not_yet_valid_client_certificate_is_rejected() {
    let pki = Pki::new("Future");
    let crls = crls(&pki.clean_crls());
    let mut params = client_params("future");
    params.not_before = at(now() + days(1));
    params.not_after = at(now() + days(400));

    let result = verifier(&pki).verify(&pki.client(params), now(), RevocationCheck::Crls(&crls));

    assert_eq!(kind(result), MtlsErrorKind::NotYetValid);
}

#[test]
fn validity_is_checked_against_the_time_passed_in() {
    let pki = Pki::new("Clock");
    let pem = pki.client(client_params("clock"));
    let verifier = verifier(&pki);

    let before = verifier.verify(&pem, now() - days(31), RevocationCheck::Disabled);
    let during = verifier.verify(&pem, now(), RevocationCheck::Disabled);
    let after = verifier.verify(&pem, now() + days(336), RevocationCheck::Disabled);

    assert_eq!(kind(before), MtlsErrorKind::NotYetValid);
    assert!(during.is_ok(), "{during:?}");
    assert_eq!(kind(after), MtlsErrorKind::Expired);
}

#[test]
fn certificate_from_another_ca_is_rejected() {
    let pki = Pki::new("Trusted");
    let other = Pki::new("Other");
    let crls = crls(&pki.clean_crls());

    let result = verifier(&pki).verify(
        &other.client(client_params("stranger")),
        now(),
        RevocationCheck::Crls(&crls),
    );

    assert_eq!(kind(result), MtlsErrorKind::UntrustedIssuer);
}

#[test]
fn truncated_pem_is_rejected() {
    let pki = Pki::new("Truncated");
    let pem = pki.client(client_params("truncated"));
    let verifier = verifier(&pki);

    let no_end = &pem[..pem.find("-----END").unwrap()];
    let half_body = &pem[..pem.len() / 2];
    let body_cut = {
        // Drop two base64 lines: the PEM is complete, the DER inside is cut short.
        let lines: Vec<&str> = pem.lines().collect();
        let mut kept = lines[..lines.len() - 3].to_vec();
        kept.push(lines[lines.len() - 1]);
        kept.join("\n")
    };

    for pem in [no_end, half_body, &body_cut] {
        let result = verifier.verify(pem, now(), RevocationCheck::Disabled);
        assert_eq!(kind(result), MtlsErrorKind::Malformed, "{pem}");
    }
}

#[test]
fn multi_block_pem_uses_the_first_as_client_certificate_and_the_rest_as_intermediates() {
    // A truststore with the root only: the intermediate must come from the client PEM.
    let pki = Pki::new("Multi");
    let root_only = TrustStore::from_pem(cert_pem(pki.root.der()).as_bytes()).unwrap();
    let verifier = ClientCertVerifier::new(root_only);
    let crls = crls(&pki.clean_crls());
    let leaf = pki.client(client_params("multi"));
    let intermediate = cert_pem(pki.intermediate.der());

    let leaf_only = verifier.verify(&leaf, now(), RevocationCheck::Crls(&crls));
    let leaf_then_intermediate = verifier.verify(
        &format!("{leaf}{intermediate}"),
        now(),
        RevocationCheck::Crls(&crls),
    );
    let intermediate_first = verifier.verify(
        &format!("{intermediate}{leaf}"),
        now(),
        RevocationCheck::Crls(&crls),
    );

    assert_eq!(kind(leaf_only), MtlsErrorKind::UntrustedIssuer);
    assert_eq!(
        leaf_then_intermediate.unwrap().subject().common_name(),
        Some("multi")
    );
    assert_eq!(kind(intermediate_first), MtlsErrorKind::InvalidUsage);
}

#[test]
fn untrusted_intermediate_sent_by_the_client_does_not_create_trust() {
    let pki = Pki::new("Trusted");
    let other = Pki::new("Rogue");
    let root_only = TrustStore::from_pem(cert_pem(pki.root.der()).as_bytes()).unwrap();
    let pem = other.client(client_params("rogue")) + &cert_pem(other.intermediate.der());

    let result = ClientCertVerifier::new(root_only).verify(&pem, now(), RevocationCheck::Disabled);

    assert_eq!(kind(result), MtlsErrorKind::UntrustedIssuer);
}

#[test]
fn garbage_pem_is_rejected() {
    let pki = Pki::new("Garbage");
    let verifier = verifier(&pki);
    let key_block = pem("PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
    let not_der = pem("CERTIFICATE", b"this is not a certificate");
    let bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let oversized = format!("{}{}", " ".repeat(70_000), pki.client(client_params("big")));
    let too_many = cert_pem(pki.intermediate.der()).repeat(9);

    for (input, expected) in [
        ("", (MtlsErrorKind::NoCertificate, "empty pem")),
        ("   \n", (MtlsErrorKind::NoCertificate, "empty pem")),
        (
            "CERT_CONTENT",
            (MtlsErrorKind::Malformed, "no CERTIFICATE block"),
        ),
        (
            "-----BEGIN CERTIFICATE-----",
            (MtlsErrorKind::Malformed, "not pem"),
        ),
        (bad_base64, (MtlsErrorKind::Malformed, "not pem")),
        (
            key_block.as_str(),
            (MtlsErrorKind::Malformed, "unexpected pem block"),
        ),
        (
            not_der.as_str(),
            (MtlsErrorKind::Malformed, "does not parse"),
        ),
        (
            oversized.as_str(),
            (MtlsErrorKind::Malformed, "larger than"),
        ),
        (too_many.as_str(), (MtlsErrorKind::Malformed, "more than 8")),
    ] {
        let error = refusal(verifier.verify(input, now(), RevocationCheck::Disabled));
        assert_eq!(error.kind(), expected.0, "{input:.80}");
        assert!(error.detail().contains(expected.1), "{error}");
        assert_eq!(error.status(), expected.0.status());
    }
}

#[test]
fn crl_with_a_bad_signature_denies() {
    // Same issuer name as the intermediate, signed by another key.
    let pki = Pki::new("BadSig");
    let forger = rcgen::Issuer::new(
        ca_params("BadSig Issuing CA"),
        rcgen::KeyPair::generate().unwrap(),
    );
    let next = now() + days(7);
    let bytes =
        crl_pem(&pki.root_crl(&[], next)) + &crl_pem(&crl(&forger, &[], now() - days(1), next));

    let result = verifier(&pki).verify(
        &pki.client(client_params("bad-sig")),
        now(),
        RevocationCheck::Crls(&crls(bytes.as_bytes())),
    );

    let error = refusal(result);
    assert_eq!(error.kind(), MtlsErrorKind::CrlInvalid);
    assert!(
        error.detail().contains("InvalidCrlSignatureForPublicKey"),
        "{error}"
    );
    assert_eq!(error.status(), 500);
}

#[test]
fn crl_from_the_wrong_issuer_denies() {
    let pki = Pki::new("Right");
    let other = Pki::new("Wrong");
    let next = now() + days(7);
    let bytes = crl_pem(&pki.root_crl(&[], next)) + &crl_pem(&other.intermediate_crl(&[], next));

    let result = verifier(&pki).verify(
        &pki.client(client_params("wrong-issuer")),
        now(),
        RevocationCheck::Crls(&crls(bytes.as_bytes())),
    );

    assert_eq!(kind(result), MtlsErrorKind::RevocationUnknown);
}

#[test]
fn crl_past_next_update_denies() {
    let pki = Pki::new("Stale");
    let stale = now() - days(1) + std::time::Duration::from_secs(3600);
    let bytes = crl_pem(&pki.root_crl(&[], now() + days(7)))
        + &crl_pem(&crl(&pki.intermediate, &[], now() - days(2), stale));

    let result = verifier(&pki).verify(
        &pki.client(client_params("stale")),
        now(),
        RevocationCheck::Crls(&crls(bytes.as_bytes())),
    );

    assert_eq!(kind(result), MtlsErrorKind::CrlExpired);
}

#[test]
fn crl_set_parses_concatenated_der_and_refuses_garbage() {
    let pki = Pki::new("Parse");
    let next = now() + days(7);
    let mut der = pki.root_crl(&[], next);
    der.extend(pki.intermediate_crl(&[], now() + days(3)));

    let set = CrlSet::parse(&der).unwrap();

    assert_eq!(set.len(), 2);
    assert_eq!(set.next_update(), now() + days(3));
    for garbage in [
        &b""[..],
        b"garbage",
        &der[..der.len() - 1],
        cert_pem(pki.root.der()).as_bytes(),
    ] {
        assert_eq!(
            kind(CrlSet::parse(garbage)),
            MtlsErrorKind::CrlInvalid,
            "{garbage:?}"
        );
    }
}

#[test]
fn truststore_refuses_garbage_and_bundles_without_a_root() {
    let pki = Pki::new("Store");

    let intermediate_only = TrustStore::from_pem(cert_pem(pki.intermediate.der()).as_bytes());
    let store = pki.truststore();

    let no_root = refusal(intermediate_only);
    assert_eq!(no_root.kind(), MtlsErrorKind::InvalidTruststore);
    assert!(
        no_root.detail().contains("no self-signed root"),
        "{no_root}"
    );
    assert_eq!(
        kind(TrustStore::from_pem(b"junk")),
        MtlsErrorKind::InvalidTruststore
    );
    assert_eq!(
        kind(TrustStore::from_pem(b"")),
        MtlsErrorKind::InvalidTruststore
    );
    assert_eq!((store.root_count(), store.intermediate_count()), (1, 1));
}

#[test]
fn mutated_certificates_never_panic_and_never_verify() {
    let pki = Pki::new("Fuzz");
    let verifier = verifier(&pki);
    let crls = crls(&pki.clean_crls());
    let key = rcgen::KeyPair::generate().unwrap();
    let der = client_params("fuzz")
        .signed_by(&key, &pki.intermediate)
        .unwrap()
        .der()
        .to_vec();

    proptest::proptest!(|(index in 0..der.len(), byte in proptest::num::u8::ANY, cut in 0..der.len())| {
        let mut mutated = der.clone();
        proptest::prop_assume!(mutated[index] != byte);
        mutated[index] = byte;
        let result = verifier.verify(&cert_pem(&mutated), now(), RevocationCheck::Crls(&crls));
        proptest::prop_assert!(result.is_err());
        let truncated = verifier.verify(&cert_pem(&der[..cut]), now(), RevocationCheck::Crls(&crls));
        proptest::prop_assert!(truncated.is_err());
    });
}
