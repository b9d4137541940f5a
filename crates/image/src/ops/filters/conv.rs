//! Neighbourhood filters: blur, sharpen, convolve, median. Edges are extended by copying the
//! border pixel, as libvips' `conv` and `rank` do. Filters that sharp runs on premultiplied
//! alpha (blur, sharpen, convolve) run on premultiplied values here, so colour never bleeds out
//! of transparent pixels.

use image::RgbaImage;

use super::color::{lab_to_srgb, lab_to_srgb_f32, srgb_f32_to_lab, srgb_to_lab, to_u8, trunc_u8};
use super::par_rows;

/// Largest gaussian half-width: libvips refuses masks past 10k ("mask too large").
const MAX_HALF_WIDTH: usize = 5_000;
/// sharp's `median` accepts sizes 1..=1000.
const MAX_MEDIAN: u32 = 1_000;
/// sharp's `convolve` accepts kernel sides 3..=1001.
const MAX_KERNEL_SIDE: u32 = 1_001;

/// RGBA as f32, premultiplied by alpha when any pixel is not opaque (then `true`).
fn to_planar(img: &RgbaImage) -> (Vec<f32>, bool) {
    let premultiply = img.pixels().any(|p| p[3] != 255);
    let mut out = Vec::with_capacity(img.as_raw().len());
    if premultiply {
        for p in img.as_raw().chunks_exact(4) {
            let a = f32::from(p[3]) / 255.0;
            out.extend_from_slice(&[
                f32::from(p[0]) * a,
                f32::from(p[1]) * a,
                f32::from(p[2]) * a,
                f32::from(p[3]),
            ]);
        }
    } else {
        out.extend(img.as_raw().iter().map(|&v| f32::from(v)));
    }
    (out, premultiply)
}

/// Back to 8-bit RGBA, unpremultiplying when `premultiplied`; otherwise the source was
/// opaque and stays so.
fn from_planar(width: u32, height: u32, data: &[f32], premultiplied: bool) -> RgbaImage {
    let mut raw = Vec::with_capacity(data.len());
    for p in data.chunks_exact(4) {
        if premultiplied {
            let a = p[3].clamp(0.0, 255.0);
            let f = if a > 0.0 { 255.0 / a } else { 0.0 };
            // sharp casts the unpremultiplied floats back to bytes: truncation.
            raw.extend_from_slice(&[
                trunc_u8(p[0] * f),
                trunc_u8(p[1] * f),
                trunc_u8(p[2] * f),
                trunc_u8(a),
            ]);
        } else {
            // An opaque image stands for sharp's alpha-less input: alpha is not filtered.
            raw.extend_from_slice(&[to_u8(p[0]), to_u8(p[1]), to_u8(p[2]), 255]);
        }
    }
    RgbaImage::from_raw(width, height, raw).unwrap_or_else(|| RgbaImage::new(width, height))
}

/// libvips' `gaussmat` with sharp's settings (integer precision): the separable mask and its sum.
fn gauss_mask(sigma: f32, min_ampl: f64) -> Vec<f32> {
    let sig2 = 2.0 * f64::from(sigma) * f64::from(sigma);
    let max_x = (8.0 * f64::from(sigma)).clamp(0.0, MAX_HALF_WIDTH as f64) as usize;
    let mut x = 0;
    while x < max_x {
        if (-((x * x) as f64) / sig2).exp() < min_ampl {
            break;
        }
        x += 1;
    }
    let half = x.saturating_sub(1);
    let width = 2 * half + 1;
    let mut mask: Vec<f32> = (0..width)
        .map(|i| {
            let d = i as f64 - half as f64;
            (20.0 * (-(d * d) / sig2).exp()).round() as f32
        })
        .collect();
    let sum: f32 = mask.iter().sum();
    let sum = if sum == 0.0 { 1.0 } else { sum };
    mask.iter_mut().for_each(|v| *v /= sum);
    mask
}

