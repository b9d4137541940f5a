//! The REST API functions (API Gateway, Cognito user pool authorizer): each takes the
//! `lambda_http` request, answers JSON (or a PDF), and maps every error to its status with a
//! JSON body that names no table, bucket or SDK error.
//!
//! | function | route | answer |
//! | --- | --- | --- |
//! | FetchProjects | `GET /projects` | `200 {"projects": [{"name", "user", "identityId", "createdAt"}]}` |
//! | CreateProject | `POST /projects` with `{"project", "identityId"}` | `201` the project; `409` when it exists |
//! | DeleteProject | `DELETE /projects?project=NAME` | `200 {"pages", "objects"}` deleted; `404` |
//! | FetchPageCount | `GET /pagecount?project=NAME` | `200 {"project", "count"}`; `404` |
//! | GeneratePDF | `GET /pdf?project=NAME[&mode=text]` | `200 application/pdf` (base64 body), or `200 {"url", "expiresIn", "key", "bytes", "pages"}` when too large; `404` |
//!
//! The user is always the `cognito:username` claim the authorizer verified (REST API:
//! `requestContext.authorizer.claims`; HTTP API JWT authorizer: `requestContext.authorizer.jwt.claims`),
//! never a parameter: `401` without it. The project name is a query parameter (API Gateway
//! decodes those, unlike REST API path parameters) or the JSON body.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::generate::{self, Generated, Mode};
use crate::{Config, Error, Scanner, error};

/// The claim holding the user name.
pub const USER_CLAIM: &str = "cognito:username";

/// FetchProjects: `GET /projects`.
pub async fn fetch_projects(scanner: &Scanner, request: Request) -> Response<Body> {
    let result = async {
        let user = user(&request)?;
        let projects = scanner.projects(&user).await?;
        Ok(Reply::Json(StatusCode::OK, json!({ "projects": projects })))
    }
    .await;
    respond(scanner.config(), &request, result)
}

/// The body of `POST /projects`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewProject {
    project: String,
    identity_id: String,
}

/// CreateProject: `POST /projects` with `{"project": NAME, "identityId": ID}`, the Cognito
/// identity id the web app uploads with (`Auth.currentCredentials().identityId`).
pub async fn create_project(scanner: &Scanner, request: Request) -> Response<Body> {
    let result = async {
        let user = user(&request)?;
        let body: NewProject = serde_json::from_slice(request.body().as_ref()).map_err(|e| {
            Error::BadRequest(format!(
                "expected a JSON body {{\"project\": ..., \"identityId\": ...}}: {e}"
            ))
        })?;
        let project = scanner
            .create_project(&user, &body.project, &body.identity_id)
            .await?;
        Ok(Reply::Json(StatusCode::CREATED, json!(project)))
    }
    .await;
    respond(scanner.config(), &request, result)
}

/// DeleteProject: `DELETE /projects?project=NAME`.
pub async fn delete_project(scanner: &Scanner, request: Request) -> Response<Body> {
    let result = async {
        let user = user(&request)?;
        let name = project_param(&request)?;
        let deleted = scanner.delete_project(&user, &name).await?;
        Ok(Reply::Json(StatusCode::OK, json!(deleted)))
    }
    .await;
    respond(scanner.config(), &request, result)
}

/// FetchPageCount: `GET /pagecount?project=NAME`.
pub async fn fetch_page_count(scanner: &Scanner, request: Request) -> Response<Body> {
    let result = async {
        let user = user(&request)?;
        let name = project_param(&request)?;
        let count = scanner.page_count(&user, &name).await?;
        Ok(Reply::Json(
            StatusCode::OK,
            json!({ "project": name, "count": count }),
        ))
    }
    .await;
    respond(scanner.config(), &request, result)
}

/// GeneratePDF: `GET /pdf?project=NAME[&mode=text]`.
pub async fn generate_pdf(scanner: &Scanner, request: Request) -> Response<Body> {
    let result = async {
        let user = user(&request)?;
        let name = project_param(&request)?;
        let mode = Mode::parse(query(&request, "mode").as_deref())?;
        match generate::generate_pdf(scanner, &user, &name, mode).await? {
            Generated::Inline { pdf, .. } => Ok(Reply::Pdf(pdf, name)),
            Generated::Link(link) => Ok(Reply::Json(StatusCode::OK, json!(link))),
        }
    }
    .await;
    respond(scanner.config(), &request, result)
}

