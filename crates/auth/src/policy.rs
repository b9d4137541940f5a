//! IAM policy responses for REST APIs, WebSocket `$connect` and HTTP APIs, built fail-closed.
//!
//! [`Policy`] is the Rust counterpart of Powertools' `APIGatewayAuthorizerResponse`, and builds
//! `aws_lambda_events`' own response types:
//!
//! | method | returns | for |
//! | --- | --- | --- |
//! | [`Policy::build`] | [`ApiGatewayCustomAuthorizerResponse`] | REST API (TOKEN, REQUEST), WebSocket `$connect`, HTTP API payload 1.0 |
//! | [`Policy::build_v2`] | [`ApiGatewayV2CustomAuthorizerIamPolicyResponse`] | HTTP API payload 2.0 without simple responses |
//!
//! # Fail closed
//!
//! * Every resource is built from the caller's own method ARN: its partition, region, account,
//!   API and stage ([`MethodArn`]); nothing defaults to the `aws` partition.
//! * Every statement states its `Effect` (`IamPolicyEffect::default()` is Allow, and is never
//!   relied on); `Version` is always `2012-10-17`.
//! * A policy with no statement, an empty `principalId`, a bad path, a nested REST context value
//!   or a response over 8 KB is an [`Error::InvalidResponse`], never a half-built response. Wrap
//!   the decision in [`deny_on_error`](crate::response::deny_on_error) to answer those with a Deny.
//!
//! # Deny wins
//!
//! IAM evaluates every statement: an explicit `Deny` that matches the method ARN overrides any
//! `Allow`, whatever the order of the statements, and a method ARN that no `Allow` matches is
//! denied implicitly. So when both `allow` and `deny` name the same resource, [`Policy`] keeps
//! both statements, and the request is denied. Allow statements come first, then Deny ones (as in
//! Powertools); the order changes nothing.
//!
//! Statements are grouped as Powertools groups them: per effect, one statement per conditional
//! rule, then one statement holding every unconditional resource of that effect.
//!
//! # Example
//!
//! ```
//! use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest;
//! use lambdakit_auth::arn::{MethodArn, Verb};
//! use lambdakit_auth::policy::Policy;
//! use lambdakit_auth::response::deny_on_error;
//!
//! fn decide(event: &ApiGatewayCustomAuthorizerRequest) -> Result<
//!     aws_lambda_events::apigw::ApiGatewayCustomAuthorizerResponse,
//!     lambdakit_auth::Error,
//! > {
//!     let arn = MethodArn::from_event(event)?;
//!     Policy::new(&arn, "user-42")
//!         .allow(Verb::Get, "/pets/*")
//!         .deny(Verb::Delete, "/pets/*")
//!         .context("tier", "gold")
//!         .context("quota", 100)
//!         .build()
//! }
//!
//! let event: ApiGatewayCustomAuthorizerRequest = serde_json::from_value(serde_json::json!({
//!     "type": "TOKEN",
//!     "authorizationToken": "Bearer ...",
//!     "methodArn": "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abcdef1234/prod/GET/pets/1",
//! }))?;
//! let response = deny_on_error(decide(&event));
//! let json = serde_json::to_value(&response)?;
//! assert_eq!(
//!     json["policyDocument"]["Statement"][0]["Resource"][0],
//!     "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abcdef1234/prod/GET/pets/*"
//! );
//! assert_eq!(json["policyDocument"]["Statement"][1]["Effect"], "Deny");
//! # Ok::<(), serde_json::Error>(())
//! ```

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse,
};
use aws_lambda_events::iam::{IamPolicyCondition, IamPolicyEffect, IamPolicyStatement};
use serde_json::{Map, Value};

use crate::Error;
use crate::arn::{ArnError, MethodArn, Verb};
use crate::response::{check_size, context_value};

/// The IAM policy language version every policy this crate builds declares.
pub const POLICY_VERSION: &str = "2012-10-17";

/// The only action an authorizer policy grants or denies.
pub const INVOKE_ACTION: &str = "execute-api:Invoke";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