/// Convolves each row of `src` (interleaved, `channels` per pixel) with `mask`, edges copied.
fn conv_rows(src: &[f32], w: usize, h: usize, channels: usize, mask: &[f32]) -> Vec<f32> {
    let half = mask.len() / 2;
    let mut out = vec![0.0f32; w * h * channels];
    par_rows(
        &mut out,
        w * channels,
        w * mask.len() * channels,
        |y0, band| {
            let mut line = vec![0.0f32; (w + 2 * half) * channels];
            for (dy, dst) in band.chunks_exact_mut(w * channels).enumerate() {
                let y = y0 + dy;
                let row = &src[y * w * channels..(y + 1) * w * channels];
                for (i, px) in line.chunks_exact_mut(channels).enumerate() {
                    let sx = i.saturating_sub(half).min(w - 1);
                    px.copy_from_slice(&row[sx * channels..(sx + 1) * channels]);
                }
                if channels == 4 {
                    for (x, d) in dst.chunks_exact_mut(4).enumerate() {
                        let mut acc = [0.0f32; 4];
                        let window = &line[x * 4..(x + mask.len()) * 4];
                        for (k, px) in mask.iter().zip(window.chunks_exact(4)) {
                            acc[0] += k * px[0];
                            acc[1] += k * px[1];
                            acc[2] += k * px[2];
                            acc[3] += k * px[3];
                        }
                        d.copy_from_slice(&acc);
                    }
                } else {
                    for (x, d) in dst.iter_mut().enumerate() {
                        *d = mask
                            .iter()
                            .zip(&line[x..x + mask.len()])
                            .map(|(k, v)| k * v)
                            .sum();
                    }
                }
            }
        },
    );
    out
}

/// Convolves columns: each output row is the mask-weighted sum of whole input rows (edge rows
/// repeated), which vectorises along the row.
fn conv_cols(src: &[f32], row_len: usize, h: usize, mask: &[f32]) -> Vec<f32> {
    let half = mask.len() / 2;
    let mut out = vec![0.0f32; row_len * h];
    par_rows(&mut out, row_len, row_len * mask.len(), |y0, band| {
        for (dy, dst) in band.chunks_exact_mut(row_len).enumerate() {
            let y = y0 + dy;
            for (k, &m) in mask.iter().enumerate() {
                if m == 0.0 {
                    continue;
                }
                let sy = (y + k).saturating_sub(half).min(h - 1);
                let row = &src[sy * row_len..(sy + 1) * row_len];
                for (d, &v) in dst.iter_mut().zip(row) {
                    *d += m * v;
                }
            }
        }
    });
    out
}

/// Runs of equal non-zero weights in a mask: `(start, end, weight)`, end exclusive.
fn mask_runs(mask: &[f32]) -> Vec<(usize, usize, f32)> {
    let mut runs: Vec<(usize, usize, f32)> = Vec::new();
    for (i, &m) in mask.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.1 == i && run.2 == m => run.1 += 1,
            _ if m != 0.0 => runs.push((i, i + 1, m)),
            _ => {}
        }
    }
    runs
}

/// [`conv_rows`] for wide masks with few distinct weights (libvips' integer gaussians take at
/// most 21 values, so even sigma 1000 is ~40 runs): each run is a box sum read from prefix
/// sums, so the cost no longer grows with the mask width.
fn conv_rows_runs(
    src: &[f32],
    w: usize,
    h: usize,
    channels: usize,
    mask_len: usize,
    runs: &[(usize, usize, f32)],
) -> Vec<f32> {
    let half = mask_len / 2;
    let mut out = vec![0.0f32; w * h * channels];
    let padded = w + 2 * half;
    par_rows(
        &mut out,
        w * channels,
        (padded + w * runs.len()) * channels,
        |y0, band| {
            let mut prefix = vec![0.0f64; (padded + 1) * channels];
            for (dy, dst) in band.chunks_exact_mut(w * channels).enumerate() {
                let y = y0 + dy;
                let row = &src[y * w * channels..(y + 1) * w * channels];
                for i in 0..padded {
                    let sx = i.saturating_sub(half).min(w - 1);
                    for c in 0..channels {
                        prefix[(i + 1) * channels + c] =
                            prefix[i * channels + c] + f64::from(row[sx * channels + c]);
                    }
                }
                for (x, d) in dst.chunks_exact_mut(channels).enumerate() {
                    for (c, d) in d.iter_mut().enumerate() {
                        let mut acc = 0.0f64;
                        for &(start, end, m) in runs {
                            let box_sum = prefix[(x + end) * channels + c]
                                - prefix[(x + start) * channels + c];
                            acc += f64::from(m) * box_sum;
                        }
                        *d = acc as f32;
                    }
                }
            }
        },
    );
    out
}

