//! Pixel filters on RGBA images, as sharp (libvips) does them, so that a Serverless Image
//! Handler edit gives the same-looking result.
//!
//! Every function is pure and total: out-of-range parameters are clamped to sharp's accepted
//! range (each function says how), and sizes that would cost unbounded memory are capped.
//! The pipeline validates edits and reports SIH's errors before calling these.
//!
//! Colour work follows libvips: sRGB is decoded to linear light (scRGB), luminance uses the
//! Rec. 709 weights, CIELAB uses the D65 white. Neighbourhood filters that sharp runs on
//! premultiplied alpha (blur, sharpen, convolve) do so here too.

// The pipeline (another module) is the caller; until every edit is wired some are unused.
#![allow(dead_code)]

pub(crate) mod bands;
pub(crate) mod color;
mod conv;
mod geometry;
mod named;

use image::{RgbImage, RgbaImage};
use serde_json::Value;

// Re-exported for the pipeline, which may not use every one yet.
#[allow(unused_imports)]
pub(crate) use conv::{Kernel, Sharpen, blur, convolve, median, sharpen};
#[allow(unused_imports)]
pub(crate) use geometry::{
    BadAffine, MAX_SIDE, affine, affine_canvas, composite_over, extend, rotate_any, round_crop,
    set_opacity, trim_box,
};

use color::{decode_lut, encode_u8, lab_to_srgb, luminance_u8, srgb_to_lab, trunc_u8};

/// Parses a colour argument the way sharp's `color` package does: `#rgb`, `#rgba`, `#rrggbb`,
/// `#rrggbbaa`, `rgb(r, g, b)`, `rgba(r, g, b, a)` (numbers or percentages, commas or
/// spaces, alpha 0..=1 or a percentage), `hsl()` / `hsla()`, CSS named colours and
/// `transparent`, and objects `{r, g, b, alpha}` (alpha 0..=1, default 1). Channels are
/// clamped to their ranges. Returns `None` for anything else.
pub(crate) fn parse_color(value: &Value) -> Option<[u8; 4]> {
    match value {
        Value::String(s) => parse_color_str(s.trim()),
        Value::Object(map) => {
            let channel = |k: &str| {
                map.get(k)
                    .and_then(Value::as_f64)
                    .map(|v| v.clamp(0.0, 255.0))
            };
            let (r, g, b) = (channel("r")?, channel("g")?, channel("b")?);
            let alpha = match map.get("alpha") {
                None | Some(Value::Null) => 1.0,
                Some(v) => v.as_f64()?.clamp(0.0, 1.0),
            };
            Some([
                r.round() as u8,
                g.round() as u8,
                b.round() as u8,
                (alpha * 255.0).round() as u8,
            ])
        }
        _ => None,
    }
}

