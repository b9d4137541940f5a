//! Encoders with sharp's defaults: JPEG quality 80, 4:2:0, optimised Huffman coding
//! (libjpeg-turbo through mozjpeg); PNG zlib level 6 without filtering; WebP quality 80,
//! effort 4 (libwebp); GIF keeping frames and delays; TIFF.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{Delay, ExtendedColorType, Frame, ImageEncoder};

use super::pixels::{Px, give_buffer};
use super::processing_failure;
use crate::{Error, Format, Result};

/// Output options gathered from the `jpeg`, `png`, `webp`, `gif`, `tiff` edits.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct EncodeOptions {
    pub(crate) jpeg_quality: Option<u8>,
    pub(crate) jpeg_progressive: bool,
    pub(crate) jpeg_chroma_444: bool,
    pub(crate) jpeg_mozjpeg: bool,
    pub(crate) jpeg_no_optimise: bool,
    pub(crate) png_compression: Option<u8>,
    pub(crate) png_adaptive_filtering: bool,
    pub(crate) webp_quality: Option<u8>,
    pub(crate) webp_alpha_quality: Option<u8>,
    pub(crate) webp_lossless: bool,
    pub(crate) webp_near_lossless: bool,
    pub(crate) webp_smart_subsample: bool,
    pub(crate) webp_effort: Option<u8>,
    pub(crate) gif_loop: Option<u16>,
    pub(crate) avif: super::avif::AvifOptions,
}

/// The format is not available in this build.
pub(crate) fn unsupported_output(format: Format) -> Error {
    Error::new(
        400,
        "UnsupportedOutputImageFormatException",
        format!("Format to {} not supported by this build", format.name()),
    )
}

/// Encodes one frame.
pub(crate) fn still(px: Px, format: Format, o: &EncodeOptions) -> Result<Vec<u8>> {
    match format {
        Format::Jpeg => jpeg(px, o),
        Format::Png => png(px, o),
        Format::Webp => {
            let out = webp_still(&px, o);
            px.recycle();
            out
        }
        Format::Gif => gif(vec![px], &[], o),
        Format::Tiff => tiff(px),
        #[cfg(feature = "avif")]
        Format::Avif => super::avif::encode_avif(px, &o.avif),
        other => Err(unsupported_output(other)),
    }
}

/// Encodes an animation (GIF or WebP; AVIF gets the first frame).
pub(crate) fn animation(
    frames: Vec<Px>,
    delays: &[Duration],
    format: Format,
    o: &EncodeOptions,
) -> Result<Vec<u8>> {
    match format {
        Format::Gif => gif(frames, delays, o),
        Format::Webp => webp_animation(&frames, delays, o),
        // sharp writes each page as an image of its own, the first being the primary one that
        // viewers show: we write that first frame only.
        #[cfg(feature = "avif")]
        Format::Avif => match frames.into_iter().next() {
            Some(first) => super::avif::encode_avif(first, &o.avif),
            None => Err(processing_failure("avif encode: no frame".to_owned())),
        },
        other => Err(unsupported_output(other)),
    }
}

fn jpeg(px: Px, o: &EncodeOptions) -> Result<Vec<u8>> {
    let rgb = px.into_rgb();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let quality = f32::from(o.jpeg_quality.unwrap_or(80));
    let result = catch_unwind(AssertUnwindSafe(|| -> std::io::Result<Vec<u8>> {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        if !o.jpeg_mozjpeg {
            // libjpeg-turbo's behaviour, which is what sharp uses unless `mozjpeg: true`.
            c.set_fastest_defaults();
        }
        c.set_size(w, h);
        c.set_quality(quality);
        if o.jpeg_chroma_444 {
            c.set_chroma_sampling_pixel_sizes((1, 1), (1, 1));
        } else {
            c.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
        }
        if o.jpeg_progressive {
            c.set_progressive_mode();
        }
        c.set_optimize_coding(!o.jpeg_no_optimise || o.jpeg_mozjpeg);
        let mut started = c.start_compress(Vec::with_capacity(w * h / 4))?;
        started.write_scanlines(rgb.as_raw())?;
        started.finish()
    }));
    give_buffer(rgb.into_raw());
    match result {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(processing_failure(format!("jpeg encode: {e}"))),
        Err(_) => Err(processing_failure("jpeg encode failed".to_owned())),
    }
}