fn transpose(src: &[f32], w: usize, h: usize, channels: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; src.len()];
    for y in 0..h {
        for x in 0..w {
            let s = (y * w + x) * channels;
            let d = (x * h + y) * channels;
            out[d..d + channels].copy_from_slice(&src[s..s + channels]);
        }
    }
    out
}

/// Separable blur of interleaved data with `mask` in both directions.
fn separable(data: &[f32], w: usize, h: usize, channels: usize, mask: &[f32]) -> Vec<f32> {
    let runs = mask_runs(mask);
    if runs.len() * 4 < mask.len() {
        let horizontal = conv_rows_runs(data, w, h, channels, mask.len(), &runs);
        let t = transpose(&horizontal, w, h, channels);
        let vertical = conv_rows_runs(&t, h, w, channels, mask.len(), &runs);
        return transpose(&vertical, h, w, channels);
    }
    let horizontal = conv_rows(data, w, h, channels, mask);
    conv_cols(&horizontal, w * channels, h, mask)
}

/// Correlates interleaved RGBA with a 2-D mask (libvips `conv` does not flip the mask), edges
/// copied; `out = sum / scale + offset`.
fn conv2d(data: &[f32], w: usize, h: usize, k: &Kernel, scale: f32) -> Vec<f32> {
    let (kw, kh) = (k.width as usize, k.height as usize);
    let (hx, hy) = (kw / 2, kh / 2);
    let taps: Vec<(usize, usize, f32)> = (0..kh)
        .flat_map(|j| (0..kw).map(move |i| (i, j)))
        .filter_map(|(i, j)| {
            let v = k.kernel[j * kw + i];
            (v != 0.0).then_some((i, j, v / scale))
        })
        .collect();
    let pw = w + kw - 1;
    let ph = h + kh - 1;
    // Edge-extended copy, so the inner loop has no bounds logic.
    let mut padded = vec![0.0f32; pw * ph * 4];
    for py in 0..ph {
        let sy = py.saturating_sub(hy).min(h - 1);
        for px in 0..pw {
            let sx = px.saturating_sub(hx).min(w - 1);
            let s = (sy * w + sx) * 4;
            let d = (py * pw + px) * 4;
            padded[d..d + 4].copy_from_slice(&data[s..s + 4]);
        }
    }
    let mut out = vec![0.0f32; w * h * 4];
    par_rows(&mut out, w * 4, w * taps.len() * 4, |y0, band| {
        for (dy, dst) in band.chunks_exact_mut(w * 4).enumerate() {
            let y = y0 + dy;
            for (x, d) in dst.chunks_exact_mut(4).enumerate() {
                let mut acc = [k.offset; 4];
                for &(i, j, v) in &taps {
                    let s = ((y + j) * pw + x + i) * 4;
                    let p = &padded[s..s + 4];
                    acc[0] += v * p[0];
                    acc[1] += v * p[1];
                    acc[2] += v * p[2];
                    acc[3] += v * p[3];
                }
                d.copy_from_slice(&acc);
            }
        }
    });
    out
}

