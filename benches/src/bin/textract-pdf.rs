//! Searchable-PDF generation with lambdakit-textract: pages per second and bytes per page.
//!
//! Run with `cargo build --release --package lambdakit-benches --bin textract-pdf` and then
//! `target/release/textract-pdf crates/textract/tests/fixtures 200`;
//! `benches/textract_pdf_vs_python.py` runs it next to img2pdf + reportlab + pypdf and PyMuPDF
//! on the same pages (`cargo xtask bench` runs both).
//!
//! For each fixture page (a real page image and the real Textract response for it), and for
//! the four pages as one document, it builds the searchable PDF N times in each of three ways:
//!
//! - `pdf`: the image bytes and the parsed `Document` are in memory; `SearchablePdf::new()`,
//!   `add_page` and `finish`. PDF generation alone.
//! - `json+pdf`: the image bytes and the response's JSON bytes are in memory;
//!   `Document::from_json` and then the above. The work the Python peers do per page.
//! - `files+json+pdf`: reads the image and the JSON from disk (the page cache, after the
//!   first pass), then the above.
//!
//! It prints one JSON line: per fixture, the rate of each way (pages per second), the PDF's
//! size per page, the input image's size per page and their ratio. With `--out DIR` it also
//! writes each PDF there (`<fixture>.pdf`, `document.pdf`), for the script's `pdftotext` check.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use lambdakit_textract::Document;
use lambdakit_textract::pdf::SearchablePdf;
use serde_json::{Value, json};

/// The fixture pages, in document order: a name, the page image and its Textract response
/// (each response holds one page). Keep in step with `benches/textract_pdf_vs_python.py`.
const FIXTURES: [(&str, &str, &str); 4] = [
    ("paystub", "paystub.jpg", "paystub.analyze.json"),
    ("receipt", "receipt.jpg", "receipt.detect.json"),
    ("multicol", "multicol.png", "multicol.detect.json"),
    (
        "twocol-header-footer",
        "twocol-header-footer.png",
        "twocol-header-footer.detect.json",
    ),
];

/// One page's inputs, read once.
struct Page {
    image_path: PathBuf,
    json_path: PathBuf,
    image: Vec<u8>,
    json: Vec<u8>,
    doc: Document,
}

/// The PDF of `pages`, from images and parsed documents in memory.
fn build(pages: &[(&[u8], &Document)]) -> Vec<u8> {
    let mut pdf = SearchablePdf::new();
    for (image, doc) in pages {
        pdf.add_page(image, doc.page(1))
            .expect("fixture pages convert");
    }
    pdf.finish()
}

/// The PDF of `pages`, parsing each response's JSON bytes first.
fn build_from_json(pages: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut pdf = SearchablePdf::new();
    for (image, json) in pages {
        let doc = Document::from_json(json).expect("fixture responses parse");
        pdf.add_page(image, doc.page(1))
            .expect("fixture pages convert");
    }
    pdf.finish()
}

/// The PDF of `pages`, reading the image and JSON files first.
fn build_from_files(pages: &[(&Path, &Path)]) -> Vec<u8> {
    let mut pdf = SearchablePdf::new();
    for (image, json) in pages {
        let image = std::fs::read(image).expect("fixture image readable");
        let json = std::fs::read(json).expect("fixture JSON readable");
        let doc = Document::from_json(&json).expect("fixture responses parse");
        pdf.add_page(&image, doc.page(1))
            .expect("fixture pages convert");
    }
    pdf.finish()
}

/// Runs `f` a tenth of `n` times (at least once) untimed, then `n` times timed; returns the
/// rate for `pages` pages per run.
fn rate(n: u32, pages: usize, mut f: impl FnMut() -> Vec<u8>) -> Value {
    for _ in 0..n.div_ceil(10) {
        black_box(f());
    }
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total = f64::from(n) * pages as f64;
    json!({
        "n": n,
        "elapsed_s": elapsed,
        "pages_per_s": total / elapsed,
        "ms_per_page": elapsed * 1e3 / total,
    })
}

/// Measures one PDF made of `pages` and writes it to `out` as `<name>.pdf`.
fn measure(name: &str, pages: &[&Page], n: u32, out: Option<&Path>) -> Value {
    let in_memory: Vec<(&[u8], &Document)> =
        pages.iter().map(|p| (p.image.as_slice(), &p.doc)).collect();
    let json_bytes: Vec<(&[u8], &[u8])> = pages
        .iter()
        .map(|p| (p.image.as_slice(), p.json.as_slice()))
        .collect();
    let files: Vec<(&Path, &Path)> = pages
        .iter()
        .map(|p| (p.image_path.as_path(), p.json_path.as_path()))
        .collect();

    let pdf = build(&in_memory);
    if let Some(out) = out {
        let path = out.join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
    let count = pages.len();
    let input: usize = pages.iter().map(|p| p.image.len()).sum();
    let words: usize = pages
        .iter()
        .map(|p| p.doc.page(1).map_or(0, |page| page.words().count()))
        .sum();
    json!({
        "name": name,
        "pages": count,
        "words": words,
        "input_image_bytes": input,
        "json_bytes": pages.iter().map(|p| p.json.len()).sum::<usize>(),
        "output_bytes": pdf.len(),
        "input_image_bytes_per_page": input as f64 / count as f64,
        "output_bytes_per_page": pdf.len() as f64 / count as f64,
        "output_over_input": pdf.len() as f64 / input as f64,
        "modes": {
            "pdf": rate(n, count, || build(black_box(&in_memory))),
            "json+pdf": rate(n, count, || build_from_json(black_box(&json_bytes))),
            "files+json+pdf": rate(n, count, || build_from_files(black_box(&files))),
        },
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        eprintln!(
            "usage: textract-pdf FIXTURE_DIR N [--out DIR]\n  FIXTURE_DIR: crates/textract/tests/fixtures\n  N > 0: PDFs built per fixture and way"
        );
        ExitCode::from(2)
    };
    let (dir, n, out) = match args.as_slice() {
        [dir, n] => (dir, n, None),
        [dir, n, flag, out] if flag == "--out" => (dir, n, Some(Path::new(out))),
        _ => return usage(),
    };
    let Some(n) = n.parse::<u32>().ok().filter(|&n| n > 0) else {
        return usage();
    };
    let dir = Path::new(dir);

    let pages: Vec<Page> = FIXTURES
        .iter()
        .map(|(_, image, json)| {
            let (image_path, json_path) = (dir.join(image), dir.join(json));
            let image = std::fs::read(&image_path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", image_path.display()));
            let json = std::fs::read(&json_path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", json_path.display()));
            let doc = Document::from_json(&json)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", json_path.display()));
            assert_eq!(
                doc.page_count(),
                1,
                "{} holds one page",
                json_path.display()
            );
            Page {
                image_path,
                json_path,
                image,
                json,
                doc,
            }
        })
        .collect();

    let mut results: Vec<Value> = FIXTURES
        .iter()
        .zip(&pages)
        .map(|((name, ..), page)| measure(name, &[page], n, out))
        .collect();
    let all: Vec<&Page> = pages.iter().collect();
    results.push(measure("document", &all, n, out));

    println!(
        "{}",
        json!({
            "implementation": "lambdakit-textract",
            "version": env!("CARGO_PKG_VERSION"),
            "results": results,
        })
    );
    ExitCode::SUCCESS
}
