//! Where a `cover` crop goes when sharp's `position` is a strategy, `entropy` (16) or
//! `attention` (17): libvips's `smartcrop`, run on the image already scaled to cover the
//! target, as sharp runs it.
//!
//! - **entropy** trims the scaled image towards the target in up to eight slices a side,
//!   each time dropping whichever of the two opposite edge slices has the lower Shannon entropy
//!   (of the histograms of all bands together, colours premultiplied by alpha). The same
//!   arithmetic as libvips, so the same offsets as sharp.
//! - **attention** shrinks the image to 32x32 and adds three maps: edges (a Laplacian of the
//!   luminance Y), skin tones (closeness to a skin direction in XYZ) and red-green saturation
//!   (CIELAB a*), the last two only where Y > 5; it blurs the sum and centres the crop on its
//!   maximum. Within one cell of the 32x32 grid of libvips's choice (the shrink's kernel
//!   differs).

use super::filters::color;
use super::pixels::Px;

/// The (left, top) of a `width` x `height` crop of `px` by Shannon entropy.
pub(crate) fn entropy(px: &Px, width: u32, height: u32) -> (u32, u32) {
    let bands = Bands::of(px);
    let (target_w, target_h) = (width.min(bands.width), height.min(bands.height));
    let (mut left, mut top) = (0, 0);
    let (mut w, mut h) = (bands.width, bands.height);
    // Eight steps on the axis that needs trimming most.
    let slice = (w - target_w).div_ceil(8).max((h - target_h).div_ceil(8));
    while w > target_w || h > target_h {
        let slice_w = (w - target_w).min(slice);
        let slice_h = (h - target_h).min(slice);
        if slice_w > 0 {
            let first = bands.entropy(left, top, slice_w, h);
            let last = bands.entropy(left + w - slice_w, top, slice_w, h);
            w -= slice_w;
            if first < last {
                left += slice_w;
            }
        }
        if slice_h > 0 {
            let first = bands.entropy(left, top, w, slice_h);
            let last = bands.entropy(left, top + h - slice_h, w, slice_h);
            h -= slice_h;
            if first < last {
                top += slice_h;
            }
        }
    }
    (left, top)
}

