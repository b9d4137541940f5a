//! Every fixture format in, JPEG, PNG and WebP out, through the real handler reading S3 (the
//! emulator): dimensions as SIH computes them, alpha kept where the format holds it, EXIF
//! orientation applied, animations kept, watermarks drawn.
//!
//! Run with `cargo xtask test`, or with the emulator running (`cargo xtask emulator`):
//! `cargo test -p example-serverless-image-handler --all-features --test formats`.

use example_serverless_image_handler::local::{Decoded, PHOTO, Stack, decode};
use lambdakit_image::handler::{HandlerRequest, ImageHandler};
use lambdakit_image::secret::SecretsManagerSecret;
use lambdakit_image::source::S3Source;

type Handler = ImageHandler<S3Source, SecretsManagerSecret>;

async fn get(handler: &Handler, path: &str) -> (Decoded, Option<String>) {
    let response = handler.handle(&HandlerRequest::get(path)).await;
    assert_eq!(
        response.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&response.body)
    );
    let decoded = decode(&response.body).unwrap_or_else(|e| panic!("{path}: {e}"));
    (decoded, response.header("content-type").map(str::to_owned))
}

/// Each fixture, its upright size and whether it has alpha.
const INPUTS: &[(&str, (u32, u32), bool)] = &[
    (PHOTO, (2560, 1600), false),
    ("Landscape_1.jpg", (1200, 800), false),
    ("Portrait_6.jpg", (800, 1200), false),
    ("transparent.png", (200, 150), true),
    ("pil123p.png", (162, 150), true),
    ("flower.webp", (480, 360), false),
    ("transparent.webp", (200, 150), true),
];

/// The size `fit-in/WxH` gives (sharp's `fit: inside`): the limiting side at its bound, the
/// other scaled and rounded.
fn fit_inside((w, h): (u32, u32), (bw, bh): (u32, u32)) -> (u32, u32) {
    let (w, h, bw, bh) = (f64::from(w), f64::from(h), f64::from(bw), f64::from(bh));
    if w / bw >= h / bh {
        (bw as u32, (h * bw / w).round() as u32)
    } else {
        ((w * bh / h).round() as u32, bh as u32)
    }
}

#[tokio::test]
async fn every_format_in_jpeg_png_and_webp_out_at_the_size_sih_gives() {
    let stack = Stack::start("sih-fmt").await.expect("stack");
    let handler = stack.handler(&[]);
    for &(key, size, alpha) in INPUTS {
        for format in ["jpeg", "png", "webp"] {
            let path = format!("/fit-in/160x160/filters:format({format})/{key}");
            let (out, content_type) = get(&handler, &path).await;
            assert_eq!(out.format, format, "{path}");
            assert_eq!(
                content_type.as_deref(),
                Some(format!("image/{format}").as_str()),
                "{path}"
            );
            assert_eq!(
                (out.width, out.height),
                fit_inside(size, (160, 160)),
                "{path}"
            );
            if format != "jpeg" {
                assert_eq!(out.has_alpha, alpha, "{path}: alpha");
            }
        }
        // No format asked: the input's own.
        let (out, _) = get(&handler, &format!("/fit-in/160x160/{key}")).await;
        let own = match key.rsplit('.').next() {
            Some("jpg") => "jpeg",
            Some(other) => other,
            None => unreachable!("every fixture has an extension"),
        };
        assert_eq!(out.format, own, "{key}");
    }
}

#[tokio::test]
async fn exif_rotated_photos_come_out_upright() {
    let stack = Stack::start("sih-exif").await.expect("stack");
    let handler = stack.handler(&[]);
    let (upright, _) = get(&handler, "/fit-in/300x300/Landscape_1.jpg").await;
    assert_eq!((upright.width, upright.height), (300, 200));

    // The mean difference tells orientations apart: the upright photo mirrored is far from it.
    let mut mirrored = upright.clone();
    for row in mirrored.rgb.chunks_exact_mut(300 * 3) {
        let pixels: Vec<[u8; 3]> = row
            .chunks_exact(3)
            .rev()
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        row.copy_from_slice(&pixels.concat());
    }
    let far = upright.mean_difference(&mirrored).expect("same size");
    assert!(far > 20.0, "mirroring changes the photo by {far}");

    for key in ["Landscape_3.jpg", "Landscape_6.jpg", "Landscape_8.jpg"] {
        let (out, _) = get(&handler, &format!("/fit-in/300x300/{key}")).await;
        let difference = upright
            .mean_difference(&out)
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(
            difference < 8.0,
            "{key} differs from Landscape_1 by {difference}"
        );
    }

    let (portrait, _) = get(&handler, "/fit-in/300x300/Portrait_1.jpg").await;
    let (rotated, _) = get(&handler, "/fit-in/300x300/Portrait_6.jpg").await;
    assert_eq!((rotated.width, rotated.height), (200, 300));
    let difference = portrait.mean_difference(&rotated).expect("same size");
    assert!(
        difference < 8.0,
        "Portrait_6 differs from Portrait_1 by {difference}"
    );
}

#[tokio::test]
async fn an_animated_gif_keeps_its_frames() {
    let stack = Stack::start("sih-gif").await.expect("stack");
    let handler = stack.handler(&[]);
    let (original, _) = get(&handler, "/chi.gif").await;
    assert_eq!(
        (original.width, original.height, original.frames),
        (320, 240, 31)
    );
    let (out, content_type) = get(&handler, "/fit-in/40x40/chi.gif").await;
    assert_eq!(content_type.as_deref(), Some("image/gif"));
    assert_eq!((out.format, out.width, out.height), ("gif", 40, 30));
    assert_eq!(out.frames, 31, "every frame is kept");
}

#[tokio::test]
async fn a_watermark_is_drawn_where_it_is_placed_and_nowhere_else() {
    let stack = Stack::start("sih-wm").await.expect("stack");
    let handler = stack.handler(&[]);
    let plain = "/fit-in/400x400/Landscape_1.jpg";
    // The toucan (a palette PNG with transparency) at (0, 0), 50% of the width and height.
    let marked = format!(
        "/fit-in/400x400/filters:watermark({},pil123p.png,0,0,0,50,50)/Landscape_1.jpg",
        stack.bucket
    );
    let (before, _) = get(&handler, plain).await;
    let (after, _) = get(&handler, &marked).await;
    assert_eq!((after.width, after.height), (before.width, before.height));
    let region = |image: &Decoded, x0: u32, y0: u32| -> f64 {
        // Mean absolute difference over a 60x40 block at (x0, y0).
        let mut total = 0u64;
        for y in y0..y0 + 40 {
            for x in x0..x0 + 60 {
                let i = ((y * image.width + x) * 3) as usize;
                for c in 0..3 {
                    total += u64::from(image.rgb[i + c].abs_diff(before.rgb[i + c]));
                }
            }
        }
        total as f64 / (60.0 * 40.0 * 3.0)
    };
    let top_left = region(&after, 20, 20);
    let bottom_right = region(&after, 320, 220);
    assert!(
        top_left > 15.0,
        "the watermark changes its corner by {top_left}"
    );
    assert!(bottom_right < 4.0, "the rest changes by {bottom_right}");
}
