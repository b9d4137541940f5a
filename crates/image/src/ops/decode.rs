//! Decoding with limits: dimensions come from the header first, so an oversized image is
//! refused before a pixel buffer exists. JPEG goes through libjpeg-turbo (mozjpeg) with DCT
//! scaling; PNG, GIF, WebP and TIFF through `image`.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use image::{AnimationDecoder, DynamicImage, ImageFormat, ImageReader, RgbImage};

use super::pixels::{Px, give_buffer, try_take_buffer};
use super::{instantiation_error, processing_failure};
use crate::{Format, Result};

/// A decoded image: one frame, or every frame of an animation with its delay.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) frames: Vec<Px>,
    /// Per-frame delays (animations only).
    pub(crate) delays: Vec<Duration>,
}

/// Width and height from the header, without decoding pixels.
pub(crate) fn dimensions(format: Format, bytes: &[u8]) -> Result<(u32, u32)> {
    match format {
        Format::Jpeg => jpeg_dimensions(bytes).ok_or_else(instantiation_error),
        // The header alone: a bomb need not carry a single valid pixel to be refused.
        Format::Png if bytes.get(12..16) == Some(b"IHDR") => {
            let be = |at: usize| {
                u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
            };
            match (bytes.len() >= 24).then(|| (be(16), be(20))) {
                Some((w, h)) if w > 0 && h > 0 => Ok((w, h)),
                _ => Err(instantiation_error()),
            }
        }
        Format::Gif if bytes.len() >= 10 => {
            let w = u32::from(u16::from_le_bytes([bytes[6], bytes[7]]));
            let h = u32::from(u16::from_le_bytes([bytes[8], bytes[9]]));
            if w > 0 && h > 0 {
                Ok((w, h))
            } else {
                Err(instantiation_error())
            }
        }
        _ => {
            let fmt = image_format(format).ok_or_else(instantiation_error)?;
            ImageReader::with_format(Cursor::new(bytes), fmt)
                .into_dimensions()
                .map_err(|e| instantiation_error().with_source(e))
        }
    }
}

fn image_format(format: Format) -> Option<ImageFormat> {
    Some(match format {
        Format::Png => ImageFormat::Png,
        Format::Gif => ImageFormat::Gif,
        Format::Webp => ImageFormat::WebP,
        Format::Tiff => ImageFormat::Tiff,
        Format::Jpeg => ImageFormat::Jpeg,
        _ => return None,
    })
}

/// The frame size from the first SOFn marker.
fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    super::exif::walk_jpeg_segments(bytes, |marker, start, _| {
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        // The first SOFn decides, even when it is truncated or says 0.
        is_sof.then(|| {
            let body = bytes.get(start..start + 5)?;
            let height = u16::from_be_bytes([body[1], body[2]]);
            let width = u16::from_be_bytes([body[3], body[4]]);
            (width > 0 && height > 0).then_some((u32::from(width), u32::from(height)))
        })
    })
    .flatten()
}

/// Decodes a JPEG, scaled down by `shrink` (1, 2, 4 or 8) in the DCT domain, to RGB.
pub(crate) fn jpeg(bytes: &[u8], shrink: u8) -> Result<Px> {
    let result = catch_unwind(AssertUnwindSafe(
        || -> std::io::Result<(usize, usize, Vec<u8>)> {
            let mut d = mozjpeg::Decompress::new_mem(bytes)?;
            d.scale(8 / shrink.clamp(1, 8));
            let cmyk = matches!(
                d.color_space(),
                mozjpeg::ColorSpace::JCS_CMYK | mozjpeg::ColorSpace::JCS_YCCK
            );
            if cmyk {
                let mut s = d.to_colorspace(mozjpeg::ColorSpace::JCS_CMYK)?;
                let (w, h) = (s.width(), s.height());
                let mut raw =
                    try_take_buffer(w * h * 4).map_err(|_| std::io::ErrorKind::OutOfMemory)?;
                s.read_scanlines_into::<u8>(&mut raw)?;
                s.finish()?;
                // Adobe writes inverted CMYK: R = C * K / 255.
                let mut rgb =
                    try_take_buffer(w * h * 3).map_err(|_| std::io::ErrorKind::OutOfMemory)?;
                for (o, p) in rgb.chunks_exact_mut(3).zip(raw.chunks_exact(4)) {
                    let k = u16::from(p[3]);
                    for c in 0..3 {
                        o[c] = ((u16::from(p[c]) * k + 127) / 255) as u8;
                    }
                }
                give_buffer(raw);
                Ok((w, h, rgb))
            } else {
                let mut s = d.rgb()?;
                let (w, h) = (s.width(), s.height());
                // Into a buffer kept from the last image: no fresh pages to fault in.
                let mut raw =
                    try_take_buffer(w * h * 3).map_err(|_| std::io::ErrorKind::OutOfMemory)?;
                s.read_scanlines_into::<u8>(&mut raw)?;
                s.finish()?;
                Ok((w, h, raw))
            }
        },
    ));
    match result {
        Ok(Ok((w, h, raw))) => {
            let (w, h) = (u32::try_from(w), u32::try_from(h));
            match (w, h) {
                (Ok(w), Ok(h)) => RgbImage::from_raw(w, h, raw)
                    .map(Px::Rgb)
                    .ok_or_else(instantiation_error),
                _ => Err(instantiation_error()),
            }
        }
        Ok(Err(e)) => Err(instantiation_error().with_source(e)),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "libjpeg error".to_owned());
            Err(instantiation_error().with_source(detail))
        }
    }
}