/// sharp `blur()`. `None` is the fast mild blur (3x3 box, sharp's `blur()` or `blur(true)`);
/// `Some(sigma)` is libvips' gaussian (`gaussblur`, integer mask, `min_ampl` 0.2). Sigma is
/// clamped to sharp's range 0.3..=1000; a NaN sigma returns the image unchanged. Mask cost
/// grows with sigma: 1000 means a 3,589-tap separable mask.
pub(crate) fn blur(img: &RgbaImage, sigma: Option<f32>) -> RgbaImage {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return img.clone();
    }
    match sigma {
        // sharp's 3x3 box (all ones, scale 9) is separable: a third along each axis.
        None => {
            let (data, pre) = to_planar(img);
            let out = separable(&data, w as usize, h as usize, 4, &[1.0 / 3.0; 3]);
            from_planar(w, h, &out, pre)
        }
        Some(s) if s.is_nan() => img.clone(),
        Some(s) => {
            let mask = gauss_mask(s.clamp(0.3, 1000.0), 0.2);
            let (data, pre) = to_planar(img);
            let out = separable(&data, w as usize, h as usize, 4, &mask);
            from_planar(w, h, &out, pre)
        }
    }
}

/// Options of sharp's `sharpen()`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sharpen {
    /// Sigma of the gaussian the mask uses; `None` for the fast mild 3x3 sharpen.
    pub sigma: Option<f32>,
    /// Sharpening of flat areas.
    pub m1: f32,
    /// Sharpening of jagged areas.
    pub m2: f32,
    /// Threshold between flat and jagged.
    pub x1: f32,
    /// Most brightening.
    pub y2: f32,
    /// Most darkening.
    pub y3: f32,
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

/// sharp `sharpen()`. Without sigma: the 3x3 kernel (-1 around 32, scale 24). With sigma:
/// libvips' `sharpen`, an unsharp mask on CIELAB L with the piecewise-linear response
/// (`m1` within +-`x1`, `m2` beyond, clipped at +`y2` / -`y3`). Parameters are clamped to
/// sharp's ranges (sigma 0.000001..=10, m1/m2 0..=1e6, x1/y2/y3 0..=1e6); NaN ones are
/// replaced by their defaults.
pub(crate) fn sharpen(img: &RgbaImage, opts: &Sharpen) -> RgbaImage {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return img.clone();
    }
    let Some(sigma) = opts.sigma else {
        let mut kernel = vec![-1.0; 9];
        kernel[4] = 32.0;
        return convolve(
            img,
            &Kernel {
                width: 3,
                height: 3,
                kernel,
                scale: Some(24.0),
                offset: 0.0,
            },
        );
    };
    let d = Sharpen::default();
    let pick = |v: f32, def: f32| if v.is_nan() { def } else { v.clamp(0.0, 1e6) };
    let sigma = if sigma.is_nan() {
        1.0
    } else {
        sigma.clamp(0.000_001, 10.0)
    };
    let (m1, m2) = (pick(opts.m1, d.m1), pick(opts.m2, d.m2));
    let (x1, y2, y3) = (
        pick(opts.x1, d.x1),
        pick(opts.y2, d.y2),
        pick(opts.y3, d.y3),
    );

    let (data, pre) = to_planar(img);
    let n = (w * h) as usize;
    let row = w as usize;
    let mut lab = vec![[0.0f32; 3]; n];
    par_rows(&mut lab, row, row * 64, |y0, band| {
        let src = &data[y0 * row * 4..];
        for (v, p) in band.iter_mut().zip(src.chunks_exact(4)) {
            *v = if pre {
                srgb_f32_to_lab([p[0], p[1], p[2]])
            } else {
                // Opaque: the values are whole bytes, so the decode table applies.
                srgb_to_lab(p[0] as u8, p[1] as u8, p[2] as u8)
            };
        }
    });
    let l: Vec<f32> = lab.iter().map(|v| v[0]).collect();
    let mask = gauss_mask(sigma, 0.2);
    let blurred = separable(&l, w as usize, h as usize, 1, &mask);
    let mut out = data.clone();
    par_rows(&mut out, row * 4, row * 64, |y0, band| {
        let start = y0 * row;
        for (i, o) in band.chunks_exact_mut(4).enumerate() {
            let (lab, l, bl) = (lab[start + i], l[start + i], blurred[start + i]);
            let v = l - bl;
            let y = if v < -x1 {
                (v + x1) * m2 - x1 * m1
            } else if v < x1 {
                v * m1
            } else {
                (v - x1) * m2 + x1 * m1
            };
            let y = y.clamp(-y3, y2);
            let lab = [(l + y).clamp(0.0, 100.0), lab[1], lab[2]];
            if pre {
                o[..3].copy_from_slice(&lab_to_srgb_f32(lab));
            } else {
                o[..3].copy_from_slice(&lab_to_srgb(lab).map(f32::from));
            }
        }
    });
    from_planar(w, h, &out, pre)
}

