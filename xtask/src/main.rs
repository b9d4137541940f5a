//! The project's commands, run as `cargo xtask <command>`:
//!
//! - `test [-- <cargo test args>]`: installs what the tests need (a Python virtualenv with
//!   moto's server and cfn-lint, Debian's Chromium), starts the local AWS emulator, and runs
//!   rustfmt, clippy, every test, rustdoc and cfn-lint. Prints a one-line summary.
//! - `demo`: starts the emulator and runs each example application end to end against it,
//!   writing what they produce under `target/demo/`.
//! - `bench`: runs the side-by-side benchmarks and prints the ratios.
//! - `setup`: installs what `test` needs, and nothing else.
//! - `emulator`: starts the emulator and waits (for running single tests by hand).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&root, &args[1..]),
        Some("demo") => demo(&root),
        Some("bench") => bench(&root),
        Some("setup") => setup(&root, true),
        Some("emulator") => emulator_forever(&root),
        _ => {
            eprintln!(
                "usage: cargo xtask <test [-- cargo test args] | demo | bench | setup | emulator>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn step(name: &str) {
    println!("\n==> {name}");
    let _ = std::io::stdout().flush();
}

fn run(cmd: &mut Command) -> Result {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} exited with {status}", cmd.get_program()))
    }
}

fn venv_bin(root: &Path, name: &str) -> PathBuf {
    root.join(".venv/bin").join(name)
}

/// Creates `.venv` and installs the pinned requirements, unless they are installed already;
/// with `browser` (the full test set-up), installs Debian's Chromium, qpdf and poppler-utils
/// when they are missing.
fn setup(root: &Path, browser: bool) -> Result {
    let python = venv_bin(root, "python");
    if !python.exists() {
        step("creating the Python virtualenv .venv");
        run(Command::new("python3")
            .args(["-m", "venv"])
            .arg(root.join(".venv")))?;
    }
    let requirements = std::fs::read_to_string(root.join("xtask/requirements.txt"))
        .map_err(|e| format!("xtask/requirements.txt: {e}"))?;
    let stamp = root.join(".venv/lambdakit-requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(requirements.as_str()) {
        step("installing the pinned Python tools of xtask/requirements.txt into .venv");
        run(Command::new(&python).args(["-m", "pip", "install", "--quiet", "--upgrade", "pip"]))?;
        run(Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "-r"])
            .arg(root.join("xtask/requirements.txt")))?;
        std::fs::write(&stamp, &requirements).map_err(|e| e.to_string())?;
    }
    // lambdakit-image's JPEG codec (libjpeg-turbo through mozjpeg-sys) builds its x86-64 SIMD
    // code with nasm; arm64 (the Lambda target) uses C intrinsics and needs no assembler.
    if cfg!(target_arch = "x86_64") && Command::new("nasm").arg("-v").output().is_err() {
        step("installing Debian's nasm for libjpeg-turbo's SIMD code");
        apt_install(&["nasm"])?;
    }
    if browser {
        npm_installs(root)?;
    }
    if browser
        && std::env::var_os("LAMBDAKIT_CHROMIUM").is_none()
        && !Path::new("/usr/bin/chromium").exists()
    {
        step("installing Debian's chromium for the browser tests");
        apt_install(&["chromium", "fonts-liberation"])?;
    }
    let missing = |tool: &str, arg: &str| Command::new(tool).arg(arg).output().is_err();
    if browser && (missing("qpdf", "--version") || missing("pdftotext", "-v")) {
        step("installing Debian's qpdf and poppler-utils for the PDF tests");
        apt_install(&["qpdf", "poppler-utils"])?;
    }
    Ok(())
}

/// `npm ci` in every example's `frontend/` that has a `package-lock.json`, when the lock file
/// changed since the last install (Debian's npm is installed first if there is none).
fn npm_installs(root: &Path) -> Result {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path().join("frontend"))
        .filter(|f| f.join("package-lock.json").exists())
        .collect();
    folders.sort();
    for folder in folders {
        let lock =
            std::fs::read_to_string(folder.join("package-lock.json")).map_err(|e| e.to_string())?;
        let stamp = folder.join("node_modules/.lambdakit-lock.json");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str()) {
            continue;
        }
        if Command::new("npm").arg("--version").output().is_err() {
            apt_install(&["nodejs", "npm"])?;
        }
        step(&format!("npm ci in {}", folder.display()));
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&folder))?;
        std::fs::write(&stamp, &lock).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Installs Debian packages (with sudo unless root).
