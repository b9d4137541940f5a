//! The image pipeline end to end: encoded bytes in, SIH edits, encoded bytes out.

use std::io::Cursor;
use std::time::Duration;

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use lambdakit_image::ops::{Limits, Plan, transform};
use lambdakit_image::{Edits, Format};
use serde_json::{Value, json};

fn edits(v: Value) -> Edits {
    v.as_object().expect("edits object").clone()
}

/// A gradient so resampling and cropping have something to show.
fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            ((x + y) % 256) as u8,
        ])
    })
}

/// A baseline JPEG, optionally with an EXIF APP1 orientation tag.
fn jpeg(img: &RgbImage, orientation: Option<u16>) -> Vec<u8> {
    let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    c.set_size(img.width() as usize, img.height() as usize);
    c.set_quality(95.0);
    let mut s = c.start_compress(Vec::new()).expect("start");
    if let Some(o) = orientation {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(b"MM\0*");
        app1.extend_from_slice(&8u32.to_be_bytes());
        app1.extend_from_slice(&1u16.to_be_bytes());
        app1.extend_from_slice(&0x0112u16.to_be_bytes());
        app1.extend_from_slice(&3u16.to_be_bytes());
        app1.extend_from_slice(&1u32.to_be_bytes());
        app1.extend_from_slice(&o.to_be_bytes());
        app1.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        s.write_marker(mozjpeg::Marker::APP(1), &app1);
    }
    s.write_scanlines(img.as_raw()).expect("scanlines");
    s.finish().expect("finish")
}

fn encode(img: image::DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

fn png_rgba(img: &RgbaImage) -> Vec<u8> {
    encode(
        image::DynamicImage::ImageRgba8(img.clone()),
        ImageFormat::Png,
    )
}

/// Decodes any output to RGBA for pixel checks.
fn decode(bytes: &[u8]) -> RgbaImage {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let d = mozjpeg::Decompress::new_mem(bytes).expect("jpeg");
        let mut s = d.rgb().expect("rgb");
        let (w, h) = (s.width() as u32, s.height() as u32);
        let raw: Vec<u8> = s.read_scanlines().expect("scanlines");
        let rgb = RgbImage::from_raw(w, h, raw).expect("buffer");
        image::DynamicImage::ImageRgb8(rgb).into_rgba8()
    } else {
        image::load_from_memory(bytes).expect("decode").into_rgba8()
    }
}

fn run(input: &[u8], e: Value) -> lambdakit_image::Result<lambdakit_image::Transformed> {
    let plan = Plan::new(&edits(e), None, None)?;
    transform(input, &plan, None, &Limits::default())
}

#[test]
fn resize_dimensions_match_sharp_for_every_fit() {
    let input = jpeg(&gradient(400, 300), None);
    // (resize options, output) per sharp's documented rules.
    let cases = [
        (json!({"width": 200}), (200, 150)),
        (json!({"height": 100}), (133, 100)),
        (json!({"width": 200, "height": 200}), (200, 200)),
        (
            json!({"width": 200, "height": 200, "fit": "cover"}),
            (200, 200),
        ),
        (
            json!({"width": 200, "height": 200, "fit": "contain"}),
            (200, 200),
        ),
        (
            json!({"width": 200, "height": 200, "fit": "fill"}),
            (200, 200),
        ),
        (
            json!({"width": 200, "height": 200, "fit": "inside"}),
            (200, 150),
        ),
        (
            json!({"width": 200, "height": 200, "fit": "outside"}),
            (267, 200),
        ),
        (json!({"width": 100, "fit": "fill"}), (100, 300)),
        (
            json!({"width": 800, "withoutEnlargement": true}),
            (400, 300),
        ),
        (
            json!({"width": 800, "height": 800, "fit": "inside", "withoutEnlargement": true}),
            (400, 300),
        ),
        (json!({"width": 800}), (800, 600)),
        (
            json!({"width": 100, "height": 100, "fit": "inside", "withoutReduction": true}),
            (400, 300),
        ),
        (json!({"ratio": 0.5}), (200, 150)),
        (json!({"width": 300, "height": 100, "ratio": 0.5}), (67, 50)),
        (json!({"width": "99.1", "height": "99.9"}), (99, 100)),
        (json!({"width": 100, "height": null}), (100, 75)),
        (json!({"fit": "inside"}), (400, 300)),
    ];
    for (resize, expected) in cases {
        let out = run(&input, json!({ "resize": resize.clone() })).expect("transform");
        assert_eq!((out.width, out.height), expected, "{resize}");
        let img = decode(&out.bytes);
        assert_eq!(img.dimensions(), expected, "encoded size for {resize}");
        assert_eq!(out.format, Format::Jpeg);
    }
}

