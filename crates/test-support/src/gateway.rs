//! A local stand-in for API Gateway's HTTP API: it turns each HTTP request into the real
//! payload-format-2.0 event that API Gateway would send to Lambda, runs a `lambda_http`
//! handler on it (through `lambda_http`'s own event parsing), and writes the response back.
//! Files under a static folder are served as they are, like the blog's S3-hosted page.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value, json};

/// A handler: what `lambda_http::run` would call.
pub type Handler =
    Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync>;

/// A running local gateway. Stops when dropped.
pub struct Gateway {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("addr", &self.addr).finish()
    }
}

/// How to start a [`Gateway`].
pub struct GatewayConfig {
    /// The Lambda handler.
    pub handler: Handler,
    /// A folder whose files are served for GET requests that match one.
    pub static_dir: Option<PathBuf>,
    /// Claims to pass as if a JWT authorizer had verified a token.
    pub jwt_claims: Option<BTreeMap<String, String>>,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("static_dir", &self.static_dir)
            .field("jwt_claims", &self.jwt_claims)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Starts serving on a free loopback port, on a thread of its own.
    ///
    /// # Panics
    /// When no port can be bound.
    pub fn start(config: GatewayConfig) -> Self {
        Self::start_on("127.0.0.1:0", config)
    }

    /// Starts serving on `addr` (such as `127.0.0.1:3000`).
    ///
    /// # Panics
    /// When `addr` cannot be bound.
    pub fn start_on(addr: &str, config: GatewayConfig) -> Self {
        let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("local addr: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("nonblocking: {e}"));
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("runtime: {e}"));
            let config = Arc::new(config);
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    // One thread per connection: a browser opens idle connections ahead of
                    // time, which must not hold up the others.
                    Ok((stream, _)) => {
                        let (handle, config) = (runtime.handle().clone(), Arc::clone(&config));
                        std::thread::spawn(move || {
                            if let Err(e) = serve(&handle, &config, addr, stream)
                                && e.kind() != std::io::ErrorKind::UnexpectedEof
                            {
                                eprintln!("gateway: {e}");
                            }
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => eprintln!("gateway: accept: {e}"),
                }
            }
        });
        Self {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// The base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct HttpRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<HttpRequest> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len.min(64 * 1024 * 1024)];
    reader.read_exact(&mut body)?;
    Ok(HttpRequest {
        method,
        target,
        headers,
        body,
    })
}

fn serve(
    runtime: &tokio::runtime::Handle,
    config: &GatewayConfig,
    addr: SocketAddr,
    mut stream: TcpStream,
) -> std::io::Result<()> {
    let req = read_request(&mut stream)?;
    if std::env::var_os("LAMBDAKIT_GATEWAY_LOG").is_some() {
        eprintln!("gateway: {} {}", req.method, req.target);
    }
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    if req.method == "GET"
        && let Some(dir) = &config.static_dir
        && let Some((bytes, mime)) = static_file(dir, path)
    {
        return write_response(
            &mut stream,
            200,
            &[("content-type".into(), mime.into())],
            &bytes,
        );
    }
    let event = event(&req, path, query, addr, config.jwt_claims.as_ref());
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(e) => return write_response(&mut stream, 500, &[], e.to_string().as_bytes()),
    };
    let response = runtime.block_on((config.handler)(request));
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = match response.body() {
        Body::Empty => Vec::new(),
        Body::Text(t) => t.as_bytes().to_vec(),
        Body::Binary(b) => b.clone(),
        _ => Vec::new(),
    };
    write_response(&mut stream, status, &headers, &body)
}

fn static_file(dir: &Path, path: &str) -> Option<(Vec<u8>, &'static str)> {
    let rel = if path == "/" {
        "index.html"
    } else {
        path.trim_start_matches('/')
    };
    if rel.split('/').any(|s| s == ".." || s.is_empty()) {
        return None;
    }
    let file = dir.join(rel);
    let bytes = std::fs::read(&file).ok()?;
    let mime = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    Some((bytes, mime))
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        if k != "content-length" && k != "connection" {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The API Gateway HTTP API (payload format 2.0) event for a request.
fn event(
    req: &HttpRequest,
    path: &str,
    query: &str,
    addr: SocketAddr,
    claims: Option<&BTreeMap<String, String>>,
) -> Value {
    let mut headers = Map::new();
    for (k, v) in &req.headers {
        let joined = match headers.get(k).and_then(Value::as_str) {
            Some(prev) => format!("{prev},{v}"),
            None => v.clone(),
        };
        headers.insert(k.clone(), Value::String(joined));
    }
    let mut params = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        let joined = match params.get(&k).and_then(Value::as_str) {
            Some(prev) => format!("{prev},{v}"),
            None => v,
        };
        params.insert(k, Value::String(joined));
    }
    let (body, is_base64) = match std::str::from_utf8(&req.body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(&req.body),
            true,
        ),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let mut context = json!({
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": addr.to_string(),
        "domainPrefix": "local",
        "http": {
            "method": req.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get("user-agent").cloned().unwrap_or(Value::Null),
        },
        "requestId": crate::unique_name("req"),
        "routeKey": "$default",
        "stage": "$default",
        "time": "25/Nov/2026:00:00:00 +0000",
        "timeEpoch": now,
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    });
    if !params.is_empty() {
        event["queryStringParameters"] = Value::Object(params);
    }
    if !req.body.is_empty() {
        event["body"] = Value::String(body);
    }
    event
}

/// Points an HTTP API (payload 2.0) event, such as a sample from an example's `events/`, at
/// another request: method, path, raw query string and JSON body.
pub fn retarget(event: &mut Value, method: &str, path: &str, query: &str, body: Option<&Value>) {
    event["rawPath"] = path.into();
    event["rawQueryString"] = query.into();
    event["requestContext"]["http"]["method"] = method.into();
    event["requestContext"]["http"]["path"] = path.into();
    if let Some(body) = body {
        event["body"] = body.to_string().into();
        event["isBase64Encoded"] = false.into();
    }
}

/// The status and JSON body of a handler's response; `Err` when the body is not JSON text.
pub fn json_response(response: &Response<Body>) -> Result<(u16, Value), String> {
    let text = match response.body() {
        Body::Text(t) => t.as_str(),
        other => return Err(format!("not a text body: {other:?}")),
    };
    let json = serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {text}"))?;
    Ok((response.status().as_u16(), json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_form_text() {
        assert_eq!(percent_decode("image%2Fjpeg"), "image/jpeg");
        assert_eq!(percent_decode("a+b%20c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
