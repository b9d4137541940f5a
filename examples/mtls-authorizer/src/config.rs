//! Settings, read once at cold start from the environment `template.yaml` sets.

use std::time::Duration;

use lambdakit_auth::mtls::{PrincipalSource, RevocationDepth};

use crate::Error;
use crate::s3::S3Location;

/// The authorizer's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TRUSTSTORE_URI` (and `TRUSTSTORE_VERSION`): the CA bundle, the same object (and
    /// version) the custom domain's mutual TLS uses.
    pub truststore: S3Location,
    /// `CRL_URI`: the CRLs of the CAs, one object (PEM `X509 CRL` blocks or DER back to back).
    pub crl: S3Location,
    /// `CRL_TTL_SECONDS` (default 300): how long a fetched CRL set is used before it is
    /// fetched again; a revocation takes effect within this time.
    pub crl_ttl: Duration,
    /// `PRINCIPAL` (default `cn`): what names the caller: `cn`, `subject`, `serial`,
    /// `fingerprint`, `email`, `uri` or `dns`.
    pub principal: PrincipalSource,
    /// `REVOCATION_DEPTH` (default `chain`): check the issuing CAs' revocation too (`chain`,
    /// which needs the root's CRL as well), or the client certificate only (`end-entity`).
    pub revocation_depth: RevocationDepth,
}

impl Config {
    /// Reads the settings with `var` (the environment, or a map in tests).
    ///
    /// Errors ([`Error::Config`]): a URI that is not `s3://bucket/key`, a TTL that is not a
    /// number of seconds, an unknown principal source or depth.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let uri = |name: &str| {
            let value = var(name).ok_or_else(|| Error::Config(format!("{name} is not set")))?;
            S3Location::parse(value.trim())
                .ok_or_else(|| Error::Config(format!("{name} {value:?} is not s3://bucket/key")))
        };
        let truststore = uri("TRUSTSTORE_URI")?.at_version(var("TRUSTSTORE_VERSION"));
        let crl = uri("CRL_URI")?;
        let crl_ttl = match var("CRL_TTL_SECONDS") {
            None => Duration::from_secs(300),
            Some(text) => Duration::from_secs(text.trim().parse().map_err(|_| {
                Error::Config(format!(
                    "CRL_TTL_SECONDS {text:?} is not a number of seconds"
                ))
            })?),
        };
        let principal = match var("PRINCIPAL").as_deref().map(str::trim) {
            None | Some("cn") => PrincipalSource::CommonName,
            Some("subject") => PrincipalSource::Subject,
            Some("serial") => PrincipalSource::SerialNumber,
            Some("fingerprint") => PrincipalSource::Fingerprint,
            Some("email") => PrincipalSource::Email,
            Some("uri") => PrincipalSource::Uri,
            Some("dns") => PrincipalSource::Dns,
            Some(other) => {
                return Err(Error::Config(format!(
                    "PRINCIPAL {other:?} is not cn, subject, serial, fingerprint, email, uri or dns"
                )));
            }
        };
        let revocation_depth = match var("REVOCATION_DEPTH").as_deref().map(str::trim) {
            None | Some("chain") => RevocationDepth::Chain,
            Some("end-entity") => RevocationDepth::EndEntity,
            Some(other) => {
                return Err(Error::Config(format!(
                    "REVOCATION_DEPTH {other:?} is not chain or end-entity"
                )));
            }
        };
        Ok(Self {
            truststore,
            crl,
            crl_ttl,
            principal,
            revocation_depth,
        })
    }

    /// [`Self::from_lookup`] on the process environment (empty variables count as unset).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    const BASE: [(&str, &str); 2] = [
        ("TRUSTSTORE_URI", "s3://truststores/truststore.pem"),
        ("CRL_URI", "s3://pki/crl/partners.crl.pem"),
    ];

    #[test]
    fn defaults_and_overrides() {
        let config = config(&BASE).expect("config");
        assert_eq!(
            config.truststore.to_string(),
            "s3://truststores/truststore.pem"
        );
        assert_eq!(config.crl_ttl, Duration::from_secs(300));
        assert_eq!(config.principal, PrincipalSource::CommonName);
        assert_eq!(config.revocation_depth, RevocationDepth::Chain);

        let mut vars = BASE.to_vec();
        vars.extend([
            ("TRUSTSTORE_VERSION", "3HL4kqtJ"),
            ("CRL_TTL_SECONDS", "60"),
            ("PRINCIPAL", "uri"),
            ("REVOCATION_DEPTH", "end-entity"),
        ]);
        let config = self::config(&vars).expect("config");
        assert_eq!(config.truststore.version.as_deref(), Some("3HL4kqtJ"));
        assert_eq!(config.crl_ttl, Duration::from_secs(60));
        assert_eq!(config.principal, PrincipalSource::Uri);
        assert_eq!(config.revocation_depth, RevocationDepth::EndEntity);
    }

    #[test]
    fn mistakes_are_named() {
        let cases: [(&[(&str, &str)], &str); 5] = [
            (&[("CRL_URI", "s3://pki/c")], "TRUSTSTORE_URI is not set"),
            (
                &[
                    ("TRUSTSTORE_URI", "truststores/t.pem"),
                    ("CRL_URI", "s3://pki/c"),
                ],
                "not s3://bucket/key",
            ),
            (
                &[BASE[0], BASE[1], ("CRL_TTL_SECONDS", "5m")],
                "CRL_TTL_SECONDS",
            ),
            (&[BASE[0], BASE[1], ("PRINCIPAL", "CN")], "PRINCIPAL"),
            (
                &[BASE[0], BASE[1], ("REVOCATION_DEPTH", "leaf")],
                "REVOCATION_DEPTH",
            ),
        ];
        for (vars, expected) in cases {
            let error = config(vars).expect_err(expected).to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