fn parse_color_str(s: &str) -> Option<[u8; 4]> {
    if let Some(hex) = s.strip_prefix('#') {
        return parse_hex(hex);
    }
    let lower = s.to_ascii_lowercase();
    if lower == "transparent" {
        return Some([0, 0, 0, 0]);
    }
    if let Some(rgb) = named::named_color(&lower) {
        return Some([rgb[0], rgb[1], rgb[2], 255]);
    }
    let open = lower.find('(')?;
    let inner = lower.strip_suffix(')')?.get(open + 1..)?;
    let func = lower[..open].trim();
    let parts: Vec<&str> = inner
        .split(|c: char| c == ',' || c == '/' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let alpha = match parts.len() {
        3 => 1.0,
        4 => parse_alpha(parts[3])?,
        _ => return None,
    };
    let a = (alpha * 255.0).round() as u8;
    match func {
        "rgb" | "rgba" => {
            let ch = |p: &str| -> Option<u8> {
                let v = match p.strip_suffix('%') {
                    Some(pct) => pct.parse::<f64>().ok()? * 2.55,
                    None => p.parse::<f64>().ok()?,
                };
                v.is_finite().then(|| v.clamp(0.0, 255.0).round() as u8)
            };
            Some([ch(parts[0])?, ch(parts[1])?, ch(parts[2])?, a])
        }
        "hsl" | "hsla" => {
            let h = parts[0].trim_end_matches("deg").parse::<f64>().ok()?;
            let pct = |p: &str| -> Option<f64> {
                let v = p.strip_suffix('%').unwrap_or(p).parse::<f64>().ok()?;
                v.is_finite().then(|| v.clamp(0.0, 100.0) / 100.0)
            };
            if !h.is_finite() {
                return None;
            }
            let [r, g, b] = hsl_to_rgb(h.rem_euclid(360.0), pct(parts[1])?, pct(parts[2])?);
            Some([r, g, b, a])
        }
        _ => None,
    }
}

fn parse_alpha(p: &str) -> Option<f64> {
    let v = match p.strip_suffix('%') {
        Some(pct) => pct.parse::<f64>().ok()? / 100.0,
        None => p.parse::<f64>().ok()?,
    };
    v.is_finite().then(|| v.clamp(0.0, 1.0))
}

fn parse_hex(hex: &str) -> Option<[u8; 4]> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |i: usize| u8::from_str_radix(&hex[i..=i], 16).ok();
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    match hex.len() {
        3 | 4 => {
            let mut out = [255; 4];
            for (i, o) in out.iter_mut().take(hex.len()).enumerate() {
                *o = digit(i)? * 17;
            }
            Some(out)
        }
        6 | 8 => {
            let mut out = [255; 4];
            for (i, o) in out.iter_mut().take(hex.len() / 2).enumerate() {
                *o = byte(i * 2)?;
            }
            Some(out)
        }
        _ => None,
    }
}

fn hsl_to_rgb(h: f64, s: f64, l: f64) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    [r, g, b].map(|v| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8)
}

/// sharp `greyscale()`: libvips `B_W`, the luminance of linear light re-encoded as sRGB, in all
/// three channels. Alpha is kept.
pub(crate) fn grayscale(img: &mut RgbaImage) {
    color::grey_in_place(img, 4);
}

/// [`grayscale`] of an opaque image, without an alpha channel to carry.
pub(crate) fn grayscale_rgb(img: &mut RgbImage) {
    color::grey_in_place(img, 3);
}

/// sharp `negate({ alpha })`: `255 - v` in each colour channel, and in alpha when `alpha`
/// (sharp's default is `true`) and the image has transparency. A fully opaque image is taken
/// to be an alpha-less source (a JPEG decoded to RGBA), whose alpha sharp has nothing to
/// negate: inverting it would make the picture vanish.
pub(crate) fn negate(img: &mut RgbaImage, alpha: bool) {
    let alpha = alpha && img.pixels().any(|p| p[3] != 255);
    let n = if alpha { 4 } else { 3 };
    for p in img.pixels_mut() {
        for v in &mut p.0[..n] {
            *v = 255 - *v;
        }
    }
}

/// sharp `normalise({ lower, upper })`: finds the `lower` and `upper` percentiles of CIELAB L
/// (integer L values, as libvips' `percent`) and stretches L linearly so they become 0 and
/// 100; chroma and alpha are kept. Does nothing when the two percentiles are within 1 of each
/// other, as sharp. Percentiles are clamped to 0..=100 and swapped if reversed; NaN counts as
/// sharp's defaults (1 and 99).
pub(crate) fn normalise(img: &mut RgbaImage, lower: f32, upper: f32) {
    let lower = if lower.is_nan() {
        1.0
    } else {
        lower.clamp(0.0, 100.0)
    };
    let upper = if upper.is_nan() {
        99.0
    } else {
        upper.clamp(0.0, 100.0)
    };
    let (lower, upper) = if lower <= upper {
        (lower, upper)
    } else {
        (upper, lower)
    };
    let n = img.pixels().len();
    if n == 0 {
        return;
    }
    let lab: Vec<[f32; 3]> = img
        .pixels()
        .map(|p| srgb_to_lab(p[0], p[1], p[2]))
        .collect();
    let mut hist = [0u64; 256];
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for v in &lab {
        hist[v[0].clamp(0.0, 255.0) as usize] += 1;
        lo = lo.min(v[0]);
        hi = hi.max(v[0]);
    }
    let percentile = |pct: f32| -> f32 {
        let target = f64::from(pct) / 100.0 * n as f64;
        let mut acc = 0u64;
        for (i, &c) in hist.iter().enumerate() {
            acc += c;
            if acc as f64 > target {
                return i as f32;
            }
        }
        255.0
    };
    // sharp stores both ends in ints.
    let min = if lower == 0.0 {
        lo.trunc()
    } else {
        percentile(lower)
    };
    let max = if upper == 100.0 {
        hi.trunc()
    } else {
        percentile(upper)
    };
    if (max - min).abs() <= 1.0 {
        return;
    }
    let f = 100.0 / (max - min);
    let a = -min * f;
    for (p, v) in img.pixels_mut().zip(lab) {
        let rgb = lab_to_srgb([v[0] * f + a, v[1], v[2]]);
        p.0[..3].copy_from_slice(&rgb);
    }
}

