//! The truststore bundle on chains made with rcgen: roots first, every intermediate after the
//! CA that signed it (its signature checked, not just its issuer's name), duplicates dropped,
//! and the mistakes that would leave every client certificate refused caught at deploy time.

use example_mtls_truststore::Error;
use example_mtls_truststore::bundle::{Source, build};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};

fn params(name: &str, ca: bool) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Tests");
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    } else {
        params.is_ca = IsCa::ExplicitNoCa;
    }
    params
}

fn root(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    CertifiedIssuer::self_signed(params(name, true), KeyPair::generate().expect("key"))
        .expect("root")
}

fn intermediate(
    name: &str,
    issuer: &CertifiedIssuer<'static, KeyPair>,
) -> CertifiedIssuer<'static, KeyPair> {
    CertifiedIssuer::signed_by(
        params(name, true),
        KeyPair::generate().expect("key"),
        issuer,
    )
    .expect("intermediate")
}

fn subjects(sources: &[Source]) -> Result<Vec<String>, Error> {
    Ok(build(sources)?
        .certificates()
        .iter()
        .map(|c| c.subject.clone())
        .collect())
}

#[test]
fn a_two_level_chain_given_bottom_up_is_stored_top_down_once() {
    let root = root("Root");
    let policy = intermediate("Policy CA", &root);
    let issuing = intermediate("Issuing CA", &policy);
    let bundle_text = format!("{}{}", issuing.pem(), policy.pem());
    let sources = [
        Source::new("Certificates[0]", bundle_text),
        Source::new("Certificates[1]", root.pem()),
        Source::new("s3://pki/root.pem", root.pem()),
    ];
    let bundle = build(&sources).expect("bundle");
    assert_eq!(
        bundle
            .certificates()
            .iter()
            .map(|c| c.subject.as_str())
            .collect::<Vec<_>>(),
        [
            "O=Tests, CN=Root",
            "O=Tests, CN=Policy CA",
            "O=Tests, CN=Issuing CA"
        ]
    );
    assert_eq!(bundle.duplicates(), 1);
    assert!(bundle.certificates()[0].root);
    assert!(!bundle.certificates()[1].root);
    assert_eq!(bundle.certificates()[0].origin, "Certificates[1] line 1");
    assert_eq!(
        bundle.pem(),
        format!("{}{}{}", root.pem(), policy.pem(), issuing.pem()).replace("\r\n", "\n")
    );
}

#[test]
fn several_roots_keep_their_order_and_each_intermediate_follows_its_own() {
    let (a, b) = (root("Root A"), root("Root B"));
    let under_b = intermediate("Issuing B", &b);
    let under_a = intermediate("Issuing A", &a);
    let sources = [
        Source::new("x", under_b.pem()),
        Source::new("y", a.pem()),
        Source::new("z", under_a.pem()),
        Source::new("w", b.pem()),
    ];
    assert_eq!(
        subjects(&sources).expect("bundle"),
        [
            "O=Tests, CN=Root A",
            "O=Tests, CN=Root B",
            "O=Tests, CN=Issuing B",
            "O=Tests, CN=Issuing A"
        ]
    );
}

#[test]
fn an_intermediate_signed_by_another_key_of_the_same_name_is_refused() {
    let genuine = root("Root");
    let impostor = root("Root");
    let forged = intermediate("Issuing CA", &impostor);
    let Err(Error::Certificate(reason)) = build(&[
        Source::new("Certificates[0]", genuine.pem()),
        Source::new("Certificates[1]", forged.pem()),
    ]) else {
        panic!("the forged intermediate must be refused");
    };
    assert!(
        reason.starts_with("Certificates[1] line 1: O=Tests, CN=Issuing CA names O=Tests, CN=Root")
            && reason.contains("no certificate of that name in the bundle signed it"),
        "{reason}"
    );
}

#[test]
fn a_missing_link_is_named() {
    let root = root("Root");
    let policy = intermediate("Policy CA", &root);
    let issuing = intermediate("Issuing CA", &policy);
    let Err(Error::Certificate(reason)) = build(&[
        Source::new("a", root.pem()),
        Source::new("b", issuing.pem()),
    ]) else {
        panic!("incomplete");
    };
    assert!(
        reason.contains("was issued by O=Tests, CN=Policy CA, which is not in the bundle"),
        "{reason}"
    );
}

#[test]
fn client_certificates_and_unconstrained_intermediates_are_refused() {
    let root = root("Root");
    let leaf = params("client.example.com", false)
        .signed_by(&KeyPair::generate().expect("key"), &root)
        .expect("leaf");
    let Err(Error::Certificate(reason)) =
        build(&[Source::new("a", root.pem()), Source::new("b", leaf.pem())])
    else {
        panic!("a client certificate is not a CA");
    };
    assert!(
        reason.contains("is not a CA certificate (basicConstraints CA:FALSE)"),
        "{reason}"
    );

    let mut no_constraints = params("Half CA", true);
    no_constraints.is_ca = IsCa::NoCa;
    let half = no_constraints
        .signed_by(&KeyPair::generate().expect("key"), &root)
        .expect("cert");
    let Err(Error::Certificate(reason)) =
        build(&[Source::new("a", root.pem()), Source::new("b", half.pem())])
    else {
        panic!("an intermediate must say CA:TRUE");
    };
    assert!(
        reason.contains("has no basicConstraints CA:TRUE"),
        "{reason}"
    );
}

#[test]
fn expired_certificates_are_kept_and_reported() {
    let mut old = params("Old Root", true);
    old.not_before = rcgen::date_time_ymd(2001, 1, 1);
    old.not_after = rcgen::date_time_ymd(2011, 1, 1);
    let old = CertifiedIssuer::self_signed(old, KeyPair::generate().expect("key")).expect("old");
    let current = root("Current Root");
    let bundle =
        build(&[Source::new("a", old.pem()), Source::new("b", current.pem())]).expect("bundle");
    assert_eq!(bundle.len(), 2);
    let now = 1_800_000_000; // 2027
    assert_eq!(bundle.expired(now), ["O=Tests, CN=Old Root"]);
}

#[test]
fn more_than_api_gateway_takes_is_refused() {
    let root = root("Root");
    let many: String = (0..1001)
        .map(|i| intermediate(&format!("CA {i}"), &root).pem())
        .collect();
    let Err(Error::Certificate(reason)) =
        build(&[Source::new("a", root.pem()), Source::new("b", many)])
    else {
        panic!("too many");
    };
    assert!(reason.contains("at most 1000"), "{reason}");
}
