//! AVIF output (feature `avif`): every way Serverless Image Handler asks for it answers an AVIF
//! file of the right dimensions, sharp's `avif` options are checked as sharp checks them, the
//! alpha channel is kept, and an AVIF source is refused as SIH (sharp without AVIF decoding
//! in our build) refuses it.
#![cfg(feature = "avif")]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use base64::Engine as _;
use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use lambdakit_image::handler::{Config, HandlerRequest, ImageHandler};
use lambdakit_image::ops::{Limits, Plan, transform};
use lambdakit_image::request::{ImageRequest, RequestConfig};
use lambdakit_image::source::DirSource;
use lambdakit_image::{Edits, Format};
use serde_json::{Value, json};

fn edits(v: Value) -> Edits {
    serde_json::from_value(v).expect("edits object")
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w) as u8,
            (y * 255 / h) as u8,
            ((x * 7 + y * 13) % 256) as u8,
        ])
    })
}

fn png(img: image::DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).expect("png");
    out.into_inner()
}

fn opaque_png(w: u32, h: u32) -> Vec<u8> {
    png(image::DynamicImage::ImageRgb8(gradient(w, h)))
}

/// Left half opaque, right half half-transparent.
fn translucent_png(w: u32, h: u32) -> Vec<u8> {
    let g = gradient(w, h);
    let img = RgbaImage::from_fn(w, h, |x, y| {
        let p = g.get_pixel(x, y);
        Rgba([p[0], p[1], p[2], if x < w / 2 { 255 } else { 100 }])
    });
    png(image::DynamicImage::ImageRgba8(img))
}

