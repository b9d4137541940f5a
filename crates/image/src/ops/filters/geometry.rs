//! Operations that change the canvas or combine images: trim, extend, rotate, round crop,
//! opacity and compositing.

use image::{Rgba, RgbaImage, imageops};

use super::color::{to_u8, trunc_u8};
use super::conv::median;
use super::{flatten, par_rows};

/// Largest side `extend` and `rotate_any` produce: sharp's `limitInputPixels` side (0x3FFF).
pub(crate) const MAX_SIDE: u32 = 0x3FFF;

/// sharp `trim()` as libvips' `find_trim` does it: flatten alpha onto the background, median
/// 3x3, then any channel differing from the background by more than `threshold` is content;
/// the alpha channel is searched the same way and the two boxes joined. `background` defaults
/// to the top-left pixel. Returns `(left, top, width, height)`, or `None` when everything is
/// background or the image is smaller than 3x3 on both sides (sharp refuses those). A NaN or
/// negative threshold counts as 0.
pub(crate) fn trim_box(
    img: &RgbaImage,
    background: Option<[u8; 4]>,
    threshold: f32,
) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = img.dimensions();
    if (w < 3 && h < 3) || w == 0 || h == 0 {
        return None;
    }
    let bg = background.unwrap_or_else(|| img.get_pixel(0, 0).0);
    let threshold = if threshold.is_nan() {
        0.0
    } else {
        threshold.max(0.0)
    };
    let mut flat = img.clone();
    flatten(&mut flat, [bg[0], bg[1], bg[2]]);
    for (f, p) in flat.pixels_mut().zip(img.pixels()) {
        f[3] = p[3];
    }
    let smooth = median(&flat, 3);
    let content = |a: u8, b: u8| f32::from(a.abs_diff(b)) > threshold;
    let mut colour = Bounds::default();
    let mut alpha = Bounds::default();
    for (x, y, p) in smooth.enumerate_pixels() {
        if (0..3).any(|c| content(p[c], bg[c])) {
            colour.add(x, y);
        }
        if content(p[3], bg[3]) {
            alpha.add(x, y);
        }
    }
    colour.join(alpha).rect()
}

#[derive(Default, Clone, Copy)]
struct Bounds(Option<(u32, u32, u32, u32)>);

impl Bounds {
    fn add(&mut self, x: u32, y: u32) {
        self.0 = Some(match self.0 {
            None => (x, y, x, y),
            Some((l, t, r, b)) => (l.min(x), t.min(y), r.max(x), b.max(y)),
        });
    }

    fn join(self, other: Self) -> Self {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Self(Some((
                a.0.min(b.0),
                a.1.min(b.1),
                a.2.max(b.2),
                a.3.max(b.3),
            ))),
            (a, b) => Self(a.or(b)),
        }
    }

    fn rect(self) -> Option<(u32, u32, u32, u32)> {
        self.0.map(|(l, t, r, b)| (l, t, r - l + 1, b - t + 1))
    }
}

/// sharp `extend()`: a new canvas with `background` around the image. Each amount is clamped
/// so that no side exceeds [`MAX_SIDE`] (the far side gives way first: right, then left;
/// bottom, then top); an image already larger than that is returned unchanged.
pub(crate) fn extend(
    img: &RgbaImage,
    top: u32,
    bottom: u32,
    left: u32,
    right: u32,
    background: [u8; 4],
) -> RgbaImage {
    let (w, h) = img.dimensions();
    if w > MAX_SIDE || h > MAX_SIDE {
        return img.clone();
    }
    let left = left.min(MAX_SIDE - w);
    let right = right.min(MAX_SIDE - w - left);
    let top = top.min(MAX_SIDE - h);
    let bottom = bottom.min(MAX_SIDE - h - top);
    let mut out = RgbaImage::from_pixel(w + left + right, h + top + bottom, Rgba(background));
    imageops::replace(&mut out, img, i64::from(left), i64::from(top));
    out
}

