//! API Gateway method and route ARNs, validated, for every partition.
//!
//! API Gateway hands a Lambda authorizer the ARN of what the caller is invoking:
//!
//! | API | field | shape |
//! | --- | --- | --- |
//! | REST (TOKEN and REQUEST), HTTP API payload 1.0 | `methodArn` | `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<VERB>/<path>` |
//! | HTTP API payload 2.0 | `routeArn` | same as above |
//! | WebSocket (`$connect`) | `methodArn` | `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<routeKey>` |
//!
//! [`MethodArn`] parses all of them and builds the resources of an authorizer policy from them.
//! It keeps the partition it was given (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, ...)
//! and never assumes `aws`: a policy naming the wrong partition matches nothing, and an authorizer
//! deployed in China or GovCloud would deny every request.
//!
//! # What is accepted
//!
//! | part | accepted | wildcard |
//! | --- | --- | --- |
//! | partition | `aws` or `aws-` followed by lowercase letters and digits in dash-separated parts | never |
//! | service | exactly `execute-api` | never |
//! | region | lowercase dash-separated parts ending in a number (`us-east-1`, `cn-north-1`, `us-gov-west-1`, `us-isob-east-1`) | never |
//! | account | twelve digits | never |
//! | api id | lowercase letters and digits | never |
//! | stage | letters, digits, `-`, `_` (up to 128), or `$default` | `*` alone |
//! | verb | `GET` `POST` `PUT` `PATCH` `HEAD` `DELETE` `OPTIONS` | `*` alone |
//! | path | segments of URL path characters (RFC 3986 `pchar`); the root path is empty (`.../GET/`) | a `*` segment, or a trailing `*` |
//! | route key | the same characters as a path segment (`$connect`, `$default`, `sendMessage`) | `*` alone, or a trailing `*` |
//!
//! `?` is refused everywhere (IAM reads it as a one-character wildcard), and so are `{`, `}`,
//! whitespace, non-ASCII and control characters. `ANY` is not a verb in an ARN: API Gateway puts
//! the request's real verb in `methodArn`, and a policy matches every verb with `*`
//! ([`Verb::Any`]). The whole ARN must fit in [`MAX_ARN_BYTES`] (1,600 bytes), API Gateway's limit
//! for the ARN of an authorization-enabled method.
//!
//! Anything else is an [`ArnError`], which converts into [`crate::Error::InvalidResponse`]: the
//! authorizer denies, it never guesses.
//!
//! In an IAM policy `*` matches any run of characters *including `/`*: `GET/pets/*` also covers
//! `GET/pets/1/owner`, and a trailing `*` on a stage or route key covers everything after it.
//!
//! ```
//! use lambdakit_auth::arn::{MethodArn, Verb};
//!
//! let arn: MethodArn = "arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod/GET/pets/42"
//!     .parse()?;
//! assert_eq!(arn.partition(), "aws-cn");
//! assert_eq!(arn.verb(), Some(Verb::Get));
//! assert_eq!(arn.path(), Some("pets/42"));
//! assert_eq!(
//!     arn.with_path("/pets/*")?.to_string(),
//!     "arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod/GET/pets/*"
//! );
//! assert_eq!(
//!     arn.stage_wide().to_string(),
//!     "arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod/*"
//! );
//! # Ok::<(), lambdakit_auth::arn::ArnError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV1Request, ApiGatewayV2CustomAuthorizerV2Request,
};

/// The longest method ARN API Gateway authorizes, in bytes. Longer requests get
/// `414 Request URI too long` from API Gateway; [`MethodArn`] refuses to parse or build them.
pub const MAX_ARN_BYTES: usize = 1600;

const SERVICE: &str = "execute-api";
const MAX_STAGE_CHARS: usize = 128;
const MAX_SHORT_PART: usize = 64;

/// An HTTP verb as it appears in a method ARN, or `*` for every verb.
///
/// There is no `ANY`: API Gateway's `ANY` method is matched in a policy with `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `HEAD`
    Head,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `*`: every verb.
    Any,
}

impl Verb {
    /// Every verb, `*` last.
    pub const ALL: [Verb; 8] = [
        Verb::Get,
        Verb::Post,
        Verb::Put,
        Verb::Patch,
        Verb::Head,
        Verb::Delete,
        Verb::Options,
        Verb::Any,
    ];

    /// The verb as written in an ARN: `GET`, ..., or `*`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Head => "HEAD",
            Verb::Delete => "DELETE",
            Verb::Options => "OPTIONS",
            Verb::Any => "*",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verb {
    type Err = ArnError;

    /// Parses an upper-case verb or `*`. Anything else (`get`, `ANY`, `CONNECT`) is
    /// [`ArnError::Invalid`] with [`ArnPart::Verb`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verb::ALL
            .into_iter()
            .find(|verb| verb.as_str() == s)
            .ok_or_else(|| ArnError::invalid(ArnPart::Verb, s))
    }
}

