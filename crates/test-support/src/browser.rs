//! Headless Chromium, driven over the DevTools protocol.
//!
//! `cargo xtask test` installs Debian's `chromium`; `LAMBDAKIT_CHROMIUM` may name another
//! binary. A browser test fails, naming `cargo xtask test`, when there is none.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The environment variable that may name the Chromium binary.
pub const ENV: &str = "LAMBDAKIT_CHROMIUM";

/// A headless Chromium process with its own empty profile. Killed when dropped.
#[derive(Debug)]
pub struct Browser {
    child: Child,
    port: u16,
    profile: PathBuf,
}

/// One tab.
pub struct Page {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page").finish_non_exhaustive()
    }
}

fn chromium() -> PathBuf {
    if let Ok(path) = std::env::var(ENV) {
        return PathBuf::from(path);
    }
    for candidate in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "no Chromium found ({ENV} unset, /usr/bin/chromium missing): this is a browser test. \
         Run the tests with `cargo xtask test`, which installs Chromium."
    )
}

impl Browser {
    /// Starts headless Chromium.
    ///
    /// # Panics
    /// When Chromium is missing or does not open its DevTools port within 30 seconds.
    pub fn launch() -> Self {
        let profile = std::env::temp_dir().join(crate::unique_name("lambdakit-chromium"));
        std::fs::create_dir_all(&profile).unwrap_or_else(|e| panic!("profile dir: {e}"));
        let child = Command::new(chromium())
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Chromium: {e}. Run `cargo xtask test`."));
        let mut browser = Self {
            child,
            port: 0,
            profile,
        };
        let file = browser.profile.join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(port) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|s| s.lines().next().and_then(|l| l.trim().parse().ok()))
            {
                browser.port = port;
                return browser;
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not open its DevTools port"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens `url` in a new tab.
    ///
    /// # Panics
    /// When the DevTools endpoint does not answer.
    pub fn open(&self, url: &str) -> Page {
        let endpoint = format!("http://127.0.0.1:{}/json/new?about:blank", self.port);
        let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
        let target: Value = agent
            .put(&endpoint)
            .send_empty()
            .and_then(|mut r| r.body_mut().read_to_string())
            .map(|text| serde_json::from_str(&text).unwrap_or_default())
            .unwrap_or_else(|e| panic!("open a tab: {e}"));
        let ws_url = target["webSocketDebuggerUrl"]
            .as_str()
            .unwrap_or_else(|| panic!("no debugger URL in {target}"));
        let (ws, _) = tungstenite::connect(ws_url).unwrap_or_else(|e| panic!("connect: {e}"));
        // No DevTools call may hang a test: a page that never answers fails it instead.
        if let MaybeTlsStream::Plain(stream) = ws.get_ref() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
        }
        let mut page = Page { ws, next_id: 0 };
        page.call("Page.navigate", json!({ "url": url }));
        let target = serde_json::to_string(url).unwrap_or_default();
        page.wait_for(
            &format!("location.href === {target} && document.readyState === 'complete'"),
            Duration::from_secs(30),
        );
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Page {
    /// Sends a DevTools command and returns its result.
    ///
    /// # Panics
    /// When the browser answers with an error or the connection breaks.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({ "id": id, "method": method, "params": params });
        self.ws
            .send(Message::text(msg.to_string()))
            .unwrap_or_else(|e| panic!("send {method}: {e}"));
        loop {
            let reply = self
                .ws
                .read()
                .unwrap_or_else(|e| panic!("read {method}: {e}"));
            let Message::Text(text) = reply else { continue };
            let value: Value = serde_json::from_str(&text).unwrap_or_default();
            if value["id"] == id {
                if let Some(err) = value.get("error") {
                    panic!("{method} failed: {err}");
                }
                return value["result"].clone();
            }
        }
    }

    /// Evaluates `expression` (awaiting it when it is a promise) and returns its value, or
    /// the exception it threw as `Err`.
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
        );
        if let Some(ex) = result.get("exceptionDetails") {
            return Err(ex["exception"]["description"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| ex.to_string()));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Polls `expression` until it is truthy and returns its value.
    ///
    /// # Panics
    /// After `timeout`, with the last value seen.
    pub fn wait_for(&mut self, expression: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(expression);
            let truthy = match &value {
                Ok(Value::Null | Value::Bool(false)) | Err(_) => false,
                Ok(Value::String(s)) => !s.is_empty(),
                Ok(_) => true,
            };
            if truthy {
                return value.unwrap_or_default();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for `{expression}`; last value: {value:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Chooses `file` in the `<input type=file>` matched by `selector`, as a user would in
    /// the file picker (the page gets its `change` event).
    ///
    /// # Panics
    /// When nothing matches `selector`.
    pub fn set_file(&mut self, selector: &str, file: &Path) {
        let root = self.call("DOM.getDocument", json!({}));
        let node = self.call(
            "DOM.querySelector",
            json!({ "nodeId": root["root"]["nodeId"], "selector": selector }),
        );
        assert!(
            node["nodeId"].as_u64().unwrap_or(0) != 0,
            "no element matches {selector}"
        );
        self.call(
            "DOM.setFileInputFiles",
            json!({ "nodeId": node["nodeId"], "files": [file.display().to_string()] }),
        );
    }
}