/// Every function behind one handler, by method and path: for `cargo lambda watch`, the demo,
/// or a deployment with one function. `OPTIONS` answers CORS preflights.
pub async fn route(scanner: &Scanner, request: Request) -> Response<Body> {
    let path = request.raw_http_path().trim_end_matches('/').to_owned();
    match (request.method().as_str(), path.as_str()) {
        ("GET", "/projects") => fetch_projects(scanner, request).await,
        ("POST", "/projects") => create_project(scanner, request).await,
        ("DELETE", "/projects") => delete_project(scanner, request).await,
        ("GET", "/pagecount") => fetch_page_count(scanner, request).await,
        ("GET", "/pdf") => generate_pdf(scanner, request).await,
        ("OPTIONS", _) => {
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            cors(scanner.config(), &mut response);
            let headers = response.headers_mut();
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type"),
            );
            response
        }
        (method, _) => respond(
            scanner.config(),
            &request,
            Err(Error::NotFound(format!("route {method} {path}"))),
        ),
    }
}

/// The signed-in user: the `cognito:username` claim the authorizer put in the request context.
///
/// Returns [`Error::Unauthorized`] when there is none (no authorizer, or another kind).
pub fn user(request: &Request) -> Result<String, Error> {
    let claim = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => context
            .authorizer
            .fields
            .get("claims")
            .and_then(|claims| claims.get(USER_CLAIM))
            .and_then(Value::as_str)
            .map(str::to_owned),
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .and_then(|jwt| jwt.claims.get(USER_CLAIM))
            .cloned(),
        _ => None,
    };
    claim.filter(|u| !u.is_empty()).ok_or(Error::Unauthorized)
}

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_owned)
}

fn project_param(request: &Request) -> Result<String, Error> {
    query(request, "project")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Error::BadRequest("the query parameter 'project' is missing".into()))
}

/// What a function answers when it succeeds.
#[derive(Debug)]
enum Reply {
    Json(StatusCode, Value),
    /// The PDF and the project name (for its file name).
    Pdf(Vec<u8>, String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

fn respond(config: &Config, request: &Request, result: Result<Reply, Error>) -> Response<Body> {
    let mut response = match result {
        Ok(Reply::Json(status, value)) => json_response(status, &value),
        Ok(Reply::Pdf(pdf, name)) => {
            let mut response = Response::new(Body::Binary(pdf));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            if let Ok(value) = HeaderValue::from_str(&content_disposition(&name)) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(e) => {
            let status = e.status();
            let request_id = request.lambda_context_ref().map(|c| c.request_id.as_str());
            let message = if status >= 500 {
                // The cause (table names, SDK messages) goes to the log, not to the caller.
                tracing::error!(status, error = %error::chain(&e), "request failed");
                "internal error".to_owned()
            } else {
                tracing::info!(status, error = %e, "request refused");
                e.to_string()
            };
            json_response(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &ErrorBody {
                    error: &message,
                    request_id,
                },
            )
        }
    };
    cors(config, &mut response);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json_response(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn cors(config: &Config, response: &mut Response<Body>) {
    if let Ok(origin) = HeaderValue::from_str(&config.cors_allow_origin) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if config.cors_allow_origin != "*" {
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

/// `inline; filename="<ascii>.pdf"; filename*=UTF-8''<percent-encoded>.pdf` (RFC 6266): any
/// project name, in any script, as the file name.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " -_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("inline; filename=\"{ascii}.pdf\"; filename*=UTF-8''{encoded}.pdf")
}

/// One of the REST API's functions, each deployed as its own Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `GET /projects`.
    FetchProjects,
    /// `POST /projects`.
    CreateProject,
    /// `DELETE /projects?project=`.
    DeleteProject,
    /// `GET /pagecount?project=`.
    FetchPageCount,
    /// `GET /pdf?project=[&mode=text]`.
    GeneratePdf,
}

impl Function {
    /// Handles one request.
    pub async fn call(self, scanner: &Scanner, request: Request) -> Response<Body> {
        match self {
            Self::FetchProjects => fetch_projects(scanner, request).await,
            Self::CreateProject => create_project(scanner, request).await,
            Self::DeleteProject => delete_project(scanner, request).await,
            Self::FetchPageCount => fetch_page_count(scanner, request).await,
            Self::GeneratePdf => generate_pdf(scanner, request).await,
        }
    }
}

/// Runs one API function as a Lambda: JSON logs, the configuration and clients built once at
/// cold start, then `function` for every request. Each binary under `src/bin/` is this call.
pub async fn serve(function: Function) -> Result<(), lambda_http::Error> {
    crate::init_logs();
    let sdk = aws_config::load_from_env().await;
    let scanner = Scanner::from_env(&sdk)?;
    let scanner = &scanner;
    lambda_http::run(lambda_http::service_fn(
        move |request: Request| async move {
            Ok::<_, lambda_http::Error>(function.call(scanner, request).await)
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_survive_any_script() {
        assert_eq!(
            content_disposition("My Taxes"),
            "inline; filename=\"My Taxes.pdf\"; filename*=UTF-8''My%20Taxes.pdf"
        );
        let header = content_disposition("東京 \"x\"");
        assert!(HeaderValue::from_str(&header).is_ok(), "{header}");
        assert!(header.contains("%E6%9D%B1%E4%BA%AC"), "{header}");
    }
}
