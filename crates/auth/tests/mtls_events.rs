//! Reading `clientCertPem` from API Gateway events and verifying it.
//!
//! The events are the aws_lambda_events 1.2.1 fixtures (MIT OR Apache-2.0)
//! `example-apigw-v2-custom-authorizer-v2-request.json`,
//! `example-apigw-custom-auth-request-type-request.json`,
//! `example-apigw-v2-custom-authorizer-v1-request.json` and
//! `example-apigw-v2-request-no-authorizer.json`, trimmed of headers, with
//! `clientCertPem` replaced by a certificate generated in the test.

#![cfg(feature = "mtls")]
#![allow(clippy::unwrap_used)]

mod mtls_support;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayV2CustomAuthorizerV1Request,
    ApiGatewayV2CustomAuthorizerV2Request, ApiGatewayV2httpRequest,
};
use lambdakit_auth::Error;
use lambdakit_auth::mtls::{
    ClientCertEvent, ClientCertVerifier, CrlSet, MtlsErrorKind, PrincipalSource, RevocationCheck,
    client_cert_pem,
};
use mtls_support::*;
use serde_json::{Value, json};

/// HTTP API, Lambda authorizer, payload format 2.0.
fn v2_authorizer_event() -> Value {
    json!({
      "version": "2.0",
      "type": "REQUEST",
      "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request",
      "identitySource": ["user1", "123"],
      "routeKey": "$default",
      "rawPath": "/my/path",
      "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
      "cookies": ["cookie1", "cookie2"],
      "headers": { "Header1": "value1", "Header2": "value2" },
      "queryStringParameters": { "parameter1": "value1,value2", "parameter2": "value" },
      "requestContext": {
        "accountId": "123456789012",
        "apiId": "api-id",
        "authentication": {
          "clientCert": {
            "clientCertPem": "CERT_CONTENT",
            "subjectDN": "www.example.com",
            "issuerDN": "Example issuer",
            "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
            "validity": {
              "notBefore": "May 28 12:30:02 2019 GMT",
              "notAfter": "Aug  5 09:36:04 2021 GMT"
            }
          }
        },
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "http": {
          "method": "POST",
          "path": "/my/path",
          "protocol": "HTTP/1.1",
          "sourceIp": "IP",
          "userAgent": "agent"
        },
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390_u64
      },
      "pathParameters": { "parameter1": "value1" },
      "stageVariables": { "stageVariable1": "value1", "stageVariable2": "value2" }
    })
}

/// REST API, request authorizer.
fn rest_authorizer_event() -> Value {
    json!({
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/request",
        "resource": "/request",
        "path": "/request",
        "httpMethod": "GET",
        "headers": { "HeaderAuth1": "headerValue1" },
        "multiValueHeaders": { "HeaderAuth1": ["headerValue1"] },
        "queryStringParameters": { "QueryString1": "queryValue1" },
        "multiValueQueryStringParameters": { "QueryString1": ["queryValue1"] },
        "pathParameters": {},
        "stageVariables": { "StageVar1": "stageValue1" },
        "requestContext": {
            "path": "/request",
            "accountId": "123456789012",
            "resourceId": "05c7jb",
            "stage": "test",
            "requestId": "...",
            "identity": {
                "apiKey": "...",
                "sourceIp": "...",
                "clientCert": {
                    "clientCertPem": "-----BEGIN CERTIFICATE-----\nMIIEZTCCAk0CAQEwDQ...",
                    "issuerDN": "C=US,ST=Washington,L=Seattle,O=Amazon Web Services,OU=Security,CN=My Private CA",
                    "serialNumber": "1",
                    "subjectDN": "C=US,ST=Washington,L=Seattle,O=Amazon Web Services,OU=Security,CN=My Client",
                    "validity": {
                        "notAfter": "Aug  5 00:28:21 2120 GMT",
                        "notBefore": "Aug 29 00:28:21 2020 GMT"
                    }
                }
            },
            "resourcePath": "/request",
            "httpMethod": "GET",
            "apiId": "s4x3opwd6i"
        }
    })
}

