//! Colour-space conversions as libvips does them: sRGB <-> scRGB (linear light) <-> XYZ (D65)
//! <-> CIELAB <-> LCh. All in f32; 8-bit sRGB values are 0..=255 floats here.

use std::sync::OnceLock;

/// D65 white point, Y normalised to 1 (libvips uses 95.047, 100, 108.883).
const XN: f32 = 0.950_47;
const YN: f32 = 1.0;
const ZN: f32 = 1.088_83;

/// sRGB transfer function, one 8-bit value to linear light 0..=1.
fn decode(v: f32) -> f32 {
    let v = v / 255.0;
    if v <= 0.040_45 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light 0..=1 to an sRGB value 0..=255 (unrounded, unclamped).
pub(crate) fn encode(y: f32) -> f32 {
    let y = y.clamp(0.0, 1.0);
    let v = if y <= 0.003_130_8 {
        y * 12.92
    } else {
        1.055 * y.powf(1.0 / 2.4) - 0.055
    };
    v * 255.0
}

/// The tables behind the 8-bit conversions, built once.
struct Tables {
    /// 8-bit sRGB to linear light.
    decode: [f32; 256],
    /// `edges[i]`: the linear-light value where the rounded sRGB value flips from `i` to
    /// `i + 1` (the linearization of `i + 0.5`).
    edges: [f32; 255],
    /// `base[k]`: the 8-bit value of linear light `k / BUCKETS`, the start of its bucket.
    base: [u8; BUCKETS],
}

/// Buckets over linear light 0..=1. The edges are at least 1 / (12.92 * 255) apart (in the
/// linear segment near black), wider than a bucket, so a bucket holds at most one edge.
const BUCKETS: usize = 4096;

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = Tables {
            decode: [0.0; 256],
            edges: [0.0; 255],
            base: [0; BUCKETS],
        };
        for (i, v) in t.decode.iter_mut().enumerate() {
            *v = decode(i as f32);
        }
        for (i, v) in t.edges.iter_mut().enumerate() {
            *v = decode(i as f32 + 0.5);
        }
        for (k, v) in t.base.iter_mut().enumerate() {
            let y = k as f32 / BUCKETS as f32;
            *v = t.edges.partition_point(|&e| e <= y) as u8;
        }
        t
    })
}

impl Tables {
    /// The nearest 8-bit value: the bucket's start, moved past the edge it may hold.
    #[inline]
    fn encode_u8(&self, y: f32) -> u8 {
        // `as` saturates: negatives and NaN go to bucket 0, past 1 to the last one.
        let k = ((y * BUCKETS as f32) as usize).min(BUCKETS - 1);
        let mut v = self.base[k];
        while let Some(&e) = self.edges.get(usize::from(v)) {
            if e > y {
                break;
            }
            v += 1;
        }
        v
    }

    #[inline]
    fn luminance_u8(&self, r: u8, g: u8, b: u8) -> u8 {
        let d = &self.decode;
        self.encode_u8(
            0.2126 * d[usize::from(r)] + 0.7152 * d[usize::from(g)] + 0.0722 * d[usize::from(b)],
        )
    }
}

/// 8-bit sRGB to linear light, by table.
pub(crate) fn decode_lut() -> &'static [f32; 256] {
    &tables().decode
}

/// Linear light to the nearest 8-bit sRGB value, exactly as `encode(y).round()` but by table:
/// the bucket of `y` gives the value at its start, and one comparison with the next rounding
/// edge finishes it. NaN is 0.
pub(crate) fn encode_u8(y: f32) -> u8 {
    if y.is_nan() {
        return 0;
    }
    tables().encode_u8(y)
}

/// Rounds and clamps a float to a byte; NaN becomes 0.
pub(crate) fn to_u8(v: f32) -> u8 {
    // `as` saturates and maps NaN to 0.
    v.round() as u8
}

/// Clips and truncates a float to a byte, as libvips' `cast` does ("floats are truncated, not
/// rounded"), with a hair of slack so float noise under a whole number does not drop a level.
pub(crate) fn trunc_u8(v: f32) -> u8 {
    (v + 1e-3) as u8
}

/// libvips' scRGB -> B_W luminance (Rec. 709 weights on linear light).
pub(crate) fn luminance_u8(r: u8, g: u8, b: u8) -> u8 {
    tables().luminance_u8(r, g, b)
}

/// [`luminance_u8`] of every pixel of `raw` (`channels` bytes each, RGB first), written to
/// its three colour channels; any further channel (alpha) is kept.
pub(crate) fn grey_in_place(raw: &mut [u8], channels: usize) {
    let t = tables();
    for p in raw.chunks_exact_mut(channels.max(3)) {
        let g = t.luminance_u8(p[0], p[1], p[2]);
        p[..3].fill(g);
    }
}

/// Maps the luminance of every pixel through `lut` (by 8-bit luminance) into its colour
/// channels; any further channel (alpha) is kept.
pub(crate) fn map_luminance(raw: &mut [u8], channels: usize, lut: &[[u8; 3]; 256]) {
    let t = tables();
    for p in raw.chunks_exact_mut(channels.max(3)) {
        let rgb = lut[usize::from(t.luminance_u8(p[0], p[1], p[2]))];
        p[..3].copy_from_slice(&rgb);
    }
}

fn lab_f(t: f32) -> f32 {
    if t > 0.008_856 {
        t.cbrt()
    } else {
        7.787 * t + 16.0 / 116.0
    }
}