/// A convolution kernel, row-major, as sharp's `convolve()` takes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Kernel {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// `width * height` weights, row by row.
    pub kernel: Vec<f32>,
    /// Divisor; `None` means the sum of the weights (1 if that is 0).
    pub scale: Option<f32>,
    /// Added after scaling.
    pub offset: f32,
}

/// sharp `convolve()`: correlation with the kernel, edges copied, on the colour channels and,
/// when the image has any transparency, on premultiplied colour and alpha (sharp's path for
/// images with alpha; a fully opaque image stays opaque), rounded and clipped to 0..=255. Returns the image unchanged when the kernel
/// is malformed (`kernel.len() != width * height`, a side of 0 or over 1001, a non-finite
/// weight, scale or offset, or a scale of 0).
pub(crate) fn convolve(img: &RgbaImage, kernel: &Kernel) -> RgbaImage {
    let (w, h) = img.dimensions();
    let (kw, kh) = (kernel.width, kernel.height);
    let well_formed = kw >= 1
        && kh >= 1
        && kw <= MAX_KERNEL_SIDE
        && kh <= MAX_KERNEL_SIDE
        && kernel.kernel.len() == (kw * kh) as usize
        && kernel.kernel.iter().all(|v| v.is_finite())
        && kernel.offset.is_finite();
    if w == 0 || h == 0 || !well_formed {
        return img.clone();
    }
    let scale = match kernel.scale {
        Some(s) => s,
        None => {
            let sum: f32 = kernel.kernel.iter().sum();
            if sum == 0.0 { 1.0 } else { sum }
        }
    };
    if scale == 0.0 || !scale.is_finite() {
        return img.clone();
    }
    let (data, pre) = to_planar(img);
    let out = conv2d(&data, w as usize, h as usize, kernel, scale);
    from_planar(w, h, &out, pre)
}