/// sharp `tint(colour)`: the luminance (libvips `B_W`) mapped through a table that keeps
/// CIELAB L and takes the colour's a/b, weighted `1 - 4 (L/100 - 0.5)^2` so black and white
/// stay neutral (sharp 0.33+). Alpha is kept.
pub(crate) fn tint(img: &mut RgbaImage, color: [u8; 3]) {
    let [_, ta, tb] = srgb_to_lab(color[0], color[1], color[2]);
    let mut lut = [[0u8; 3]; 256];
    for (g, entry) in lut.iter_mut().enumerate() {
        let g = g as u8;
        let [l, _, _] = srgb_to_lab(g, g, g);
        let x = l / 100.0 - 0.5;
        let weight = 1.0 - 4.0 * x * x;
        *entry = lab_to_srgb([l, weight * ta, weight * tb]);
    }
    color::map_luminance(img, 4, &lut);
}

/// sharp `flatten({ background })`: composites onto the background with libvips' integer
/// `flatten` (`(v * a + bg * (255 - a)) / 255`, truncated), then alpha is 255.
pub(crate) fn flatten(img: &mut RgbaImage, background: [u8; 3]) {
    for p in img.pixels_mut() {
        let a = u32::from(p[3]);
        for c in 0..3 {
            p[c] = ((u32::from(p[c]) * a + u32::from(background[c]) * (255 - a)) / 255) as u8;
        }
        p[3] = 255;
    }
}

/// libvips `gamma(exponent)` on bytes: a table of `255 * (v / 255)^(1 / exponent)`, cast
/// (truncated) back to bytes.
fn gamma_lut(exponent: f32) -> [u8; 256] {
    let mut lut = [0u8; 256];
    for (i, v) in lut.iter_mut().enumerate() {
        *v = trunc_u8(255.0 * (i as f32 / 255.0).powf(1.0 / exponent));
    }
    lut
}

fn apply_lut(img: &mut RgbaImage, lut: &[u8; 256]) {
    for p in img.pixels_mut() {
        for v in &mut p.0[..3] {
            *v = lut[*v as usize];
        }
    }
}

/// The first half of sharp `gamma(g)`: libvips `gamma` with exponent `1/g` on the colour
/// channels before resizing (`v^g`, darkening). `g` is clamped to sharp's 1..=3; NaN is a
/// no-op.
pub(crate) fn gamma_darken(img: &mut RgbaImage, gamma: f32) {
    if !gamma.is_nan() {
        apply_lut(img, &gamma_lut(1.0 / gamma.clamp(1.0, 3.0)));
    }
}

/// The second half of sharp `gamma(g)`: libvips `gamma` with exponent `g` after resizing
/// (`v^(1/g)`, brightening). `g` is clamped to 1..=3; NaN is a no-op.
pub(crate) fn gamma_brighten(img: &mut RgbaImage, gamma: f32) {
    if !gamma.is_nan() {
        apply_lut(img, &gamma_lut(gamma.clamp(1.0, 3.0)));
    }
}