fn run(input: &[u8], e: Value, output: Option<Format>) -> lambdakit_image::Result<Vec<u8>> {
    let plan = Plan::new(&edits(e), output, None)?;
    let out = transform(input, &plan, None, &Limits::default())?;
    assert_eq!(out.format, Format::Avif);
    assert_eq!(out.format.content_type(), "image/avif");
    assert_eq!(Some((out.width, out.height)), ispe(&out.bytes));
    Ok(out.bytes)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The width and height of the first `ispe` (image spatial extents) property box:
/// `size, "ispe", version and flags, width, height`.
fn ispe(avif: &[u8]) -> Option<(u32, u32)> {
    let at = find(avif, b"ispe")?;
    let be = |i: usize| -> Option<u32> {
        Some(u32::from_be_bytes(avif.get(i..i + 4)?.try_into().ok()?))
    };
    Some((be(at + 8)?, be(at + 12)?))
}

/// Whether the file has an alpha auxiliary image (`auxC` naming the alpha URN).
fn has_alpha(avif: &[u8]) -> bool {
    find(avif, b"auxC").is_some()
        && find(avif, b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha").is_some()
}

/// An AVIF file as the pipeline writes it, starting with an `ftyp` box of brand `avif`.
fn assert_avif(bytes: &[u8], w: u32, h: u32) {
    assert_eq!(bytes.get(4..12), Some(&b"ftypavif"[..]), "ftyp box");
    assert_eq!(Format::sniff(bytes), Some(Format::Avif));
    assert_eq!(ispe(bytes), Some((w, h)));
}

#[test]
fn png_becomes_avif_of_the_same_size() {
    let out = run(&opaque_png(64, 48), json!({}), Some(Format::Avif)).expect("avif");
    assert_avif(&out, 64, 48);
    assert!(!has_alpha(&out), "an opaque image has no alpha plane");
}

#[test]
fn to_format_and_avif_edits_resize_and_encode() {
    let input = opaque_png(64, 48);
    for e in [
        json!({"toFormat": "avif", "resize": {"width": 32}}),
        json!({"avif": {"quality": 60}, "resize": {"width": 32}}),
        json!({"avif": {}, "resize": {"width": 32, "height": 24, "fit": "cover"}}),
    ] {
        let out = run(&input, e.clone(), None).expect("avif");
        assert_avif(&out, 32, 24);
    }
}

#[test]
fn quality_changes_the_size() {
    let input = opaque_png(64, 48);
    let size = |q: u32| {
        run(&input, json!({"avif": {"quality": q}}), None)
            .expect("avif")
            .len()
    };
    assert!(size(20) < size(90), "quality 20 is smaller than 90");
    let lossless = run(&input, json!({"avif": {"lossless": true}}), None).expect("lossless");
    assert!(
        lossless.len() > size(50),
        "lossless is larger than the default"
    );
}

#[test]
fn effort_is_accepted_across_sharps_range() {
    let input = opaque_png(16, 16);
    for effort in [0, 4, 9] {
        let out = run(&input, json!({"avif": {"effort": effort}}), None).expect("avif");
        assert_avif(&out, 16, 16);
    }
}

#[test]
fn alpha_is_kept() {
    let out = run(&translucent_png(40, 20), json!({}), Some(Format::Avif)).expect("avif");
    assert_avif(&out, 40, 20);
    assert!(has_alpha(&out), "translucent pixels keep an alpha plane");
}

#[test]
fn bad_avif_options_are_refused_as_sharp_refuses_them() {
    let input = opaque_png(8, 8);
    for (options, expected) in [
        (
            json!({"quality": 0}),
            "Expected integer between 1 and 100 for quality but received 0",
        ),
        (
            json!({"effort": 10}),
            "Expected integer between 0 and 9 for effort but received 10",
        ),
        (
            json!({"lossless": "yes"}),
            "Expected boolean for lossless but received \"yes\"",
        ),
        (
            json!({"chromaSubsampling": "4:2:2"}),
            "Expected one of: 4:2:0, 4:4:4 for chromaSubsampling but received \"4:2:2\"",
        ),
        (
            json!({"bitdepth": 10}),
            "Expected 8 for bitdepth when using prebuilt binaries but received 10",
        ),
        (
            json!({"bitdepth": 9}),
            "Expected 8, 10 or 12 for bitdepth but received 9",
        ),
    ] {
        let e = run(&input, json!({ "avif": options.clone() }), None).expect_err("refused");
        assert_eq!(
            (e.status(), e.code()),
            (500, "ProcessingFailure"),
            "{options}"
        );
        let detail = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(detail.as_deref(), Some(expected), "{options}");
    }
    // Valid values of the options we cannot vary still give an image.
    let out = run(
        &input,
        json!({"avif": {"chromaSubsampling": "4:2:0", "bitdepth": 8}}),
        None,
    )
    .expect("avif");
    assert_avif(&out, 8, 8);
}

#[test]
fn animated_gif_gives_its_first_frame() {
    let gif = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sih/transparent-5x5-2page.gif"),
    )
    .expect("fixture");
    let out = run(&gif, json!({}), Some(Format::Avif)).expect("avif");
    assert_avif(&out, 5, 5);
}

#[test]
fn an_avif_source_is_not_an_image_we_read() {
    let avif = run(&opaque_png(16, 16), json!({}), Some(Format::Avif)).expect("avif");
    for output in [None, Some(Format::Jpeg), Some(Format::Avif)] {
        let plan = Plan::new(&edits(json!({"resize": {"width": 8}})), output, None).expect("plan");
        let e = transform(&avif, &plan, None, &Limits::default()).expect_err("refused");
        assert_eq!(e.status(), 400);
        assert_eq!(e.code(), "InstantiationError");
    }
}

/// `ImageRequest::parse` -> `Plan` -> `transform`, as the handler chains them.
fn through_request(path: &str, query: &[(&str, &str)]) -> (ImageRequest, Vec<u8>) {
    let config =
        RequestConfig::from_lookup(|k| (k == "SOURCE_BUCKETS").then(|| "bucket".to_owned()));
    let query: BTreeMap<String, String> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut request = ImageRequest::parse(path, &query, None, &config).expect("parse");
    request.resolve_output("image/png").expect("output");
    let plan = Plan::new(&request.edits, request.output_format, request.effort).expect("plan");
    let out = transform(&opaque_png(64, 48), &plan, None, &Limits::default()).expect("transform");
    assert_eq!(out.format, Format::Avif, "{path}");
    (request, out.bytes)
}

#[test]
fn every_request_type_can_ask_for_avif() {
    let default = |v: Value| {
        format!(
            "/{}",
            base64::engine::general_purpose::STANDARD.encode(v.to_string())
        )
    };
    let cases = [
        (
            "/filters:format(avif)/test.png".to_owned(),
            vec![],
            (64, 48),
        ),
        (
            "/fit-in/32x32/filters:format(avif):quality(40)/test.png".to_owned(),
            vec![],
            (32, 24),
        ),
        ("/test.png".to_owned(), vec![("format", "avif")], (64, 48)),
        (
            default(json!({"key": "test.png", "outputFormat": "avif"})),
            vec![],
            (64, 48),
        ),
        (
            default(
                json!({"key": "test.png", "edits": {"toFormat": "avif", "resize": {"width": 16}}}),
            ),
            vec![],
            (16, 12),
        ),
        (
            default(json!({"key": "test.png", "edits": {"avif": {"quality": 50}}})),
            vec![],
            (64, 48),
        ),
    ];
    for (path, query, (w, h)) in cases {
        let (request, bytes) = through_request(&path, &query);
        assert_avif(&bytes, w, h);
        // `edits.avif` alone changes sharp's output but not SIH's Content-Type.
        if request.output_format == Some(Format::Avif) {
            assert_eq!(
                request.content_type.as_deref(),
                Some("image/avif"),
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn handler_answers_200_image_avif() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sih");
    let handler = ImageHandler::builder(DirSource::new(&root))
        .config(Config::from_lookup(|k| {
            (k == "SOURCE_BUCKETS").then(|| "local".to_owned())
        }))
        .build();
    for req in [
        HandlerRequest::get("/filters:format(avif)/25x15.png"),
        HandlerRequest::get("/25x15.png").with_query("format", "avif"),
    ] {
        let r = handler.handle(&req).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("Content-Type"), Some("image/avif"));
        assert_avif(&r.body, 25, 15);
    }
}