/// sharp `median(size)`: libvips `rank` with a `size` x `size` window and the middle rank,
/// on all four channels, edges copied. `size` is clamped to sharp's 1..=1000; 1 is a copy.
pub(crate) fn median(img: &RgbaImage, size: u32) -> RgbaImage {
    let size = size.clamp(1, MAX_MEDIAN) as i64;
    let (w, h) = img.dimensions();
    if size == 1 || w == 0 || h == 0 {
        return img.clone();
    }
    let (wi, hi) = (i64::from(w), i64::from(h));
    let half = size / 2;
    let rank = (size * size / 2) as u32;
    let raw = img.as_raw();
    let mut out = vec![0u8; raw.len()];
    let clamp = |v: i64, n: i64| v.clamp(0, n - 1) as usize;
    let row_work = (w as usize) * (size.min(hi) as usize) * 8;
    par_rows(&mut out, w as usize * 4, row_work, |y0, band| {
        // (row, weight): the window's rows after edge clamping, repeated rows merged.
        let mut rows: Vec<(usize, u32)> = Vec::new();
        let mut hist = vec![[0u32; 256]; 4];
        for (dy, orow) in band.chunks_exact_mut(w as usize * 4).enumerate() {
            let y = y0 as i64 + dy as i64;
            rows.clear();
            for r in y - half..y - half + size {
                let r = clamp(r, hi);
                match rows.last_mut() {
                    Some((last, wgt)) if *last == r => *wgt += 1,
                    _ => rows.push((r, 1)),
                }
            }
            for hch in hist.iter_mut() {
                hch.fill(0);
            }
            // First window, columns merged like rows.
            let mut c = -half;
            while c < -half + size {
                let col = clamp(c, wi);
                let mut run = 1;
                while c + run < -half + size && clamp(c + run, wi) == col {
                    run += 1;
                }
                for &(r, wr) in rows.iter() {
                    let p = (r * w as usize + col) * 4;
                    for (ch, hch) in hist.iter_mut().enumerate() {
                        hch[raw[p + ch] as usize] += wr * run as u32;
                    }
                }
                c += run;
            }
            // Huang's running median: per channel the current answer and how many window values
            // are below it, nudged after each column swap instead of rescanning 256 bins.
            let mut med = [0u8; 4];
            let mut below = [0u32; 4];
            for x in 0..wi {
                if x > 0 {
                    let gone = clamp(x - 1 - half, wi);
                    let new = clamp(x - half + size - 1, wi);
                    if gone != new {
                        for &(r, wr) in rows.iter() {
                            let pg = (r * w as usize + gone) * 4;
                            let pn = (r * w as usize + new) * 4;
                            for c in 0..4 {
                                let (vg, vn) = (raw[pg + c], raw[pn + c]);
                                hist[c][vg as usize] -= wr;
                                hist[c][vn as usize] += wr;
                                if vg < med[c] {
                                    below[c] -= wr;
                                }
                                if vn < med[c] {
                                    below[c] += wr;
                                }
                            }
                        }
                    }
                }
                let o = (x * 4) as usize;
                for c in 0..4 {
                    let hc = &hist[c];
                    while below[c] > rank {
                        med[c] -= 1;
                        below[c] -= hc[med[c] as usize];
                    }
                    while below[c] + hc[med[c] as usize] <= rank {
                        below[c] += hc[med[c] as usize];
                        med[c] += 1;
                    }
                    orow[o + c] = med[c];
                }
            }
        }
    });
    RgbaImage::from_raw(w, h, out).unwrap_or_else(|| img.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn noise(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            let v = (x * 73 + y * 151 + x * y * 7) % 256;
            Rgba([v as u8, (255 - v) as u8, ((v * 3) % 256) as u8, 255])
        })
    }

    #[test]
    fn gauss_mask_matches_libvips_size_rule() {
        // exp(-x^2 / 2) >= 0.2 for x <= 1, so x stops at 2 and the mask is 3 wide.
        assert_eq!(gauss_mask(1.0, 0.2).len(), 3);
        // sigma 2: exp(-9/8) = 0.32 >= 0.2, exp(-16/8) = 0.135 < 0.2 -> x = 4, width 7.
        assert_eq!(gauss_mask(2.0, 0.2).len(), 7);
        let m = gauss_mask(2.0, 0.2);
        assert!((m.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // Integer mask: 20 * exp(-d^2 / 8) rounded -> [6, 12, 18, 20, 18, 12, 6] / 92.
        assert!((m[3] - 20.0 / 92.0).abs() < 1e-6 && (m[0] - 6.0 / 92.0).abs() < 1e-6);
    }

    #[test]
    fn wide_masks_take_the_box_sum_path_with_the_same_answer() {
        let img = noise(40, 30);
        let (data, _) = to_planar(&img);
        let mask = gauss_mask(100.0, 0.2);
        let runs = mask_runs(&mask);
        assert!(
            runs.len() * 4 < mask.len(),
            "{} runs for {} taps",
            runs.len(),
            mask.len()
        );
        let fast = conv_rows_runs(&data, 40, 30, 4, mask.len(), &runs);
        let direct = conv_rows(&data, 40, 30, 4, &mask);
        for (a, b) in fast.iter().zip(&direct) {
            assert!((a - b).abs() < 1e-2, "{a} vs {b}");
        }
        // Sigma 1000 on a small image: flat stays flat, and it is quick enough to test.
        let flat = RgbaImage::from_pixel(50, 40, Rgba([3, 130, 250, 255]));
        assert_eq!(blur(&flat, Some(1000.0)), flat);
    }

    #[test]
    fn blur_keeps_a_flat_image_and_the_mass() {
        let flat = RgbaImage::from_pixel(9, 7, Rgba([10, 200, 77, 255]));
        assert_eq!(blur(&flat, None), flat);
        assert_eq!(blur(&flat, Some(3.0)), flat);
        // A single bright dot in the middle spreads but keeps its total (away from edges).
        let mut dot = RgbaImage::from_pixel(21, 21, Rgba([0, 0, 0, 255]));
        dot.put_pixel(10, 10, Rgba([255, 255, 255, 255]));
        let out = blur(&dot, Some(1.0));
        let total: u32 = out.pixels().map(|p| u32::from(p[0])).sum();
        assert!((245..=265).contains(&total), "mass {total}");
        assert!(out.get_pixel(10, 10)[0] < 255 && out.get_pixel(11, 10)[0] > 0);
        let boxed = blur(&dot, None);
        // 255 / 9 = 28.3 in each of the 3x3 neighbours.
        assert_eq!(boxed.get_pixel(9, 9)[0], 28);
        assert_eq!(boxed.get_pixel(12, 12)[0], 0);
    }

    #[test]
    fn blur_does_not_bleed_colour_from_transparent_pixels() {
        // Opaque red next to transparent green: the blurred edge must stay pure red.
        let img = RgbaImage::from_fn(8, 1, |x, _| {
            if x < 4 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 255, 0, 0])
            }
        });
        let out = blur(&img, Some(1.0));
        for p in out.pixels().filter(|p| p[3] > 0) {
            assert_eq!((p[0], p[1]), (255, 0), "{p:?}");
        }
        assert!(out.get_pixel(4, 0)[3] > 0 && out.get_pixel(3, 0)[3] < 255);
    }

    #[test]
    fn convolve_identity_and_scale() {
        let img = noise(6, 5);
        let mut k = vec![0.0; 9];
        k[4] = 1.0;
        let id = Kernel {
            width: 3,
            height: 3,
            kernel: k,
            scale: None,
            offset: 0.0,
        };
        assert_eq!(convolve(&img, &id), img);
        // Shift kernel: weight at the right-hand tap reads the pixel to the right (no flip).
        let mut k = vec![0.0; 9];
        k[5] = 1.0;
        let shift = Kernel {
            kernel: k,
            ..id.clone()
        };
        let out = convolve(&img, &shift);
        assert_eq!(out.get_pixel(0, 0), img.get_pixel(1, 0));
        assert_eq!(out.get_pixel(5, 0), img.get_pixel(5, 0), "edge copied");
        // Zero-sum kernel: scale 1, offset added.
        let edge = Kernel {
            width: 3,
            height: 1,
            kernel: vec![-1.0, 0.0, 1.0],
            scale: None,
            offset: 128.0,
        };
        let flat = RgbaImage::from_pixel(4, 4, Rgba([50, 60, 70, 255]));
        assert_eq!(
            convolve(&flat, &edge).get_pixel(1, 1),
            &Rgba([128, 128, 128, 255])
        );
        // Malformed kernels leave the image alone.
        let bad = Kernel {
            kernel: vec![1.0; 4],
            ..id
        };
        assert_eq!(convolve(&img, &bad), img);
    }

    #[test]
    fn sharpen_flat_is_identity_and_edges_gain_contrast() {
        let flat = RgbaImage::from_pixel(5, 5, Rgba([90, 120, 200, 255]));
        assert_eq!(sharpen(&flat, &Sharpen::default()), flat);
        let slow = Sharpen {
            sigma: Some(1.0),
            ..Sharpen::default()
        };
        let out = sharpen(&flat, &slow);
        for (a, b) in out.pixels().zip(flat.pixels()) {
            for c in 0..4 {
                assert!(a[c].abs_diff(b[c]) <= 1);
            }
        }
        let step = RgbaImage::from_fn(10, 3, |x, _| {
            let v = if x < 5 { 80 } else { 160 };
            Rgba([v, v, v, 255])
        });
        for opts in [Sharpen::default(), slow] {
            let out = sharpen(&step, &opts);
            assert!(out.get_pixel(4, 1)[0] < 80, "dark side darkens");
            assert!(out.get_pixel(5, 1)[0] > 160, "bright side brightens");
            assert_eq!(out.get_pixel(0, 1)[0], 80, "far from the edge unchanged");
        }
    }

    #[test]
    fn large_images_split_into_bands_give_the_same_answer() {
        // Big enough for `par_rows` to use every core: bands must not shift or overlap rows.
        let img = noise(700, 300);
        let med = median(&img, 3);
        for (x, y) in [
            (0u32, 0u32),
            (350, 149),
            (350, 150),
            (699, 299),
            (10, 151),
            (3, 298),
        ] {
            for c in 0..4 {
                let mut v = Vec::new();
                for j in -1i64..=1 {
                    for i in -1i64..=1 {
                        let sx = (i64::from(x) + i).clamp(0, 699) as u32;
                        let sy = (i64::from(y) + j).clamp(0, 299) as u32;
                        v.push(img.get_pixel(sx, sy)[c]);
                    }
                }
                v.sort_unstable();
                assert_eq!(med.get_pixel(x, y)[c], v[4], "({x}, {y})");
            }
        }
        let mut k = vec![0.0; 9];
        k[7] = 1.0;
        let down = Kernel {
            width: 3,
            height: 3,
            kernel: k,
            scale: None,
            offset: 0.0,
        };
        let shifted = convolve(&img, &down);
        for y in [0u32, 149, 150, 298] {
            assert_eq!(shifted.get_pixel(5, y), img.get_pixel(5, y + 1), "row {y}");
        }
        let flat = RgbaImage::from_pixel(700, 300, Rgba([17, 99, 201, 255]));
        assert_eq!(blur(&flat, Some(2.0)), flat);
    }

    #[test]
    fn sharpen_with_sigma_keeps_transparent_colour_out() {
        // Opaque blue beside transparent white. Premultiplied (as sharp does), the neighbour
        // counts as black, so the blue edge may brighten; unpremultiplied, the white would
        // darken it instead.
        let img = RgbaImage::from_fn(10, 4, |x, _| {
            if x < 5 {
                Rgba([0, 0, 200, 255])
            } else {
                Rgba([255, 255, 255, 0])
            }
        });
        let opts = Sharpen {
            sigma: Some(1.5),
            ..Sharpen::default()
        };
        let out = sharpen(&img, &opts);
        for x in 0..5 {
            let p = out.get_pixel(x, 1);
            assert_eq!(p[3], 255);
            assert!(
                p[2] >= 200 && p[2] > p[0] + 100 && p[2] > p[1] + 100,
                "{x}: {p:?}"
            );
        }
    }

    #[test]
    fn median_removes_salt_and_keeps_flat() {
        let mut img = RgbaImage::from_pixel(7, 7, Rgba([20, 30, 40, 255]));
        img.put_pixel(3, 3, Rgba([255, 255, 255, 255]));
        img.put_pixel(0, 0, Rgba([255, 0, 0, 255]));
        let out = median(&img, 3);
        assert!(
            out.pixels().all(|p| *p == Rgba([20, 30, 40, 255])),
            "{out:?}"
        );
        // Brute-force comparison on noise for odd and even windows.
        let img = noise(9, 6);
        for size in [2u32, 3, 4, 5, 20] {
            let fast = median(&img, size);
            let half = (size / 2) as i64;
            for y in 0..6i64 {
                for x in 0..9i64 {
                    for c in 0..4 {
                        let mut v = Vec::new();
                        for j in 0..size as i64 {
                            for i in 0..size as i64 {
                                let sx = (x - half + i).clamp(0, 8) as u32;
                                let sy = (y - half + j).clamp(0, 5) as u32;
                                v.push(img.get_pixel(sx, sy)[c]);
                            }
                        }
                        v.sort_unstable();
                        let want = v[v.len() / 2];
                        assert_eq!(fast.get_pixel(x as u32, y as u32)[c], want, "size {size}");
                    }
                }
            }
        }
    }
}
