//! The image pipeline end to end: encoded bytes in, SIH edits, encoded bytes out.

use std::io::Cursor;
use std::time::Duration;

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use lambdakit_image::ops::{Limits, Plan, transform};
use lambdakit_image::{Edits, Format};
use serde_json::{Value, json};

fn edits(v: Value) -> Edits {
    serde_json::from_value(v).expect("edits object")
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
fn heif_output_and_avif_without_its_feature_are_refused_by_name() {
    let input = jpeg(&gradient(8, 8), None);
    let refused: &[Format] = if cfg!(feature = "avif") {
        &[Format::Heif]
    } else {
        &[Format::Avif, Format::Heif]
    };
    for &f in refused {
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

/// 60x40: red block at the stored top-left, green block at the stored top-right.
fn marked() -> RgbImage {
    RgbImage::from_fn(60, 40, |x, y| {
        if x < 12 && y < 12 {
            Rgb([255, 0, 0])
        } else if x >= 48 && y < 12 {
            Rgb([0, 255, 0])
        } else {
            Rgb([255, 255, 255])
        }
    })
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Corner {
    TopLeft,
    TopRight,
    BottomRight,
    BottomLeft,
}

/// Which corner holds a colour (channel index 0 red, 1 green).
fn corner_of(img: &RgbaImage, channel: usize) -> Corner {
    let (w, h) = img.dimensions();
    let is = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        p[channel] > 200 && p[(channel + 1) % 3] < 80
    };
    match (is(3, 3), is(w - 4, 3), is(w - 4, h - 4), is(3, h - 4)) {
        (true, false, false, false) => Corner::TopLeft,
        (false, true, false, false) => Corner::TopRight,
        (false, false, true, false) => Corner::BottomRight,
        (false, false, false, true) => Corner::BottomLeft,
        other => panic!("colour {channel} not in exactly one corner: {other:?}"),
    }
}

/// Where EXIF says the stored corners are shown, for orientations 1..=8.
const UPRIGHT: [(u16, Corner, Corner, (u32, u32)); 8] = [
    (1, Corner::TopLeft, Corner::TopRight, (60, 40)),
    (2, Corner::TopRight, Corner::TopLeft, (60, 40)),
    (3, Corner::BottomRight, Corner::BottomLeft, (60, 40)),
    (4, Corner::BottomLeft, Corner::BottomRight, (60, 40)),
    (5, Corner::TopLeft, Corner::BottomLeft, (40, 60)),
    (6, Corner::TopRight, Corner::BottomRight, (40, 60)),
    (7, Corner::BottomRight, Corner::TopRight, (40, 60)),
    (8, Corner::BottomLeft, Corner::TopLeft, (40, 60)),
];

#[test]
fn exif_orientations_give_upright_pixels_in_every_output_format() {
    for (o, red, green, dims) in UPRIGHT {
        let input = jpeg(&marked(), Some(o));
        for out_format in [Format::Jpeg, Format::Png, Format::Webp] {
            let plan = Plan::new(&edits(json!({})), Some(out_format), None).expect("plan");
            let out = transform(&input, &plan, None, &Limits::default()).expect("transform");
            let img = decode(&out.bytes);
            assert_eq!(img.dimensions(), dims, "orientation {o} {out_format}");
            assert_eq!(corner_of(&img, 0), red, "red, orientation {o} {out_format}");
            assert_eq!(
                corner_of(&img, 1),
                green,
                "green, orientation {o} {out_format}"
            );
            // No EXIF comes out, so no viewer rotates it again.
            assert!(!out.bytes.windows(6).any(|w| w == b"Exif\0\0"));
        }
        // Resizing targets the upright image.
        let out = run(&input, json!({"resize": {"width": 20}})).expect("resize");
        let expected_h = if o >= 5 { 30 } else { 13 };
        assert_eq!((out.width, out.height), (20, expected_h), "orientation {o}");
    }
}

/// Mean absolute difference per channel (0-255) of two images of the same size.
fn mean_abs_diff(a: &RgbaImage, b: &RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

// Pillow's `test_exif_transpose` (Tests/test_imageops.py) on Pillow's own files: hopper stored
// at EXIF orientations 2 to 8 (the mirrored ones too), as JPEG and as WebP, must come out like
// the upright `hopper.jpg` / `hopper.webp`. Pillow allows a mean difference of 17; the stored
// pixels, not turned, are far from it.
#[test]
fn pillows_orientation_files_come_out_like_the_upright_hopper() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/orientation");
    let read = |name: String| std::fs::read(format!("{dir}/{name}")).expect("fixture");
    let plan = Plan::new(&edits(json!({})), Some(Format::Png), None).expect("plan");
    for ext in ["jpg", "webp"] {
        let upright = decode(&read(format!("hopper.{ext}")));
        for n in 2..=8 {
            let input = read(format!("hopper_orientation_{n}.{ext}"));
            let out = transform(&input, &plan, None, &Limits::default()).expect("transform");
            assert!(!out.bytes.windows(4).any(|w| w == b"eXIf"), "no EXIF out");
            let turned = mean_abs_diff(&upright, &decode(&out.bytes));
            let stored = mean_abs_diff(&upright, &decode(&input));
            assert!(turned <= 17.0, "{n}.{ext}: {turned}");
            assert!(
                stored > 2.0 * turned,
                "{n}.{ext}: stored {stored}, turned {turned}"
            );
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn png_exif_orientation_is_applied() {
    let png = encode(marked().into(), ImageFormat::Png);
    // Insert an eXIf chunk (orientation 6) right after IHDR.
    let mut tiff = b"MM\0*".to_vec();
    tiff.extend_from_slice(&8u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&6u16.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut chunk = (tiff.len() as u32).to_be_bytes().to_vec();
    let mut body = b"eXIf".to_vec();
    body.extend_from_slice(&tiff);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut with_exif = png[..ihdr_end].to_vec();
    with_exif.extend_from_slice(&chunk);
    with_exif.extend_from_slice(&png[ihdr_end..]);
    let out = run(&with_exif, json!({"grayscale": false})).expect("transform");
    let img = decode(&out.bytes);
    assert_eq!(img.dimensions(), (40, 60));
    assert_eq!(corner_of(&img, 0), Corner::TopRight);
}

#[test]
fn rotate_flip_flop() {
    let input = png_rgba(&image::DynamicImage::ImageRgb8(marked()).into_rgba8());
    let check = |e: Value, dims: (u32, u32), red: Corner, green: Corner| {
        let out = run(&input, e.clone()).expect("transform");
        let img = decode(&out.bytes);
        assert_eq!(img.dimensions(), dims, "{e}");
        assert_eq!(corner_of(&img, 0), red, "red {e}");
        assert_eq!(corner_of(&img, 1), green, "green {e}");
    };
    check(
        json!({"rotate": 90}),
        (40, 60),
        Corner::TopRight,
        Corner::BottomRight,
    );
    check(
        json!({"rotate": 180}),
        (60, 40),
        Corner::BottomRight,
        Corner::BottomLeft,
    );
    check(
        json!({"rotate": -90}),
        (40, 60),
        Corner::BottomLeft,
        Corner::TopLeft,
    );
    check(
        json!({"rotate": 0}),
        (60, 40),
        Corner::TopLeft,
        Corner::TopRight,
    );
    check(
        json!({"rotate": null}),
        (60, 40),
        Corner::TopLeft,
        Corner::TopRight,
    );
    check(
        json!({"flip": true}),
        (60, 40),
        Corner::BottomLeft,
        Corner::BottomRight,
    );
    check(
        json!({"flop": true}),
        (60, 40),
        Corner::TopRight,
        Corner::TopLeft,
    );
    check(
        json!({"flip": true, "flop": true}),
        (60, 40),
        Corner::BottomRight,
        Corner::BottomLeft,
    );
    // `resize` comes before `rotate` in the edits: sharp resizes, then rotates.
    let out = run(
        &input,
        json!({"resize": {"width": 30, "height": 20}, "rotate": 90}),
    )
    .expect("r");
    assert_eq!((out.width, out.height), (20, 30));
    // An arbitrary angle grows the canvas to the rotated bounding box.
    let out = run(&input, json!({"rotate": 45})).expect("rotate 45");
    assert!(
        out.width > 60 && out.height > 40,
        "{}x{}",
        out.width,
        out.height
    );
    let e = run(&input, json!({"rotate": "90"})).expect_err("string angle");
    assert_eq!((e.status(), e.code()), (500, "ProcessingFailure"));
}

#[test]
fn crop_and_extract_bounds() {
    let input = png_rgba(&image::DynamicImage::ImageRgb8(marked()).into_rgba8());
    let out = run(
        &input,
        json!({"crop": {"left": 48, "top": 0, "width": 12, "height": 12}}),
    )
    .expect("crop");
    let img = decode(&out.bytes);
    assert_eq!(img.dimensions(), (12, 12));
    assert_eq!(img.get_pixel(6, 6).0, [0, 255, 0, 255]);
    for bad in [
        json!({"left": 0, "top": 0, "width": 100, "height": 100}),
        json!({"left": 59, "top": 0, "width": 2, "height": 1}),
        json!({"left": 0, "right": 0, "width": 1, "height": 1}),
        json!({"left": 0, "top": 0, "width": 0, "height": 1}),
        json!({"left": 10, "top": 10, "width": -5, "height": 3}),
    ] {
        let e = run(&input, json!({ "crop": bad.clone() })).expect_err("out of bounds");
        assert_eq!(
            (e.status(), e.code()),
            (400, "Crop::AreaOutOfBounds"),
            "{bad}"
        );
        assert_eq!(
            e.message(),
            "The cropping area you provided exceeds the boundaries of the original image. Please try choosing a correct cropping value."
        );
    }
    // Crop happens on the original, then the resize.
    let out = run(
        &input,
        json!({"crop": {"left": 0, "top": 0, "width": 30, "height": 20}, "resize": {"width": 15}}),
    )
    .expect("crop then resize");
    assert_eq!((out.width, out.height), (15, 10));
    // sharp's own `extract` fails as sharp does inside SIH: a processing failure.
    let e = run(
        &input,
        json!({"extract": {"left": 0, "top": 0, "width": 100, "height": 1}}),
    )
    .expect_err("extract");
    assert_eq!((e.status(), e.code()), (500, "ProcessingFailure"));
}

#[test]
fn extend_and_trim() {
    let input = jpeg(&gradient(40, 30), None);
    let out = run(
        &input,
        json!({"extend": {"top": 5, "bottom": 6, "left": 7, "right": 8,
            "background": {"r": 255, "g": 0, "b": 0, "alpha": 1}}}),
    )
    .expect("extend");
    assert_eq!((out.width, out.height), (55, 41));
    let img = decode(&out.bytes);
    let corner = img.get_pixel(1, 1);
    assert!(corner[0] > 240 && corner[1] < 20, "{corner:?}");
    let out = run(&input, json!({"extend": 10})).expect("extend all");
    assert_eq!((out.width, out.height), (60, 50));
    for bad in [json!(0), json!(10001), json!({"top": -1}), json!("x")] {
        let e = run(&input, json!({ "extend": bad })).expect_err("bad extend");
        assert_eq!(e.code(), "ProcessingFailure");
    }

    // A 20x10 red box on a white 60x40 canvas trims to the box.
    let boxed = RgbaImage::from_fn(60, 40, |x, y| {
        if (20..40).contains(&x) && (15..25).contains(&y) {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([255, 255, 255, 255])
        }
    });
    let out = run(&png_rgba(&boxed), json!({"trim": {}})).expect("trim");
    assert_eq!((out.width, out.height), (20, 10));
    let e = run(&png_rgba(&boxed), json!({"trim": true})).expect_err("trim true");
    assert_eq!(e.code(), "ProcessingFailure");
}

#[test]
fn filters_run_and_keep_opaque_images_opaque() {
    let input = jpeg(&gradient(64, 48), None);
    for e in [
        json!({"grayscale": true}),
        json!({"greyscale": true}),
        json!({"negate": true}),
        json!({"normalise": true}),
        json!({"normalize": {"lower": 2, "upper": 98}}),
        json!({"tint": {"r": 255, "g": 240, "b": 16}}),
        json!({"tint": "#ff0000"}),
        json!({"blur": 2}),
        json!({"blur": true}),
        json!({"sharpen": {"sigma": 1.5}}),
        json!({"sharpen": true}),
        json!({"median": 5}),
        json!({"flatten": {"background": "#ffffff"}}),
        json!({"gamma": 2.2}),
        json!({"threshold": 100}),
        json!({"modulate": {"brightness": 1.2, "saturation": 0.5, "hue": 90}}),
        json!({"linear": [1.5]}),
        json!({"convolve": {"width": 3, "height": 3, "kernel": [-1, 0, 1, -2, 0, 2, -1, 0, 1]}}),
        json!({"removeAlpha": true}),
        json!({"ensureAlpha": 0.5}),
    ] {
        let out = run(&input, e.clone()).unwrap_or_else(|err| panic!("{e}: {err}"));
        assert_eq!((out.width, out.height), (64, 48), "{e}");
        assert_eq!(out.format, Format::Jpeg);
        decode(&out.bytes);
    }
    // Greyscale really is grey.
    let out = run(&input, json!({"grayscale": true, "toFormat": "png"})).expect("grey");
    let img = decode(&out.bytes);
    assert!(img.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
    // PNG output of an opaque image has no alpha channel unless an edit adds one.
    let out = run(&input, json!({"blur": 1, "toFormat": "png"})).expect("png");
    let png = image::load_from_memory(&out.bytes).expect("png");
    assert!(!png.color().has_alpha());
    let out = run(&input, json!({"ensureAlpha": 1, "toFormat": "png"})).expect("png");
    let png = image::load_from_memory(&out.bytes).expect("png");
    assert!(png.color().has_alpha());
}

#[test]
fn allowed_edits_with_bad_arguments_fail_as_in_sharp_and_others_are_ignored() {
    let input = jpeg(&gradient(16, 16), None);
    // An empty object is not what these sharp calls take: sharp throws, SIH answers 500.
    for name in [
        "clahe",
        "affine",
        "boolean",
        "joinChannel",
        "bandbool",
        "recomb",
        "extractChannel",
    ] {
        let e = run(&input, json!({ name: {} })).expect_err(name);
        assert_eq!((e.status(), e.code()), (500, "ProcessingFailure"), "{name}");
    }
    // `unflatten` takes no argument: any value applies it.
    let out = run(&input, json!({"unflatten": {}, "toFormat": "png"})).expect("unflatten");
    assert!(
        image::load_from_memory(&out.bytes)
            .expect("png")
            .color()
            .has_alpha()
    );
    // Colour spaces this pipeline does not work in are refused by name.
    let e = run(&input, json!({"toColourspace": "cmyk"})).expect_err("cmyk");
    assert_eq!(e.status(), 400);
    assert!(e.message().contains("toColourspace"), "{}", e.message());
    for (name, feature) in [
        ("smartCrop", "Rekognition"),
        ("contentModeration", "Rekognition"),
    ] {
        let e = run(&input, json!({ name: true })).expect_err(name);
        assert_eq!(e.status(), 400);
        assert!(e.message().contains(feature), "{}", e.message());
    }
    // Not on sharp's allow-list: ignored as SIH ignores it.
    let out = run(
        &input,
        json!({"toFile": "/etc/passwd", "composite": [], "resize": {"width": 8}}),
    )
    .expect("ignored");
    assert_eq!((out.width, out.height), (8, 8));
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/sih/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn white(w: u32, h: u32) -> Vec<u8> {
    png_rgba(&RgbaImage::from_pixel(w, h, Rgba([255, 255, 255, 255])))
}

fn red(w: u32, h: u32) -> Vec<u8> {
    png_rgba(&RgbaImage::from_pixel(w, h, Rgba([255, 0, 0, 255])))
}

fn overlay(base: &[u8], over: &[u8], e: Value) -> lambdakit_image::Result<RgbaImage> {
    let plan = Plan::new(&edits(e), None, None)?;
    let source = plan.overlay().expect("overlay source");
    assert_eq!(
        (source.bucket.as_str(), source.key.as_str()),
        ("bucket", "key")
    );
    let out = transform(base, &plan, Some(over), &Limits::default())?;
    Ok(decode(&out.bytes))
}

/// The red area's bounding box: (left, top, right, bottom), exclusive.
fn red_box(img: &RgbaImage) -> (u32, u32, u32, u32) {
    let (mut l, mut t, mut r, mut b) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if p[0] > 200 && p[1] < 60 && p[2] < 60 {
            l = l.min(x);
            t = t.min(y);
            r = r.max(x + 1);
            b = b.max(y + 1);
        }
    }
    (l, t, r, b)
}

#[test]
fn overlay_placement_like_sih() {
    let base = white(100, 100);
    let over = red(40, 20);
    let place = |options: Value| {
        let img = overlay(
            &base,
            &over,
            json!({"overlayWith": {"bucket": "bucket", "key": "key", "options": options}}),
        )
        .expect("overlay");
        assert_eq!(img.dimensions(), (100, 100));
        red_box(&img)
    };
    assert_eq!(place(json!({"left": 0, "top": 0})), (0, 0, 40, 20));
    assert_eq!(place(json!({"left": "10", "top": 5})), (10, 5, 50, 25));
    // Negative: from the far edge, minus the overlay.
    assert_eq!(place(json!({"left": -10, "top": -10})), (50, 70, 90, 90));
    // Percentages of the base; negative percentages from the far edge.
    assert_eq!(
        place(json!({"left": "25p", "top": "50p"})),
        (25, 50, 65, 70)
    );
    assert_eq!(
        place(json!({"left": "-10p", "top": "-10p"})),
        (50, 70, 90, 90)
    );
    // Partly off the image: clipped.
    assert_eq!(place(json!({"left": 90, "top": 95})), (90, 95, 100, 100));
    // No position: centred.
    assert_eq!(place(json!({})), (30, 40, 70, 60));
    assert_eq!(place(Value::Null), (30, 40, 70, 60));
    // sharp wants both or neither.
    let e = overlay(
        &base,
        &over,
        json!({"overlayWith": {"bucket": "bucket", "key": "key", "options": {"left": 3}}}),
    )
    .expect_err("left only");
    assert_eq!(e.code(), "ProcessingFailure");
}

#[test]
fn overlay_ratio_and_alpha() {
    let base = white(100, 100);
    let over = red(40, 20);
    let img = overlay(
        &base,
        &over,
        json!({"overlayWith": {"bucket": "bucket", "key": "key", "wRatio": "50", "options": {"left": 0, "top": 0}}}),
    )
    .expect("ratio");
    assert_eq!(red_box(&img), (0, 0, 50, 25));
    let img = overlay(
        &base,
        &over,
        json!({"overlayWith": {"bucket": "bucket", "key": "key", "wRatio": 50, "hRatio": 10, "options": {"left": 0, "top": 0}}}),
    )
    .expect("both ratios: inside");
    assert_eq!(red_box(&img), (0, 0, 20, 10));
    // alpha 50: half transparent red over white is pink.
    let img = overlay(
        &base,
        &over,
        json!({"overlayWith": {"bucket": "bucket", "key": "key", "alpha": "50", "options": {"left": 0, "top": 0}}}),
    )
    .expect("alpha");
    let p = img.get_pixel(5, 5);
    assert!(p[0] > 240 && (100..160).contains(&p[1]), "{p:?}");
    // Out-of-range ratio or alpha strings are ignored, as SIH's 0..100 regex does.
    let img = overlay(
        &base,
        &over,
        json!({"overlayWith": {"bucket": "bucket", "key": "key", "wRatio": "150", "alpha": "-5", "options": {"left": 0, "top": 0}}}),
    )
    .expect("ignored");
    assert_eq!(red_box(&img), (0, 0, 40, 20));
}

#[test]
fn overlay_with_sih_fixtures() {
    // SIH: 1x1.jpg on 25x15.png at "25.5p" keeps 25x15.
    let img = overlay(
        &fixture("25x15.png"),
        &fixture("1x1.jpg"),
        json!({"overlayWith": {"bucket": "bucket", "key": "key", "options": {"left": "25.5p", "top": "25.5p"}}}),
    )
    .expect("overlay");
    assert_eq!(img.dimensions(), (25, 15));
    // Same size or smaller passes; larger (either side) is SIH's BadRequest.
    for (base, over, ok) in [
        ("25x15.png", "25x15.png", true),
        ("../pil123rgba.png", "25x15.png", true),
        ("25x15.png", "../pil123rgba.png", false),
        ("transparent-5x10.png", "transparent-10x10.png", false),
        ("transparent-10x5.png", "transparent-10x10.png", false),
        ("transparent-10x10.jpeg", "transparent-10x10.png", true),
    ] {
        let result = overlay(
            &fixture(base),
            &fixture(over),
            json!({"overlayWith": {"bucket": "bucket", "key": "key"}}),
        );
        match (ok, result) {
            (true, Ok(_)) => {}
            (false, Err(e)) => {
                assert_eq!((e.status(), e.code()), (400, "BadRequest"));
                assert_eq!(
                    e.message(),
                    "Image to overlay must have same dimensions or smaller"
                );
            }
            (_, other) => panic!("{base} + {over}: {other:?}"),
        }
    }
    // The overlay is sized against the resized base.
    let img = overlay(
        &fixture("../pil123rgba.png"),
        &fixture("25x15.png"),
        json!({"resize": {"width": 20}, "overlayWith": {"bucket": "bucket", "key": "key", "wRatio": 75, "hRatio": 75}}),
    )
    .expect("overlay after resize");
    assert_eq!(img.dimensions(), (20, 19));
    // No bytes for a plan that needs them: SIH's overlay error.
    let plan = Plan::new(
        &edits(json!({"overlayWith": {"bucket": "bucket", "key": "key"}})),
        None,
        None,
    )
    .expect("plan");
    let e = transform(&fixture("25x15.png"), &plan, None, &Limits::default()).expect_err("missing");
    assert_eq!((e.status(), e.code()), (400, "OverlayImageException"));
    let e = transform(
        &fixture("25x15.png"),
        &plan,
        Some(b"junk"),
        &Limits::default(),
    )
    .expect_err("junk overlay");
    assert_eq!(e.code(), "OverlayImageException");
}

#[test]
fn round_crop_masks_then_trims() {
    let input = png_rgba(&RgbaImage::from_pixel(60, 40, Rgba([0, 0, 255, 255])));
    let out = run(&input, json!({"roundCrop": true})).expect("round crop");
    let img = decode(&out.bytes);
    // A circle of radius min(w, h) / 2, trimmed to its box.
    assert_eq!(img.dimensions(), (40, 40));
    assert_eq!(img.get_pixel(0, 0)[3], 0, "corner transparent");
    assert_eq!(img.get_pixel(20, 20).0, [0, 0, 255, 255], "centre kept");
    let out = run(
        &input,
        json!({"roundCrop": {"rx": 10, "ry": 5, "top": 20, "left": 30}}),
    )
    .expect("ellipse");
    assert_eq!((out.width, out.height), (20, 10));
    // SIH skips roundCrop for animations; a still JPEG keeps the box with black corners.
    let out = run(&jpeg(&gradient(60, 40), None), json!({"roundCrop": true})).expect("jpeg");
    assert_eq!((out.width, out.height, out.format), (40, 40, Format::Jpeg));
}

fn animated_gif(frames: u32, w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut out);
        enc.set_repeat(image::codecs::gif::Repeat::Infinite)
            .expect("repeat");
        for n in 0..frames {
            let img = RgbaImage::from_fn(w, h, |x, _| {
                if x < w * (n + 1) / (frames + 1) {
                    Rgba([255, 0, 0, 255])
                } else {
                    Rgba([0, 0, 255, 255])
                }
            });
            let frame =
                image::Frame::from_parts(img, 0, 0, image::Delay::from_numer_denom_ms(120, 1));
            enc.encode_frame(frame).expect("frame");
        }
    }
    out
}

fn gif_frames(bytes: &[u8]) -> Vec<image::Frame> {
    use image::AnimationDecoder;
    image::codecs::gif::GifDecoder::new(Cursor::new(bytes))
        .expect("gif")
        .into_frames()
        .collect_frames()
        .expect("frames")
}

#[test]
fn animated_gif_keeps_frames_and_resizes_each() {
    let input = animated_gif(4, 40, 20);
    let out = run(&input, json!({"resize": {"width": 20}, "grayscale": true})).expect("gif");
    assert_eq!((out.width, out.height, out.format), (20, 10, Format::Gif));
    let frames = gif_frames(&out.bytes);
    assert_eq!(frames.len(), 4);
    for f in &frames {
        assert_eq!(f.buffer().dimensions(), (20, 10));
        assert_eq!(f.delay().numer_denom_ms(), (120, 1));
    }
    // SIH's skipEdit: rotate and roundCrop do nothing to an animation.
    let out = run(&input, json!({"rotate": 90, "roundCrop": true})).expect("skipped");
    assert_eq!((out.width, out.height), (40, 20));
    assert_eq!(gif_frames(&out.bytes).len(), 4);
    // `animated: false`: the first frame only.
    let out = run(&input, json!({"animated": false, "resize": {"width": 20}})).expect("still");
    assert_eq!(gif_frames(&out.bytes).len(), 1);
    // To WebP: an animated WebP.
    let plan = Plan::new(&edits(json!({})), Some(Format::Webp), None).expect("plan");
    let out = transform(&input, &plan, None, &Limits::default()).expect("webp");
    assert_eq!(out.format, Format::Webp);
    assert!(out.bytes.windows(4).any(|w| w == b"ANIM"), "animated webp");
    // To JPEG: sharp's pages one under the other.
    let plan =
        Plan::new(&edits(json!({"grayscale": true})), Some(Format::Jpeg), None).expect("plan");
    let out = transform(&input, &plan, None, &Limits::default()).expect("jpeg");
    assert_eq!(decode(&out.bytes).dimensions(), (40, 80));
    // SIH's two-page fixture stays two pages.
    let out = run(
        &fixture("transparent-5x5-2page.gif"),
        json!({"grayscale": true}),
    )
    .expect("sih gif");
    assert_eq!(gif_frames(&out.bytes).len(), 2);
}

/// A PNG whose header claims `w` x `h` and has nothing else.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut body = b"IHDR".to_vec();
    body.extend_from_slice(&w.to_be_bytes());
    body.extend_from_slice(&h.to_be_bytes());
    body.extend_from_slice(&[8, 6, 0, 0, 0]);
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

#[test]
fn pixel_bombs_are_refused_before_decoding() {
    let plan = Plan::new(&edits(json!({"resize": {"width": 10}})), None, None).expect("plan");
    let png = png_header_only(100_000, 100_000);
    let e = transform(&png, &plan, None, &Limits::default()).expect_err("png bomb");
    assert_eq!((e.status(), e.code()), (400, "InstantiationError"));
    assert_eq!(e.kind(), lambdakit_image::ErrorKind::TooLarge);
    // JPEG: a SOF0 claiming 65535 x 65535 and no scan data.
    let jpeg_bomb =
        b"\xFF\xD8\xFF\xC0\x00\x11\x08\xFF\xFF\xFF\xFF\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01";
    let e = transform(jpeg_bomb, &plan, None, &Limits::default()).expect_err("jpeg bomb");
    assert_eq!(e.kind(), lambdakit_image::ErrorKind::TooLarge);
    // A configured limit applies to ordinary images too.
    let limits = Limits {
        max_input_pixels: 100,
        ..Limits::default()
    };
    let e = transform(&jpeg(&gradient(20, 20), None), &plan, None, &limits).expect_err("limit");
    assert_eq!(e.code(), "InstantiationError");
    // ... and to every frame of an animation together.
    let limits = Limits {
        max_input_pixels: 40 * 20 * 3,
        ..Limits::default()
    };
    let e = transform(&animated_gif(4, 40, 20), &plan, None, &limits).expect_err("frames");
    assert_eq!(e.kind(), lambdakit_image::ErrorKind::TooLarge);
}

/// Where `out` lies in `whole` (which is as large or larger along one axis): the offset with
/// the smallest difference.
fn offset_in(whole: &RgbaImage, out: &RgbaImage) -> (u32, u32) {
    let (ww, wh) = whole.dimensions();
    let (ow, oh) = out.dimensions();
    let mut best = (u64::MAX, (0, 0));
    for top in 0..=wh - oh {
        for left in 0..=ww - ow {
            let mut d = 0u64;
            for y in (0..oh).step_by(3) {
                for x in (0..ow).step_by(3) {
                    let (a, b) = (whole.get_pixel(left + x, top + y), out.get_pixel(x, y));
                    d += (0..4).map(|c| u64::from(a[c].abs_diff(b[c]))).sum::<u64>();
                }
            }
            if d < best.0 {
                best = (d, (left, top));
            }
        }
    }
    best.1
}

// sharp 0.34.2's crop offsets (`info.cropOffsetLeft/Top`, negated) for `resize(w, h, {fit:
// "cover", position})` of the fixtures: entropy exactly, attention within one cell of
// libvips's 32x32 grid (the size of the scaled image over 32, rounded up). Portrait_1's entropy
// search meets a near tie (8.532 against 8.511 bits) that our Lanczos3 and libvips's
// resample decide differently (128 against 218); on sharp's own pixels the search gives
// sharp's 218 (`ops::smartcrop`'s unit tests).
#[test]
fn entropy_and_attention_crop_where_sharp_crops() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    for (file, (w, h), entropy, attention) in [
        ("path.jpg", (300, 300), (65, 0), (120, 0)),
        ("Landscape_1.jpg", (200, 300), (250, 0), (181, 0)),
        ("Portrait_1.jpg", (300, 200), (0, 128), (0, 209)),
        ("flower.webp", (100, 200), (21, 0), (75, 0)),
        ("transparent.png", (60, 120), (48, 0), (55, 0)),
        ("pil123rgba.png", (100, 40), (0, 25), (0, 17)),
    ] {
        let input = std::fs::read(format!("{dir}/{file}")).expect("fixture");
        let png = |resize: Value| {
            let plan = Plan::new(&edits(json!({ "resize": resize })), Some(Format::Png), None)
                .expect("plan");
            decode(
                &transform(&input, &plan, None, &Limits::default())
                    .expect("transform")
                    .bytes,
            )
        };
        let whole = png(json!({"width": w, "height": h, "fit": "outside"}));
        let cell = (whole.width().div_ceil(32), whole.height().div_ceil(32));
        for (position, (sl, st), exact) in
            [("entropy", entropy, true), ("attention", attention, false)]
        {
            let out = png(json!({"width": w, "height": h, "fit": "cover", "position": position}));
            assert_eq!(out.dimensions(), (w, h), "{file} {position}");
            let (l, t) = offset_in(&whole, &out);
            if exact {
                assert_eq!((l, t), (sl, st), "{file} {position}");
            } else {
                assert!(
                    l.abs_diff(sl) <= cell.0 && t.abs_diff(st) <= cell.1,
                    "{file} {position}: ({l}, {t}), sharp ({sl}, {st})"
                );
            }
        }
    }
}

// sharp's resize tests: "Animated image rejects" a strategy.
#[test]
fn strategies_are_refused_for_animations_as_sharp_refuses_them() {
    let gif = animated_gif(3, 40, 20);
    for position in ["entropy", "attention"] {
        let e = run(
            &gif,
            json!({"resize": {"width": 100, "height": 8, "position": position}}),
        )
        .expect_err("animated");
        assert_eq!(
            (e.status(), e.code()),
            (500, "ProcessingFailure"),
            "{position}"
        );
    }
    // Without a crop to place, nothing to refuse.
    let out = run(
        &gif,
        json!({"resize": {"width": 20, "position": "entropy"}}),
    )
    .expect("fits");
    assert_eq!((out.width, out.height), (20, 10));
}

/// `jpeg` with `icc` in `chunks` APP2 `ICC_PROFILE` segments after SOI, and any it had removed.
fn with_icc(jpeg: &[u8], icc: &[u8], chunks: usize) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let size = icc.len().div_ceil(chunks.max(1)).max(1);
    let parts: Vec<&[u8]> = icc.chunks(size).collect();
    for (i, part) in parts.iter().enumerate() {
        let len = 2 + 12 + 2 + part.len();
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&u16::try_from(len).expect("segment").to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0");
        out.extend_from_slice(&[i as u8 + 1, parts.len() as u8]);
        out.extend_from_slice(part);
    }
    // Copy the rest, leaving out the original's own ICC segments.
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF && jpeg[i + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        let body = &jpeg[i + 4..i + 2 + len];
        if !(jpeg[i + 1] == 0xE2 && body.starts_with(b"ICC_PROFILE\0")) {
            out.extend_from_slice(&jpeg[i..i + 2 + len]);
        }
        i += 2 + len;
    }
    out.extend_from_slice(&jpeg[i..]);
    out
}

// sharp imports an image through its embedded ICC profile into sRGB. `colormatch.png` (Pillow's
// test image, tagged ColorMatch RGB: gamma 1.8, its own primaries) at 200 wide against sharp
// 0.34.2's output for the same resize (`tests/fixtures/sharp/`); ignoring the profile puts
// every pixel about 15 levels off.
#[test]
fn embedded_colour_profiles_are_converted_to_srgb_like_sharp() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let read = |name: &str| std::fs::read(format!("{dir}/{name}")).expect("fixture");
    let to_png = |input: &[u8], e: Value| {
        let plan = Plan::new(&edits(e), Some(Format::Png), None).expect("plan");
        decode(
            &transform(input, &plan, None, &Limits::default())
                .expect("transform")
                .bytes,
        )
    };
    let tagged = read("colormatch.png");
    let sharp = decode(&read("sharp/colormatch-200.png"));
    let ours = to_png(&tagged, json!({"resize": {"width": 200}}));
    let d = mean_abs_diff(&ours, &sharp);
    assert!(d < 1.5, "{d}");
    // The same PNG without its iCCP chunk: read as sRGB, far from sharp's.
    let icc = {
        use image::ImageDecoder as _;
        image::codecs::png::PngDecoder::new(Cursor::new(&tagged))
            .expect("png")
            .icc_profile()
            .expect("icc")
            .expect("a profile")
    };
    let untagged = png_rgba(&decode(&tagged));
    let d = mean_abs_diff(
        &to_png(&untagged, json!({"resize": {"width": 200}})),
        &sharp,
    );
    assert!(d > 10.0, "{d}");
    // JPEG: the same profile in APP2 segments, whole or split in three, converts a photo alike;
    // path.jpg's own sRGB profile changes nothing.
    let photo = read("Landscape_1.jpg");
    let plain = to_png(&photo, json!({"resize": {"width": 120}}));
    let one = to_png(
        &with_icc(&photo, &icc, 1),
        json!({"resize": {"width": 120}}),
    );
    let three = to_png(
        &with_icc(&photo, &icc, 3),
        json!({"resize": {"width": 120}}),
    );
    assert_eq!(one, three);
    assert!(mean_abs_diff(&plain, &one) > 5.0);
    let path = read("path.jpg");
    let stripped = with_icc(&path, &[], 0);
    assert!(stripped.len() < path.len(), "the sRGB profile was removed");
    assert_eq!(
        to_png(&path, json!({"resize": {"width": 120}})),
        to_png(&stripped, json!({"resize": {"width": 120}}))
    );
}

#[test]
fn the_memory_budget_refuses_before_decoding_and_counts_shrink_on_load() {
    const MIB: u64 = 1 << 20;
    let budget = |mib: u64| Limits {
        max_decoded_bytes: mib * MIB,
        ..Limits::default()
    };
    let over = |e: lambdakit_image::Error| {
        assert_eq!(
            (e.status(), e.code(), e.message()),
            (
                413,
                "TooLargeImageException",
                "The image is too large to process."
            )
        );
        assert_eq!(e.kind(), lambdakit_image::ErrorKind::TooLarge);
    };
    // A header that claims 8000x8000 (256 MB of RGBA): refused from the header alone, under
    // the pixel limit, though its data would not even decode.
    let plan = Plan::new(&edits(json!({"resize": {"width": 10}})), None, None).expect("plan");
    over(transform(&png_header_only(8000, 8000), &plan, None, &budget(100)).expect_err("png"));
    // A real 1200x1200 PNG: 5.5 MiB of RGBA, twice that plus the output is past 8 MiB, within 16.
    let png = png_rgba(&RgbaImage::from_pixel(1200, 1200, Rgba([9, 99, 199, 255])));
    over(transform(&png, &plan, None, &budget(8)).expect_err("png over 8 MiB"));
    let out = transform(&png, &plan, None, &budget(16)).expect("within 16 MiB");
    assert_eq!((out.width, out.height), (10, 10));
    // JPEG: shrink-on-load decodes 2400x2400 at 1/8 for a 100-wide output, 300x300 RGB, so a
    // 1 MiB budget is enough; without a resize the whole 17 MB frame would be decoded.
    let big = jpeg(&gradient(2400, 2400), None);
    let small = Plan::new(&edits(json!({"resize": {"width": 100}})), None, None).expect("plan");
    let out = transform(&big, &small, None, &budget(1)).expect("shrink-on-load fits");
    assert_eq!((out.width, out.height), (100, 100));
    let whole = Plan::new(&edits(json!({"grayscale": true})), None, None).expect("plan");
    over(transform(&big, &whole, None, &budget(1)).expect_err("no shrink"));
    // An animation: every frame together.
    let gif = animated_gif(8, 400, 300);
    over(transform(&gif, &plan, None, &budget(1)).expect_err("frames"));
    let out =
        transform(&gif, &plan, None, &budget(8)).expect("8 frames of 480 KB, twice, fit 8 MiB");
    assert_eq!(out.width, 10);
    // 0 turns the budget off.
    transform(&png, &plan, None, &budget(0)).expect("no budget");
}

#[test]
fn huge_outputs_are_refused_before_allocating() {
    let input = jpeg(&gradient(100, 100), None);
    for e in [
        json!({"resize": {"width": 20000}}),
        json!({"resize": {"width": 17000, "height": 100, "fit": "fill"}}),
        json!({"resize": {"ratio": 1000}}),
        json!({"extend": 10000}),
        json!({"resize": {"width": 16000}, "rotate": 45}),
    ] {
        let err = run(&input, e.clone()).expect_err("too large");
        assert_eq!(
            (err.status(), err.code()),
            (413, "TooLargeImageException"),
            "{e}"
        );
    }
    let limits = Limits {
        max_output_dimension: 50,
        ..Limits::default()
    };
    let plan = Plan::new(&edits(json!({"resize": {"height": 60}})), None, None).expect("plan");
    let e = transform(&input, &plan, None, &limits).expect_err("over the configured limit");
    assert_eq!(e.status(), 413);
    let limits = Limits {
        max_output_pixels: 50 * 50,
        ..Limits::default()
    };
    let e = transform(&input, &plan, None, &limits).expect_err("over the pixel limit");
    assert_eq!(e.status(), 413);
    // An extreme `cover`: the scaled image would be 1,000,000 x 1,000 pixels (3 GB) before
    // its crop; only the crop is ever made.
    let strip = jpeg(&gradient(2000, 2), None);
    let out = run(&strip, json!({"resize": {"width": 1000, "height": 1000}})).expect("cover");
    assert_eq!((out.width, out.height), (1000, 1000));
    // Pages stacked into one tall still are limited too.
    let plan =
        Plan::new(&edits(json!({"grayscale": true})), Some(Format::Png), None).expect("plan");
    let limits = Limits {
        max_output_dimension: 60,
        ..Limits::default()
    };
    let e = transform(&animated_gif(4, 40, 20), &plan, None, &limits).expect_err("stacked");
    assert_eq!(e.status(), 413);
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "resize",
        "crop",
        "extract",
        "extend",
        "trim",
        "rotate",
        "flip",
        "flop",
        "blur",
        "sharpen",
        "median",
        "flatten",
        "gamma",
        "negate",
        "normalise",
        "normalize",
        "convolve",
        "threshold",
        "linear",
        "modulate",
        "tint",
        "greyscale",
        "grayscale",
        "removeAlpha",
        "ensureAlpha",
        "roundCrop",
        "toFormat",
        "jpeg",
        "png",
        "webp",
        "gif",
        "tiff",
        "animated",
        "smartCrop",
        "toColourspace",
        "clahe",
        "recomb",
        "affine",
        "bandbool",
        "extractChannel",
        "unflatten",
        "boolean",
        "joinChannel",
        "nonsense",
    ];
    const FIELDS: &[&str] = &[
        "width",
        "height",
        "fit",
        "position",
        "background",
        "left",
        "top",
        "quality",
        "ratio",
        "sigma",
        "kernel",
        "lower",
        "upper",
        "brightness",
        "hue",
        "r",
        "g",
        "b",
        "alpha",
        "withoutEnlargement",
        "threshold",
        "rx",
        "ry",
        "bottom",
        "right",
        "maxSlope",
    ];

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-5i64..400).prop_map(Value::from),
            prop_oneof![
                Just(-1e12f64),
                Just(1e12),
                Just(0.5),
                Just(99.9),
                Just(-0.0)
            ]
            .prop_map(Value::from),
            prop_oneof![
                Just("cover"),
                Just("contain"),
                Just("inside"),
                Just("png"),
                Just("#ff0000"),
                Just("50p"),
                Just("-20p"),
                Just(""),
                Just("abc"),
                Just("jpeg"),
                Just("avif"),
                Just("eor"),
                Just("green"),
                Just("alpha"),
            ]
            .prop_map(Value::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            scalar(),
            prop::collection::vec((prop::sample::select(FIELDS), scalar()), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
            prop::collection::vec(scalar(), 0..10).prop_map(Value::Array),
            // Matrices for `recomb` and `affine`.
            prop::collection::vec(
                prop::collection::vec(scalar(), 2..=4).prop_map(Value::Array),
                2..=4
            )
            .prop_map(Value::Array),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn random_edits_never_panic(
            kv in prop::collection::vec((prop::sample::select(KEYS), value()), 0..5),
            png in any::<bool>(),
        ) {
            let edits: Edits = kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let input = if png {
                png_rgba(&RgbaImage::from_fn(16, 12, |x, y| Rgba([x as u8 * 10, y as u8 * 20, 0, 200])))
            } else {
                jpeg(&gradient(16, 12), None)
            };
            let limits = Limits { max_output_dimension: 2000, ..Limits::default() };
            if let Ok(plan) = Plan::new(&edits, None, None) {
                let _ = transform(&input, &plan, Some(&input), &limits);
            }
        }
    }
}

// The band operations SIH hands to sharp with one argument (`recomb`, `clahe`, `affine`,
// `bandbool`, `extractChannel`, `unflatten`), against sharp 0.34.2's output for the same
// fixture and edits (`tests/fixtures/sharp/make.cjs`): same size, and close in every channel.
#[test]
fn band_operations_look_like_sharps() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let read = |name: &str| std::fs::read(format!("{dir}/{name}")).expect("fixture");
    let sepia = json!([
        [0.3588, 0.7044, 0.1368],
        [0.299, 0.587, 0.114],
        [0.2392, 0.4696, 0.0912]
    ]);
    let swap = json!([[0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]]);
    let cases = [
        (
            "recomb-sepia",
            "Landscape_1.jpg",
            json!({ "recomb": sepia }),
            1.0,
        ),
        (
            "recomb-4x4",
            "pil123rgba.png",
            json!({ "recomb": swap }),
            2.5,
        ),
        (
            "clahe",
            "Landscape_1.jpg",
            json!({"clahe": {"width": 15, "height": 9, "maxSlope": 3}}),
            2.5,
        ),
        (
            "clahe-0",
            "pil123rgba.png",
            json!({"clahe": {"width": 8, "height": 8, "maxSlope": 0}}),
            3.0,
        ),
        (
            "affine",
            "Landscape_1.jpg",
            json!({"affine": [[1, 0.3], [0.1, 0.7]]}),
            0.5,
        ),
        (
            "affine-rgba",
            "pil123rgba.png",
            json!({"affine": [0.707, -0.707, 0.707, 0.707]}),
            1.5,
        ),
        (
            "bandbool-eor",
            "pil123rgba.png",
            json!({"bandbool": "eor"}),
            2.0,
        ),
        (
            "extract-green",
            "Landscape_1.jpg",
            json!({"extractChannel": "green"}),
            1.0,
        ),
    ];
    for (name, file, op, tolerance) in cases {
        let mut e = json!({"resize": {"width": 120}});
        for (k, v) in op.as_object().expect("object") {
            e[k] = v.clone();
        }
        let plan = Plan::new(&edits(e), Some(Format::Png), None).expect("plan");
        let ours = decode(
            &transform(&read(file), &plan, None, &Limits::default())
                .expect(name)
                .bytes,
        );
        let sharp = decode(&read(&format!("sharp/band-{name}.png")));
        assert_eq!(ours.dimensions(), sharp.dimensions(), "{name}");
        let d = mean_abs_diff(&ours, &sharp);
        eprintln!("{name}: {d}");
        assert!(d < tolerance, "{name}: {d}");
    }
    let plan =
        Plan::new(&edits(json!({"unflatten": true})), Some(Format::Png), None).expect("plan");
    let ours = decode(
        &transform(&read("transparent.png"), &plan, None, &Limits::default())
            .expect("unflatten")
            .bytes,
    );
    let sharp = decode(&read("sharp/band-unflatten.png"));
    let alpha = |i: &RgbaImage| i.pixels().map(|p| p[3]).collect::<Vec<_>>();
    assert_eq!(alpha(&ours), alpha(&sharp));
    // sharp's run-time refusals: SIH's 500.
    let gif = read("chi.gif");
    for (input, e, detail) in [
        (
            &gif,
            json!({"affine": [1, 0, 0, 1], "animated": true}),
            "multi-page",
        ),
        (
            &read("path.jpg"),
            json!({"resize": {"width": 50}, "extractChannel": "alpha"}),
            "channel 3",
        ),
        (
            &read("path.jpg"),
            json!({"resize": {"width": 50}, "clahe": {"width": 51, "height": 3}}),
            "window",
        ),
        (
            &read("path.jpg"),
            json!({"affine": [1, 2, 2, 4]}),
            "singular",
        ),
        (
            &read("path.jpg"),
            json!({"resize": {"width": 50}, "recomb": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}),
            "bands",
        ),
    ] {
        let plan = Plan::new(&edits(e), None, None).expect("plan");
        let Err(err) = transform(input, &plan, None, &Limits::default()) else {
            panic!("{detail}: transformed");
        };
        assert_eq!(
            (err.status(), err.code()),
            (500, "ProcessingFailure"),
            "{detail}"
        );
        assert!(format!("{:?}", err).contains(detail), "{err:?}");
    }
    // An affine past the output limits is refused before it is drawn.
    let plan = Plan::new(&edits(json!({"affine": [100, 0, 0, 100]})), None, None).expect("plan");
    let Err(err) = transform(&read("path.jpg"), &plan, None, &Limits::default()) else {
        panic!("huge: transformed");
    };
    assert_eq!(err.status(), 413);
}
