//! Embedded ICC colour profiles. sharp imports an image through its embedded profile and works
//! in sRGB (libvips's `icc_transform`), so a photo tagged Display P3, Adobe RGB or ColorMatch
//! keeps its colours in the output, which browsers show as sRGB. The same here, after
//! decoding: pixels of an RGB image whose profile is not sRGB are converted to sRGB (moxcms,
//! perceptual intent, as libvips's default). Untagged and sRGB-tagged images are left alone; a
//! profile that does not parse or is not RGB is ignored, as libvips falls back to sRGB when an
//! embedded profile cannot be used.

use std::io::Cursor;

use image::ImageDecoder as _;
use moxcms::{
    ColorProfile, DataColorSpace, Layout, ProfileText, RenderingIntent, TransformOptions,
};

use super::exif::walk_jpeg_segments;
use super::pixels::Px;
use crate::Format;

/// The most bytes of profile read (real profiles are a few KB; print profiles up to ~1 MB).
const MAX_PROFILE: usize = 4 << 20;

/// The ICC profile an encoded image carries, if any.
pub(crate) fn embedded(format: Format, bytes: &[u8]) -> Option<Vec<u8>> {
    let profile = match format {
        Format::Jpeg => jpeg_profile(bytes),
        Format::Png => image::codecs::png::PngDecoder::new(Cursor::new(bytes))
            .ok()?
            .icc_profile()
            .ok()?,
        Format::Webp => image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
            .ok()?
            .icc_profile()
            .ok()?,
        Format::Tiff => image::codecs::tiff::TiffDecoder::new(Cursor::new(bytes))
            .ok()?
            .icc_profile()
            .ok()?,
        _ => None,
    }?;
    (!profile.is_empty() && profile.len() <= MAX_PROFILE).then_some(profile)
}

/// The `ICC_PROFILE` APP2 segments of a JPEG, joined in their sequence order.
fn jpeg_profile(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut chunks: Vec<(u8, &[u8])> = Vec::new();
    let mut total = 0usize;
    walk_jpeg_segments(bytes, |marker, start, len| {
        if marker == 0xE2 {
            let body = bytes.get(start..(start + len).checked_sub(2)?)?;
            if let Some(rest) = body.strip_prefix(b"ICC_PROFILE\0")
                && let [seq, _count, data @ ..] = rest
            {
                total += data.len();
                if total > MAX_PROFILE {
                    return Some(());
                }
                chunks.push((*seq, data));
            }
        }
        None::<()>
    });
    if chunks.is_empty() || total > MAX_PROFILE {
        return None;
    }
    chunks.sort_by_key(|(seq, _)| *seq);
    Some(
        chunks
            .into_iter()
            .flat_map(|(_, data)| data.iter().copied())
            .collect(),
    )
}

/// `px`, decoded from `bytes`, in sRGB: converted through the profile `bytes` embeds, if any.
pub(crate) fn into_srgb(px: Px, format: Format, bytes: &[u8]) -> Px {
    match embedded(format, bytes) {
        Some(profile) => to_srgb(px, &profile),
        None => px,
    }
}

/// `px` in sRGB, converted from `icc` when that is an RGB profile other than sRGB.
pub(crate) fn to_srgb(px: Px, icc: &[u8]) -> Px {
    let Ok(source) = ColorProfile::new_from_slice(icc) else {
        return px;
    };
    if source.color_space != DataColorSpace::Rgb || is_srgb(&source) {
        return px;
    }
    let srgb = ColorProfile::new_srgb();
    let options = TransformOptions {
        rendering_intent: RenderingIntent::Perceptual,
        ..TransformOptions::default()
    };
    let layout = if px.has_alpha() {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    let Ok(transform) = source.create_transform_8bit(layout, &srgb, layout, options) else {
        return px;
    };
    // In place on a copy; on a failure the pixels stay as they were.
    let converted = |raw: &[u8]| {
        let mut out = raw.to_vec();
        transform.transform(raw, &mut out).ok().map(|()| out)
    };
    match px {
        Px::Rgb(img) => match converted(img.as_raw()) {
            Some(out) => {
                Px::Rgb(image::RgbImage::from_raw(img.width(), img.height(), out).unwrap_or(img))
            }
            None => Px::Rgb(img),
        },
        Px::Rgba(img) => match converted(img.as_raw()) {
            Some(out) => {
                Px::Rgba(image::RgbaImage::from_raw(img.width(), img.height(), out).unwrap_or(img))
            }
            None => Px::Rgba(img),
        },
    }
}

/// An sRGB profile: sRGB's primaries and a description naming sRGB (IEC 61966-2.1 and its
/// look-alikes), so the common case costs no transform.
fn is_srgb(p: &ColorProfile) -> bool {
    let s = ColorProfile::new_srgb();
    let close = |a: moxcms::Xyzd, b: moxcms::Xyzd| {
        (a.x - b.x).abs() < 2e-3 && (a.y - b.y).abs() < 2e-3 && (a.z - b.z).abs() < 2e-3
    };
    let named_srgb = match &p.description {
        Some(ProfileText::PlainString(s)) => s.contains("sRGB"),
        Some(ProfileText::Description(d)) => d.ascii_string.contains("sRGB"),
        Some(ProfileText::Localizable(list)) => list.iter().any(|l| l.value.contains("sRGB")),
        None => false,
    };
    named_srgb
        && close(p.red_colorant, s.red_colorant)
        && close(p.green_colorant, s.green_colorant)
        && close(p.blue_colorant, s.blue_colorant)
}
