//! Searchable-PDF generation with lambdakit-textract, in-process, on real Textract responses
//! and their page images.
//!
//! Run with `cargo bench --package lambdakit-benches --bench textract` (or `cargo xtask bench`).
//!
//! - `textract_parse`: `Document::from_json` on each fixture's response (throughput in bytes
//!   of JSON). Parsing is part of the work of making a PDF from a response.
//! - `textract_pdf`: `SearchablePdf::new()`, `add_page(image, doc.page(1))`, `finish()` for
//!   each fixture page, and for the four pages as one document, with the image bytes and the
//!   parsed `Document` already in memory (throughput in pages).
//! - `textract_json_pdf`: the same, parsing the JSON bytes first: what the Python peers of
//!   `benches/textract_pdf_vs_python.py` do per page.
//! - `textract_text_only`: `pdf::text_only` over the four pages' reading-order text.
//!
//! `benches/src/bin/textract-pdf.rs` measures the same work without criterion, with the output
//! sizes, next to img2pdf + reportlab + pypdf and PyMuPDF.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use lambdakit_textract::Document;
use lambdakit_textract::pdf::{SearchablePdf, text_only};

const FIXTURE_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/textract/tests/fixtures"
);

/// The fixture pages, in document order: a name, the page image and its Textract response
/// (one page each). Keep in step with `benches/src/bin/textract-pdf.rs`.
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

struct Page {
    name: &'static str,
    image: Vec<u8>,
    json: Vec<u8>,
    doc: Document,
}

fn pages() -> Vec<Page> {
    FIXTURES
        .iter()
        .map(|&(name, image, json)| {
            let read = |file: &str| {
                std::fs::read(format!("{FIXTURE_DIR}/{file}"))
                    .unwrap_or_else(|e| panic!("cannot read fixture {file}: {e}"))
            };
            let (image, json) = (read(image), read(json));
            let doc = Document::from_json(&json).expect("fixture responses parse");
            Page {
                name,
                image,
                json,
                doc,
            }
        })
        .collect()
}

fn build(pages: &[&Page]) -> Vec<u8> {
    let mut pdf = SearchablePdf::new();
    for page in pages {
        pdf.add_page(&page.image, page.doc.page(1))
            .expect("fixture pages convert");
    }
    pdf.finish()
}

fn build_from_json(pages: &[&Page]) -> Vec<u8> {
    let mut pdf = SearchablePdf::new();
    for page in pages {
        let doc = Document::from_json(&page.json).expect("fixture responses parse");
        pdf.add_page(&page.image, doc.page(1))
            .expect("fixture pages convert");
    }
    pdf.finish()
}

/// Short runs: the functions take from half a millisecond to tens of milliseconds, and the
/// whole bench should stay under two minutes on two cores. Flat sampling (the same number of
/// iterations in every sample) suits functions this slow.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
}

fn textract_parse(c: &mut Criterion) {
    let pages = pages();
    let mut group = c.benchmark_group("textract_parse");
    configure(&mut group);
    for page in &pages {
        group.throughput(Throughput::Bytes(page.json.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(page.name),
            &page.json,
            |b, json| {
                b.iter(|| Document::from_json(black_box(json)).expect("fixture responses parse"))
            },
        );
    }
    group.finish();
}

/// One function per fixture page and one for the four-page document, each building with
/// `make`.
fn per_page_and_document(c: &mut Criterion, group_name: &str, make: fn(&[&Page]) -> Vec<u8>) {
    let pages = pages();
    let mut group = c.benchmark_group(group_name);
    configure(&mut group);
    group.throughput(Throughput::Elements(1));
    for page in &pages {
        assert!(make(&[page]).starts_with(b"%PDF-"));
        group.bench_with_input(BenchmarkId::from_parameter(page.name), page, |b, page| {
            b.iter(|| make(black_box(&[page])))
        });
    }
    let all: Vec<&Page> = pages.iter().collect();
    group.throughput(Throughput::Elements(all.len() as u64));
    group.bench_with_input(BenchmarkId::from_parameter("document"), &all, |b, all| {
        b.iter(|| make(black_box(all)))
    });
    group.finish();
}

fn textract_pdf(c: &mut Criterion) {
    per_page_and_document(c, "textract_pdf", build);
}

fn textract_json_pdf(c: &mut Criterion) {
    per_page_and_document(c, "textract_json_pdf", build_from_json);
}

fn textract_text_only(c: &mut Criterion) {
    let pages = pages();
    let texts: Vec<String> = pages
        .iter()
        .map(|p| p.doc.page(1).map(|page| page.text()).unwrap_or_default())
        .collect();
    let mut group = c.benchmark_group("textract_text_only");
    configure(&mut group);
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("document", |b| b.iter(|| text_only(black_box(&texts))));
    group.finish();
}

criterion_group!(
    benches,
    textract_parse,
    textract_pdf,
    textract_json_pdf,
    textract_text_only
);
criterion_main!(benches);
