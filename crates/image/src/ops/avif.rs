//! AVIF output with rav1e (pure-Rust AV1) through `ravif`, with sharp's defaults: quality 50,
//! effort 4, 4:4:4 chroma, 8 bits, lossy; the alpha channel is kept.
//!
//! Options are sharp's `avif({quality, lossless, effort, chromaSubsampling, bitdepth})`:
//!
//! - `quality` (1-100) is mapped to the AV1 quantizer that sharp's encoder (libheif + libaom)
//!   uses for it, `((100 - quality) * 63 + 50) / 100` on libaom's 0-63 scale (x4 on the 0-255
//!   AV1 scale), so that a quality gives files of about the same size as sharp's.
//! - `effort` (0 fastest, 9 slowest) becomes rav1e's speed `10 - effort` (1 slowest, 10
//!   fastest), but never below 4: below it rav1e's time grows steeply (speed 4 already takes
//!   3.4 s on a 1000x750 photo at quality 80), and Lambda's budget is 25 s. So effort 0 is
//!   speed 10, sharp's default effort 4 is speed 6, effort 6 to 9 are speed 4. Measured in
//!   release on one x86-64 core for a 1000x750 photo at quality 50 (80): speed 10 0.17 s
//!   (0.16 s), 50.6 KB (112 KB); speed 6 0.67 s (0.94 s), 44.0 KB (101 KB); with an alpha
//!   channel about 20% more time.
//! - `lossless` encodes the RGB planes unconverted (identity matrix) at quantizer 0, the finest
//!   rav1e has: near-lossless, not bit-exact, since rav1e has no lossless mode.
//! - `chromaSubsampling: "4:2:0"` is accepted and ignored: `ravif` writes 4:4:4 only (sharp's
//!   default), so the output is larger than sharp's 4:2:0 but of the same dimensions.
//! - `bitdepth` is 8 only, as with sharp's prebuilt binaries.
//!
//! rav1e runs on the calling thread: one request, one thread (no rayon pool).

/// The `avif` options of the edits.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AvifOptions {
    /// sharp's quality, 1-100; 50 when unset.
    pub(crate) quality: Option<u8>,
    /// sharp's effort, 0-9; 4 when unset.
    pub(crate) effort: Option<u8>,
    /// sharp's `lossless`.
    pub(crate) lossless: bool,
}

/// rav1e's speed (1 slowest - 10 fastest) for sharp's effort (0 fastest - 9 slowest).
pub(crate) fn speed(effort: Option<u8>) -> u8 {
    (10 - effort.unwrap_or(4).min(9)).clamp(4, 10)
}

/// The AV1 quantizer (0-255) libheif's libaom encoder uses for sharp's quality (1-100).
pub(crate) fn quantizer(quality: u8) -> u8 {
    let cq_level = ((100 - u32::from(quality.clamp(1, 100))) * 63 + 50) / 100;
    // libaom's quantizer_to_qindex: 4 per step, with 62 and 63 at 249 and 255.
    match cq_level {
        62 => 249,
        63 => 255,
        n => (n * 4) as u8,
    }
}

/// The `ravif` quality whose quantizer is `q` (the inverse of ravif's private
/// `quality_to_quantizer`, which maps 100 to 0 and 1 to 252).
pub(crate) fn ravif_quality(q: u8) -> f32 {
    let x = f32::from(q) / 255.0;
    let quality = if x <= 0.468 {
        1.0 - x / 2.6
    } else if x < 0.75 {
        (0.875 - x) * 2.0
    } else {
        1.0 - x
    };
    (quality * 100.0).clamp(1.0, 100.0)
}

/// Encodes one frame as AVIF (8-bit, 4:4:4, alpha kept when the frame has any transparency).
#[cfg(feature = "avif")]
pub(crate) fn encode_avif(px: super::pixels::Px, o: &AvifOptions) -> crate::Result<Vec<u8>> {
    use super::pixels::Px;
    use super::processing_failure;
    use ravif::{BitDepth, ColorModel, Encoder, Img, RGB8, RGBA8};

    let quality = if o.lossless {
        100.0
    } else {
        ravif_quality(quantizer(o.quality.unwrap_or(50)))
    };
    let mut encoder = Encoder::new()
        .with_quality(quality)
        .with_alpha_quality(quality)
        .with_speed(speed(o.effort))
        .with_bit_depth(BitDepth::Eight)
        .with_num_threads(Some(1));
    if o.lossless {
        encoder = encoder.with_internal_color_model(ColorModel::RGB);
    }
    let (w, h) = (px.width() as usize, px.height() as usize);
    let encoded = match px {
        Px::Rgb(i) => {
            let pixels: Vec<RGB8> = i
                .as_raw()
                .chunks_exact(3)
                .map(|p| RGB8::new(p[0], p[1], p[2]))
                .collect();
            encoder.encode_rgb(Img::new(&pixels[..], w, h))
        }
        Px::Rgba(i) => {
            let pixels: Vec<RGBA8> = i
                .as_raw()
                .chunks_exact(4)
                .map(|p| RGBA8::new(p[0], p[1], p[2], p[3]))
                .collect();
            encoder.encode_rgba(Img::new(&pixels[..], w, h))
        }
    };
    encoded
        .map(|e| e.avif_file)
        .map_err(|e| processing_failure(format!("avif encode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharp_effort_maps_to_rav1e_speed() {
        assert_eq!(speed(None), 6);
        assert_eq!(speed(Some(0)), 10);
        assert_eq!(speed(Some(4)), 6);
        assert_eq!(speed(Some(5)), 5);
        assert_eq!(speed(Some(6)), 4);
        assert_eq!(speed(Some(9)), 4);
    }

    #[test]
    fn quality_maps_to_libaom_quantizer() {
        assert_eq!(quantizer(100), 0);
        assert_eq!(quantizer(50), 128);
        assert_eq!(quantizer(1), 249);
        // Lower quality, coarser quantizer.
        assert!(quantizer(30) > quantizer(80));
    }

    #[test]
    fn ravif_quality_inverts_ravif_curve() {
        // ravif's own curve, copied to check the inverse against it.
        fn to_q(quality: f32) -> u8 {
            let q = quality / 100.;
            let x = if q >= 0.82 {
                (1. - q) * 2.6
            } else if q > 0.25 {
                q.mul_add(-0.5, 1. - 0.125)
            } else {
                1. - q
            };
            (x * 255.).round() as u8
        }
        for q in [0u8, 4, 60, 100, 119, 128, 160, 190, 249] {
            let back = to_q(ravif_quality(q));
            assert!(back.abs_diff(q) <= 1, "{q} -> {back}");
        }
        assert_eq!(ravif_quality(0), 100.0);
    }
}
