//! The authorizer on one machine: a throwaway PKI made with rcgen (a root CA, an issuing CA,
//! client certificates and the two CAs' CRLs), its truststore and CRLs in a bucket on the local
//! AWS emulator (moto's server, `LAMBDAKIT_EMULATOR_URL`), and the requests API Gateway would
//! send, built from the samples in `events/`.
//!
//! For the demo and the tests; compiled only with the feature `local`.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::primitives::ByteStream;
use lambdakit_test_support::emulator;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::BoxError;
use crate::authorizer::MtlsAuthorizer;
use crate::config::Config;
use crate::s3::S3Location;

/// The sample authorizer request: `GET /whoami` over mutual TLS, with the client certificate
/// of the `mtls-truststore` example's sample PKI.
pub const AUTHORIZER_EVENT: &str = include_str!("../events/authorizer-request.json");
/// The sample backend request, as API Gateway sends it after the authorizer allowed it.
pub const BACKEND_EVENT: &str = include_str!("../events/backend-request.json");

/// The truststore's key in the stack's bucket.
pub const TRUSTSTORE_KEY: &str = "truststore.pem";
/// The CRLs' key in the stack's bucket.
pub const CRL_KEY: &str = "crl/partners.crl.pem";
/// The serial number of the issuing CA.
pub const ISSUING_CA_SERIAL: u64 = 0x20;

/// A CA and its key.
pub type Ca = CertifiedIssuer<'static, KeyPair>;

/// A day.
pub const DAY: Duration = Duration::from_secs(86_400);

fn at(time: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(time)
}