/// HTTP API, Lambda authorizer, payload format 1.0.
fn v1_http_authorizer_event() -> Value {
    json!({
      "version": "1.0",
      "type": "REQUEST",
      "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request",
      "identitySource": "user1,123",
      "authorizationToken": "user1,123",
      "resource": "/request",
      "path": "/request",
      "httpMethod": "GET",
      "headers": { "HeaderAuth1": "headerValue1" },
      "queryStringParameters": { "QueryString1": "queryValue1" },
      "pathParameters": {},
      "stageVariables": { "StageVar1": "stageValue1" },
      "requestContext": {
        "path": "/request",
        "accountId": "123456789012",
        "resourceId": "05c7jb",
        "stage": "test",
        "requestId": "...",
        "identity": {
          "apiKey": "...",
          "sourceIp": "...",
          "clientCert": {
            "clientCertPem": "CERT_CONTENT",
            "subjectDN": "www.example.com",
            "issuerDN": "Example issuer",
            "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
            "validity": {
              "notBefore": "May 28 12:30:02 2019 GMT",
              "notAfter": "Aug  5 09:36:04 2021 GMT"
            }
          }
        },
        "resourcePath": "/request",
        "httpMethod": "GET",
        "apiId": "abcdef123",
        "routeKey": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390_u64
      }
    })
}