/// The pixel at (x, y) as floats, `background` outside the image; with `premultiplied`, the
/// colour is multiplied by alpha (libvips' `premultiply`), the background's too.
fn sampler(
    img: &RgbaImage,
    background: [u8; 4],
    premultiplied: bool,
) -> impl Fn(i64, i64) -> [f32; 4] + Sync + '_ {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let premultiply = move |p: [f32; 4]| {
        if premultiplied {
            let a = p[3] / 255.0;
            [p[0] * a, p[1] * a, p[2] * a, p[3]]
        } else {
            p
        }
    };
    let bgf = premultiply(background.map(f32::from));
    let raw = img.as_raw();
    move |x, y| {
        if x < 0 || y < 0 || x >= w || y >= h {
            bgf
        } else {
            let i = ((y * w + x) * 4) as usize;
            premultiply([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]].map(f32::from))
        }
    }
}

/// Bilinear interpolation of `sample` at (x, y), in pixel-corner coordinates.
fn bilinear(sample: &impl Fn(i64, i64) -> [f32; 4], x: f64, y: f64) -> [f32; 4] {
    let (fx0, fy0) = (x.floor(), y.floor());
    let (tx, ty) = ((x - fx0) as f32, (y - fy0) as f32);
    let (x0, y0) = (fx0 as i64, fy0 as i64);
    let p00 = sample(x0, y0);
    let p10 = sample(x0 + 1, y0);
    let p01 = sample(x0, y0 + 1);
    let p11 = sample(x0 + 1, y0 + 1);
    std::array::from_fn(|ch| {
        let top = p00[ch] + (p10[ch] - p00[ch]) * tx;
        let bot = p01[ch] + (p11[ch] - p01[ch]) * tx;
        top + (bot - top) * ty
    })
}

/// sharp `rotate(angle, {background})`, clockwise. Multiples of 90 are exact pixel moves
/// (libvips `rot`); other angles are libvips' `rotate` (an affine with bilinear
/// interpolation) onto the bounding box of the rotated corners, uncovered pixels set to
/// `background`. Canvas sides are capped at [`MAX_SIDE`] (keeping the top-left part). A
/// non-finite angle returns the image unchanged.
pub(crate) fn rotate_any(img: &RgbaImage, degrees: f64, background: [u8; 4]) -> RgbaImage {
    if !degrees.is_finite() {
        return img.clone();
    }
    let d = degrees.rem_euclid(360.0);
    if d % 90.0 == 0.0 {
        return match d as u32 {
            90 => imageops::rotate90(img),
            180 => imageops::rotate180(img),
            270 => imageops::rotate270(img),
            _ => img.clone(),
        };
    }
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return img.clone();
    }
    let (s, c) = d.to_radians().sin_cos();
    let fwd = |x: f64, y: f64| (x * c - y * s, x * s + y * c);
    let (wf, hf) = (f64::from(w), f64::from(h));
    let corners = [fwd(0.0, 0.0), fwd(wf, 0.0), fwd(0.0, hf), fwd(wf, hf)];
    let fold = |f: fn(f64, f64) -> f64, init: f64, pick: fn(&(f64, f64)) -> f64| {
        corners.iter().map(pick).fold(init, f)
    };
    let left = fold(f64::min, f64::INFINITY, |p| p.0).floor();
    let top = fold(f64::min, f64::INFINITY, |p| p.1).floor();
    let right = fold(f64::max, f64::NEG_INFINITY, |p| p.0).ceil();
    let bottom = fold(f64::max, f64::NEG_INFINITY, |p| p.1).ceil();
    let ow = ((right - left) as u32).clamp(1, MAX_SIDE);
    let oh = ((bottom - top) as u32).clamp(1, MAX_SIDE);
    let sample = sampler(img, background, false);
    let mut out = vec![0u8; ow as usize * oh as usize * 4];
    par_rows(&mut out, ow as usize * 4, ow as usize * 16, |y0, band| {
        for (i, px) in band.chunks_exact_mut(4).enumerate() {
            let ox = (i % ow as usize) as u32;
            let oy = (y0 + i / ow as usize) as u32;
            // Output pixel centre back into input space (inverse rotation), pixel-centre convention.
            let x = f64::from(ox) + left + 0.5;
            let y = f64::from(oy) + top + 0.5;
            let ix = x * c + y * s - 0.5;
            let iy = -x * s + y * c - 0.5;
            let p = bilinear(&sample, ix, iy);
            for ch in 0..4 {
                px[ch] = to_u8(p[ch]);
            }
        }
    });
    RgbaImage::from_raw(ow, oh, out).unwrap_or_else(|| img.clone())
}