#[test]
fn big_jpeg_uses_shrink_on_load_and_lands_on_the_exact_size() {
    let input = jpeg(&gradient(4000, 3000), None);
    let out = run(&input, json!({"resize": {"width": 800}})).expect("transform");
    assert_eq!((out.width, out.height), (800, 600));
    let out = run(
        &input,
        json!({"resize": {"width": 333, "height": 333, "fit": "cover"}}),
    )
    .expect("transform");
    assert_eq!(decode(&out.bytes).dimensions(), (333, 333));
}

#[test]
fn invalid_sizes_are_sih_errors() {
    let input = jpeg(&gradient(10, 10), None);
    let e = run(&input, json!({"resize": {"width": 0, "height": 0}})).expect_err("zero");
    assert_eq!((e.status(), e.code()), (400, "InvalidResizeException"));
    let e = run(&input, json!({"resize": {"width": -3}})).expect_err("negative");
    assert_eq!(e.code(), "InvalidResizeException");
}

#[test]
fn cover_crops_by_position_and_contain_letterboxes_with_background() {
    // Left half red, right half blue.
    let img = RgbaImage::from_fn(200, 100, |x, _| {
        if x < 100 {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 0, 255, 255])
        }
    });
    let input = png_rgba(&img);
    let left = run(
        &input,
        json!({"resize": {"width": 50, "height": 50, "position": "left"}}),
    )
    .expect("left");
    let px = decode(&left.bytes);
    assert_eq!(px.dimensions(), (50, 50));
    assert!(px.get_pixel(25, 25)[0] > 200 && px.get_pixel(25, 25)[2] < 50);
    let right = run(
        &input,
        json!({"resize": {"width": 50, "height": 50, "position": "right"}}),
    )
    .expect("right");
    let px = decode(&right.bytes);
    assert!(px.get_pixel(25, 25)[2] > 200 && px.get_pixel(25, 25)[0] < 50);

    let boxed = run(
        &input,
        json!({"resize": {"width": 100, "height": 100, "fit": "contain",
            "background": {"r": 0, "g": 255, "b": 0, "alpha": 1}}}),
    )
    .expect("contain");
    let px = decode(&boxed.bytes);
    assert_eq!(px.dimensions(), (100, 100));
    assert_eq!(px.get_pixel(50, 5).0, [0, 255, 0, 255], "letterbox band");
    assert_eq!(px.get_pixel(10, 50).0, [255, 0, 0, 255], "image");
}

#[test]
fn formats_in_and_out() {
    let rgb = gradient(64, 48);
    let inputs = [
        (Format::Jpeg, jpeg(&rgb, None)),
        (Format::Png, encode(rgb.clone().into(), ImageFormat::Png)),
        (Format::Gif, encode(rgb.clone().into(), ImageFormat::Gif)),
        (Format::Webp, encode(rgb.clone().into(), ImageFormat::WebP)),
        (Format::Tiff, encode(rgb.clone().into(), ImageFormat::Tiff)),
    ];
    for (in_format, input) in &inputs {
        // No output format: the input's.
        let plan = Plan::new(&edits(json!({"resize": {"width": 32}})), None, None).expect("plan");
        let out = transform(input, &plan, None, &Limits::default()).expect("same format");
        assert_eq!(out.format, *in_format);
        assert_eq!(Format::sniff(&out.bytes), Some(*in_format));
        assert_eq!(decode(&out.bytes).dimensions(), (32, 24));
        for out_format in [
            Format::Jpeg,
            Format::Png,
            Format::Webp,
            Format::Gif,
            Format::Tiff,
        ] {
            let plan = Plan::new(&edits(json!({})), Some(out_format), None).expect("plan");
            assert!(!plan.is_noop());
            let out = transform(input, &plan, None, &Limits::default()).expect("convert");
            assert_eq!(out.format, out_format, "{in_format} -> {out_format}");
            assert_eq!(Format::sniff(&out.bytes), Some(out_format));
            assert_eq!(decode(&out.bytes).dimensions(), (64, 48));
        }
    }
}