fn png(px: Px, o: &EncodeOptions) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let compression = match o.png_compression.unwrap_or(6) {
        0 => CompressionType::Uncompressed,
        n => CompressionType::Level(n.min(9)),
    };
    let filter = if o.png_adaptive_filtering {
        FilterType::Adaptive
    } else {
        FilterType::NoFilter
    };
    let encoder = PngEncoder::new_with_quality(&mut out, compression, filter);
    let result = match &px {
        Px::Rgb(i) => {
            encoder.write_image(i.as_raw(), i.width(), i.height(), ExtendedColorType::Rgb8)
        }
        Px::Rgba(i) => {
            encoder.write_image(i.as_raw(), i.width(), i.height(), ExtendedColorType::Rgba8)
        }
    };
    px.recycle();
    result.map_err(|e| processing_failure(format!("png encode: {e}")))?;
    Ok(out)
}

fn webp_config(o: &EncodeOptions) -> Result<webp::WebPConfig> {
    let mut config =
        webp::WebPConfig::new().map_err(|()| processing_failure("webp config".to_owned()))?;
    config.quality = f32::from(o.webp_quality.unwrap_or(80));
    config.method = i32::from(o.webp_effort.unwrap_or(4).min(6));
    config.alpha_quality = i32::from(o.webp_alpha_quality.unwrap_or(100));
    if o.webp_lossless {
        config.lossless = 1;
    } else if o.webp_near_lossless {
        config.lossless = 1;
        config.near_lossless = i32::from(o.webp_quality.unwrap_or(80));
    }
    if o.webp_smart_subsample {
        config.use_sharp_yuv = 1;
    }
    Ok(config)
}

fn webp_still(px: &Px, o: &EncodeOptions) -> Result<Vec<u8>> {
    let config = webp_config(o)?;
    let encoder = match px {
        Px::Rgb(i) => webp::Encoder::from_rgb(i.as_raw(), i.width(), i.height()),
        Px::Rgba(i) => webp::Encoder::from_rgba(i.as_raw(), i.width(), i.height()),
    };
    let mem = encoder
        .encode_advanced(&config)
        .map_err(|e| processing_failure(format!("webp encode: {e:?}")))?;
    Ok(mem.to_vec())
}

fn webp_animation(frames: &[Px], delays: &[Duration], o: &EncodeOptions) -> Result<Vec<u8>> {
    let config = webp_config(o)?;
    let rgba: Vec<image::RgbaImage> = frames.iter().map(|f| f.clone().into_rgba()).collect();
    let (w, h) = rgba.first().map_or((1, 1), |f| (f.width(), f.height()));
    let mut encoder = webp::AnimEncoder::new(w, h, &config);
    encoder.set_loop_count(i32::from(o.gif_loop.unwrap_or(0)));
    let mut t: i64 = 0;
    for (n, f) in rgba.iter().enumerate() {
        let ts = i32::try_from(t).unwrap_or(i32::MAX);
        encoder.add_frame(webp::AnimFrame::from_rgba(
            f.as_raw(),
            f.width(),
            f.height(),
            ts,
        ));
        t += delays.get(n).map_or(100, |d| d.as_millis() as i64);
    }
    let mem = encoder
        .try_encode()
        .map_err(|e| processing_failure(format!("webp animation encode: {e:?}")))?;
    Ok(mem.to_vec())
}

fn gif(frames: Vec<Px>, delays: &[Duration], o: &EncodeOptions) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, 10);
        let repeat = match o.gif_loop {
            None | Some(0) => Repeat::Infinite,
            Some(n) => Repeat::Finite(n),
        };
        encoder
            .set_repeat(repeat)
            .map_err(|e| processing_failure(format!("gif encode: {e}")))?;
        let frames = frames.into_iter().enumerate().map(|(n, px)| {
            let delay = delays.get(n).map_or(Delay::from_numer_denom_ms(0, 1), |d| {
                Delay::from_saturating_duration(*d)
            });
            Frame::from_parts(px.into_rgba(), 0, 0, delay)
        });
        encoder
            .encode_frames(frames)
            .map_err(|e| processing_failure(format!("gif encode: {e}")))?;
    }
    Ok(out)
}

fn tiff(px: Px) -> Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    let img = match px {
        Px::Rgb(i) => image::DynamicImage::ImageRgb8(i),
        Px::Rgba(i) => image::DynamicImage::ImageRgba8(i),
    };
    img.write_to(&mut out, image::ImageFormat::Tiff)
        .map_err(|e| processing_failure(format!("tiff encode: {e}")))?;
    Ok(out.into_inner())
}