/// The (left, top) of a `width` x `height` crop of `px` centred on what draws attention.
pub(crate) fn attention(px: &Px, width: u32, height: u32) -> (u32, u32) {
    const GRID: u32 = 32;
    let (w, h) = (px.width(), px.height());
    let (width, height) = (width.min(w), height.min(h));
    let (hscale, vscale) = (
        f64::from(GRID) / f64::from(w),
        f64::from(GRID) / f64::from(h),
    );
    let sigma = (((f64::from(width) * hscale).powi(2) + (f64::from(height) * vscale).powi(2))
        .sqrt()
        / 10.0)
        .max(1.0);
    // Only the premultiplied colours count; shrunk as plain RGB, so transparent pixels weigh
    // in as black, as in libvips (an RGBA resize would weigh them out).
    let colours = match premultiplied(px) {
        Px::Rgba(i) => Px::Rgb(image::DynamicImage::ImageRgba8(i).into_rgb8()),
        rgb => rgb,
    };
    let Ok(small) = colours.resize(GRID, GRID) else {
        return ((w - width) / 2, (h - height) / 2);
    };
    let n = (GRID * GRID) as usize;
    let (raw, channels) = match &small {
        Px::Rgb(i) => (i.as_raw().as_slice(), 3),
        Px::Rgba(i) => (i.as_raw().as_slice(), 4),
    };
    let lut = color::decode_lut();
    let mut xyz = vec![[0f64; 3]; n];
    let mut a_star = vec![0f64; n];
    for (i, p) in raw.chunks_exact(channels).enumerate() {
        let lin = [lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize]];
        let (r, g, b) = (f64::from(lin[0]), f64::from(lin[1]), f64::from(lin[2]));
        xyz[i] = [
            100.0 * (0.4124 * r + 0.3576 * g + 0.1805 * b),
            100.0 * (0.2126 * r + 0.7152 * g + 0.0722 * b),
            100.0 * (0.0193 * r + 0.1192 * g + 0.9505 * b),
        ];
        a_star[i] = f64::from(color::linear_to_lab(lin)[1]);
    }
    let g = GRID as usize;
    let y_at = |x: isize, y: isize| {
        let cx = x.clamp(0, g as isize - 1) as usize;
        let cy = y.clamp(0, g as isize - 1) as usize;
        xyz[cy * g + cx][1]
    };
    const SKIN: [f64; 3] = [-0.78, -0.57, -0.44];
    let mut score = vec![0f64; n];
    for y in 0..g {
        for x in 0..g {
            let (xi, yi) = (x as isize, y as isize);
            let laplacian = 4.0 * y_at(xi, yi)
                - y_at(xi, yi - 1)
                - y_at(xi, yi + 1)
                - y_at(xi - 1, yi)
                - y_at(xi + 1, yi);
            let i = y * g + x;
            let mut s = (5.0 * laplacian).abs();
            let [cx, cy, cz] = xyz[i];
            if cy > 5.0 {
                let norm = (cx * cx + cy * cy + cz * cz).sqrt().max(f64::MIN_POSITIVE);
                let d = [
                    cx / norm + SKIN[0],
                    cy / norm + SKIN[1],
                    cz / norm + SKIN[2],
                ];
                let distance = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                s += 100.0 - 100.0 * distance + a_star[i];
            }
            score[i] = s;
        }
    }
    let blurred = blur(&score, g, sigma);
    let mut best = 0;
    for (i, v) in blurred.iter().enumerate() {
        if *v > blurred[best] {
            best = i;
        }
    }
    let centre_x = ((best % g) as f64 / hscale) as i64;
    let centre_y = ((best / g) as f64 / vscale) as i64;
    let place = |centre: i64, size: u32, whole: u32| {
        (centre - i64::from(size / 2)).clamp(0, i64::from(whole - size)) as u32
    };
    (place(centre_x, width, w), place(centre_y, height, h))
}

/// A separable Gaussian blur of a `g` x `g` map, edges copied; the mask reaches out to where
/// the Gaussian falls under 0.2, as libvips's `gaussblur` default.
fn blur(map: &[f64], g: usize, sigma: f64) -> Vec<f64> {
    let half = (sigma * (2.0 * 5f64.ln()).sqrt()).ceil() as isize;
    let mask: Vec<f64> = (-half..=half)
        .map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = mask.iter().sum();
    let at = |v: isize| v.clamp(0, g as isize - 1) as usize;
    // One pass along x (step 1) or y (step g), edges copied.
    let pass = |src: &[f64], step: usize| -> Vec<f64> {
        let mut out = vec![0f64; g * g];
        for y in 0..g {
            for x in 0..g {
                let (along, base) = if step == 1 { (x, y * g) } else { (y, x) };
                out[y * g + x] = mask
                    .iter()
                    .zip(-half..=half)
                    .map(|(m, d)| m * src[base + at(along as isize + d) * step])
                    .sum::<f64>()
                    / total;
            }
        }
        out
    };
    pass(&pass(map, 1), g)
}

/// A copy of `px` with its colours premultiplied by alpha (rounded), as libvips searches a
/// premultiplied image.
fn premultiplied(px: &Px) -> Px {
    match px {
        Px::Rgb(i) => Px::Rgb(i.clone()),
        Px::Rgba(i) => {
            let mut i = i.clone();
            for p in i.pixels_mut() {
                let a = f64::from(p[3]) / 255.0;
                for c in &mut p.0[..3] {
                    *c = (f64::from(*c) * a).round_ties_even() as u8;
                }
            }
            Px::Rgba(i)
        }
    }
}