fn lab_f_inv(f: f32) -> f32 {
    let t = f * f * f;
    if t > 0.008_856 {
        t
    } else {
        (f - 16.0 / 116.0) / 7.787
    }
}

/// Linear-light RGB to CIELAB.
pub(crate) fn linear_to_lab([r, g, b]: [f32; 3]) -> [f32; 3] {
    let x = 0.4124 * r + 0.3576 * g + 0.1805 * b;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = 0.0193 * r + 0.1192 * g + 0.9505 * b;
    let (fx, fy, fz) = (lab_f(x / XN), lab_f(y / YN), lab_f(z / ZN));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIELAB to linear-light RGB (unclamped).
pub(crate) fn lab_to_linear([l, a, b]: [f32; 3]) -> [f32; 3] {
    let fy = (l + 16.0) / 116.0;
    let fx = fy + a / 500.0;
    let fz = fy - b / 200.0;
    let (x, y, z) = (lab_f_inv(fx) * XN, lab_f_inv(fy) * YN, lab_f_inv(fz) * ZN);
    [
        3.2406 * x - 1.5372 * y - 0.4986 * z,
        -0.9689 * x + 1.8758 * y + 0.0415 * z,
        0.0557 * x - 0.2040 * y + 1.0570 * z,
    ]
}

/// 8-bit sRGB to CIELAB.
pub(crate) fn srgb_to_lab(r: u8, g: u8, b: u8) -> [f32; 3] {
    let lut = decode_lut();
    linear_to_lab([lut[r as usize], lut[g as usize], lut[b as usize]])
}

/// sRGB as floats 0..=255 (for premultiplied values) to CIELAB.
pub(crate) fn srgb_f32_to_lab([r, g, b]: [f32; 3]) -> [f32; 3] {
    linear_to_lab([decode(r), decode(g), decode(b)])
}

/// CIELAB to 8-bit sRGB, rounded and clipped as libvips' `Lab -> sRGB` does.
pub(crate) fn lab_to_srgb(lab: [f32; 3]) -> [u8; 3] {
    let [r, g, b] = lab_to_linear(lab);
    [encode_u8(r), encode_u8(g), encode_u8(b)]
}

/// CIELAB to sRGB floats 0..=255 (clipped, unrounded).
pub(crate) fn lab_to_srgb_f32(lab: [f32; 3]) -> [f32; 3] {
    let [r, g, b] = lab_to_linear(lab);
    [encode(r), encode(g), encode(b)]
}

/// CIELAB to LCh (hue in degrees, 0..360).
pub(crate) fn lab_to_lch([l, a, b]: [f32; 3]) -> [f32; 3] {
    let c = (a * a + b * b).sqrt();
    let mut h = b.atan2(a).to_degrees();
    if h < 0.0 {
        h += 360.0;
    }
    [l, c, h]
}

/// LCh to CIELAB.
pub(crate) fn lch_to_lab([l, c, h]: [f32; 3]) -> [f32; 3] {
    let (s, co) = h.to_radians().sin_cos();
    [l, c * co, c * s]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_u8_matches_rounded_encode() {
        for i in 0..=4096 {
            let y = i as f32 / 4096.0;
            let direct = encode(y).round() as i32;
            let fast = i32::from(encode_u8(y));
            assert!((direct - fast).abs() <= 1, "{y}: {direct} vs {fast}");
        }
        for v in 0..=255u8 {
            assert_eq!(encode_u8(decode_lut()[v as usize]), v, "round trip of {v}");
        }
    }

    #[test]
    fn encode_u8_table_equals_the_rounding_edges() {
        let edges: Vec<f32> = (0..255).map(|i| decode(i as f32 + 0.5)).collect();
        let search = |y: f32| edges.partition_point(|&e| e <= y) as u8;
        // Every edge, its neighbours, and a dense sweep including out-of-range values.
        for &e in &edges {
            for y in [e, e.next_down(), e.next_up()] {
                assert_eq!(encode_u8(y), search(y), "{y}");
            }
        }
        for i in -1000..=201_000 {
            let y = i as f32 / 200_000.0;
            assert_eq!(encode_u8(y), search(y), "{y}");
        }
        assert_eq!(encode_u8(f32::NAN), 0);
        assert_eq!(encode_u8(f32::INFINITY), 255);
        assert_eq!(encode_u8(f32::NEG_INFINITY), 0);
    }

    #[test]
    fn lab_of_white_black_and_red() {
        let [l, a, b] = srgb_to_lab(255, 255, 255);
        assert!(
            (l - 100.0).abs() < 0.05 && a.abs() < 0.1 && b.abs() < 0.1,
            "{l} {a} {b}"
        );
        let [l, _, _] = srgb_to_lab(0, 0, 0);
        assert!(l.abs() < 1e-3);
        // CIELAB of sRGB red is about (53.24, 80.09, 67.20).
        let [l, a, b] = srgb_to_lab(255, 0, 0);
        assert!((l - 53.24).abs() < 0.1 && (a - 80.09).abs() < 0.3 && (b - 67.2).abs() < 0.3);
    }

    #[test]
    fn lab_round_trips_every_grey_and_some_colours() {
        for v in 0..=255u8 {
            assert_eq!(lab_to_srgb(srgb_to_lab(v, v, v)), [v, v, v]);
        }
        for rgb in [[255, 0, 0], [12, 200, 99], [1, 2, 3], [250, 128, 7]] {
            let lch = lab_to_lch(srgb_to_lab(rgb[0], rgb[1], rgb[2]));
            assert_eq!(lab_to_srgb(lch_to_lab(lch)), rgb);
        }
    }
}