/// Which part of a method ARN an [`ArnError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArnPart {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    Partition,
    /// Always `execute-api`.
    Service,
    /// `us-east-1`, ...
    Region,
    /// The twelve-digit account id.
    Account,
    /// The API id.
    ApiId,
    /// The stage name.
    Stage,
    /// The HTTP verb.
    Verb,
    /// The resource path.
    Path,
    /// The WebSocket (or HTTP API `$default`) route key.
    RouteKey,
}

impl fmt::Display for ArnPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArnPart::Partition => "partition",
            ArnPart::Service => "service",
            ArnPart::Region => "region",
            ArnPart::Account => "account",
            ArnPart::ApiId => "api id",
            ArnPart::Stage => "stage",
            ArnPart::Verb => "verb",
            ArnPart::Path => "path",
            ArnPart::RouteKey => "route key",
        })
    }
}

/// Why a string is not a method ARN this crate will put in a policy.
///
/// Converts into [`crate::Error::InvalidResponse`]: whatever the cause, the authorizer denies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArnError {
    /// The event has no `methodArn` (or `routeArn`) string.
    #[error("the event carries no methodArn or routeArn string")]
    Missing,
    /// Longer than [`MAX_ARN_BYTES`].
    #[error("method arn is {len} bytes, over API Gateway's limit of {MAX_ARN_BYTES}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Not of the shape `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/...`.
    #[error("malformed method arn: {0}")]
    Malformed(&'static str),
    /// A part has characters or a form API Gateway does not use there.
    #[error("invalid {part} {value:?} in method arn")]
    Invalid {
        /// The offending part.
        part: ArnPart,
        /// What it held.
        value: String,
    },
    /// A wildcard where API Gateway does not honour one (partition, service, region, account,
    /// api id), or in the wrong place (`*` inside a path segment, anywhere `?`).
    #[error(
        "wildcard in the {part} of a method arn: only `*` as a whole stage, verb, path segment or route key, or at the end of a path or route key, is honoured"
    )]
    Wildcard {
        /// The offending part.
        part: ArnPart,
    },
    /// A method-only operation ([`MethodArn::with_path`], [`MethodArn::any_method`]) on a
    /// WebSocket route ARN or an api-wide ARN.
    #[error("{0} needs a method arn (<api>/<stage>/<verb>/<path>)")]
    NotAMethod(&'static str),
}

impl ArnError {
    fn invalid(part: ArnPart, value: &str) -> Self {
        ArnError::Invalid {
            part,
            value: value.to_owned(),
        }
    }
}

impl From<ArnError> for crate::Error {
    fn from(error: ArnError) -> Self {
        crate::Error::InvalidResponse(error.to_string())
    }
}

/// What an ARN points at below the API.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Scope {
    /// `<api>/*`: every stage, verb, path and route.
    Api,
    /// `<api>/<stage>/<routeKey>`: a WebSocket route, HTTP API `$default`, or `*` (stage-wide).
    Route { stage: String, route_key: String },
    /// `<api>/<stage>/<verb>/<path>`.
    Method {
        stage: String,
        verb: Verb,
        path: String,
    },
}

/// A validated `execute-api` ARN: the `methodArn`/`routeArn` of an authorizer event, or a policy
/// resource derived from one.
///
/// Built by [`MethodArn::parse`] (also `str::parse`, `TryFrom<&str>`), [`MethodArn::from_event`]
/// or [`MethodArn::api`], and narrowed or widened with [`with_path`](MethodArn::with_path),
/// [`with_method`](MethodArn::with_method), [`with_route_key`](MethodArn::with_route_key),
/// [`any_method`](MethodArn::any_method), [`stage_wide`](MethodArn::stage_wide) and
/// [`api_wide`](MethodArn::api_wide). Every constructor validates (see the
/// [module docs](self)), so a `MethodArn` is always safe to put in a policy. `Display` renders the
/// ARN; serde reads and writes it as that string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MethodArn {
    partition: String,
    region: String,
    account_id: String,
    api_id: String,
    scope: Scope,
}

