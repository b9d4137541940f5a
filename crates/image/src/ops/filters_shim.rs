//! TEMPORARY stand-in for `filters.rs` (written by another helper) with the agreed signatures,
//! so the pipeline compiles in its own worktree. Deleted before the final commit.
#![allow(dead_code, unused_variables)]

use image::RgbaImage;
use serde_json::Value;

pub(crate) fn parse_color(v: &Value) -> Option<[u8; 4]> {
    match v {
        Value::Object(m) => {
            let c = |k: &str| {
                m.get(k)
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
                    .clamp(0.0, 255.0) as u8
            };
            let a = m
                .get("alpha")
                .and_then(Value::as_f64)
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            Some([c("r"), c("g"), c("b"), (a * 255.0).round() as u8])
        }
        Value::String(s) if s.starts_with('#') && s.len() == 7 => {
            let p = |i: usize| u8::from_str_radix(&s[i..i + 2], 16).ok();
            Some([p(1)?, p(3)?, p(5)?, 255])
        }
        Value::String(s) if s == "white" => Some([255, 255, 255, 255]),
        Value::String(s) if s == "black" => Some([0, 0, 0, 255]),
        _ => None,
    }
}
pub(crate) fn grayscale(img: &mut RgbaImage) {
    for p in img.pixels_mut() {
        let y =
            (0.2126 * f32::from(p[0]) + 0.7152 * f32::from(p[1]) + 0.0722 * f32::from(p[2])) as u8;
        p[0] = y;
        p[1] = y;
        p[2] = y;
    }
}
pub(crate) fn negate(img: &mut RgbaImage, alpha: bool) {
    for p in img.pixels_mut() {
        p[0] = 255 - p[0];
        p[1] = 255 - p[1];
        p[2] = 255 - p[2];
        if alpha {
            p[3] = 255 - p[3];
        }
    }
}
pub(crate) fn normalise(img: &mut RgbaImage, lower: f32, upper: f32) {}
pub(crate) fn tint(img: &mut RgbaImage, rgb: [u8; 3]) {}
pub(crate) fn blur(img: &RgbaImage, sigma: Option<f32>) -> RgbaImage {
    img.clone()
}
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sharpen {
    pub(crate) sigma: Option<f32>,
    pub(crate) m1: f32,
    pub(crate) m2: f32,
    pub(crate) x1: f32,
    pub(crate) y2: f32,
    pub(crate) y3: f32,
}
impl Default for Sharpen {
    fn default() -> Self {
        Self {
            sigma: None,
            m1: 1.0,
            m2: 2.0,
            x1: 2.0,
            y2: 10.0,
            y3: 20.0,
        }
    }
}
pub(crate) fn sharpen(img: &RgbaImage, s: &Sharpen) -> RgbaImage {
    img.clone()
}
pub(crate) fn median(img: &RgbaImage, size: u32) -> RgbaImage {
    img.clone()
}
pub(crate) fn flatten(img: &mut RgbaImage, bg: [u8; 3]) {
    for p in img.pixels_mut() {
        let a = u32::from(p[3]);
        for c in 0..3 {
            p[c] = ((u32::from(p[c]) * a + u32::from(bg[c]) * (255 - a)) / 255) as u8;
        }
        p[3] = 255;
    }
}
pub(crate) fn gamma(img: &mut RgbaImage, g: f32) {}
pub(crate) fn threshold(img: &mut RgbaImage, t: u8, grayscale: bool) {}
pub(crate) fn modulate(
    img: &mut RgbaImage,
    brightness: f32,
    saturation: f32,
    hue_degrees: f32,
    lightness: f32,
) {
}
pub(crate) fn linear(img: &mut RgbaImage, a: f32, b: f32) {}
#[derive(Debug, Clone)]
pub(crate) struct Kernel {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) kernel: Vec<f32>,
    pub(crate) scale: Option<f32>,
    pub(crate) offset: f32,
}
pub(crate) fn convolve(img: &RgbaImage, k: &Kernel) -> RgbaImage {
    img.clone()
}
pub(crate) fn trim_box(
    img: &RgbaImage,
    background: Option<[u8; 4]>,
    threshold: f32,
) -> Option<(u32, u32, u32, u32)> {
    None
}
pub(crate) fn extend(
    img: &RgbaImage,
    top: u32,
    bottom: u32,
    left: u32,
    right: u32,
    bg: [u8; 4],
) -> RgbaImage {
    let mut out = RgbaImage::from_pixel(
        img.width() + left + right,
        img.height() + top + bottom,
        image::Rgba(bg),
    );
    image::imageops::replace(&mut out, img, i64::from(left), i64::from(top));
    out
}
pub(crate) fn rotate_any(img: &RgbaImage, degrees: f64, background: [u8; 4]) -> RgbaImage {
    img.clone()
}
pub(crate) fn round_crop(img: &mut RgbaImage, cx: f64, cy: f64, rx: f64, ry: f64) {
    let (w, h) = img.dimensions();
    for y in 0..h {
        for x in 0..w {
            let dx = (f64::from(x) + 0.5 - cx) / rx;
            let dy = (f64::from(y) + 0.5 - cy) / ry;
            if dx * dx + dy * dy > 1.0 {
                img.get_pixel_mut(x, y)[3] = 0;
            }
        }
    }
}
pub(crate) fn set_opacity(img: &mut RgbaImage, opacity: f32) {
    for p in img.pixels_mut() {
        p[3] = (f32::from(p[3]) * opacity).round() as u8;
    }
}
pub(crate) fn composite_over(base: &mut RgbaImage, over: &RgbaImage, left: i64, top: i64) {
    image::imageops::overlay(base, over, left, top);
}