fn apt_install(packages: &[&str]) -> Result {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| e.to_string())?;
    let sudo: &[&str] = if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        &[]
    } else {
        &["sudo"]
    };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        run(Command::new(all[0])
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update", "-q"])?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend_from_slice(packages);
    apt(&install)
}

/// moto's server on a free loopback port; stopped when dropped.
struct Emulator {
    child: Child,
    url: String,
}

impl Emulator {
    fn start(root: &Path) -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let logs = root.join("target/xtask");
        std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(logs.join("moto.log")).map_err(|e| e.to_string())?;
        let child = Command::new(venv_bin(root, "moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start moto_server (run `cargo xtask setup`): {e}"))?;
        let emulator = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready(port) {
            if Instant::now() > deadline {
                return Err(format!(
                    "moto_server did not answer on port {port} within 60 s; see target/xtask/moto.log"
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        println!("emulator: moto_server at {}", emulator.url);
        Ok(emulator)
    }
}

fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /moto-api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut head = [0u8; 12];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut head).is_ok()
        && head.starts_with(b"HTTP/1.")
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator_forever(root: &Path) -> Result {
    setup(root, false)?;
    let emulator = Emulator::start(root)?;
    println!("export LAMBDAKIT_EMULATOR_URL={}", emulator.url);
    println!("(Ctrl-C to stop)");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn test(root: &Path, extra: &[String]) -> Result {
    let started = Instant::now();
    setup(root, true)?;
    let emulator = Emulator::start(root)?;
    let mut results: Vec<(&str, bool, Duration)> = Vec::new();
    let mut check = |name: &'static str, cmd: &mut Command| {
        step(name);
        let t = Instant::now();
        let ok = match run(cmd.current_dir(root)) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("{name} failed: {e}");
                false
            }
        };
        println!(
            "{name}: {} in {:.0} s",
            if ok { "ok" } else { "FAILED" },
            t.elapsed().as_secs_f64()
        );
        results.push((name, ok, t.elapsed()));
    };

    check("fmt", cargo().args(["fmt", "--all", "--check"]));
    check(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    );
    let extra: Vec<&str> = extra
        .iter()
        .map(String::as_str)
        .skip_while(|a| *a == "--")
        .collect();
    check(
        "test",
        cargo()
            .args(["test", "--workspace", "--all-features"])
            .args(&extra)
            .env("LAMBDAKIT_EMULATOR_URL", &emulator.url)
            .env("LAMBDAKIT_PYTHON", venv_bin(root, "python")),
    );
    check(
        "doc",
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    );
    let templates = templates(root);
    check(
        "cfn-lint",
        Command::new(venv_bin(root, "cfn-lint")).args(&templates),
    );
    drop(emulator);

    let failed: Vec<&str> = results.iter().filter(|r| !r.1).map(|r| r.0).collect();
    let summary: Vec<String> = results
        .iter()
        .map(|(n, ok, d)| {
            format!(
                "{n} {} ({:.0}s)",
                if *ok { "ok" } else { "FAILED" },
                d.as_secs_f64()
            )
        })
        .collect();
    println!(
        "\nxtask test: {} in {:.0} s: {}",
        if failed.is_empty() {
            "all checks passed"
        } else {
            "FAILED"
        },
        started.elapsed().as_secs_f64(),
        summary.join(", ")
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join(", ")))
    }
}

/// Every example's SAM templates.
fn templates(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root.join("examples")) {
        for entry in entries.flatten() {
            if let Ok(files) = std::fs::read_dir(entry.path()) {
                for file in files.flatten() {
                    let name = file.file_name().to_string_lossy().into_owned();
                    if name.starts_with("template") && name.ends_with(".yaml") {
                        out.push(file.path());
                    }
                }
            }
        }
    }
    out.sort();
    out
}