#[test]
fn edits_name_the_output_format() {
    let input = jpeg(&gradient(20, 20), None);
    for (e, expected) in [
        (json!({"toFormat": "png"}), Format::Png),
        (json!({"webp": {"quality": 50}}), Format::Webp),
        (json!({"png": {"compressionLevel": 9}}), Format::Png),
    ] {
        let out = run(&input, e.clone()).expect("transform");
        assert_eq!(out.format, expected, "{e}");
        assert_eq!(Format::sniff(&out.bytes), Some(expected));
    }
    // The request's output format wins over the edits'.
    let plan = Plan::new(&edits(json!({"png": {}})), Some(Format::Webp), Some(6)).expect("plan");
    let out = transform(&input, &plan, None, &Limits::default()).expect("webp");
    assert_eq!(out.format, Format::Webp);
}

#[test]
fn avif_and_heif_output_are_refused_by_name() {
    let input = jpeg(&gradient(8, 8), None);
    for f in [Format::Avif, Format::Heif] {
        let plan = Plan::new(&edits(json!({})), Some(f), None).expect("plan");
        let e = transform(&input, &plan, None, &Limits::default()).expect_err("unsupported");
        assert_eq!(e.status(), 400);
        assert!(e.message().contains(f.name()), "{}", e.message());
    }
}

#[test]
fn quality_changes_the_size() {
    let input = jpeg(&gradient(300, 200), None);
    let size = |e: Value| run(&input, e).expect("transform").bytes.len();
    assert!(size(json!({"jpeg": {"quality": 20}})) < size(json!({"jpeg": {"quality": 95}})));
    assert!(size(json!({"webp": {"quality": 20}})) < size(json!({"webp": {"quality": 95}})));
    assert!(
        size(json!({"webp": {"lossless": true}})) > size(json!({"webp": {"quality": 50}})),
        "lossless is bigger"
    );
}

#[test]
fn no_edits_no_format_is_a_noop() {
    let plan = Plan::new(&edits(json!({})), None, None).expect("plan");
    assert!(plan.is_noop());
    let plan = Plan::new(&edits(json!({"grayscale": true})), None, None).expect("plan");
    assert!(!plan.is_noop());
}

#[test]
fn junk_bytes_are_an_instantiation_error() {
    let plan = Plan::new(&edits(json!({"resize": {"width": 10}})), None, None).expect("plan");
    for junk in [
        &b""[..],
        b"not an image at all",
        b"\xFF\xD8\xFF\xE0garbage",
        b"\x89PNG\r\n\x1a\ntruncated",
        b"GIF89a",
        b"RIFF\0\0\0\0WEBPjunk",
    ] {
        let e = transform(junk, &plan, None, &Limits::default()).expect_err("junk");
        assert_eq!((e.status(), e.code()), (400, "InstantiationError"));
        assert_eq!(
            e.message(),
            "Input image could not be instantiated. Please choose a valid image."
        );
    }
    // A valid header followed by garbage scans.
    let mut broken = jpeg(&gradient(50, 50), None);
    let n = broken.len();
    broken.truncate(n / 3);
    broken.extend_from_slice(&[0xFF, 0xD9]);
    let out = transform(&broken, &plan, None, &Limits::default());
    if let Err(e) = out {
        assert_eq!(e.code(), "InstantiationError");
    }
}

#[test]
fn time_budget_is_sih_timeout() {
    let input = jpeg(&gradient(64, 64), None);
    let plan = Plan::new(&edits(json!({"resize": {"width": 10}})), None, None).expect("plan");
    let limits = Limits {
        time_budget: Duration::ZERO,
        ..Limits::default()
    };
    let e = transform(&input, &plan, None, &limits).expect_err("timeout");
    assert_eq!((e.status(), e.code()), (503, "TimeoutException"));
    assert_eq!(e.message(), "Image processing timed out.");
}