fn name(organization: &str, cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::OrganizationName, organization);
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params(cn: &str, serial: u64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name("Example Corp", cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(SerialNumber::from(serial));
    let now = SystemTime::now();
    params.not_before = at(now - 365 * DAY);
    params.not_after = at(now + 3650 * DAY);
    params
}

/// The parameters of a partner's client certificate: `CN` and a DNS name `cn`, `clientAuth`,
/// `digitalSignature`, valid from a day ago for a year.
pub fn client_params(cn: &str, serial: u64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name("Example Partner Inc", cn);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    if let Ok(dns) = cn.to_owned().try_into() {
        params.subject_alt_names = vec![SanType::DnsName(dns)];
    }
    params.serial_number = Some(SerialNumber::from(serial));
    let now = SystemTime::now();
    params.not_before = at(now - DAY);
    params.not_after = at(now + 365 * DAY);
    params
}

/// A partner PKI: a root CA and an issuing CA it signed, which issues client certificates.
#[derive(Debug)]
pub struct Pki {
    /// The root CA.
    pub root: Ca,
    /// The issuing CA (serial [`ISSUING_CA_SERIAL`]).
    pub issuing: Ca,
}

impl Pki {
    /// A new PKI; `prefix` starts the CAs' names.
    pub fn new(prefix: &str) -> Result<Self, BoxError> {
        let root = CertifiedIssuer::self_signed(
            ca_params(&format!("{prefix} Root CA"), 1),
            KeyPair::generate()?,
        )?;
        let issuing = CertifiedIssuer::signed_by(
            ca_params(&format!("{prefix} Issuing CA"), ISSUING_CA_SERIAL),
            KeyPair::generate()?,
            &root,
        )?;
        Ok(Self { root, issuing })
    }

    /// The truststore bundle: root, then issuing CA.
    pub fn truststore_pem(&self) -> String {
        format!("{}{}", self.root.pem(), self.issuing.pem())
    }

    /// A client certificate issued by the issuing CA, as PEM.
    pub fn client(&self, params: CertificateParams) -> Result<String, BoxError> {
        Ok(params
            .signed_by(&KeyPair::generate()?, &self.issuing)?
            .pem())
    }

    /// The two CRLs as one PEM object: the root's (revoking the CAs of `revoked_cas`) and the
    /// issuing CA's (revoking the client certificates of `revoked_clients`), issued an hour
    /// ago and valid until `next_update`.
    pub fn crls(
        &self,
        revoked_clients: &[u64],
        revoked_cas: &[u64],
        next_update: SystemTime,
    ) -> Result<String, BoxError> {
        let this_update = SystemTime::now() - Duration::from_secs(3600);
        Ok(format!(
            "{}{}",
            crl(&self.root, revoked_cas, this_update, next_update)?,
            crl(&self.issuing, revoked_clients, this_update, next_update)?
        ))
    }
}

fn crl(
    issuer: &Ca,
    serials: &[u64],
    this_update: SystemTime,
    next_update: SystemTime,
) -> Result<String, BoxError> {
    let params = CertificateRevocationListParams {
        this_update: at(this_update),
        next_update: at(next_update),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: serials
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: SerialNumber::from(*serial),
                revocation_time: at(this_update),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(issuer)?.pem()?)
}

/// The sample authorizer request with `pem` as the client certificate, or without any
/// (`requestContext.authentication` removed, as on the default endpoint) when `None`.
pub fn authorizer_event(pem: Option<&str>) -> Result<Value, BoxError> {
    let mut event: Value = serde_json::from_str(AUTHORIZER_EVENT)?;
    match pem {
        Some(pem) => {
            event["requestContext"]["authentication"]["clientCert"]["clientCertPem"] = json!(pem);
        }
        None => {
            event["requestContext"]
                .as_object_mut()
                .ok_or("no requestContext")?
                .remove("authentication");
        }
    }
    Ok(event)
}

/// The sample backend request with the authorizer's `context` (none when `Value::Null`).
pub fn backend_request(context: &Value) -> Result<lambda_http::Request, BoxError> {
    let mut event: Value = serde_json::from_str(BACKEND_EVENT)?;
    match context {
        Value::Null => {
            event["requestContext"]
                .as_object_mut()
                .ok_or("no requestContext")?
                .remove("authorizer");
        }
        context => event["requestContext"]["authorizer"]["lambda"] = context.clone(),
    }
    Ok(lambda_http::request::from_str(&event.to_string())?)
}

/// A PKI whose truststore and CRLs are in a bucket on the emulator, as the template keeps
/// them.
#[derive(Debug)]
pub struct Stack {
    /// S3 on the emulator.
    pub s3: aws_sdk_s3::Client,
    /// The bucket holding [`TRUSTSTORE_KEY`] and [`CRL_KEY`].
    pub bucket: String,
    /// The PKI.
    pub pki: Pki,
}

impl Stack {
    /// Makes a PKI, a bucket, and writes the truststore and CRLs revoking nothing (valid for
    /// a week).
    pub async fn start() -> Result<Self, BoxError> {
        let s3 = emulator::s3();
        let bucket = emulator::bucket(&s3, "mtls-pki").await;
        let stack = Self {
            s3,
            bucket,
            pki: Pki::new("Partner")?,
        };
        stack
            .put(TRUSTSTORE_KEY, &stack.pki.truststore_pem())
            .await?;
        stack
            .put_crls(&stack.pki.crls(&[], &[], SystemTime::now() + 7 * DAY)?)
            .await?;
        Ok(stack)
    }

    /// Writes `text` to `key` in the bucket.
    pub async fn put(&self, key: &str, text: &str) -> Result<(), BoxError> {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(text.as_bytes().to_vec()))
            .send()
            .await?;
        Ok(())
    }

    /// Replaces the CRLs object, as a CA publishing new CRLs does.
    pub async fn put_crls(&self, pem: &str) -> Result<(), BoxError> {
        self.put(CRL_KEY, pem).await
    }

    /// The settings pointing at this bucket, with a CRL TTL of `crl_ttl`.
    pub fn config(&self, crl_ttl: Duration) -> Config {
        let uri = |key: &str| S3Location {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            version: None,
        };
        Config {
            truststore: uri(TRUSTSTORE_KEY),
            crl: uri(CRL_KEY),
            crl_ttl,
            principal: lambdakit_auth::mtls::PrincipalSource::CommonName,
            revocation_depth: lambdakit_auth::mtls::RevocationDepth::Chain,
        }
    }

    /// The authorizer as the function builds it at cold start, on this bucket.
    pub async fn authorizer(&self, crl_ttl: Duration) -> Result<MtlsAuthorizer, BoxError> {
        Ok(MtlsAuthorizer::load(self.s3.clone(), &self.config(crl_ttl)).await?)
    }
}
