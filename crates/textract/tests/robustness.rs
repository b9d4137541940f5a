//! Hostile or broken input never panics: random geometry, relationships and images.
#![allow(clippy::unwrap_used)]

use lambdakit_textract::model::{
    Block, BlockType, BoundingBox, Geometry, Point, Relationship, RelationshipType,
};
use lambdakit_textract::pdf::SearchablePdf;
use lambdakit_textract::{Document, Response};
use proptest::prelude::*;

fn coordinate() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -0.5f64..1.5,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-1e300f64),
        1 => Just(0.0f64),
    ]
}

fn block(ids: usize) -> impl Strategy<Value = Block> {
    let kinds = prop_oneof![
        Just(BlockType::Page),
        Just(BlockType::Line),
        Just(BlockType::Word),
        Just(BlockType::Table),
        Just(BlockType::Cell),
        Just(BlockType::MergedCell),
        Just(BlockType::KeyValueSet),
        Just(BlockType::SelectionElement),
        Just(BlockType::LayoutList),
        Just(BlockType::LayoutText),
        Just(BlockType::LayoutTable),
        Just(BlockType::LayoutTitle),
    ];
    (
        kinds,
        proptest::option::of("\\PC{0,12}"),
        proptest::collection::vec(coordinate(), 12),
        proptest::collection::vec(
            (0..4usize, proptest::collection::vec(0..ids + 2, 0..6)),
            0..3,
        ),
        proptest::option::of(0u32..5),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(move |(kind, text, c, rels, page, row, span)| {
            let mut b = Block::new(String::new(), kind);
            b.text = text;
            b.geometry = Some(Geometry {
                bounding_box: BoundingBox {
                    left: c[0],
                    top: c[1],
                    width: c[2],
                    height: c[3],
                },
                polygon: c[4..]
                    .chunks(2)
                    .map(|p| Point { x: p[0], y: p[1] })
                    .collect(),
            });
            b.relationships = rels
                .into_iter()
                .map(|(k, targets)| Relationship {
                    kind: [
                        RelationshipType::Child,
                        RelationshipType::Value,
                        RelationshipType::MergedCell,
                        RelationshipType::Table,
                    ][k]
                        .clone(),
                    ids: targets.into_iter().map(|t| format!("b{t}")).collect(),
                })
                .collect();
            b.page = page;
            b.row_index = row;
            b.column_index = row.map(|r| r.rotate_left(7));
            b.row_span = span;
            b.column_span = span;
            b.entity_types = vec!["KEY".into(), "COLUMN_HEADER".into()];
            b
        })
}

fn white_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 20, 30);
    encoder.set_color(png::ColorType::Grayscale);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[255; 600]).unwrap();
    writer.finish().unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_documents_render_without_panicking(blocks in proptest::collection::vec(block(12), 0..12)) {
        let blocks: Vec<Block> = blocks
            .into_iter()
            .enumerate()
            .map(|(i, mut b)| { b.id = format!("b{i}"); b })
            .collect();
        let doc = Document::from_responses([Response { blocks, ..Response::default() }]).unwrap();
        let png = white_png();
        let mut pdf = SearchablePdf::new();
        for page in doc.pages() {
            let _ = page.text();
            let _ = page.markdown();
            let _ = page.key_values();
            for t in page.tables() {
                let _ = t.markdown();
            }
            pdf.add_page(&png, Some(page)).unwrap();
        }
        let bytes = pdf.finish();
        prop_assert!(bytes.starts_with(b"%PDF-"));
    }

    #[test]
    fn truncated_or_corrupted_images_are_errors(cut in 0usize..2000, flip in 0usize..2000) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        for name in ["paystub.jpg", "multicol.png"] {
            let mut bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
            let at = flip % bytes.len();
            bytes[at] ^= 0xFF;
            bytes.truncate(bytes.len().saturating_sub(cut * 97));
            let mut pdf = SearchablePdf::new();
            // Either an error or a page: never a panic.
            let _ = pdf.add_page(&bytes, None);
        }
    }
}
