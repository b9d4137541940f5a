//! lambdakit-image on a 12-megapixel photo, one thread: the headline case of
//! `benches/image_vs_sharp.mjs`, and where its time goes.
//!
//! Run with `cargo bench --package lambdakit-benches --bench image` (or `cargo xtask bench`).
//!
//! - `image_transform/resize-jpeg`: `transform` of `benches/fixtures/photo-12mp.jpg` (4000x3000)
//!   with a Serverless Image Handler Default request's `{"resize":{"width":800}}` and output
//!   format `jpeg`: the headline case, whole (throughput in input pixels).
//! - `image_split`: the same work in its three stages, called directly on the codecs
//!   lambdakit-image is built on, with the settings sharp uses by default, so a regression or
//!   a tuning shows in one stage:
//!   - `decode_full`: mozjpeg (libjpeg-turbo) decode of the whole 4000x3000 image to RGB;
//!   - `decode_shrink_4`: the same decode with DCT scaling 2/8 (shrink-on-load, as sharp
//!     and libvips do for a 5x reduction): 1000x750;
//!   - `resize_1000_to_800`: fast_image_resize Lanczos3 (sharp's default kernel) of that
//!     1000x750 RGB image to 800x600;
//!   - `resize_4000_to_800`: Lanczos3 straight from the full 4000x3000 RGB image;
//!   - `encode_jpeg_q80`: mozjpeg encode of 800x600 RGB with libjpeg-turbo's defaults
//!     (`JCP_FASTEST`, what libvips resets mozjpeg to), quality 80, 4:2:0, optimized Huffman
//!     tables: sharp's `.jpeg({quality: 80})`.
//!
//! The split is the libraries' floor for each stage; `transform` also parses the plan, reads
//! the header, and allocates, and may choose other settings. `perf record` on
//! `target/release/image-transform resize-jpeg` gives the pipeline's own split.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use lambdakit_image::{Edits, Format, Limits, Plan, transform};

const PHOTO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/photo-12mp.jpg");

fn photo() -> Vec<u8> {
    std::fs::read(PHOTO).unwrap_or_else(|e| panic!("cannot read {PHOTO}: {e}"))
}

/// Decodes `jpeg` to RGB at `numerator / 8` of its size: (width, height, pixels).
fn decode(jpeg: &[u8], numerator: u8) -> (u32, u32, Vec<u8>) {
    let mut decompress = mozjpeg::Decompress::new_mem(jpeg).expect("the photo is a JPEG");
    decompress.scale(numerator);
    let mut started = decompress.rgb().expect("RGB output");
    let (width, height) = (started.width() as u32, started.height() as u32);
    let pixels = started.read_scanlines::<u8>().expect("the photo decodes");
    started.finish().expect("the photo ends cleanly");
    (width, height, pixels)
}

fn resize(width: u32, height: u32, pixels: &[u8], to: (u32, u32)) -> Vec<u8> {
    let src = ImageRef::new(width, height, pixels, PixelType::U8x3).expect("buffer matches");
    let mut dst = Image::new(to.0, to.1, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .expect("same pixel type");
    dst.into_vec()
}

fn encode(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    compress.set_fastest_defaults();
    compress.set_size(width as usize, height as usize);
    compress.set_quality(80.0);
    compress.set_optimize_coding(true);
    let mut started = compress
        .start_compress(Vec::with_capacity(256 * 1024))
        .expect("valid settings");
    started.write_scanlines(pixels).expect("whole rows");
    started.finish().expect("in memory")
}

fn bench_transform(c: &mut Criterion) {
    let input = photo();
    let edits: Edits = serde_json::from_str(r#"{"resize":{"width":800}}"#).expect("edits are JSON");
    let plan = Plan::new(&edits, Some(Format::Jpeg), None).expect("a valid plan");
    let limits = Limits::default();
    let out = transform(&input, &plan, None, &limits).expect("the headline case works");
    assert_eq!(
        (out.width, out.height, out.format),
        (800, 600, Format::Jpeg)
    );

    let mut group = c.benchmark_group("image_transform");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(4000 * 3000));
    group.bench_function("resize-jpeg", |b| {
        b.iter(|| transform(black_box(&input), &plan, None, &limits))
    });
    group.finish();
}

fn bench_split(c: &mut Criterion) {
    let input = photo();
    let (fw, fh, full) = decode(&input, 8);
    let (sw, sh, shrunk) = decode(&input, 2);
    assert_eq!((fw, fh, sw, sh), (4000, 3000, 1000, 750));
    let small = resize(sw, sh, &shrunk, (800, 600));

    let mut group = c.benchmark_group("image_split");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("decode_full", |b| b.iter(|| decode(black_box(&input), 8)));
    group.bench_function("decode_shrink_4", |b| {
        b.iter(|| decode(black_box(&input), 2))
    });
    group.bench_function("resize_1000_to_800", |b| {
        b.iter(|| resize(sw, sh, black_box(&shrunk), (800, 600)))
    });
    group.bench_function("resize_4000_to_800", |b| {
        b.iter(|| resize(fw, fh, black_box(&full), (800, 600)))
    });
    group.bench_function("encode_jpeg_q80", |b| {
        b.iter(|| encode(800, 600, black_box(&small)))
    });
    group.finish();
}

criterion_group!(benches, bench_split, bench_transform);
criterion_main!(benches);
