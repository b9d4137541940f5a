//! The typed model, tables, forms and reading order on real recorded Textract responses.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::Path;

use lambdakit_textract::model::{BlockType, JobStatus};
use lambdakit_textract::{Document, Error, Response};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn doc(name: &str) -> Document {
    Document::from_json(&fixture(name)).unwrap()
}

const ALL: [&str; 11] = [
    "nulls-issue-83.analyze.json",
    "paystub.analyze.json",
    "receipt.detect.json",
    "multicol.detect.json",
    "twocol-header-footer.detect.json",
    "gib-rotated-10.analyze.json",
    "gib-rotated-90.analyze.json",
    "gib-rotated-180.analyze.json",
    "gib-rotated-270.analyze.json",
    "multi-page-forms-2-page.analyze.json",
    "job-failed.json",
];

#[test]
fn every_fixture_parses_and_round_trips_through_serde() {
    for name in ALL {
        let raw: serde_json::Value = serde_json::from_slice(&fixture(name)).unwrap();
        let response = Response::from_json(&fixture(name)).unwrap();
        let blocks = raw
            .get("Blocks")
            .and_then(|b| b.as_array())
            .map_or(0, Vec::len);
        assert_eq!(response.blocks.len(), blocks, "{name}");
        // Serialising and parsing again gives the same blocks: nothing is dropped on the way.
        let again = Response::from_json(&serde_json::to_vec(&response).unwrap()).unwrap();
        assert_eq!(again, response, "{name}");
    }
    let failed = Response::from_json(&fixture("job-failed.json")).unwrap();
    assert_eq!(failed.job_status, Some(JobStatus::Failed));
    assert_eq!(
        failed.status_message.as_deref(),
        Some("Dummy Status Message")
    );
}

#[test]
fn nulls_for_absent_fields_parse() {
    // Written by a serialiser that emits `null` for every absent field (TRP issue #83).
    let d = doc("nulls-issue-83.analyze.json");
    let page = d.page(1).unwrap();
    assert!(page.lines().count() > 0);
    assert_eq!(page.reading_order().len(), page.lines().count());
    assert!(!page.text().is_empty());
}

#[test]
fn not_a_response_is_a_typed_error() {
    assert!(matches!(
        Document::from_json(b"<html>"),
        Err(Error::InvalidResponse(_))
    ));
    assert!(matches!(
        Document::from_json(br#"{"Blocks": [{"Id": 1}]}"#),
        Err(Error::InvalidResponse(_))
    ));
    let dup = br#"{"Blocks":[{"Id":"a","BlockType":"WORD"},{"Id":"a","BlockType":"LINE"}]}"#;
    assert!(matches!(Document::from_json(dup), Err(Error::Malformed(_))));
}

#[test]
fn block_counts_and_pages_match_the_recording() {
    let d = doc("paystub.analyze.json");
    let page = d.page(1).unwrap();
    assert_eq!(page.words().count(), 280);
    assert_eq!(page.lines().count(), 144);
    assert_eq!(page.of_type(BlockType::LayoutText).count(), 18);
    assert_eq!(
        page.of_type(BlockType::Other("SIGNATURE".into())).count(),
        0
    );
    assert_eq!(page.of_type(BlockType::Signature).count(), 1);

    let multi = doc("multi-page-forms-2-page.analyze.json");
    let pages: Vec<(u32, usize)> = multi
        .pages()
        .map(|p| (p.number(), p.blocks().count()))
        .collect();
    assert_eq!(pages, [(1, 269), (2, 149)]);
    assert!(multi.pages().all(|p| p.block().is_some()));
}

#[test]
fn forms_read_key_to_value() {
    let d = doc("paystub.analyze.json");
    let fields = d.page(1).unwrap().key_values();
    let get = |key: &str| {
        fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    };
    assert_eq!(get("Pay date:"), Some("7/25/2008"));
    assert_eq!(get("Period ending:"), Some("7/18/2008"));
    assert_eq!(get("Social Security No."), Some("987-65-4321"));
    assert_eq!(fields.len(), 27);
}

#[test]
fn tables_have_rows_columns_and_spans() {
    let d = doc("paystub.analyze.json");
    let tables = d.page(1).unwrap().tables();
    assert_eq!(tables.len(), 7);
    let first = &tables[0];
    assert_eq!((first.rows, first.columns), (2, 5));
    let grid = first.grid();
    assert_eq!(grid[0], ["CO.", "FILE", "DEPT.", "CLOCK", "NUMBER"]);
    assert_eq!(&grid[1][..3], ["ABC", "126543", "123456"]);
    let md = first.markdown();
    assert!(
        md.starts_with(
            "| CO. | FILE | DEPT. | CLOCK | NUMBER |\n| --- | --- | --- | --- | --- |\n| ABC |"
        ),
        "{md}"
    );
    // Merged cells: the recording has five; each covers more than one position.
    let merged: usize = tables.iter().map(|t| t.merged.len()).sum();
    assert_eq!(merged, 5);
    assert!(
        tables
            .iter()
            .flat_map(|t| &t.merged)
            .all(|&(_, _, r, c)| r * c > 1)
    );
    // Titles and footers are attached to their tables.
    assert_eq!(tables.iter().filter(|t| t.title.is_some()).count(), 1);
    assert_eq!(tables.iter().map(|t| t.footers.len()).sum::<usize>(), 1);
}

fn order(d: &Document) -> Vec<String> {
    d.page(1)
        .unwrap()
        .reading_order()
        .iter()
        .map(|l| l.text.clone().unwrap())
        .collect()
}

fn position(order: &[String], prefix: &str) -> usize {
    order
        .iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("{prefix:?} not in {order:#?}"))
}