impl MethodArn {
    /// Parses a method or route ARN.
    ///
    /// Returns [`ArnError::TooLong`] past 1,600 bytes, [`ArnError::Malformed`] when it is not an
    /// `execute-api` ARN with an api id and a stage, [`ArnError::Invalid`] or
    /// [`ArnError::Wildcard`] for a bad part (see the [module docs](self)).
    pub fn parse(arn: &str) -> Result<Self, ArnError> {
        if arn.len() > MAX_ARN_BYTES {
            return Err(ArnError::TooLong { len: arn.len() });
        }
        let mut parts = arn.splitn(6, ':');
        let (Some(prefix), Some(partition), Some(service), Some(region), Some(account), Some(rest)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(ArnError::Malformed(
                "expected arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/...",
            ));
        };
        if prefix != "arn" {
            return Err(ArnError::Malformed("does not start with `arn:`"));
        }
        check_partition(partition)?;
        check_service(service)?;
        check_region(region)?;
        check_account(account)?;
        let Some((api_id, below)) = rest.split_once('/') else {
            return Err(ArnError::Malformed("no stage after the api id"));
        };
        check_api_id(api_id)?;
        let scope = if below == "*" {
            Scope::Api
        } else {
            let Some((stage, after)) = below.split_once('/') else {
                return Err(ArnError::Malformed(
                    "expected <stage>/<verb>/<path> or <stage>/<routeKey> after the api id",
                ));
            };
            check_stage(stage)?;
            match after.split_once('/') {
                Some((verb, path)) => {
                    let verb = parse_verb(verb)?;
                    check_path(path)?;
                    Scope::Method {
                        stage: stage.to_owned(),
                        verb,
                        path: path.to_owned(),
                    }
                }
                None => {
                    check_route_key(after)?;
                    Scope::Route {
                        stage: stage.to_owned(),
                        route_key: after.to_owned(),
                    }
                }
            }
        };
        Ok(MethodArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account_id: account.to_owned(),
            api_id: api_id.to_owned(),
            scope,
        })
    }

    /// The ARN of an authorizer event: `methodArn` (REST TOKEN/REQUEST, WebSocket, HTTP API
    /// payload 1.0) or `routeArn` (HTTP API payload 2.0).
    ///
    /// Works on the `aws_lambda_events` request types and on a raw [`serde_json::Value`], so a
    /// handler can take the event untyped and still deny on a defined path. Returns
    /// [`ArnError::Missing`] when the field is absent or not a string, otherwise what
    /// [`MethodArn::parse`] returns.
    pub fn from_event<E: ArnSource + ?Sized>(event: &E) -> Result<Self, ArnError> {
        event
            .raw_arn()
            .ok_or(ArnError::Missing)
            .and_then(Self::parse)
    }

    /// The api-wide ARN `arn:<partition>:execute-api:<region>:<account>:<api>/*`, built from parts.
    ///
    /// Returns the same errors as [`MethodArn::parse`] for a bad part; nothing here is assumed,
    /// the partition included.
    pub fn api(
        partition: &str,
        region: &str,
        account_id: &str,
        api_id: &str,
    ) -> Result<Self, ArnError> {
        check_partition(partition)?;
        check_region(region)?;
        check_account(account_id)?;
        check_api_id(api_id)?;
        MethodArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account_id: account_id.to_owned(),
            api_id: api_id.to_owned(),
            scope: Scope::Api,
        }
        .checked()
    }

    /// The partition: `aws`, `aws-cn`, `aws-us-gov`, ...
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The twelve-digit account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The API id.
    pub fn api_id(&self) -> &str {
        &self.api_id
    }

    /// The stage (`*` for every stage), or `None` for an api-wide ARN (`<api>/*`).
    pub fn stage(&self) -> Option<&str> {
        match &self.scope {
            Scope::Api => None,
            Scope::Route { stage, .. } | Scope::Method { stage, .. } => Some(stage),
        }
    }

    /// The verb of a method ARN; `None` for a route or api-wide ARN.
    pub fn verb(&self) -> Option<Verb> {
        match &self.scope {
            Scope::Method { verb, .. } => Some(*verb),
            _ => None,
        }
    }

    /// The path of a method ARN without its leading `/` (`""` for the root); `None` for a route or
    /// api-wide ARN.
    pub fn path(&self) -> Option<&str> {
        match &self.scope {
            Scope::Method { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The route key of a route ARN (`$connect`, `$default`, `*` for a stage-wide ARN); `None` for
    /// a method or api-wide ARN.
    pub fn route_key(&self) -> Option<&str> {
        match &self.scope {
            Scope::Route { route_key, .. } => Some(route_key),
            _ => None,
        }
    }

    /// Whether this is a route ARN (`<api>/<stage>/<routeKey>`): WebSocket, HTTP API `$default`,
    /// or stage-wide.
    pub fn is_route(&self) -> bool {
        matches!(self.scope, Scope::Route { .. })
    }

    /// Whether the ARN holds a wildcard, so that it may match more than one request.
    pub fn has_wildcard(&self) -> bool {
        match &self.scope {
            Scope::Api => true,
            Scope::Route { stage, route_key } => stage == "*" || route_key.contains('*'),
            Scope::Method { stage, verb, path } => {
                stage == "*" || *verb == Verb::Any || path.contains('*')
            }
        }
    }

    /// The same method with another path (a leading `/` is dropped: `/pets` and `pets` are the
    /// same). Use `*` segments or a trailing `*` to cover several paths.
    ///
    /// Returns [`ArnError::NotAMethod`] on a route or api-wide ARN, and the path errors of
    /// [`MethodArn::parse`] for a bad path.
    pub fn with_path(&self, path: &str) -> Result<Self, ArnError> {
        match &self.scope {
            Scope::Method { verb, .. } => self.with_method(*verb, path),
            _ => Err(ArnError::NotAMethod("with_path")),
        }
    }

    /// The same path with every verb (`*`).
    ///
    /// Returns [`ArnError::NotAMethod`] on a route or api-wide ARN.
    pub fn any_method(&self) -> Result<Self, ArnError> {
        match &self.scope {
            Scope::Method { path, .. } => self.with_method(Verb::Any, path),
            _ => Err(ArnError::NotAMethod("any_method")),
        }
    }

    /// `verb` on `path` in this ARN's stage (every stage, `*`, for an api-wide ARN). A leading `/`
    /// on the path is dropped.
    ///
    /// Returns the path errors of [`MethodArn::parse`], or [`ArnError::TooLong`].
    pub fn with_method(&self, verb: Verb, path: &str) -> Result<Self, ArnError> {
        let path = path.strip_prefix('/').unwrap_or(path);
        check_path(path)?;
        self.rescoped(Scope::Method {
            stage: self.stage().unwrap_or("*").to_owned(),
            verb,
            path: path.to_owned(),
        })
        .checked()
    }

    /// The route `route_key` (`$connect`, `sendMessage`, `*`) in this ARN's stage (every stage for
    /// an api-wide ARN): a WebSocket route resource.
    ///
    /// Returns the route key errors of [`MethodArn::parse`], or [`ArnError::TooLong`].
    pub fn with_route_key(&self, route_key: &str) -> Result<Self, ArnError> {
        check_route_key(route_key)?;
        self.rescoped(Scope::Route {
            stage: self.stage().unwrap_or("*").to_owned(),
            route_key: route_key.to_owned(),
        })
        .checked()
    }

    /// Everything in this ARN's stage: `<api>/<stage>/*` (every verb, path and route). An api-wide
    /// ARN stays api-wide.
    pub fn stage_wide(&self) -> Self {
        match self.stage() {
            Some(stage) => self.rescoped(Scope::Route {
                stage: stage.to_owned(),
                route_key: "*".to_owned(),
            }),
            None => self.clone(),
        }
    }

    /// Everything in this API, every stage: `<api>/*`.
    pub fn api_wide(&self) -> Self {
        self.rescoped(Scope::Api)
    }

    /// Whether `self`, read as an IAM policy resource (`*` any run of characters, `/` included),
    /// matches the concrete ARN `request`.
    pub fn covers(&self, request: &MethodArn) -> bool {
        iam_match(&self.to_string(), &request.to_string())
    }

    /// Whether both name the same API (partition, region, account and api id).
    pub fn same_api(&self, other: &MethodArn) -> bool {
        self.partition == other.partition
            && self.region == other.region
            && self.account_id == other.account_id
            && self.api_id == other.api_id
    }

    fn rescoped(&self, scope: Scope) -> Self {
        MethodArn {
            partition: self.partition.clone(),
            region: self.region.clone(),
            account_id: self.account_id.clone(),
            api_id: self.api_id.clone(),
            scope,
        }
    }

    fn checked(self) -> Result<Self, ArnError> {
        let len = self.to_string().len();
        if len > MAX_ARN_BYTES {
            Err(ArnError::TooLong { len })
        } else {
            Ok(self)
        }
    }
}

impl fmt::Display for MethodArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{SERVICE}:{}:{}:{}/",
            self.partition, self.region, self.account_id, self.api_id
        )?;
        match &self.scope {
            Scope::Api => f.write_str("*"),
            Scope::Route { stage, route_key } => write!(f, "{stage}/{route_key}"),
            Scope::Method { stage, verb, path } => write!(f, "{stage}/{verb}/{path}"),
        }
    }
}

