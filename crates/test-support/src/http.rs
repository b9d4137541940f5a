//! A small blocking HTTP client for sending what a browser or mobile app would send to a
//! presigned URL.

use std::collections::BTreeMap;

/// What came back.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The headers, names lowercased.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn read(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>, what: &str) -> Response {
    let mut resp = result.unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_else(|e| panic!("{what}: reading the body: {e}"));
    Response {
        status,
        headers,
        body,
    }
}

/// PUTs `body` to `url` with `headers`, as a browser would: `content-length` is computed from
/// the body, so one in `headers` is left out.
///
/// # Panics
/// On a transport error (an HTTP error status is returned, not a panic).
pub fn put<'a>(
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &[u8],
) -> Response {
    let mut req = agent().put(url);
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("content-length") {
            req = req.header(k, v);
        }
    }
    read(req.send(body), "PUT")
}

/// GETs `url`.
///
/// # Panics
/// On a transport error.
pub fn get(url: &str) -> Response {
    read(agent().get(url).call(), "GET")
}

/// POSTs a `multipart/form-data` form to `url`: `fields` in order, then the file as `file`.
///
/// # Panics
/// On a transport error.
pub fn post_form<'a>(
    url: &str,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    file_name: &str,
    file_type: &str,
    file: &[u8],
) -> Response {
    let boundary = format!("lambdakit{}", crate::unique_name("b").replace('-', ""));
    let mut body = Vec::with_capacity(file.len() + 2048);
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {file_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = agent().post(url).header(
        "content-type",
        format!("multipart/form-data; boundary={boundary}"),
    );
    read(req.send(&body[..]), "POST")
}