/// Why [`affine`] refused: the matrix cannot be inverted, or maps the image to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadAffine;

/// The canvas libvips' `affine` gives an image of `w` x `h` under `[a, b, c, d]`: the bounding
/// box of the mapped corners, its position and sides rounded half away from zero, as
/// libvips rounds them. Returns `(left, top, width, height)`.
pub(crate) fn affine_canvas(w: u32, h: u32, m: [f64; 4]) -> (f64, f64, f64, f64) {
    let [a, b, c, d] = m;
    let (wf, hf) = (f64::from(w), f64::from(h));
    let corners = [
        (0.0, 0.0),
        (a * wf, c * wf),
        (b * hf, d * hf),
        (a * wf + b * hf, c * wf + d * hf),
    ];
    let (mut left, mut top) = (f64::INFINITY, f64::INFINITY);
    let (mut right, mut bottom) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for (x, y) in corners {
        left = left.min(x);
        right = right.max(x);
        top = top.min(y);
        bottom = bottom.max(y);
    }
    (
        left.round(),
        top.round(),
        (right - left).round(),
        (bottom - top).round(),
    )
}

/// sharp `affine([a, b, c, d])` with its default options: libvips' `affine`, each output
/// pixel (X, Y) of the canvas mapped back from (X + left, Y + top) through the inverse matrix
/// (libvips' convention: pixel corners, not centres) and sampled with the bilinear
/// interpolator (sharp's default for `affine`, whatever its docs say), pixels beyond the
/// input being `background`. The canvas is [`affine_canvas`], its sides capped at
/// [`MAX_SIDE`]. With `premultiplied` (sharp holds an image with alpha premultiplied after a
/// resize, blur, convolve or sharpen), colour is interpolated premultiplied by alpha.
pub(crate) fn affine(
    img: &RgbaImage,
    m: [f64; 4],
    background: [u8; 4],
    premultiplied: bool,
) -> Result<RgbaImage, BadAffine> {
    let [a, b, c, d] = m;
    let det = a * d - b * c;
    if !det.is_finite() || det.abs() < 1e-12 || m.iter().any(|v| !v.is_finite()) {
        return Err(BadAffine);
    }
    let (w, h) = img.dimensions();
    let (left, top, ow, oh) = affine_canvas(w, h, m);
    if !(ow >= 1.0 && oh >= 1.0) {
        return Err(BadAffine);
    }
    let ow = (ow as u32).min(MAX_SIDE);
    let oh = (oh as u32).min(MAX_SIDE);
    let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
    let sample = sampler(img, background, premultiplied);
    let mut out = vec![0u8; ow as usize * oh as usize * 4];
    par_rows(&mut out, ow as usize * 4, ow as usize * 16, |y0, band| {
        for (i, px) in band.chunks_exact_mut(4).enumerate() {
            let x = (i % ow as usize) as f64 + left;
            let y = (y0 + i / ow as usize) as f64 + top;
            let ix = ia * x + ib * y;
            let iy = ic * x + id * y;
            let p = bilinear(&sample, ix, iy);
            let a = p[3];
            for ch in 0..3 {
                px[ch] = to_u8(if premultiplied && a > 0.0 {
                    p[ch] * 255.0 / a
                } else {
                    p[ch]
                });
            }
            px[3] = to_u8(a);
        }
    });
    RgbaImage::from_raw(ow, oh, out).ok_or(BadAffine)
}

