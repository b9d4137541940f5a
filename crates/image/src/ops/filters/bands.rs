//! Operations across the bands of an image, as sharp runs them through libvips: `recomb`,
//! `bandbool`, `extractChannel`, `unflatten`, and `clahe` (libvips' `hist_local`).
//!
//! Results that sharp holds as a one-band (B_W) image are written here as grey RGB, which is
//! what sharp turns them into before writing when the output colour space is sRGB, and which
//! looks the same in every format.

use image::RgbaImage;

use super::color::{luminance_u8, trunc_u8};

/// libvips' bitwise operations across bands (sharp `bandbool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BandOp {
    /// Bitwise AND of every band.
    And,
    /// Bitwise OR of every band.
    Or,
    /// Bitwise exclusive OR of every band.
    Eor,
}

impl BandOp {
    /// sharp's names: `and`, `or`, `eor`.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "and" => Some(Self::And),
            "or" => Some(Self::Or),
            "eor" => Some(Self::Eor),
            _ => None,
        }
    }

    fn fold(self, values: &[u8]) -> u8 {
        let mut it = values.iter().copied();
        let first = it.next().unwrap_or(0);
        it.fold(first, |acc, v| match self {
            Self::And => acc & v,
            Self::Or => acc | v,
            Self::Eor => acc ^ v,
        })
    }
}

/// sharp `recomb(matrix)`: every pixel's bands multiplied by a 3x3 (colour only, alpha kept)
/// or 4x4 (alpha too) matrix, row by row, the float result cast back to a byte as libvips
/// does (clipped, truncated; NaN is 0). `bands` is the number of bands of the image at this
/// point: 3 when it is opaque, 4 with alpha. A 4x4 matrix on 3 bands is libvips' error, which
/// the caller reports; here it leaves the image unchanged.
///
/// `premultiplied` says that sharp holds the image premultiplied by alpha at this point (it
/// does for an image with alpha that it resizes, blurs, convolves or sharpens) and
/// divides by the new alpha afterwards; that matters only when a 4x4 matrix changes alpha.
pub(crate) fn recomb(img: &mut RgbaImage, matrix: &[f64], bands: usize, premultiplied: bool) {
    let n = match matrix.len() {
        9 => 3,
        16 if bands == 4 => 4,
        _ => return,
    };
    let premultiplied = premultiplied && n == 4;
    let m: Vec<f32> = matrix.iter().map(|&v| v as f32).collect();
    for p in img.pixels_mut() {
        let mut input = p.0.map(f32::from);
        if premultiplied {
            let a = input[3] / 255.0;
            input[..3].iter_mut().for_each(|c| *c *= a);
        }
        let mut out = input;
        for (row, o) in out.iter_mut().enumerate().take(n) {
            *o = (0..n).map(|col| m[row * n + col] * input[col]).sum();
        }
        if premultiplied {
            let a = out[3].clamp(0.0, 255.0);
            out[..3]
                .iter_mut()
                .for_each(|c| *c = if a > 0.0 { *c * 255.0 / a } else { 0.0 });
        }
        for (dst, v) in p.0.iter_mut().zip(out).take(n) {
            *dst = if v.is_nan() { 0 } else { trunc_u8(v) };
        }
    }
}

/// sharp `bandbool(op)`: one band, the bitwise `op` of all `bands` bands of each pixel (alpha
/// included when there is one), written as opaque grey.
pub(crate) fn bandbool(img: &mut RgbaImage, op: BandOp, bands: usize) {
    let bands = bands.clamp(1, 4);
    to_grey(img, |p| op.fold(&p[..bands]));
}

/// sharp `extractChannel(n)`: band `n` alone, written as opaque grey. The caller has checked
/// that the band exists.
pub(crate) fn extract_channel(img: &mut RgbaImage, band: usize) {
    let band = band.min(3);
    to_grey(img, |p| p[band]);
}

/// Every pixel becomes the opaque grey `value` gives for it: a one-band result, written as
/// sharp writes it to sRGB.
fn to_grey(img: &mut RgbaImage, value: impl Fn(&[u8; 4]) -> u8) {
    for p in img.pixels_mut() {
        let v = value(&p.0);
        p.0 = [v, v, v, 255];
    }
}

/// sharp `unflatten()`: white becomes transparent. A pixel whose B_W value (linear-light
/// luminance, as libvips converts sRGB to B_W) is 255 gets alpha 0; others keep theirs.
pub(crate) fn unflatten(img: &mut RgbaImage) {
    for p in img.pixels_mut() {
        if luminance_u8(p[0], p[1], p[2]) == 255 {
            p.0[3] = 0;
        }
    }
}

/// Why [`clahe`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaheError {
    /// The window is larger than the image (libvips' "window too large").
    WindowTooLarge,
    /// `expired` said the time budget is spent.
    OutOfTime,
}