/// The pixels as bands for the entropy search: RGB, or RGBA with the colours premultiplied
/// (rounded), the alpha band kept.
struct Bands {
    width: u32,
    height: u32,
    channels: usize,
    raw: Vec<u8>,
}

impl Bands {
    fn of(px: &Px) -> Self {
        let (raw, channels) = match premultiplied(px) {
            Px::Rgb(i) => (i.into_raw(), 3),
            Px::Rgba(i) => (i.into_raw(), 4),
        };
        Self {
            width: px.width(),
            height: px.height(),
            channels,
            raw,
        }
    }

    /// libvips's `hist_entropy` of `hist_find` over an area: -sum(p log2 p), p a bin's count
    /// over the count of all bins of all bands.
    fn entropy(&self, left: u32, top: u32, width: u32, height: u32) -> f64 {
        let mut hist = vec![0u64; 256 * self.channels];
        let stride = self.width as usize * self.channels;
        for y in top..top + height {
            let start = y as usize * stride + left as usize * self.channels;
            let row = &self.raw[start..start + width as usize * self.channels];
            for p in row.chunks_exact(self.channels) {
                for (band, v) in p.iter().enumerate() {
                    hist[band * 256 + *v as usize] += 1;
                }
            }
        }
        let total = (u64::from(width) * u64::from(height) * self.channels as u64) as f64;
        -hist
            .iter()
            .filter(|c| **c > 0)
            .map(|c| {
                let p = *c as f64 / total;
                p * p.log2()
            })
            .sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sharp 0.34.2's own scaled image (`tests/fixtures/sharp/make.cjs`), so the search sees
    /// exactly the pixels libvips searched.
    fn sharps_scaled(name: &str) -> Px {
        let path = format!("{}/tests/fixtures/sharp/{name}", env!("CARGO_MANIFEST_DIR"));
        let img = image::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        if img.color().has_alpha() {
            Px::Rgba(img.into_rgba8())
        } else {
            Px::Rgb(img.into_rgb8())
        }
    }

    #[test]
    fn entropy_finds_sharps_offsets_on_sharps_pixels() {
        // Portrait_1's fifth step is a near tie (8.532 against 8.511 bits), so only the same
        // pixels give the same answer; the alpha case checks the premultiplication.
        let portrait = sharps_scaled("Portrait_1-outside-300x200.png");
        assert_eq!(entropy(&portrait, 300, 200), (0, 218));
        let toucan = sharps_scaled("pil123rgba-outside-100x40.png");
        assert_eq!(entropy(&toucan, 100, 40), (0, 25));
        // No trimming needed: the origin.
        assert_eq!(entropy(&toucan, 100, 93), (0, 0));
    }

    #[test]
    fn attention_lands_within_a_grid_cell_of_sharp() {
        // sharp's `position: "attention"` offsets for the same resizes: (0, 209) and (0, 17).
        let portrait = sharps_scaled("Portrait_1-outside-300x200.png");
        let (l, t) = attention(&portrait, 300, 200);
        assert!(l == 0 && t.abs_diff(209) <= 450 / 32, "({l}, {t})");
        let toucan = sharps_scaled("pil123rgba-outside-100x40.png");
        let (l, t) = attention(&toucan, 100, 40);
        assert!(
            l == 0 && t.abs_diff(17) <= 93_u32.div_ceil(32),
            "({l}, {t})"
        );
    }

    #[test]
    fn uniform_images_and_tiny_targets_stay_in_bounds() {
        let flat = Px::Rgb(image::RgbImage::from_pixel(50, 20, image::Rgb([7, 7, 7])));
        for (w, h) in [(1, 1), (50, 1), (1, 20), (49, 19), (50, 20), (80, 40)] {
            for (l, t) in [entropy(&flat, w, h), attention(&flat, w, h)] {
                assert!(
                    l + w.min(50) <= 50 && t + h.min(20) <= 20,
                    "{w}x{h}: ({l}, {t})"
                );
            }
        }
    }
}
