//! A throwaway PKI for the mutual TLS tests: root -> intermediate -> client certificates and
//! CRLs, all generated with rcgen at test time. Nothing here is a fixture on disk.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use lambdakit_auth::Error;
use lambdakit_auth::mtls::{CrlFetcher, FetchFuture, MtlsError, MtlsErrorKind, TrustStore};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use time::OffsetDateTime;

/// The instant the tests verify at: 2026-06-01T00:00:00Z.
pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_272_000)
}

pub fn at(time: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(time)
}

pub fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

pub fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

pub fn cert_pem(der: &[u8]) -> String {
    pem("CERTIFICATE", der)
}

pub fn crl_pem(der: &[u8]) -> String {
    pem("X509 CRL", der)
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::OrganizationName, "Example Corp");
    dn.push(DnType::CommonName, cn);
    dn
}

pub fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = at(now() - days(365));
    params.not_after = at(now() + days(3650));
    params
}

/// A client certificate's parameters: clientAuth, digitalSignature, an e-mail and a URI SAN,
/// valid from 30 days before [`now`] to 335 days after.
pub fn client_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(cn);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.subject_alt_names = vec![
        SanType::Rfc822Name(format!("{cn}@example.com").try_into().unwrap()),
        SanType::URI(format!("spiffe://example.com/{cn}").try_into().unwrap()),
    ];
    params.serial_number = Some(SerialNumber::from(0x1001u64));
    params.not_before = at(now() - days(30));
    params.not_after = at(now() + days(335));
    params
}

pub type Ca = CertifiedIssuer<'static, KeyPair>;

/// root -> intermediate; client certificates are issued by the intermediate.
pub struct Pki {
    pub root: Ca,
    pub intermediate: Ca,
}

impl Pki {
    pub fn new(prefix: &str) -> Self {
        let root = CertifiedIssuer::self_signed(
            ca_params(&format!("{prefix} Root CA")),
            KeyPair::generate().unwrap(),
        )
        .unwrap();
        let mut intermediate_params = ca_params(&format!("{prefix} Issuing CA"));
        intermediate_params.serial_number = Some(SerialNumber::from(0x20u64));
        let intermediate =
            CertifiedIssuer::signed_by(intermediate_params, KeyPair::generate().unwrap(), &root)
                .unwrap();
        Self { root, intermediate }
    }

    /// The API Gateway truststore bundle: root and intermediate.
    pub fn truststore_pem(&self) -> String {
        cert_pem(self.root.der()) + &cert_pem(self.intermediate.der())
    }

    pub fn truststore(&self) -> TrustStore {
        TrustStore::from_pem(self.truststore_pem().as_bytes()).unwrap()
    }

    /// A client certificate issued by the intermediate, as PEM.
    pub fn client(&self, params: CertificateParams) -> String {
        let key = KeyPair::generate().unwrap();
        cert_pem(params.signed_by(&key, &self.intermediate).unwrap().der())
    }

    /// A CRL from the intermediate (for client certificates) revoking `serials`, issued
    /// a day before [`now`] and valid until `next_update`.
    pub fn intermediate_crl(&self, serials: &[&[u8]], next_update: SystemTime) -> Vec<u8> {
        crl(&self.intermediate, serials, now() - days(1), next_update)
    }

    /// A CRL from the root (for the intermediate) revoking `serials`.
    pub fn root_crl(&self, serials: &[&[u8]], next_update: SystemTime) -> Vec<u8> {
        crl(&self.root, serials, now() - days(1), next_update)
    }

    /// Both CRLs, nothing revoked, valid for 7 days after [`now`], concatenated as PEM.
    pub fn clean_crls(&self) -> Vec<u8> {
        let next = now() + days(7);
        (crl_pem(&self.root_crl(&[], next)) + &crl_pem(&self.intermediate_crl(&[], next)))
            .into_bytes()
    }
}

pub fn crl(
    issuer: &Issuer<'_, KeyPair>,
    serials: &[&[u8]],
    this_update: SystemTime,
    next_update: SystemTime,
) -> Vec<u8> {
    CertificateRevocationListParams {
        this_update: at(this_update),
        next_update: at(next_update),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: serials
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: SerialNumber::from_slice(serial),
                revocation_time: at(this_update),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(issuer)
    .unwrap()
    .der()
    .to_vec()
}

/// A fetcher that returns scripted results in order and counts its calls.
#[derive(Debug, Default)]
pub struct ScriptedFetcher {
    results: Mutex<VecDeque<Result<Vec<u8>, String>>>,
    calls: AtomicUsize,
}

impl ScriptedFetcher {
    pub fn new(results: impl IntoIterator<Item = Result<Vec<u8>, String>>) -> Self {
        Self {
            results: Mutex::new(results.into_iter().collect()),
            calls: AtomicUsize::new(0),
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl CrlFetcher for ScriptedFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.results.lock().unwrap().pop_front();
        Box::pin(async move {
            match next {
                Some(Ok(bytes)) => Ok(bytes),
                Some(Err(message)) => Err(message.into()),
                None => Err("no scripted result left".into()),
            }
        })
    }
}

impl CrlFetcher for &ScriptedFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        (**self).fetch()
    }
}

/// The mutual TLS refusal in `result`; panics on success or another error.
pub fn refusal<T: std::fmt::Debug>(result: Result<T, Error>) -> MtlsError {
    match result {
        Err(Error::Mtls(error)) => error,
        other => panic!("expected an mtls refusal, got {other:?}"),
    }
}

/// The kind of the mutual TLS refusal in `result`.
pub fn kind<T: std::fmt::Debug>(result: Result<T, Error>) -> MtlsErrorKind {
    refusal(result).kind()
}