/// HTTP API integration event (payload format 2.0), as a function behind the API receives it.
fn http_api_request_event() -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": { "accept": "*/*", "user-agent": "curl/7.58.0" },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "aaaaaaaaaa",
            "authentication": {
                "clientCert": {
                    "clientCertPem": "-----BEGIN CERTIFICATE-----\nMIIEZTCCAk0CAQEwDQ...",
                    "issuerDN": "C=US,ST=Washington,L=Seattle,O=Amazon Web Services,OU=Security,CN=My Private CA",
                    "serialNumber": "1",
                    "subjectDN": "C=US,ST=Washington,L=Seattle,O=Amazon Web Services,OU=Security,CN=My Client",
                    "validity": {
                        "notAfter": "Aug  5 00:28:21 2120 GMT",
                        "notBefore": "Aug 29 00:28:21 2020 GMT"
                    }
                }
            },
            "domainName": "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com",
            "domainPrefix": "aaaaaaaaaa",
            "http": {
                "method": "GET",
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "1.2.3.4",
                "userAgent": "curl/7.58.0"
            },
            "requestId": "LV7fzho-PHcEJPw=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Apr/2020:15:08:21 +0000",
            "timeEpoch": 1587481701067_u64
        },
        "isBase64Encoded": false
    })
}

fn with_pem(mut event: Value, pointer: &str, pem: &str) -> Value {
    *event.pointer_mut(pointer).unwrap() = Value::String(pem.to_owned());
    event
}

fn verify<E: ClientCertEvent>(pki: &Pki, event: &E) -> Result<String, Error> {
    let crls = CrlSet::parse(&pki.clean_crls()).unwrap();
    let cert = ClientCertVerifier::new(pki.truststore()).verify(
        client_cert_pem(event)?,
        now(),
        RevocationCheck::Crls(&crls),
    )?;
    cert.principal(PrincipalSource::CommonName)
}

#[test]
fn http_api_v2_authorizer_event_is_parsed_and_verified() {
    let pki = Pki::new("EventV2");
    let pem = pki.client(client_params("v2-client"));
    let json = with_pem(
        v2_authorizer_event(),
        "/requestContext/authentication/clientCert/clientCertPem",
        &pem,
    );
    let event: ApiGatewayV2CustomAuthorizerV2Request = serde_json::from_value(json).unwrap();

    assert_eq!(client_cert_pem(&event).unwrap(), pem);
    assert_eq!(verify(&pki, &event).unwrap(), "v2-client");
}

#[test]
fn rest_api_request_authorizer_event_is_parsed_and_verified() {
    let pki = Pki::new("EventRest");
    let pem = pki.client(client_params("rest-client"));
    let json = with_pem(
        rest_authorizer_event(),
        "/requestContext/identity/clientCert/clientCertPem",
        &pem,
    );
    let event: ApiGatewayCustomAuthorizerRequestTypeRequest = serde_json::from_value(json).unwrap();

    assert_eq!(verify(&pki, &event).unwrap(), "rest-client");
}

#[test]
fn http_api_v1_authorizer_event_is_parsed_and_verified() {
    let pki = Pki::new("EventV1");
    let pem = pki.client(client_params("v1-client"));
    let json = with_pem(
        v1_http_authorizer_event(),
        "/requestContext/identity/clientCert/clientCertPem",
        &pem,
    );
    let event: ApiGatewayV2CustomAuthorizerV1Request = serde_json::from_value(json).unwrap();

    assert_eq!(verify(&pki, &event).unwrap(), "v1-client");
}

#[test]
fn http_api_integration_event_is_parsed_and_verified() {
    let pki = Pki::new("EventHttp");
    let pem = pki.client(client_params("http-client"));
    let json = with_pem(
        http_api_request_event(),
        "/requestContext/authentication/clientCert/clientCertPem",
        &pem,
    );
    let event: ApiGatewayV2httpRequest = serde_json::from_value(json).unwrap();

    assert_eq!(verify(&pki, &event).unwrap(), "http-client");
}

#[test]
fn event_strings_next_to_the_pem_are_not_trusted() {
    // The event claims another subject, serial and validity; only the PEM counts.
    let pki = Pki::new("EventStrings");
    let pem = pki.client(client_params("real-client"));
    let mut json = with_pem(
        v2_authorizer_event(),
        "/requestContext/authentication/clientCert/clientCertPem",
        &pem,
    );
    let cert = json
        .pointer_mut("/requestContext/authentication/clientCert")
        .unwrap();
    cert["subjectDN"] = json!("C=US,O=Example Corp,CN=admin");
    cert["serialNumber"] = json!("ff");
    let event: ApiGatewayV2CustomAuthorizerV2Request = serde_json::from_value(json).unwrap();

    assert_eq!(verify(&pki, &event).unwrap(), "real-client");
}

#[test]
fn fixture_placeholder_pem_is_refused() {
    let pki = Pki::new("Placeholder");
    let event: ApiGatewayV2CustomAuthorizerV2Request =
        serde_json::from_value(v2_authorizer_event()).unwrap();
    let rest: ApiGatewayCustomAuthorizerRequestTypeRequest =
        serde_json::from_value(rest_authorizer_event()).unwrap();

    assert_eq!(kind(verify(&pki, &event)), MtlsErrorKind::Malformed);
    assert_eq!(kind(verify(&pki, &rest)), MtlsErrorKind::Malformed);
}

#[test]
fn http_api_v2_event_without_client_cert_denies() {
    let pki = Pki::new("NoCertV2");
    let mut without_authentication = v2_authorizer_event();
    without_authentication["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authentication");
    let mut null_cert = v2_authorizer_event();
    null_cert["requestContext"]["authentication"]["clientCert"] = Value::Null;

    for json in [without_authentication, null_cert] {
        let event: ApiGatewayV2CustomAuthorizerV2Request = serde_json::from_value(json).unwrap();
        let result = verify(&pki, &event);
        let error = refusal(result);
        assert_eq!(error.kind(), MtlsErrorKind::NoCertificate);
        assert_eq!(error.status(), 401);
    }
}

#[test]
fn rest_api_event_without_client_cert_denies() {
    // REST events carry `"clientCert": null` when mutual TLS is off.
    let pki = Pki::new("NoCertRest");
    let mut null_cert = rest_authorizer_event();
    null_cert["requestContext"]["identity"]["clientCert"] = Value::Null;
    let mut no_identity = rest_authorizer_event();
    no_identity["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("identity");
    let mut empty_pem = rest_authorizer_event();
    empty_pem["requestContext"]["identity"]["clientCert"]["clientCertPem"] = json!("");

    for json in [null_cert, no_identity, empty_pem] {
        let event: ApiGatewayCustomAuthorizerRequestTypeRequest =
            serde_json::from_value(json).unwrap();
        let result = verify(&pki, &event);
        assert_eq!(kind(result), MtlsErrorKind::NoCertificate);
    }
}