/// The example applications the demo runs, as (package, binary).
const DEMOS: &[(&str, &str)] = &[
    ("example-s3-uploader", "s3-uploader-demo"),
    ("example-fraud-inference", "fraud-inference-demo"),
    ("example-document-scanner", "document-scanner-demo"),
    (
        "example-http-api-lambda-authorizer",
        "http-api-lambda-authorizer-demo",
    ),
    ("example-mtls-truststore", "mtls-truststore-demo"),
    ("example-mtls-authorizer", "mtls-authorizer-demo"),
    (
        "example-serverless-image-handler",
        "serverless-image-handler-demo",
    ),
];

fn demo(root: &Path) -> Result {
    setup(root, false)?;
    let emulator = Emulator::start(root)?;
    let out = root.join("target/demo");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    for (package, bin) in DEMOS {
        step(&format!("demo: {package}"));
        run(cargo()
            .args([
                "run",
                "--quiet",
                "--all-features",
                "--package",
                package,
                "--bin",
                bin,
            ])
            .current_dir(root)
            .env("LAMBDAKIT_EMULATOR_URL", &emulator.url)
            .env("LAMBDAKIT_DEMO_DIR", &out))?;
    }
    println!(
        "\nxtask demo: {} application(s) ran against the emulator; output in {}",
        DEMOS.len(),
        out.display()
    );
    Ok(())
}

fn bench(root: &Path) -> Result {
    setup(root, false)?;
    step("criterion: lambdakit-upload vs aws-sdk-s3 presigning");
    criterion(root, "presign")?;
    step("presigned POST: lambdakit-upload vs boto3 generate_presigned_post");
    let post_policies = release_bin(root, "post-policies")?;
    run(Command::new(venv_bin(root, "python"))
        .arg(root.join("benches/post_vs_boto3.py"))
        .arg(post_policies)
        .current_dir(root))?;
    step("criterion: lambdakit-enrich per-element overhead vs buffer_unordered");
    criterion(root, "enrich")?;
    step("lambdakit-enrich: throughput vs capacity / latency, timeout storm, retries");
    run(Command::new(release_bin(root, "enrich-throughput")?).current_dir(root))?;
    step("criterion: lambdakit-textract searchable PDFs and Document::from_json");
    criterion(root, "textract")?;
    step("searchable PDFs: lambdakit-textract vs img2pdf + reportlab + pypdf, and PyMuPDF");
    // The script checks every side's PDFs with pdftotext before it prints a ratio.
    if Command::new("pdftotext").arg("-v").output().is_err() {
        step("installing Debian's poppler-utils for the searchability check");
        apt_install(&["poppler-utils"])?;
    }
    step("JWT verification: lambdakit-auth vs aws-jwt-verify (npm)");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix", "benches/node"])
        .current_dir(root))?;
    let jwt_verify = release_bin(root, "jwt-verify")?;
    run(Command::new("node")
        .arg(root.join("benches/jwt_vs_aws_jwt_verify.mjs"))
        .arg(jwt_verify)
        .current_dir(root))?;
    let textract_pdf = release_bin(root, "textract-pdf")?;
    run(Command::new(venv_bin(root, "python"))
        .arg(root.join("benches/textract_pdf_vs_python.py"))
        .arg(textract_pdf)
        .current_dir(root))?;
    step("criterion: lambdakit-image, 12 MP JPEG to 800 px, and its stage split");
    criterion(root, "image")?;
    step("images: lambdakit-image vs sharp (npm), the engine of Serverless Image Handler");
    // sharp and its prebuilt libvips came with `npm ci` above.
    let image_transform = release_bin(root, "image-transform")?;
    run(Command::new("node")
        .arg(root.join("benches/image_vs_sharp.mjs"))
        .arg(image_transform)
        .current_dir(root))?;
    Ok(())
}

/// Runs one criterion bench of `lambdakit-benches`.
fn criterion(root: &Path, bench: &str) -> Result {
    run(cargo()
        .args(["bench", "--package", "lambdakit-benches", "--bench", bench])
        .current_dir(root))
}

/// Builds a binary of `lambdakit-benches` in release and returns its path.
fn release_bin(root: &Path, bin: &str) -> Result<PathBuf> {
    run(cargo()
        .args([
            "build",
            "--release",
            "--quiet",
            "--package",
            "lambdakit-benches",
            "--bin",
            bin,
        ])
        .current_dir(root))?;
    Ok(root.join("target/release").join(bin))
}