/// SIH `roundCrop`: an SVG ellipse centred on (`cx`, `cy`) with radii `rx`, `ry` composited
/// with blend `dest-in`, so alpha is multiplied by the ellipse's coverage of each pixel
/// (anti-aliased over one pixel, as librsvg draws it). Pixels left fully transparent become
/// (0, 0, 0, 0), as libvips' unpremultiply leaves them. Non-finite or non-positive radii or
/// centre make the whole image transparent (an empty ellipse covers nothing).
pub(crate) fn round_crop(img: &mut RgbaImage, cx: f64, cy: f64, rx: f64, ry: f64) {
    let valid = [cx, cy, rx, ry].iter().all(|v| v.is_finite()) && rx > 0.0 && ry > 0.0;
    for (x, y, p) in img.enumerate_pixels_mut() {
        let coverage = if valid {
            let dx = (f64::from(x) + 0.5 - cx) / rx;
            let dy = (f64::from(y) + 0.5 - cy) / ry;
            let r = (dx * dx + dy * dy).sqrt();
            if r == 0.0 {
                1.0
            } else {
                // Distance to the ellipse in pixels, to first order: (r - 1) / |grad r|.
                let grad = ((dx / rx).powi(2) + (dy / ry).powi(2)).sqrt() / r;
                ((0.5 - (r - 1.0) / grad).clamp(0.0, 1.0)) as f32
            }
        } else {
            0.0
        };
        scale_alpha(p, coverage);
    }
}

fn scale_alpha(p: &mut Rgba<u8>, factor: f32) {
    let a = trunc_u8(f32::from(p[3]) * factor);
    p.0 = if a == 0 {
        [0; 4]
    } else {
        [p[0], p[1], p[2], a]
    };
}

/// Multiplies alpha by `factor`, truncating (SIH's overlay `alpha`: a `dest-in` composite
/// with a flat alpha). `factor` is clamped to 0..=1; NaN leaves the image unchanged. Pixels left fully
/// transparent become (0, 0, 0, 0).
pub(crate) fn set_opacity(img: &mut RgbaImage, factor: f32) {
    if factor.is_nan() {
        return;
    }
    let factor = factor.clamp(0.0, 1.0);
    if factor == 1.0 {
        return;
    }
    for p in img.pixels_mut() {
        scale_alpha(p, factor);
    }
}