/// sharp `clahe({width, height, maxSlope})`, which is libvips' `hist_local`: each band of each
/// pixel is replaced by its rank in the histogram of the `width` x `height` window around it
/// (the image mirrored at its edges), scaled to 0..=255. With `max_slope` > 0 every
/// histogram bin is clipped at `max_slope` counts and what was clipped is spread evenly over
/// the 256 bins (contrast limiting). `bands` is 3 for an opaque image, 4 with alpha (libvips
/// equalises alpha too; an opaque alpha stays opaque). A window larger than the image is
/// libvips' "window too large". It costs up to 128 bins summed plus 2 x `height` histogram
/// updates per pixel and band, so `expired` is asked once a row and stops it when the time
/// budget is spent.
pub(crate) fn clahe(
    img: &RgbaImage,
    width: u32,
    height: u32,
    max_slope: u32,
    bands: usize,
    expired: &dyn Fn() -> bool,
) -> Result<RgbaImage, ClaheError> {
    let (w, h) = img.dimensions();
    if width == 0 || height == 0 || width > w || height > h {
        return Err(ClaheError::WindowTooLarge);
    }
    let (w, h) = (w as usize, h as usize);
    let (win_w, win_h) = (width as usize, height as usize);
    let area = (win_w * win_h) as u64;
    // Mirror with the edge pixel repeated: -1 is 0, w is w - 1.
    let mirror = |i: isize, n: usize| -> usize {
        let n = n as isize;
        let period = 2 * n;
        let m = i.rem_euclid(period);
        (if m < n { m } else { period - 1 - m }) as usize
    };
    let cols: Vec<usize> = (0..w + win_w - 1)
        .map(|x| mirror(x as isize - (win_w / 2) as isize, w))
        .collect();
    let raw = img.as_raw();
    let mut out = img.clone();
    let bands = bands.clamp(1, 4);
    // Counts above the cap are clipped (0: no limit). The clipped excess (`over`) is kept up
    // to date as pixels enter and leave the window, and the rank is summed from whichever end
    // of the histogram is nearer the pixel's value: the same sums as libvips' full scan.
    let cap = if max_slope > 0 { max_slope } else { u32::MAX };
    let mut hist = [0u32; 256];
    let add = |hist: &mut [u32; 256], over: &mut u64, v: u8| {
        let h = &mut hist[usize::from(v)];
        if *h >= cap {
            *over += 1;
        }
        *h += 1;
    };
    let remove = |hist: &mut [u32; 256], over: &mut u64, v: u8| {
        let h = &mut hist[usize::from(v)];
        *h -= 1;
        if *h >= cap {
            *over -= 1;
        }
    };
    for band in 0..bands {
        for y in 0..h {
            if expired() {
                return Err(ClaheError::OutOfTime);
            }
            let rows: Vec<usize> = (0..win_h)
                .map(|j| mirror((y + j) as isize - (win_h / 2) as isize, h))
                .collect();
            let at = |col: usize, row: usize| raw[(row * w + col) * 4 + band];
            hist.fill(0);
            let mut over = 0u64;
            for &row in &rows {
                for &col in &cols[..win_w] {
                    add(&mut hist, &mut over, at(col, row));
                }
            }
            for x in 0..w {
                let target = usize::from(raw[(y * w + x) * 4 + band]);
                let kept = |c: &u32| u64::from((*c).min(cap));
                let below = if target < 128 {
                    hist[..=target].iter().map(kept).sum::<u64>()
                } else {
                    (area - over) - hist[target + 1..].iter().map(kept).sum::<u64>()
                };
                let sum = below + (target as u64 + 1) * over / 256;
                out.as_mut()[(y * w + x) * 4 + band] = (255 * sum / area).min(255) as u8;
                if x + 1 < w {
                    for &row in &rows {
                        remove(&mut hist, &mut over, at(cols[x], row));
                        add(&mut hist, &mut over, at(cols[x + win_w], row));
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use image::Rgba;

    use super::*;

    fn one(p: [u8; 4]) -> RgbaImage {
        RgbaImage::from_pixel(1, 1, Rgba(p))
    }

    #[test]
    fn sepia_recomb_by_hand() {
        let mut img = one([100, 150, 200, 77]);
        let sepia = [
            0.3588, 0.7044, 0.1368, 0.2990, 0.5870, 0.1140, 0.2392, 0.4696, 0.0912,
        ];
        recomb(&mut img, &sepia, 4, true);
        // 35.88 + 105.66 + 27.36 = 168.9; 29.9 + 88.05 + 22.8 = 140.75; 23.92 + 70.44 + 18.24.
        assert_eq!(img.get_pixel(0, 0).0, [168, 140, 112, 77]);
        // 4x4: alpha takes part; a 4x4 on three bands is refused upstream and ignored here.
        let mut img = one([10, 20, 30, 40]);
        let swap = [
            0., 0., 0., 1., 0., 0., 1., 0., 0., 1., 0., 0., 1., 0., 0., 0.,
        ];
        recomb(&mut img, &swap, 4, false);
        assert_eq!(img.get_pixel(0, 0).0, [40, 30, 20, 10]);
        recomb(&mut img, &swap, 3, false);
        assert_eq!(img.get_pixel(0, 0).0, [40, 30, 20, 10]);
        // Clipped both ways.
        let mut img = one([200, 200, 200, 255]);
        recomb(&mut img, &[2., 0., 0., 0., -1., 0., 0., 0., 1.], 3, false);
        assert_eq!(img.get_pixel(0, 0).0, [255, 0, 200, 255]);
    }

    #[test]
    fn bandbool_and_extract() {
        let mut img = one([0b1100, 0b1010, 0b1111, 0b0110]);
        let copy = img.clone();
        bandbool(&mut img, BandOp::And, 3);
        assert_eq!(img.get_pixel(0, 0).0, [0b1000, 0b1000, 0b1000, 255]);
        let mut img = copy.clone();
        bandbool(&mut img, BandOp::Eor, 4);
        assert_eq!(img.get_pixel(0, 0)[0], 0b1100 ^ 0b1010 ^ 0b1111 ^ 0b0110);
        let mut img = copy.clone();
        bandbool(&mut img, BandOp::Or, 3);
        assert_eq!(img.get_pixel(0, 0)[0], 0b1111);
        let mut img = copy;
        extract_channel(&mut img, 3);
        assert_eq!(img.get_pixel(0, 0).0, [0b0110, 0b0110, 0b0110, 255]);
        assert_eq!(BandOp::from_name("xor"), None);
    }

    #[test]
    fn only_white_unflattens() {
        let mut img = RgbaImage::from_fn(3, 1, |x, _| match x {
            0 => Rgba([255, 255, 255, 200]),
            1 => Rgba([254, 254, 254, 200]),
            _ => Rgba([255, 255, 0, 200]),
        });
        unflatten(&mut img);
        let alphas: Vec<u8> = img.pixels().map(|p| p[3]).collect();
        assert_eq!(alphas, [0, 200, 200]);
    }

    #[test]
    fn clahe_ranks_within_the_window() {
        // A 1x3 window over a ramp: each pixel's rank among itself and its two neighbours.
        let img = RgbaImage::from_fn(4, 1, |x, _| Rgba([[10, 20, 30, 40][x as usize], 0, 0, 255]));
        let out = clahe(&img, 3, 1, 0, 4, &|| false).unwrap();
        // x=0 sees (mirrored) 10, 10, 20: two at or below 10 -> 255*2/3 = 170.
        // x=1 sees 10, 20, 30 -> 170; x=3 sees 30, 40, 40 -> 255.
        let reds: Vec<u8> = out.pixels().map(|p| p[0]).collect();
        assert_eq!(reds, [170, 170, 170, 255]);
        // Band 1 is flat: every pixel is the top of its histogram. Alpha stays opaque.
        assert!(out.pixels().all(|p| p[1] == 255 && p[3] == 255));
        // Contrast limiting: a flat window clipped at 1 count spreads the rest evenly.
        let flat = RgbaImage::from_pixel(4, 4, Rgba([100, 100, 100, 255]));
        let out = clahe(&flat, 4, 4, 1, 3, &|| false).unwrap();
        // kept 1 + (101 * 15) / 256 = 1 + 5 = 6 of 16 -> 255 * 6 / 16 = 95.
        assert_eq!(out.get_pixel(0, 0)[0], 95);
        assert_eq!(
            clahe(&flat, 5, 1, 0, 3, &|| false),
            Err(ClaheError::WindowTooLarge)
        );
        assert_eq!(
            clahe(&flat, 2, 2, 0, 3, &|| true),
            Err(ClaheError::OutOfTime)
        );
    }

    // On sharp's own resized pixels (`tests/fixtures/sharp/make.cjs`), libvips' hist_local
    // result is matched exactly, with and without contrast limiting.
    #[test]
    fn clahe_is_libvips_hist_local_exactly() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sharp");
        let load = |name: &str| image::open(format!("{dir}/{name}")).unwrap().to_rgba8();
        let input = load("band-in.png");
        assert_eq!(
            clahe(&input, 15, 9, 3, 3, &|| false).unwrap(),
            load("band-clahe.png")
        );
        assert_eq!(
            clahe(&input, 15, 9, 0, 3, &|| false).unwrap(),
            load("band-in-clahe-15x9-0.png")
        );
    }
}