fn from_dynamic(img: DynamicImage) -> Px {
    if img.color().has_alpha() {
        Px::Rgba(img.into_rgba8())
    } else {
        Px::Rgb(img.into_rgb8())
    }
}

/// Decodes a still PNG, GIF (first frame), WebP or TIFF.
pub(crate) fn still(format: Format, bytes: &[u8]) -> Result<Px> {
    let fmt = image_format(format).ok_or_else(instantiation_error)?;
    let img = ImageReader::with_format(Cursor::new(bytes), fmt)
        .decode()
        .map_err(|e| instantiation_error().with_source(e))?;
    Ok(from_dynamic(img))
}

/// Every frame of a GIF, refused when the frames together pass `max_pixels` or hold more
/// than `max_bytes` of RGBA (0: no limit), checked frame by frame as they are decoded.
/// Returns `None` for a single-frame GIF (not an animation).
pub(crate) fn gif_frames(bytes: &[u8], max_pixels: u64, max_bytes: u64) -> Result<Option<Decoded>> {
    let decoder = image::codecs::gif::GifDecoder::new(Cursor::new(bytes))
        .map_err(|e| instantiation_error().with_source(e))?;
    let mut frames = Vec::new();
    let mut delays = Vec::new();
    let mut total: u64 = 0;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(|e| {
            if frames.is_empty() {
                instantiation_error().with_source(e)
            } else {
                processing_failure(format!("gif frame: {e}"))
            }
        })?;
        let (num, den) = frame.delay().numer_denom_ms();
        delays.push(Duration::from_micros(
            u64::from(num) * 1000 / u64::from(den.max(1)),
        ));
        let buffer = frame.into_buffer();
        total += u64::from(buffer.width()) * u64::from(buffer.height());
        if max_pixels > 0 && total > max_pixels {
            return Err(super::pixel_limit_error());
        }
        if max_bytes > 0 && total.saturating_mul(4) > max_bytes {
            return Err(super::over_memory_budget(
                total.saturating_mul(4),
                max_bytes,
            ));
        }
        frames.push(Px::Rgba(buffer));
    }
    if frames.len() <= 1 {
        return Ok(None);
    }
    Ok(Some(Decoded { frames, delays }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sof_dimensions_and_junk() {
        assert_eq!(
            jpeg_dimensions(b"\xFF\xD8\xFF\xC0\x00\x11\x08\x00\x02\x00\x03"),
            Some((3, 2))
        );
        assert_eq!(jpeg_dimensions(b"\xFF\xD8\xFF\xC0\x00\x11\x08"), None);
        assert_eq!(
            jpeg_dimensions(b"\xFF\xD8\xFF\xC0\x00\x11\x08\x00\x00\x00\x03"),
            None
        );
        assert_eq!(jpeg_dimensions(b"junk"), None);
        assert_eq!(jpeg_dimensions(b"\xFF\xD8\xFF\xE0\x00\x00"), None);
    }

    #[test]
    fn junk_jpeg_is_an_instantiation_error() {
        let e = jpeg(b"\xFF\xD8\xFF\xC0\x00\x11\x08\x00\x02\x00\x03garbage", 1).expect_err("junk");
        assert_eq!(e.code(), "InstantiationError");
    }
}