#[test]
fn reading_order_keeps_every_line_once() {
    for name in ALL.iter().filter(|n| !n.starts_with("job")) {
        let d = doc(name);
        for page in d.pages() {
            let ordered = page.reading_order();
            let ids: HashSet<&str> = ordered.iter().map(|l| l.id.as_str()).collect();
            assert_eq!(ids.len(), ordered.len(), "{name}: a line twice");
            assert_eq!(ordered.len(), page.lines().count(), "{name}: a line lost");
        }
    }
}

#[test]
fn two_columns_read_left_column_first() {
    // The fixture's own text says how it should be read.
    let o = order(&doc("multicol.detect.json"));
    let expected = [
        "Multi-column test document",
        "A sample document with multiple columns",
        "Textract lines into natural reading order.",
        "This section has two columns,",
        "with the intention to read the left",
        "column fully before starting the",
        "right.",
        "The left column contains",
        "multiple paragraphs, with",
        "greater separation than lines",
        "within one paragraph.",
        "A horizontally separate right",
        "column.",
        "This column has approximately",
        "equivalent vertical position but",
        "different paragraph breaks.",
        "Correct processing should read",
        "it after the left column's content.",
        "A final footer section",
        "read last.",
        "trivial and sometimes subjective.",
        "good start.",
    ];
    assert_eq!(o.len(), expected.len());
    for (line, want) in o.iter().zip(expected) {
        assert!(
            line.starts_with(want),
            "{line:?} where {want:?} belongs; whole order {o:#?}"
        );
    }
}

#[test]
fn headers_columns_and_footers_read_in_place() {
    let o = order(&doc("twocol-header-footer.detect.json"));
    let at = |p: &str| position(&o, p);
    // Header first, left to right; the footer last.
    assert!(at("Left-aligned header") < at("With multiple lines"));
    assert!(at("With multiple lines") < at("CENTER-ALIGNED HEADER"));
    assert!(at("CENTER-ALIGNED HEADER") < at("right-aligned header"));
    assert!(at("right-aligned header") < at("This page tests"));
    // The whole left column before the right one.
    for left in [
        "When a section of (LTR)",
        "read the next.",
        "words on a richly",
        "ML model-based approaches",
    ] {
        assert!(
            at(left) < at("The Amazon Textract Response Parser aims to"),
            "{left}"
        );
    }
    assert!(at("The included sample test documents") < at("After a two-column section"));
    assert!(at("A final section") < at("Left-aligned footer"));
    assert_eq!(at("Left-aligned footer"), o.len() - 4);
}

#[test]
fn layout_drives_text_and_markdown() {
    let d = doc("paystub.analyze.json");
    let page = d.page(1).unwrap();
    let regions = page.regions();
    assert!(
        regions
            .iter()
            .take(25)
            .all(|r| r.kind.as_ref().is_some_and(BlockType::is_layout))
    );
    let md = page.markdown();
    // Section headers become headings; the layout tables become Markdown tables.
    let headers: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(headers.len(), 2, "{md}");
    assert!(md.contains("| --- |"), "{md}");
    // The page header is left out of Markdown, kept in the text.
    let header = page.of_type(BlockType::LayoutHeader).next().unwrap();
    let header_text = d.text_of(
        d.related(header, &lambdakit_textract::model::RelationshipType::Child)
            .next()
            .unwrap(),
    );
    assert!(page.text().contains(&header_text));
    assert!(!md.contains(&header_text), "{header_text:?} in {md}");
    // Document text joins pages.
    let multi = doc("multi-page-forms-2-page.analyze.json");
    let text = multi.text();
    let first_of_two = multi.page(2).unwrap().reading_order()[0]
        .text
        .clone()
        .unwrap();
    assert!(text.find(&first_of_two).unwrap() > text.len() / 3);
}