/// sharp `gamma(g)` without a resize between its two halves: darken by `v^g`, then brighten by
/// `v^(1/g)`, each rounded to 8 bits, so the visible effect is the quantisation of the dark
/// tones. Alpha is kept. `g` is clamped to 1..=3; NaN is a no-op.
pub(crate) fn gamma(img: &mut RgbaImage, gamma: f32) {
    if gamma.is_nan() {
        return;
    }
    let down = gamma_lut(1.0 / gamma.clamp(1.0, 3.0));
    let up = gamma_lut(gamma.clamp(1.0, 3.0));
    let mut lut = [0u8; 256];
    for (i, v) in lut.iter_mut().enumerate() {
        *v = up[down[i] as usize];
    }
    apply_lut(img, &lut);
}

/// sharp `threshold(t, { greyscale })`: each value `>= t` becomes 255, others 0; with
/// `grayscale` the colour is first reduced to luminance (libvips `B_W`). As in sharp, alpha
/// is thresholded too, and `t == 0` is a no-op.
pub(crate) fn threshold(img: &mut RgbaImage, threshold: u8, grayscale: bool) {
    if threshold == 0 {
        return;
    }
    let cut = |v: u8| if v >= threshold { 255 } else { 0 };
    for p in img.pixels_mut() {
        if grayscale {
            let g = cut(luminance_u8(p[0], p[1], p[2]));
            p.0 = [g, g, g, cut(p[3])];
        } else {
            p.0 = p.0.map(cut);
        }
    }
}

/// sharp `modulate({ brightness, saturation, hue, lightness })`: in LCh,
/// `L * brightness + lightness`, `C * saturation`, `h + hue` degrees. Alpha is kept.
/// Negative multipliers count as 0; non-finite parameters count as the identity (1, 1, 0, 0).
pub(crate) fn modulate(
    img: &mut RgbaImage,
    brightness: f32,
    saturation: f32,
    hue_degrees: f32,
    lightness: f32,
) {
    let or = |v: f32, d: f32| if v.is_finite() { v } else { d };
    let brightness = or(brightness, 1.0).max(0.0);
    let saturation = or(saturation, 1.0).max(0.0);
    let hue = or(hue_degrees, 0.0).rem_euclid(360.0);
    let lightness = or(lightness, 0.0);
    if brightness == 1.0 && saturation == 1.0 && hue == 0.0 && lightness == 0.0 {
        return;
    }
    // Scaling C and adding to h in LCh is, in Lab, scaling and rotating (a, b) by constants.
    let (sin, cos) = hue.to_radians().sin_cos();
    let (ra, rb) = (saturation * cos, saturation * sin);
    par_pixels(img, |px| {
        // Neighbouring pixels often repeat: reuse the last answer.
        let mut last: Option<([u8; 3], [u8; 3])> = None;
        for p in px.chunks_exact_mut(4) {
            let key = [p[0], p[1], p[2]];
            let rgb = match last {
                Some((k, v)) if k == key => v,
                _ => {
                    let [l, a, b] = srgb_to_lab(key[0], key[1], key[2]);
                    let v =
                        lab_to_srgb([l * brightness + lightness, a * ra - b * rb, a * rb + b * ra]);
                    last = Some((key, v));
                    v
                }
            };
            p[..3].copy_from_slice(&rgb);
        }
    });
}

/// Runs `f` over disjoint runs of whole pixels of `img`, on all cores when the image is large
/// enough to pay for the threads.
fn par_pixels(img: &mut RgbaImage, f: impl Fn(&mut [u8]) + Sync) {
    let raw: &mut [u8] = img;
    par_rows(raw, 4, 32, |_, chunk| f(chunk));
}

/// Splits `out` into bands of whole rows (`row_len` elements each) and calls
/// `f(first_row, band)` for each band, on all cores when `work_per_row` times the rows is worth
/// the threads. Filters write each output row from read-only input, so bands are independent.
fn par_rows<T: Send>(
    out: &mut [T],
    row_len: usize,
    work_per_row: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    const MIN_WORK_PER_THREAD: usize = 1 << 21;
    if row_len == 0 || out.is_empty() {
        return;
    }
    let rows = out.len() / row_len;
    let work = rows.saturating_mul(work_per_row.max(1));
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(work / MIN_WORK_PER_THREAD)
        .min(rows)
        .max(1);
    if threads == 1 {
        f(0, out);
        return;
    }
    let rows_per = rows.div_ceil(threads);
    std::thread::scope(|s| {
        for (i, band) in out.chunks_mut(rows_per * row_len).enumerate() {
            let f = &f;
            s.spawn(move || f(i * rows_per, band));
        }
    });
}