impl FromStr for MethodArn {
    type Err = ArnError;

    /// Same as [`MethodArn::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MethodArn::parse(s)
    }
}

impl TryFrom<&str> for MethodArn {
    type Error = ArnError;

    /// Same as [`MethodArn::parse`].
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        MethodArn::parse(s)
    }
}

impl serde::Serialize for MethodArn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for MethodArn {
    /// Reads a string and validates it like [`MethodArn::parse`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        MethodArn::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An authorizer event that carries the ARN of what is being invoked.
///
/// Implemented for the `aws_lambda_events` authorizer request types and for a raw
/// [`serde_json::Value`] event (its `methodArn`, else its `routeArn`).
pub trait ArnSource {
    /// The raw `methodArn` or `routeArn`, if the event has one as a string.
    fn raw_arn(&self) -> Option<&str>;
}

impl ArnSource for ApiGatewayCustomAuthorizerRequest {
    fn raw_arn(&self) -> Option<&str> {
        self.method_arn.as_deref()
    }
}

impl ArnSource for ApiGatewayCustomAuthorizerRequestTypeRequest {
    fn raw_arn(&self) -> Option<&str> {
        self.method_arn.as_deref()
    }
}

impl ArnSource for ApiGatewayV2CustomAuthorizerV1Request {
    fn raw_arn(&self) -> Option<&str> {
        self.method_arn.as_deref()
    }
}

impl ArnSource for ApiGatewayV2CustomAuthorizerV2Request {
    fn raw_arn(&self) -> Option<&str> {
        self.route_arn.as_deref()
    }
}

impl ArnSource for serde_json::Value {
    fn raw_arn(&self) -> Option<&str> {
        self.get("methodArn")
            .and_then(serde_json::Value::as_str)
            .or_else(|| self.get("routeArn").and_then(serde_json::Value::as_str))
    }
}

/// IAM resource matching: `*` matches any run of characters (`/` included), `?` exactly one;
/// everything else literally and case-sensitively.
pub(crate) fn iam_match(pattern: &str, value: &str) -> bool {
    let (p, v) = (pattern.as_bytes(), value.as_bytes());
    let (mut pi, mut vi) = (0, 0);
    // Where the last `*` was, and the value position it is currently made to cover up to.
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, vi));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == v[vi] => {
                pi += 1;
                vi += 1;
            }
            _ => match star {
                Some((spi, svi)) => {
                    pi = spi + 1;
                    vi = svi + 1;
                    star = Some((spi, svi + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn no_wildcard(part: ArnPart, value: &str) -> Result<(), ArnError> {
    if value.contains(['*', '?']) {
        Err(ArnError::Wildcard { part })
    } else {
        Ok(())
    }
}

fn is_lower_alnum(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn check_partition(value: &str) -> Result<(), ArnError> {
    no_wildcard(ArnPart::Partition, value)?;
    let mut parts = value.split('-');
    let ok =
        value.len() <= MAX_SHORT_PART && parts.next() == Some("aws") && parts.all(is_lower_alnum);
    ok.then_some(())
        .ok_or_else(|| ArnError::invalid(ArnPart::Partition, value))
}

fn check_service(value: &str) -> Result<(), ArnError> {
    no_wildcard(ArnPart::Service, value)?;
    (value == SERVICE)
        .then_some(())
        .ok_or_else(|| ArnError::invalid(ArnPart::Service, value))
}

fn check_region(value: &str) -> Result<(), ArnError> {
    no_wildcard(ArnPart::Region, value)?;
    let parts: Vec<&str> = value.split('-').collect();
    let ok = value.len() <= MAX_SHORT_PART
        && parts.len() >= 3
        && parts.iter().all(|p| is_lower_alnum(p))
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit());
    ok.then_some(())
        .ok_or_else(|| ArnError::invalid(ArnPart::Region, value))
}

fn check_account(value: &str) -> Result<(), ArnError> {
    no_wildcard(ArnPart::Account, value)?;
    (value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()))
        .then_some(())
        .ok_or_else(|| ArnError::invalid(ArnPart::Account, value))
}

fn check_api_id(value: &str) -> Result<(), ArnError> {
    no_wildcard(ArnPart::ApiId, value)?;
    (value.len() <= MAX_SHORT_PART && is_lower_alnum(value))
        .then_some(())
        .ok_or_else(|| ArnError::invalid(ArnPart::ApiId, value))
}

fn check_stage(value: &str) -> Result<(), ArnError> {
    if value == "*" || value == "$default" {
        return Ok(());
    }
    no_wildcard(ArnPart::Stage, value)?;
    let ok = !value.is_empty()
        && value.len() <= MAX_STAGE_CHARS
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(())
        .ok_or_else(|| ArnError::invalid(ArnPart::Stage, value))
}

fn parse_verb(value: &str) -> Result<Verb, ArnError> {
    if value.contains('?') {
        return Err(ArnError::Wildcard {
            part: ArnPart::Verb,
        });
    }
    value.parse()
}

/// RFC 3986 `pchar` without `*` (handled by the callers) and without `%`-less escapes: unreserved,
/// sub-delims, `:`, `@`, and `%` for percent-encoding.
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'%'
        )
}

/// A segment is `*`, or path characters with at most one `*`, at its end, when `last`.
fn check_segment(part: ArnPart, segment: &str, last: bool) -> Result<(), ArnError> {
    if segment == "*" {
        return Ok(());
    }
    if segment.contains('?') {
        return Err(ArnError::Wildcard { part });
    }
    let body = match segment.strip_suffix('*') {
        Some(body) if last => body,
        _ => segment,
    };
    if body.contains('*') {
        return Err(ArnError::Wildcard { part });
    }
    if body.is_empty() || !body.bytes().all(is_path_char) {
        return Err(ArnError::invalid(part, segment));
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), ArnError> {
    if path.is_empty() {
        return Ok(());
    }
    // A trailing `/` (`pets/`) is a real request path; an empty segment elsewhere is not.
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = trimmed.split('/').collect();
    let n = segments.len();
    for (i, segment) in segments.into_iter().enumerate() {
        if segment.is_empty() {
            return Err(ArnError::invalid(ArnPart::Path, path));
        }
        check_segment(
            ArnPart::Path,
            segment,
            i + 1 == n && trimmed.len() == path.len(),
        )?;
    }
    Ok(())
}

fn check_route_key(key: &str) -> Result<(), ArnError> {
    if key.contains('/') {
        return Err(ArnError::invalid(ArnPart::RouteKey, key));
    }
    check_segment(ArnPart::RouteKey, key, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const REST: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets/42";

    #[test]
    fn every_partition_is_kept() {
        for (partition, region) in [
            ("aws", "us-east-1"),
            ("aws-cn", "cn-north-1"),
            ("aws-cn", "cn-northwest-1"),
            ("aws-us-gov", "us-gov-west-1"),
            ("aws-iso", "us-iso-east-1"),
            ("aws-iso-b", "us-isob-east-1"),
            ("aws-iso-e", "eu-isoe-west-1"),
            ("aws-iso-f", "us-isof-south-1"),
            ("aws-eusc", "eusc-de-east-1"),
        ] {
            let raw = format!(
                "arn:{partition}:execute-api:{region}:123456789012:abcdef1234/prod/GET/pets"
            );
            let arn = MethodArn::parse(&raw).unwrap();
            assert_eq!(arn.partition(), partition);
            assert_eq!(arn.region(), region);
            assert_eq!(arn.to_string(), raw, "round trip");
            for derived in [
                arn.with_path("/x").unwrap(),
                arn.any_method().unwrap(),
                arn.stage_wide(),
                arn.api_wide(),
                arn.with_route_key("$connect").unwrap(),
            ] {
                assert!(
                    derived
                        .to_string()
                        .starts_with(&format!("arn:{partition}:execute-api:{region}:")),
                    "{derived} lost the partition"
                );
            }
            let built = MethodArn::api(partition, region, "123456789012", "abcdef1234").unwrap();
            assert_eq!(
                built.to_string(),
                format!("arn:{partition}:execute-api:{region}:123456789012:abcdef1234/*")
            );
        }
    }

    #[test]
    fn parts_are_read() {
        let arn = MethodArn::parse(REST).unwrap();
        assert_eq!(arn.account_id(), "123456789012");
        assert_eq!(arn.api_id(), "abcdef1234");
        assert_eq!(arn.stage(), Some("prod"));
        assert_eq!(arn.verb(), Some(Verb::Get));
        assert_eq!(arn.path(), Some("pets/42"));
        assert_eq!(arn.route_key(), None);
        assert!(!arn.is_route());
        assert!(!arn.has_wildcard());
    }

    #[test]
    fn root_path_keeps_its_slash() {
        let raw = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/";
        let arn = MethodArn::parse(raw).unwrap();
        assert_eq!(arn.path(), Some(""));
        assert_eq!(arn.to_string(), raw);
        assert_eq!(arn.with_path("/").unwrap().to_string(), raw);
    }

    #[test]
    fn websocket_and_default_route_arns() {
        for (raw, stage, key) in [
            (
                "arn:aws:execute-api:eu-west-1:123456789012:wsapi12345/production/$connect",
                "production",
                "$connect",
            ),
            (
                "arn:aws-us-gov:execute-api:us-gov-east-1:123456789012:wsapi12345/dev/$disconnect",
                "dev",
                "$disconnect",
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:httpapi123/$default/$default",
                "$default",
                "$default",
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:wsapi12345/prod/sendMessage",
                "prod",
                "sendMessage",
            ),
        ] {
            let arn = MethodArn::parse(raw).unwrap();
            assert!(arn.is_route(), "{raw}");
            assert_eq!(arn.stage(), Some(stage));
            assert_eq!(arn.route_key(), Some(key));
            assert_eq!(arn.verb(), None);
            assert_eq!(arn.to_string(), raw);
            assert_eq!(arn.with_path("x"), Err(ArnError::NotAMethod("with_path")));
            assert_eq!(arn.any_method(), Err(ArnError::NotAMethod("any_method")));
            assert!(
                arn.stage_wide()
                    .to_string()
                    .ends_with(&format!("/{stage}/*"))
            );
        }
    }

    #[test]
    fn wildcards_only_where_api_gateway_honours_them() {
        let ok = [
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/*",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/GET/pets",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*/pets",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*/*",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets/*",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets/*/owner",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets/4*",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/send*",
        ];
        for raw in ok {
            let arn = MethodArn::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert!(arn.has_wildcard(), "{raw}");
            assert_eq!(arn.to_string(), raw);
        }
        let refused = [
            (
                "arn:*:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/",
                ArnPart::Partition,
            ),
            (
                "arn:aws:*:us-east-1:123456789012:abcdef1234/prod/GET/",
                ArnPart::Service,
            ),
            (
                "arn:aws:execute-api:*:123456789012:abcdef1234/prod/GET/",
                ArnPart::Region,
            ),
            (
                "arn:aws:execute-api:us-*:123456789012:abcdef1234/prod/GET/",
                ArnPart::Region,
            ),
            (
                "arn:aws:execute-api:us-east-1:*:abcdef1234/prod/GET/",
                ArnPart::Account,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/",
                ArnPart::ApiId,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abc*/prod/GET/",
                ArnPart::ApiId,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/pr*d/GET/",
                ArnPart::Stage,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/G?T/",
                ArnPart::Verb,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/p*ts",
                ArnPart::Path,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets*/1",
                ArnPart::Path,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pe?s",
                ArnPart::Path,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/**",
                ArnPart::Path,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/$con*ect",
                ArnPart::RouteKey,
            ),
        ];
        for (raw, part) in refused {
            assert_eq!(
                MethodArn::parse(raw),
                Err(ArnError::Wildcard { part }),
                "{raw}"
            );
        }
    }

    #[test]
    fn malformed_and_invalid_parts_are_typed() {
        use ArnPart::*;
        let cases: &[(&str, Option<ArnPart>)] = &[
            ("", None),
            ("arn", None),
            ("arn:aws:execute-api:us-east-1:123456789012", None),
            (
                "urn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/",
                None,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234",
                None,
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod",
                None,
            ),
            (
                "arn:AWS:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/",
                Some(Partition),
            ),
            (
                "arn:gcp:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/",
                Some(Partition),
            ),
            (
                "arn::execute-api:us-east-1:123456789012:abcdef1234/prod/GET/",
                Some(Partition),
            ),
            (
                "arn:aws-:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/",
                Some(Partition),
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:abcdef1234/prod/GET/",
                Some(Service),
            ),
            (
                "arn:aws:execute-api:useast1:123456789012:abcdef1234/prod/GET/",
                Some(Region),
            ),
            (
                "arn:aws:execute-api:us-east:123456789012:abcdef1234/prod/GET/",
                Some(Region),
            ),
            (
                "arn:aws:execute-api:US-EAST-1:123456789012:abcdef1234/prod/GET/",
                Some(Region),
            ),
            (
                "arn:aws:execute-api:us-east-1:12345678901:abcdef1234/prod/GET/",
                Some(Account),
            ),
            (
                "arn:aws:execute-api:us-east-1:1234567890123:abcdef1234/prod/GET/",
                Some(Account),
            ),
            (
                "arn:aws:execute-api:us-east-1:12345678901a:abcdef1234/prod/GET/",
                Some(Account),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:ABCDEF/prod/GET/",
                Some(ApiId),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:/prod/GET/",
                Some(ApiId),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234//GET/",
                Some(Stage),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/pr.od/GET/",
                Some(Stage),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$prod/GET/",
                Some(Stage),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/get/",
                Some(Verb),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/ANY/",
                Some(Verb),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/CONNECT/",
                Some(Verb),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/a//b",
                Some(Path),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET//a",
                Some(Path),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/a b",
                Some(Path),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/{proxy+}",
                Some(Path),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/${aws:username}",
                Some(Path),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/caf\u{e9}",
                Some(Path),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/a\nb",
                Some(Path),
            ),
            (
                "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/",
                Some(RouteKey),
            ),
        ];
        for (raw, part) in cases {
            let err = MethodArn::parse(raw).unwrap_err();
            match (part, &err) {
                (None, ArnError::Malformed(_)) => {}
                (Some(want), ArnError::Invalid { part: got, .. }) if want == got => {}
                _ => panic!("{raw:?}: expected {part:?}, got {err:?}"),
            }
        }
    }

    #[test]
    fn accepted_path_characters() {
        for path in [
            "pets/42",
            "pets/",
            "has_underscore",
            "a-b.c~d",
            "users/me@example.com",
            "q:a;b=c,d+e&f!g$h'i(j)",
            "caf%C3%A9",
        ] {
            let arn = MethodArn::parse(REST).unwrap().with_path(path).unwrap();
            assert_eq!(arn.path(), Some(path));
            assert_eq!(MethodArn::parse(&arn.to_string()).unwrap(), arn);
        }
    }

    #[test]
    fn the_1600_byte_limit() {
        let prefix = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/";
        let at_limit = format!("{prefix}{}", "a".repeat(MAX_ARN_BYTES - prefix.len()));
        assert_eq!(at_limit.len(), MAX_ARN_BYTES);
        let arn = MethodArn::parse(&at_limit).unwrap();
        let over = format!("{at_limit}b");
        assert_eq!(
            MethodArn::parse(&over),
            Err(ArnError::TooLong {
                len: MAX_ARN_BYTES + 1
            })
        );
        // Building past the limit is refused too, not only parsing.
        let long_path = "a".repeat(MAX_ARN_BYTES - prefix.len() + 1);
        assert_eq!(
            arn.with_path(&long_path),
            Err(ArnError::TooLong {
                len: MAX_ARN_BYTES + 1
            })
        );
        // A megabyte of garbage is refused on its length before anything else.
        let huge = "arn:".repeat(250_000);
        assert!(matches!(
            MethodArn::parse(&huge),
            Err(ArnError::TooLong { .. })
        ));
    }

    #[test]
    fn helpers_widen_and_narrow() {
        let arn = MethodArn::parse(REST).unwrap();
        let base = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234";
        assert_eq!(
            arn.with_path("/pets").unwrap().to_string(),
            format!("{base}/prod/GET/pets")
        );
        assert_eq!(
            arn.any_method().unwrap().to_string(),
            format!("{base}/prod/*/pets/42")
        );
        assert_eq!(arn.stage_wide().to_string(), format!("{base}/prod/*"));
        assert_eq!(arn.api_wide().to_string(), format!("{base}/*"));
        assert_eq!(arn.api_wide().stage(), None);
        assert_eq!(arn.api_wide().stage_wide(), arn.api_wide());
        assert_eq!(
            arn.with_method(Verb::Delete, "pets/*").unwrap().to_string(),
            format!("{base}/prod/DELETE/pets/*")
        );
        assert_eq!(
            arn.api_wide()
                .with_method(Verb::Get, "/pets")
                .unwrap()
                .to_string(),
            format!("{base}/*/GET/pets")
        );
        assert_eq!(
            arn.api_wide().with_path("pets"),
            Err(ArnError::NotAMethod("with_path"))
        );
        assert!(matches!(
            arn.with_path("pets?x=1"),
            Err(ArnError::Wildcard {
                part: ArnPart::Path
            })
        ));
    }

    #[test]
    fn verbs() {
        for verb in Verb::ALL {
            assert_eq!(verb.as_str().parse::<Verb>(), Ok(verb));
        }
        assert!("ANY".parse::<Verb>().is_err());
        assert!("Get".parse::<Verb>().is_err());
    }

    #[test]
    fn iam_matching() {
        let cases = [
            ("*", "anything/at/all", true),
            ("a/*/c", "a/b/x/c", true),
            ("a/*", "a/", true),
            ("a/*", "a", false),
            ("a/b", "a/b", true),
            ("a/b", "a/B", false),
            ("a/?", "a/b", true),
            ("a/?", "a/bc", false),
            ("*/*/*", "prod/GET/", true),
            ("prod/*/*", "prod/$connect", false),
            ("prod/*", "prod/$connect", true),
            ("p*d/G*T/x*", "prod/GET/xyz", true),
            ("**", "", true),
            ("", "x", false),
        ];
        for (pattern, value, want) in cases {
            assert_eq!(iam_match(pattern, value), want, "{pattern} vs {value}");
        }
        let request = MethodArn::parse(REST).unwrap();
        assert!(request.stage_wide().covers(&request));
        assert!(request.api_wide().covers(&request));
        assert!(request.with_path("pets/*").unwrap().covers(&request));
        assert!(!request.with_path("cats/*").unwrap().covers(&request));
        assert!(
            !request
                .with_method(Verb::Post, "*")
                .unwrap()
                .covers(&request)
        );
    }

    #[test]
    fn events_and_serde() {
        let token: ApiGatewayCustomAuthorizerRequest = serde_json::from_value(serde_json::json!({
            "type": "TOKEN",
            "authorizationToken": "allow",
            "methodArn": REST,
        }))
        .unwrap();
        assert_eq!(MethodArn::from_event(&token).unwrap().to_string(), REST);
        let raw = serde_json::json!({ "routeArn": REST });
        assert_eq!(MethodArn::from_event(&raw).unwrap().to_string(), REST);
        for missing in [
            serde_json::json!({}),
            serde_json::json!(null),
            serde_json::json!([REST]),
            serde_json::json!({ "methodArn": 42 }),
        ] {
            assert_eq!(
                MethodArn::from_event(&missing),
                Err(ArnError::Missing),
                "{missing}"
            );
        }
        let arn: MethodArn = serde_json::from_str(&format!("\"{REST}\"")).unwrap();
        assert_eq!(serde_json::to_string(&arn).unwrap(), format!("\"{REST}\""));
        assert!(serde_json::from_str::<MethodArn>("\"arn:aws:nope\"").is_err());
        let error: crate::Error = ArnError::Missing.into();
        assert_eq!(error.status(), 500);
    }
}