impl Effect {
    fn iam(self) -> IamPolicyEffect {
        match self {
            Effect::Allow => IamPolicyEffect::Allow,
            Effect::Deny => IamPolicyEffect::Deny,
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    effect: Effect,
    resource: String,
    condition: Option<IamPolicyCondition>,
}

/// Builder of an authorizer's IAM policy response.
///
/// Rules are added with the `allow...`/`deny...` methods; a bad rule (invalid path, foreign API)
/// is remembered and reported by [`build`](Policy::build), so the chain reads straight and still
/// fails closed. Paths are API paths (`/pets/*`, a leading `/` optional), checked as in
/// [`crate::arn`].
#[derive(Debug, Clone)]
pub struct Policy {
    base: MethodArn,
    principal_id: String,
    rules: Vec<Rule>,
    context: Map<String, Value>,
    usage_identifier_key: Option<String>,
    error: Option<String>,
}

impl Policy {
    /// A policy for the API of `method_arn` (the event's `methodArn`/`routeArn`, see
    /// [`MethodArn::from_event`]), naming `principal_id` as the caller.
    ///
    /// Resources are built in that ARN's partition, region, account, API and stage (every stage,
    /// `*`, if it is api-wide). An empty `principal_id` makes [`build`](Policy::build) fail.
    pub fn new(method_arn: &MethodArn, principal_id: impl Into<String>) -> Self {
        Policy {
            base: method_arn.clone(),
            principal_id: principal_id.into(),
            rules: Vec::new(),
            context: Map::new(),
            usage_identifier_key: None,
            error: None,
        }
    }

    /// Allows `verb` on `path` (`*` segments and a trailing `*` allowed).
    pub fn allow(self, verb: Verb, path: &str) -> Self {
        self.method_rule(Effect::Allow, verb, path, None)
    }

    /// Denies `verb` on `path`. A Deny overrides every Allow that matches the same request.
    pub fn deny(self, verb: Verb, path: &str) -> Self {
        self.method_rule(Effect::Deny, verb, path, None)
    }

    /// Allows `verb` on `path` when `condition` holds, in a statement of its own. An empty
    /// condition is no condition. A condition with an operator or key that has no values makes
    /// [`build`](Policy::build) fail.
    pub fn allow_if(self, verb: Verb, path: &str, condition: IamPolicyCondition) -> Self {
        self.method_rule(Effect::Allow, verb, path, Some(condition))
    }

    /// Denies `verb` on `path` when `condition` holds, in a statement of its own.
    pub fn deny_if(self, verb: Verb, path: &str, condition: IamPolicyCondition) -> Self {
        self.method_rule(Effect::Deny, verb, path, Some(condition))
    }

    /// Allows a WebSocket route (`$connect`, or `*`) in the stage.
    pub fn allow_route_key(self, route_key: &str) -> Self {
        let resource = self.base.with_route_key(route_key);
        self.rule(Effect::Allow, resource, None)
    }

    /// Denies a WebSocket route in the stage.
    pub fn deny_route_key(self, route_key: &str) -> Self {
        let resource = self.base.with_route_key(route_key);
        self.rule(Effect::Deny, resource, None)
    }

    /// Allows a resource built with the [`MethodArn`] helpers (`any_method`, `stage_wide`, ...).
    /// It must name the same API (partition, region, account, api id) as the policy's method ARN,
    /// or [`build`](Policy::build) fails.
    pub fn allow_arn(self, resource: &MethodArn) -> Self {
        let resource = self.same_api(resource);
        self.rule(Effect::Allow, resource, None)
    }

    /// Denies a resource built with the [`MethodArn`] helpers; same API rule as
    /// [`allow_arn`](Policy::allow_arn).
    pub fn deny_arn(self, resource: &MethodArn) -> Self {
        let resource = self.same_api(resource);
        self.rule(Effect::Deny, resource, None)
    }

    /// Allows everything in the stage: `<api>/<stage>/*/*` for a method ARN (as Powertools'
    /// `allow_all_routes`), `<api>/<stage>/*` for a WebSocket route ARN, `<api>/*` for an
    /// api-wide one.
    pub fn allow_all(self) -> Self {
        let resource = self.everything();
        self.rule(Effect::Allow, resource, None)
    }

    /// Denies everything in the stage (same resource as [`allow_all`](Policy::allow_all)), which
    /// overrides every Allow of this policy.
    pub fn deny_all(self) -> Self {
        let resource = self.everything();
        self.rule(Effect::Deny, resource, None)
    }

    /// Adds (or replaces) a context entry, passed to the integration as
    /// `$context.authorizer.<key>`.
    ///
    /// REST (and HTTP API payload 1.0) contexts hold only strings, numbers and booleans: there
    /// [`build`](Policy::build) fails on an array, object or null, which API Gateway would reject
    /// with a 500. [`build_v2`](Policy::build_v2) also accepts arrays and objects.
    pub fn context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context.insert(key.into(), value.into());
        self
    }

    /// The API key of a usage plan whose key source is `AUTHORIZER` (REST APIs only). An empty key
    /// makes [`build`](Policy::build) fail; [`build_v2`](Policy::build_v2) refuses any key.
    pub fn usage_identifier_key(mut self, key: impl Into<String>) -> Self {
        self.usage_identifier_key = Some(key.into());
        self
    }

    /// The REST / WebSocket / HTTP API payload 1.0 response.
    ///
    /// Returns [`Error::InvalidResponse`] when a rule was invalid, the `principalId` or the usage
    /// identifier key is empty, there is no statement, a context value is not a string, number or
    /// boolean, or the response serializes to more than 8 KB.
    pub fn build(self) -> Result<ApiGatewayCustomAuthorizerResponse, Error> {
        let policy_document = self.document()?;
        for (key, value) in &self.context {
            if !(value.is_string() || value.is_number() || value.is_boolean()) {
                return Err(Error::InvalidResponse(format!(
                    "context value of {key:?} is {}: a REST authorizer context holds only strings, numbers and booleans",
                    kind(value)
                )));
            }
        }
        if self.usage_identifier_key.as_deref() == Some("") {
            return Err(Error::InvalidResponse(
                "usage identifier key is empty".to_owned(),
            ));
        }
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        response.principal_id = Some(self.principal_id);
        response.policy_document = policy_document;
        response.context = context_value(self.context);
        response.usage_identifier_key = self.usage_identifier_key;
        check_size(&response)?;
        Ok(response)
    }

    /// The HTTP API payload 2.0 IAM policy response (`principalId`, `policyDocument`, `context`).
    /// Its context may hold arrays and objects.
    ///
    /// Returns [`Error::InvalidResponse`] when a rule was invalid, the `principalId` is empty,
    /// there is no statement, a usage identifier key was set (HTTP APIs have no usage plans keyed
    /// by authorizers), or the response serializes to more than 8 KB.
    pub fn build_v2(self) -> Result<ApiGatewayV2CustomAuthorizerIamPolicyResponse, Error> {
        let policy_document = self.document()?;
        if self.usage_identifier_key.is_some() {
            return Err(Error::InvalidResponse(
                "a usage identifier key applies to REST APIs only".to_owned(),
            ));
        }
        let mut response = ApiGatewayV2CustomAuthorizerIamPolicyResponse::default();
        response.principal_id = Some(self.principal_id);
        response.policy_document = policy_document;
        response.context = context_value(self.context);
        check_size(&response)?;
        Ok(response)
    }

    fn method_rule(
        self,
        effect: Effect,
        verb: Verb,
        path: &str,
        condition: Option<IamPolicyCondition>,
    ) -> Self {
        let resource = self.base.with_method(verb, path);
        self.rule(effect, resource, condition)
    }

    fn same_api(&self, resource: &MethodArn) -> Result<MethodArn, String> {
        if self.base.same_api(resource) {
            Ok(resource.clone())
        } else {
            Err(format!(
                "policy resource {resource} is not in the api of the method arn {}",
                self.base
            ))
        }
    }

    fn everything(&self) -> Result<MethodArn, ArnError> {
        if self.base.stage().is_none() {
            Ok(self.base.api_wide())
        } else if self.base.is_route() {
            Ok(self.base.stage_wide())
        } else {
            self.base.with_method(Verb::Any, "*")
        }
    }

    fn rule(
        mut self,
        effect: Effect,
        resource: Result<MethodArn, impl ToString>,
        condition: Option<IamPolicyCondition>,
    ) -> Self {
        match resource {
            Ok(resource) => self.rules.push(Rule {
                effect,
                resource: resource.to_string(),
                condition: condition.filter(|c| !c.is_empty()),
            }),
            Err(error) => {
                // The first error is the one to report; later rules may only be its consequences.
                if self.error.is_none() {
                    self.error = Some(error.to_string());
                }
            }
        }
        self
    }

    fn document(&self) -> Result<ApiGatewayCustomAuthorizerPolicy, Error> {
        if let Some(error) = &self.error {
            return Err(Error::InvalidResponse(error.clone()));
        }
        if self.principal_id.trim().is_empty() {
            return Err(Error::InvalidResponse("principalId is empty".to_owned()));
        }
        if self.rules.is_empty() {
            return Err(Error::InvalidResponse(
                "no statements defined for the policy".to_owned(),
            ));
        }
        for rule in &self.rules {
            if let Some(condition) = &rule.condition {
                let empty = condition
                    .values()
                    .any(|keys| keys.is_empty() || keys.values().any(Vec::is_empty));
                if empty {
                    return Err(Error::InvalidResponse(format!(
                        "condition on {} has an operator or key without values",
                        rule.resource
                    )));
                }
            }
        }
        let mut statements = Vec::new();
        for effect in [Effect::Allow, Effect::Deny] {
            let mut plain: Vec<String> = Vec::new();
            for rule in self.rules.iter().filter(|r| r.effect == effect) {
                match &rule.condition {
                    Some(condition) => statements.push(statement(
                        effect,
                        vec![rule.resource.clone()],
                        Some(condition.clone()),
                    )),
                    None if plain.contains(&rule.resource) => {}
                    None => plain.push(rule.resource.clone()),
                }
            }
            if !plain.is_empty() {
                statements.push(statement(effect, plain, None));
            }
        }
        let mut document = ApiGatewayCustomAuthorizerPolicy::default();
        document.version = Some(POLICY_VERSION.to_owned());
        document.statement = statements;
        Ok(document)
    }
}

fn statement(
    effect: Effect,
    resource: Vec<String>,
    condition: Option<IamPolicyCondition>,
) -> IamPolicyStatement {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec![INVOKE_ACTION.to_owned()];
    statement.effect = effect.iam();
    statement.resource = resource;
    statement.condition = condition;
    statement
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