/// sharp `linear(a, b)`: `a * v + b` on the colour channels, clipped to 0..=255 and truncated
/// (libvips' `linear` with `uchar` output converts with a C cast); alpha kept. Non-finite `a`
/// or `b` is a no-op.
pub(crate) fn linear(img: &mut RgbaImage, a: f32, b: f32) {
    if !a.is_finite() || !b.is_finite() {
        return;
    }
    let mut lut = [0u8; 256];
    for (i, v) in lut.iter_mut().enumerate() {
        // `as` saturates to 0..=255 and truncates, like libvips' `(uchar) VIPS_CLIP(0, t, 255)`.
        *v = (a * i as f32 + b) as u8;
    }
    apply_lut(img, &lut);
}

/// sRGB 8-bit to linear light, exposed for the pipeline's linear-light resizes.
pub(crate) fn srgb_to_linear(v: u8) -> f32 {
    decode_lut()[v as usize]
}

/// Linear light back to the nearest 8-bit sRGB value.
pub(crate) fn linear_to_srgb(y: f32) -> u8 {
    encode_u8(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;
    use proptest::prelude::*;
    use serde_json::json;

    fn px(img: &RgbaImage) -> [u8; 4] {
        img.get_pixel(0, 0).0
    }

    fn one(p: [u8; 4]) -> RgbaImage {
        RgbaImage::from_pixel(1, 1, Rgba(p))
    }

    #[test]
    fn parse_color_syntaxes() {
        let c = |v: Value| parse_color(&v);
        assert_eq!(c(json!("#f00")), Some([255, 0, 0, 255]));
        assert_eq!(c(json!("#f008")), Some([255, 0, 0, 0x88]));
        assert_eq!(c(json!("#00FF7f")), Some([0, 255, 127, 255]));
        assert_eq!(c(json!("#11223344")), Some([0x11, 0x22, 0x33, 0x44]));
        assert_eq!(c(json!("rgb(1, 2, 3)")), Some([1, 2, 3, 255]));
        assert_eq!(c(json!("rgba(1,2,3,0.5)")), Some([1, 2, 3, 128]));
        // color-string: Math.round(50 * 2.55) = Math.round(127.4999..) = 127.
        assert_eq!(c(json!("rgb(100%, 0%, 50%)")), Some([255, 0, 127, 255]));
        assert_eq!(c(json!("rgb(1 2 3 / 25%)")), Some([1, 2, 3, 64]));
        assert_eq!(c(json!("rgb(300, -4, 3)")), Some([255, 0, 3, 255]));
        assert_eq!(c(json!("hsl(120, 100%, 50%)")), Some([0, 255, 0, 255]));
        assert_eq!(c(json!("RebeccaPurple")), Some([0x66, 0x33, 0x99, 255]));
        assert_eq!(c(json!(" white ")), Some([255, 255, 255, 255]));
        assert_eq!(c(json!("transparent")), Some([0, 0, 0, 0]));
        assert_eq!(
            c(json!({"r": 10, "g": 20, "b": 30})),
            Some([10, 20, 30, 255])
        );
        assert_eq!(
            c(json!({"r": 10, "g": 20, "b": 30, "alpha": 0.5})),
            Some([10, 20, 30, 128])
        );
        assert_eq!(
            c(json!({"r": 999, "g": 20, "b": 30, "alpha": 7})),
            Some([255, 20, 30, 255])
        );
        for junk in [
            json!("#ff"),
            json!("#ggg"),
            json!("#12345"),
            json!("#éé"),
            json!("rgb(1,2)"),
            json!("rgb(a,b,c)"),
            json!("rgb(1,2,3,4,5)"),
            json!("cmyk(1,2,3,4)"),
            json!("notacolour"),
            json!(""),
            json!("rgb(1,2,3"),
            json!("(1,2,3)"),
            json!(12),
            json!(null),
            json!([1, 2, 3]),
            json!({"r": 1, "g": 2}),
            json!({"r": "1", "g": 2, "b": 3}),
            json!({"r": 1, "g": 2, "b": 3, "alpha": "x"}),
        ] {
            assert_eq!(c(junk.clone()), None, "{junk}");
        }
    }

    #[test]
    fn grayscale_uses_linear_luminance() {
        // Red: Y = 0.2126 linear -> sRGB 0.4985 -> 127 (libvips gives 127 too).
        let mut img = one([255, 0, 0, 77]);
        grayscale(&mut img);
        assert_eq!(px(&img), [127, 127, 127, 77]);
        let mut img = one([0, 255, 0, 255]);
        grayscale(&mut img);
        // 0.7152 -> 0.8607 sRGB -> 219.5; the exact value rounds to 220.
        assert_eq!(px(&img)[0], 220);
        let mut img = one([0, 0, 255, 255]);
        grayscale(&mut img);
        assert_eq!(px(&img)[0], 76);
        let mut grey = one([93, 93, 93, 255]);
        grayscale(&mut grey);
        assert_eq!(px(&grey), [93, 93, 93, 255], "greys are unchanged");
    }

    #[test]
    fn negate_twice_is_identity() {
        let orig = RgbaImage::from_fn(5, 4, |x, y| Rgba([x as u8 * 40, y as u8 * 50, 7, 100]));
        let mut img = orig.clone();
        negate(&mut img, true);
        assert_eq!(img.get_pixel(1, 1), &Rgba([215, 205, 248, 155]));
        negate(&mut img, true);
        assert_eq!(img, orig);
        negate(&mut img, false);
        assert_eq!(img.get_pixel(1, 1), &Rgba([215, 205, 248, 100]));
        let mut opaque = one([0, 100, 255, 255]);
        negate(&mut opaque, true);
        assert_eq!(
            px(&opaque),
            [255, 155, 0, 255],
            "an opaque image stays opaque"
        );
    }

    #[test]
    fn normalise_stretches_luminance() {
        // Greys from 100 to 150: after normalising, the darkest is black, the lightest white.
        let mut img = RgbaImage::from_fn(51, 1, |x, _| {
            let v = 100 + x as u8;
            Rgba([v, v, v, 200])
        });
        normalise(&mut img, 0.0, 100.0);
        // L runs 42.4..62.0; sharp keeps the ends as ints (42, 61), so the darkest grey lands
        // just above black and the lightest clips to white.
        assert!((1..=10).contains(&px(&img)[0]), "{:?}", px(&img));
        assert_eq!(img.get_pixel(50, 0)[0], 255);
        assert!(img.pixels().all(|p| p[3] == 200 && p[0] == p[1]));
        let mut mono: Vec<u8> = img.pixels().map(|p| p[0]).collect();
        let sorted = {
            mono.sort_unstable();
            mono.clone()
        };
        assert_eq!(mono, sorted, "order kept");
        // A flat image has nothing to stretch.
        let mut flat = RgbaImage::from_pixel(3, 3, Rgba([40, 80, 120, 255]));
        normalise(&mut flat, 1.0, 99.0);
        assert_eq!(px(&flat), [40, 80, 120, 255]);
    }

    #[test]
    fn tint_keeps_luminance_takes_hue() {
        let mut img = RgbaImage::from_fn(3, 1, |x, _| match x {
            0 => Rgba([0, 0, 0, 255]),
            1 => Rgba([128, 128, 128, 9]),
            _ => Rgba([255, 255, 255, 255]),
        });
        tint(&mut img, [255, 0, 0]);
        assert_eq!(
            img.get_pixel(0, 0),
            &Rgba([0, 0, 0, 255]),
            "black stays black"
        );
        assert_eq!(
            img.get_pixel(2, 0),
            &Rgba([255, 255, 255, 255]),
            "white stays white"
        );
        let mid = img.get_pixel(1, 0);
        assert!(mid[0] > mid[1] && mid[0] > mid[2] && mid[3] == 9, "{mid:?}");
        let [l, _, _] = srgb_to_lab(mid[0], mid[1], mid[2]);
        let [l0, _, _] = srgb_to_lab(128, 128, 128);
        assert!((l - l0).abs() < 1.5, "lightness kept: {l} vs {l0}");
    }

    #[test]
    fn flatten_half_red_on_white() {
        let mut img = one([255, 0, 0, 128]);
        flatten(&mut img, [255, 255, 255]);
        // (0 * 128 + 255 * 127) / 255 = 127.
        assert_eq!(px(&img), [255, 127, 127, 255]);
        let mut clear = one([1, 2, 3, 0]);
        flatten(&mut clear, [10, 20, 30]);
        assert_eq!(px(&clear), [10, 20, 30, 255]);
    }

    #[test]
    fn gamma_round_trip_only_quantises() {
        let orig = RgbaImage::from_fn(256, 1, |x, _| Rgba([x as u8, x as u8, 255 - x as u8, 3]));
        let mut img = orig.clone();
        gamma(&mut img, 2.2);
        assert!(img.pixels().all(|p| p[3] == 3));
        // Mid and light tones survive within a level (both casts truncate), dark tones collapse
        // (0..=9 all darken to 0).
        assert_eq!(img.get_pixel(200, 0)[0], 199);
        assert_eq!(img.get_pixel(255, 0)[0], 255);
        assert_eq!(img.get_pixel(5, 0)[0], 0);
        assert_eq!(px(&img)[0], 0);
        let mut darker = one([128, 128, 128, 255]);
        gamma_darken(&mut darker, 2.2);
        // 255 * (128/255)^2.2 = 55.7, truncated.
        assert_eq!(px(&darker)[0], 55);
        gamma_brighten(&mut darker, 2.2);
        assert!(px(&darker)[0].abs_diff(128) <= 2);
    }

    #[test]
    fn threshold_binarises() {
        let mut img = one([200, 100, 50, 128]);
        threshold(&mut img, 128, false);
        assert_eq!(px(&img), [255, 0, 0, 255]);
        let mut img = one([255, 0, 0, 100]);
        threshold(&mut img, 127, true);
        assert_eq!(px(&img), [255, 255, 255, 0], "red's luminance 127 >= 127");
        let mut img = one([255, 0, 0, 100]);
        threshold(&mut img, 128, true);
        assert_eq!(px(&img), [0, 0, 0, 0]);
        let mut img = one([1, 2, 3, 4]);
        threshold(&mut img, 0, true);
        assert_eq!(px(&img), [1, 2, 3, 4]);
    }

    #[test]
    fn modulate_in_lch() {
        let orig = [200u8, 60, 30, 77];
        let mut img = one(orig);
        modulate(&mut img, 1.0, 1.0, 0.0, 0.0);
        assert_eq!(px(&img), orig);
        modulate(&mut img, 1.0, 0.0, 0.0, 0.0);
        let p = px(&img);
        assert!(
            p[0].abs_diff(p[1]) <= 1 && p[1].abs_diff(p[2]) <= 1 && p[3] == 77,
            "{p:?}"
        );
        let mut img = one(orig);
        modulate(&mut img, 2.0, 1.0, 0.0, 0.0);
        assert!(px(&img)[1] > 60, "brighter");
        let mut img = one([255, 0, 0, 255]);
        modulate(&mut img, 1.0, 1.0, 120.0, 0.0);
        let p = px(&img);
        assert!(
            p[1] > p[0] && p[1] > p[2],
            "red rotated towards green: {p:?}"
        );
        let mut img = one(orig);
        modulate(
            &mut img,
            f32::NAN,
            f32::INFINITY,
            f32::NAN,
            f32::NEG_INFINITY,
        );
        assert_eq!(px(&img), orig);
    }

    #[test]
    fn linear_rounds_and_clips() {
        let mut img = one([10, 100, 200, 50]);
        linear(&mut img, 1.5, 0.2);
        assert_eq!(px(&img), [15, 150, 255, 50]);
        let mut img = one([10, 100, 200, 50]);
        linear(&mut img, -1.0, 0.0);
        assert_eq!(px(&img), [0, 0, 0, 50]);
        let mut img = one([3, 5, 255, 50]);
        linear(&mut img, 0.5, 0.0);
        assert_eq!(px(&img), [1, 2, 127, 50], "truncated, not rounded");
    }

    #[test]
    fn linear_light_helpers_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(linear_to_srgb(srgb_to_linear(v)), v);
        }
    }

    fn small_image() -> impl Strategy<Value = RgbaImage> {
        (0u32..7, 0u32..7).prop_flat_map(|(w, h)| {
            proptest::collection::vec(any::<u8>(), (w * h * 4) as usize)
                .prop_map(move |raw| RgbaImage::from_raw(w, h, raw).expect("sized"))
        })
    }

    fn any_f32() -> impl Strategy<Value = f32> {
        prop_oneof![
            -2000.0f32..2000.0,
            Just(f32::NAN),
            Just(f32::INFINITY),
            Just(f32::NEG_INFINITY),
            Just(0.0),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn nothing_panics(
            img in small_image(),
            f in proptest::collection::vec(any_f32(), 8),
            u in proptest::collection::vec(any::<u32>(), 4),
            b in any::<u8>(),
            flag in any::<bool>(),
            deg in prop_oneof![-1000.0f64..1000.0, Just(f64::NAN), Just(90.0), Just(-270.0)],
            ofs in (any::<i64>(), -10i64..10),
        ) {
            let (w, h) = img.dimensions();
            let mut m = img.clone();
            grayscale(&mut m);
            negate(&mut m, flag);
            normalise(&mut m, f[0], f[1]);
            tint(&mut m, [b, 255 - b, b / 2]);
            flatten(&mut m, [b, b, b]);
            gamma(&mut m, f[2]);
            threshold(&mut m, b, flag);
            modulate(&mut m, f[0], f[1], f[2], f[3]);
            linear(&mut m, f[4], f[5]);
            set_opacity(&mut m, f[6]);
            round_crop(&mut m, f64::from(f[0]), f64::from(f[1]), f64::from(f[2]), f64::from(f[3]));
            prop_assert_eq!(m.dimensions(), (w, h));
            let sigma = if flag { None } else { Some(f[7]) };
            prop_assert_eq!(blur(&img, sigma.map(|s| s.clamp(-5.0, 5.0))).dimensions(), (w, h));
            let opts = Sharpen { sigma: Some(f[0]), m1: f[1], m2: f[2], x1: f[3], y2: f[4], y3: f[5] };
            prop_assert_eq!(sharpen(&img, &opts).dimensions(), (w, h));
            prop_assert_eq!(median(&img, u[0] % 12).dimensions(), (w, h));
            let kw = u[1] % 5;
            let kernel = Kernel {
                width: kw,
                height: u[2] % 5,
                kernel: f[..(kw as usize).min(8)].to_vec(),
                scale: if flag { Some(f[7]) } else { None },
                offset: f[6],
            };
            prop_assert_eq!(convolve(&img, &kernel).dimensions(), (w, h));
            if let Some((x, y, bw, bh)) = trim_box(&img, None, f[0]) {
                prop_assert!(x + bw <= w && y + bh <= h && bw > 0 && bh > 0);
            }
            let e = extend(&img, u[0] % 5, u[1] % 5, u[2] % 5, u[3] % 5, [b; 4]);
            prop_assert!(e.width() >= w && e.height() >= h);
            let r = rotate_any(&img, deg, [b; 4]);
            prop_assert!(r.width() <= (w + h).max(1) + 2 && r.height() <= (w + h).max(1) + 2);
            let mut base = img.clone();
            composite_over(&mut base, &m, ofs.0 % 8, ofs.1);
            composite_over(&mut base, &m, ofs.0, ofs.0);
            prop_assert_eq!(base.dimensions(), (w, h));
        }
    }

    #[test]
    fn huge_parameters_are_clamped_not_fatal() {
        let img = RgbaImage::from_pixel(4, 3, Rgba([9, 8, 7, 255]));
        assert_eq!(median(&img, 10_000), img);
        assert_eq!(blur(&img, Some(1000.0)), img);
        assert_eq!(
            extend(&img, u32::MAX, 0, u32::MAX, u32::MAX, [0; 4]).dimensions(),
            (MAX_SIDE, MAX_SIDE)
        );
    }
}