/// sharp `composite([{ input, left, top }])` with the default `over` blend: premultiplied
/// source-over in f32, truncated back to bytes as libvips does. The overlay may hang off any edge (it is clipped) and offsets may be
/// negative; an overlay entirely outside leaves `base` unchanged.
pub(crate) fn composite_over(base: &mut RgbaImage, overlay: &RgbaImage, left: i64, top: i64) {
    let (bw, bh) = (i64::from(base.width()), i64::from(base.height()));
    let (ow, oh) = (i64::from(overlay.width()), i64::from(overlay.height()));
    let x0 = left.max(0);
    let y0 = top.max(0);
    let x1 = left.saturating_add(ow).min(bw);
    let y1 = top.saturating_add(oh).min(bh);
    for y in y0..y1 {
        for x in x0..x1 {
            let s = overlay.get_pixel((x - left) as u32, (y - top) as u32);
            let d = base.get_pixel_mut(x as u32, y as u32);
            match s[3] {
                0 => {}
                255 => *d = *s,
                sa => {
                    let sa = f32::from(sa) / 255.0;
                    let da = f32::from(d[3]) / 255.0;
                    let oa = sa + da * (1.0 - sa);
                    let mut out = [0u8; 4];
                    for c in 0..3 {
                        let v = (f32::from(s[c]) * sa + f32::from(d[c]) * da * (1.0 - sa)) / oa;
                        out[c] = trunc_u8(v);
                    }
                    out[3] = trunc_u8(oa * 255.0);
                    d.0 = out;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            let v = (x * 73 + y * 151 + x * y * 7) % 256;
            Rgba([
                v as u8,
                (255 - v) as u8,
                ((v * 3) % 256) as u8,
                (v | 1) as u8,
            ])
        })
    }

    #[test]
    fn trim_finds_the_inner_box() {
        let mut img = RgbaImage::from_pixel(20, 16, Rgba([255, 255, 255, 255]));
        for y in 4..10 {
            for x in 5..15 {
                img.put_pixel(x, y, Rgba([10, 20, 30, 255]));
            }
        }
        assert_eq!(trim_box(&img, None, 10.0), Some((5, 4, 10, 6)));
        // A 1-pixel speck disappears in the median, as in libvips.
        img.put_pixel(0, 15, Rgba([0, 0, 0, 255]));
        assert_eq!(trim_box(&img, None, 10.0), Some((5, 4, 10, 6)));
        // Differences at or under the threshold are background.
        let faint = RgbaImage::from_fn(8, 8, |x, _| {
            if x > 3 {
                Rgba([245, 245, 245, 255])
            } else {
                Rgba([255, 255, 255, 255])
            }
        });
        assert_eq!(trim_box(&faint, None, 10.0), None);
        assert_eq!(trim_box(&faint, None, 9.0), Some((4, 0, 4, 8)));
        // An explicit background.
        assert_eq!(
            trim_box(&faint, Some([245, 245, 245, 255]), 5.0),
            Some((0, 0, 4, 8))
        );
        // Uniform and tiny images: nothing to trim.
        assert_eq!(
            trim_box(&RgbaImage::from_pixel(5, 5, Rgba([1, 2, 3, 4])), None, 10.0),
            None
        );
        assert_eq!(trim_box(&RgbaImage::new(2, 2), None, 10.0), None);
    }

    #[test]
    fn trim_sees_alpha_content() {
        // Transparent canvas with an opaque square: found through alpha alone.
        let mut img = RgbaImage::new(10, 10);
        for y in 2..6 {
            for x in 3..8 {
                img.put_pixel(x, y, Rgba([0, 0, 0, 255]));
            }
        }
        assert_eq!(trim_box(&img, None, 10.0), Some((3, 2, 5, 4)));
    }

    #[test]
    fn extend_places_the_image_and_clamps() {
        let img = noise(3, 2);
        let out = extend(&img, 1, 2, 3, 4, [9, 8, 7, 6]);
        assert_eq!(out.dimensions(), (10, 5));
        assert_eq!(out.get_pixel(3, 1), img.get_pixel(0, 0));
        assert_eq!(out.get_pixel(5, 2), img.get_pixel(2, 1));
        assert_eq!(out.get_pixel(0, 0), &Rgba([9, 8, 7, 6]));
        assert_eq!(out.get_pixel(9, 4), &Rgba([9, 8, 7, 6]));
        let huge = extend(&RgbaImage::new(1, 1), u32::MAX, u32::MAX, 0, 0, [0; 4]);
        assert_eq!(huge.dimensions(), (1, MAX_SIDE));
    }

    #[test]
    fn rotate_quarter_turns_are_exact() {
        let img = noise(5, 3);
        let r = rotate_any(&img, 90.0, [0; 4]);
        assert_eq!(r.dimensions(), (3, 5));
        // Clockwise: the top-left pixel goes to the top-right.
        assert_eq!(r.get_pixel(2, 0), img.get_pixel(0, 0));
        let mut four = img.clone();
        for _ in 0..4 {
            four = rotate_any(&four, 90.0, [0; 4]);
        }
        assert_eq!(four, img);
        assert_eq!(
            rotate_any(&img, -90.0, [0; 4]),
            rotate_any(&img, 270.0, [0; 4])
        );
        assert_eq!(rotate_any(&img, 720.0, [0; 4]), img);
        assert_eq!(rotate_any(&img, f64::NAN, [0; 4]), img);
    }

    #[test]
    fn rotate_45_grows_the_canvas_like_libvips() {
        let img = RgbaImage::from_pixel(100, 100, Rgba([200, 0, 0, 255]));
        let out = rotate_any(&img, 45.0, [0, 0, 255, 255]);
        // Corners span 100 * sqrt(2) = 141.4 -> floor/ceil of the bounding box = 142.
        assert_eq!(out.dimensions(), (142, 142));
        assert_eq!(out.get_pixel(71, 71), &Rgba([200, 0, 0, 255]));
        assert_eq!(out.get_pixel(0, 0), &Rgba([0, 0, 255, 255]));
        let wide = rotate_any(&RgbaImage::new(200, 100), 30.0, [0; 4]);
        // 200 cos30 + 100 sin30 = 223.2, 200 sin30 + 100 cos30 = 186.6 (+1 for the floors).
        assert_eq!(wide.dimensions(), (224, 187));
    }

    #[test]
    fn round_crop_corners_clear_centre_solid() {
        let mut img = RgbaImage::from_pixel(20, 10, Rgba([50, 60, 70, 255]));
        round_crop(&mut img, 10.0, 5.0, 5.0, 5.0);
        assert_eq!(img.get_pixel(0, 0), &Rgba([0, 0, 0, 0]));
        assert_eq!(img.get_pixel(19, 9), &Rgba([0, 0, 0, 0]));
        assert_eq!(img.get_pixel(10, 5), &Rgba([50, 60, 70, 255]));
        assert_eq!(
            img.get_pixel(4, 5),
            &Rgba([0, 0, 0, 0]),
            "outside horizontally"
        );
        // The edge is anti-aliased: some pixels partly covered.
        assert!(img.pixels().any(|p| p[3] > 0 && p[3] < 255));
        let mut bad = RgbaImage::from_pixel(4, 4, Rgba([1, 2, 3, 255]));
        round_crop(&mut bad, 2.0, 2.0, 0.0, f64::NAN);
        assert!(bad.pixels().all(|p| p[3] == 0));
    }

    #[test]
    fn opacity_scales_alpha() {
        let mut img = RgbaImage::from_pixel(2, 2, Rgba([9, 9, 9, 200]));
        set_opacity(&mut img, 0.5);
        assert_eq!(img.get_pixel(0, 0), &Rgba([9, 9, 9, 100]));
        // SIH alpha 50: a 1x1 of alpha trunc(255 * 0.5) = 127 composited dest-in.
        let mut img = RgbaImage::from_pixel(1, 1, Rgba([9, 9, 9, 255]));
        set_opacity(&mut img, 127.0 / 255.0);
        assert_eq!(img.get_pixel(0, 0)[3], 127);
        set_opacity(&mut img, 0.5);
        assert_eq!(img.get_pixel(0, 0)[3], 63, "63.5 truncates");
        let mut img = RgbaImage::from_pixel(1, 1, Rgba([9, 9, 9, 100]));
        set_opacity(&mut img, f32::NAN);
        assert_eq!(img.get_pixel(0, 0)[3], 100);
        set_opacity(&mut img, -3.0);
        assert_eq!(img.get_pixel(0, 0), &Rgba([0, 0, 0, 0]));
    }

    #[test]
    fn composite_clips_at_every_edge() {
        let white = Rgba([255, 255, 255, 255]);
        let red = Rgba([255, 0, 0, 255]);
        let mut base = RgbaImage::from_pixel(4, 4, white);
        let over = RgbaImage::from_pixel(3, 3, red);
        composite_over(&mut base, &over, -2, -1);
        let reds: Vec<(u32, u32)> = base
            .enumerate_pixels()
            .filter(|p| *p.2 == red)
            .map(|p| (p.0, p.1))
            .collect();
        assert_eq!(reds, vec![(0, 0), (0, 1)]);
        let mut base = RgbaImage::from_pixel(4, 4, white);
        composite_over(&mut base, &over, 3, 3);
        assert_eq!(base.get_pixel(3, 3), &red);
        assert_eq!(base.pixels().filter(|p| **p == red).count(), 1);
        let mut base = RgbaImage::from_pixel(4, 4, white);
        composite_over(&mut base, &over, i64::MIN, i64::MAX);
        composite_over(&mut base, &over, 4, 0);
        assert!(base.pixels().all(|p| *p == white));
    }

    #[test]
    fn composite_blends_half_transparent() {
        let mut base = RgbaImage::from_pixel(1, 1, Rgba([255, 255, 255, 255]));
        composite_over(
            &mut base,
            &RgbaImage::from_pixel(1, 1, Rgba([255, 0, 0, 128])),
            0,
            0,
        );
        // 255 * 128/255 + 255 * (1 - 128/255) for red; 255 * 127/255 = 127 for green.
        assert_eq!(base.get_pixel(0, 0), &Rgba([255, 127, 127, 255]));
        let mut clear = RgbaImage::new(1, 1);
        composite_over(
            &mut clear,
            &RgbaImage::from_pixel(1, 1, Rgba([0, 0, 255, 64])),
            0,
            0,
        );
        assert_eq!(clear.get_pixel(0, 0), &Rgba([0, 0, 255, 64]));
    }

    #[test]
    fn affine_canvas_and_pixels_follow_libvips() {
        // Canvas sizes sharp 0.34.2 gave for these matrices.
        for (w, h, m, size) in [
            (200, 125, [1.0, 0.3, 0.1, 0.7], (238.0, 108.0)),
            (100, 37, [1.0, 0.3, 0.1, 0.7], (111.0, 36.0)),
            (200, 125, [0.5, 0.0, 0.0, 0.5], (100.0, 63.0)),
            (200, 125, [0.0, 1.0, 1.0, 0.0], (125.0, 200.0)),
            (200, 150, [0.707, -0.707, 0.707, 0.707], (247.0, 247.0)),
            (100, 37, [1.5, 0.2, -0.3, 0.9], (157.0, 63.0)),
        ] {
            let (_, _, cw, ch) = affine_canvas(w, h, m);
            assert_eq!((cw, ch), size, "{w}x{h} {m:?}");
        }
        let img = RgbaImage::from_fn(7, 5, |x, y| Rgba([(x * 30) as u8, (y * 50) as u8, 9, 255]));
        assert_eq!(
            affine(&img, [1.0, 0.0, 0.0, 1.0], [0; 4], false),
            Ok(img.clone())
        );
        assert_eq!(
            affine(&img, [1.0, 1.0, 1.0, 1.0], [0; 4], false),
            Err(BadAffine)
        );
        assert_eq!(
            affine(&img, [0.01, 0.0, 0.0, 0.01], [0; 4], false),
            Err(BadAffine)
        );
        // sharp's own pixels through sharp's affine (tests/fixtures/sharp/make.cjs).
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sharp");
        let load = |name: &str| {
            image::open(format!("{dir}/{name}"))
                .expect("fixture")
                .to_rgba8()
        };
        let ours = affine(
            &load("band-in.png"),
            [1.0, 0.3, 0.1, 0.7],
            [0, 0, 0, 255],
            false,
        )
        .expect("affine");
        let sharp = load("band-affine.png");
        assert_eq!(ours.dimensions(), sharp.dimensions());
        let diff: u64 = ours
            .as_raw()
            .iter()
            .zip(sharp.as_raw())
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = diff as f64 / ours.as_raw().len() as f64;
        assert!(mean < 0.01, "{mean}");
        let worst = ours
            .as_raw()
            .iter()
            .zip(sharp.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert_eq!(worst, Some(1));
    }
}
