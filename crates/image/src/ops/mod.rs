//! The image pipeline: decode (with JPEG shrink-on-load and EXIF orientation), the edits in
//! sharp's order, encode. Pure: no I/O.
//!
//! [`Plan::new`] reads Serverless Image Handler's edits object the way SIH's `applyEdits` hands
//! it to sharp, checking arguments as sharp does; [`transform`] then runs sharp's fixed
//! pipeline: orient, rotate-before, trim, extract, flatten/gamma/greyscale, resize (with
//! crop or embed), flip/flop/rotate, arbitrary rotation, extract, affine, extend, median,
//! threshold, blur, unflatten, convolve, recomb, modulate, sharpen, composite (`overlayWith`),
//! linear, normalise, clahe, bandbool, tint, alpha removal or addition, extractChannel,
//! negate, then SIH's `roundCrop`, then the encoder.
//!
//! Unlike SIH, the EXIF orientation is always applied, so every output is upright and carries
//! no metadata.

pub(crate) mod filters;
use filters as fl;
use filters::bands;

#[cfg_attr(not(feature = "avif"), allow(dead_code))]
mod avif;
mod decode;
mod edits;
mod encode;
mod exif;
mod geometry;
mod icc;
mod pixels;
mod smartcrop;

use std::time::{Duration, Instant};

use image::RgbaImage;

use self::edits::{Extract, Ops};
use self::geometry::{Canvas, Fit, ResizeSpec};
use self::pixels::Px;
use crate::{Edits, Error, ErrorKind, Format, Result};

/// Limits on what one request may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most input pixels (width x height, all frames of an animation together) decoded;
    /// sharp's default `limitInputPixels` is 268,402,689 (0x3FFF squared). 0 means no limit,
    /// as `SHARP_SIZE_LIMIT=0` does.
    pub max_input_pixels: u64,
    /// Most output width or height.
    pub max_output_dimension: u32,
    /// Most output pixels (width x height; for an animation, of one frame); refused with
    /// SIH's `TooLargeImageException` before anything is allocated.
    pub max_output_pixels: u64,
    /// Time budget for one transform.
    pub time_budget: Duration,
    /// Most bytes of pixels one transform may hold, estimated from the image header before
    /// anything is decoded; past it, a 413 `TooLargeImageException`. 0 means no limit.
    ///
    /// The estimate is twice the decoded image (the decoded frame and the working copy an edit
    /// or a conversion makes; for JPEG, of the size shrink-on-load decodes to; 4 bytes a pixel
    /// otherwise, all frames of an animation) plus the output frame at 4 bytes a pixel. sharp
    /// streams through libvips and needs no such limit; this pipeline holds whole frames, so a
    /// 100-megapixel PNG would need about 800 MB. The default is 1 GiB;
    /// [`Config::from_env`](crate::handler::Config::from_env) sets it from the function's memory.
    pub max_decoded_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_pixels: 0x3FFF * 0x3FFF,
            // sharp's largest side (0x3FFF), which the filters also never exceed.
            max_output_dimension: fl::MAX_SIDE,
            max_output_pixels: 0x3FFF * 0x3FFF,
            time_budget: Duration::from_secs(25),
            max_decoded_bytes: 1 << 30,
        }
    }
}

/// A watermark to fetch before transforming: `overlayWith`'s `bucket` and `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlaySource {
    /// The bucket (checked against `SOURCE_BUCKETS` by the handler).
    pub bucket: String,
    /// The key.
    pub key: String,
}

/// An error kept in a [`Plan`] until `transform` knows whether the image is an animation.
#[derive(Debug, Clone)]
struct Deferred {
    status: u16,
    code: String,
    message: String,
}

impl Deferred {
    fn from_error(e: &Error) -> Self {
        Self {
            status: e.status(),
            code: e.code().to_owned(),
            message: e.message().to_owned(),
        }
    }

    fn to_error(&self) -> Error {
        Error::new(self.status, self.code.clone(), self.message.clone())
    }
}

/// Validated edits, ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    output: Option<Format>,
    effort: Option<u8>,
    empty: bool,
    /// `edits.animated` when given.
    animated: Option<bool>,
    /// Whether a multi-frame image animates when `edits.animated` is not given: `None` for
    /// "when the input is a GIF", or what [`Plan::with_content_type`] decided.
    animated_by_default: Option<bool>,
    still: std::result::Result<Ops, Deferred>,
    animation: std::result::Result<Ops, Deferred>,
    overlay: Option<OverlaySource>,
}

impl Plan {
    /// Decides, as Serverless Image Handler does, whether a multi-frame image animates when the
    /// edits do not say (`animated`): only when the request's content type, once its output
    /// format is settled ([`ImageRequest::content_type`](crate::ImageRequest::content_type)
    /// after `resolve_output`), is `image/gif`. So an animated GIF asked for as WebP (by
    /// `format(webp)`, `outputFormat` or `AUTO_WEBP`) gives its first frame, as on SIH, unless
    /// the edits say `"animated": true`. Without this call a GIF input animates.
    #[must_use]
    pub fn with_content_type(mut self, content_type: &str) -> Self {
        self.animated_by_default = Some(content_type == "image/gif");
        self
    }

    /// Validates Serverless Image Handler edits and the output format.
    ///
    /// `output` is the format SIH's request parsing chose (`toFormat`, Thumbor's `format()`,
    /// auto-WebP); `effort` is the WebP effort of a Default request. Fails with SIH's error:
    /// `InvalidResizeException` (400) for a zero or negative size, `Crop::AreaOutOfBounds`
    /// (400) for a malformed crop, a 400 naming an edit this crate does not implement or that
    /// needs Amazon Rekognition (`smartCrop`, `contentModeration`), and SIH's catch-all
    /// `ProcessingFailure` (500) where sharp itself would reject an argument.
    pub fn new(edits: &Edits, output: Option<Format>, effort: Option<u8>) -> Result<Self> {
        let animated = match edits.get("animated") {
            None => None,
            Some(serde_json::Value::Bool(b)) => Some(*b),
            // sharp rejects a non-boolean `animated` when SIH instantiates the image.
            Some(_) => return Err(instantiation_error()),
        };
        let still = Ops::build(edits, false);
        let animation = Ops::build(edits, true);
        let (still, animation) = match (still, animation) {
            (Err(e), Err(_)) => return Err(e),
            (s, a) => (
                s.map_err(|e| Deferred::from_error(&e)),
                a.map_err(|e| Deferred::from_error(&e)),
            ),
        };
        let overlay = still
            .as_ref()
            .ok()
            .or(animation.as_ref().ok())
            .and_then(|o| o.overlay.as_ref())
            .map(|o| o.source.clone());
        Ok(Self {
            output,
            effort: effort.map(|e| e.min(6)),
            empty: edits.is_empty(),
            animated,
            animated_by_default: None,
            still,
            animation,
            overlay,
        })
    }

    /// The overlay image this plan needs, if any.
    pub fn overlay(&self) -> Option<&OverlaySource> {
        self.overlay.as_ref()
    }

    /// Whether there is nothing to do: the original bytes are the answer.
    pub fn is_noop(&self) -> bool {
        self.empty && self.output.is_none()
    }
}

/// A transformed image.
#[derive(Debug, Clone)]
pub struct Transformed {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: Format,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

/// SIH's answer to an image it cannot open.
pub(crate) fn instantiation_error() -> Error {
    Error::new(
        400,
        "InstantiationError",
        "Input image could not be instantiated. Please choose a valid image.",
    )
}

/// sharp's `limitInputPixels` failure: SIH's instantiation error (sharp's metadata call
/// fails), with kind [`ErrorKind::TooLarge`] for callers.
pub(crate) fn pixel_limit_error() -> Error {
    instantiation_error()
        .with_kind(ErrorKind::TooLarge)
        .with_source("Input image exceeds pixel limit".to_owned())
}

/// SIH's catch-all for a failure inside sharp.
pub(crate) fn processing_failure(detail: String) -> Error {
    tracing::debug!(%detail, "image processing failed");
    Error::new(500, "ProcessingFailure", "Image processing failed.").with_source(detail)
}

fn too_large() -> Error {
    Error::new(
        413,
        "TooLargeImageException",
        "The converted image is too large to return.",
    )
}

/// Past [`Limits::max_decoded_bytes`].
pub(crate) fn over_memory_budget(needed: u64, budget: u64) -> Error {
    Error::new(
        413,
        "TooLargeImageException",
        "The image is too large to process.",
    )
    .with_source(format!(
        "about {needed} bytes of pixels needed, the budget is {budget}"
    ))
}

fn timeout() -> Error {
    Error::new(503, "TimeoutException", "Image processing timed out.")
}

struct Clock {
    deadline: Option<Instant>,
}

impl Clock {
    fn check(&self) -> Result<()> {
        match self.deadline {
            Some(d) if Instant::now() > d => Err(timeout()),
            _ => Ok(()),
        }
    }
}

/// Runs a plan on an encoded image (and the overlay image, when the plan has one).
///
/// Errors are SIH's: `InstantiationError` (400) for bytes that are not a readable image or
/// that exceed [`Limits::max_input_pixels`] (checked from the header, before decoding),
/// `Crop::AreaOutOfBounds` (400), `BadRequest` "Image to overlay must have same dimensions or
/// smaller" (400), `TooLargeImageException` (413) for an output past
/// [`Limits::max_output_dimension`], `TimeoutException` (503) past the time budget.
pub fn transform(
    input: &[u8],
    plan: &Plan,
    overlay: Option<&[u8]>,
    limits: &Limits,
) -> Result<Transformed> {
    let clock = Clock {
        deadline: Instant::now().checked_add(limits.time_budget),
    };
    let format = Format::sniff(input).ok_or_else(instantiation_error)?;
    if !matches!(
        format,
        Format::Jpeg | Format::Png | Format::Gif | Format::Webp | Format::Tiff
    ) {
        return Err(instantiation_error());
    }
    let (width, height) = decode::dimensions(format, input)?;
    if limits.max_input_pixels > 0 && u64::from(width) * u64::from(height) > limits.max_input_pixels
    {
        return Err(pixel_limit_error());
    }
    let orientation = exif::orientation(format, input).unwrap_or(1);
    let (width, height) = if orientation >= 5 {
        (height, width)
    } else {
        (width, height)
    };

    // SIH: animated when asked, else when the content is a GIF; then only with > 1 page.
    let wants_animation = plan
        .animated
        .or(plan.animated_by_default)
        .unwrap_or(format == Format::Gif);
    let animation = if wants_animation && format == Format::Gif {
        // The first frame alone must fit, before it is decoded.
        check_memory(format, (width, height), 1, (0, 0), limits)?;
        decode::gif_frames(input, limits.max_input_pixels, limits.max_decoded_bytes / 2)?
    } else {
        None
    };
    clock.check()?;

    let ops = if animation.is_some() {
        &plan.animation
    } else {
        &plan.still
    };
    let mut ops = ops.as_ref().map_err(Deferred::to_error)?.clone();
    resolve_ratio(&mut ops, width, height)?;
    let (out_w, out_h) = check_output_size(&ops, width, height, limits)?;

    let out_format = plan.output.or(ops.format).unwrap_or(format);
    if out_format == Format::Heif || (out_format == Format::Avif && !cfg!(feature = "avif")) {
        return Err(encode::unsupported_output(out_format));
    }
    let mut encode_options = ops.encode.clone();
    if out_format == Format::Webp && plan.effort.is_some() {
        encode_options.webp_effort = plan.effort;
    }

    let overlay_px = match (&ops.overlay, overlay) {
        (Some(_), Some(bytes)) => Some(decode_overlay(bytes, limits)?),
        (Some(_), None) => {
            return Err(Error::new(
                400,
                "OverlayImageException",
                "The overlay image could not be applied. Please contact the system administrator.",
            ));
        }
        _ => None,
    };

    if let Some(decoded) = animation {
        let mut frames = Vec::with_capacity(decoded.frames.len());
        for frame in decoded.frames {
            clock.check()?;
            frames.push(run(frame, &ops, overlay_px.as_ref(), true, &clock)?);
        }
        clock.check()?;
        let (w, h) = frames.first().map_or((0, 0), |f| (f.width(), f.height()));
        let (bytes, height) = match out_format {
            Format::Gif | Format::Webp | Format::Avif => (
                encode::animation(frames, &decoded.delays, out_format, &encode_options)?,
                h,
            ),
            _ => {
                // sharp writes the pages of a multi-page image one under the other.
                let n = frames.len() as u32;
                let total = u64::from(h) * u64::from(n);
                if total > u64::from(limits.max_output_dimension)
                    || total * u64::from(w) > limits.max_output_pixels
                {
                    return Err(too_large());
                }
                let stacked = Px::stack(frames);
                (encode::still(stacked, out_format, &encode_options)?, h * n)
            }
        };
        clock.check()?;
        return Ok(Transformed {
            bytes,
            format: out_format,
            width: w,
            height,
        });
    }

    // Shrink-on-load: as sharp, only for a plain resize without pre-resize work.
    let should_pre_shrink = ops.resize.is_expected()
        && ops.gamma.is_none()
        && ops.extract_pre.is_none()
        && ops.trim.is_none()
        && !(ops.rotate_before
            && (ops.angle % 360 != 0 || ops.flip || ops.flop || ops.rotation_angle != 0.0));
    let shrink = if format == Format::Jpeg && should_pre_shrink {
        let (h, v) = geometry::resolve_shrink(width, height, &ops.resize);
        geometry::jpeg_shrink_on_load(h, v)
    } else {
        1
    };
    check_memory(format, (width, height), shrink, (out_w, out_h), limits)?;
    let px = if format == Format::Jpeg {
        decode::jpeg(input, shrink)?
    } else {
        decode::still(format, input)?
    };
    clock.check()?;
    let px = icc::into_srgb(px, format, input);
    let px = px.orient(orientation);
    clock.check()?;
    let px = run(px, &ops, overlay_px.as_ref(), false, &clock)?;
    clock.check()?;
    let (w, h) = (px.width(), px.height());
    let bytes = encode::still(px, out_format, &encode_options)?;
    clock.check()?;
    Ok(Transformed {
        bytes,
        format: out_format,
        width: w,
        height: h,
    })
}

/// SIH's `resize.ratio` without both dimensions: the image's own size times the ratio.
fn resolve_ratio(ops: &mut Ops, width: u32, height: u32) -> Result<()> {
    let Some(ratio) = ops.ratio else {
        return Ok(());
    };
    let w = edits::js_round(f64::from(width) * ratio);
    let h = edits::js_round(f64::from(height) * ratio);
    let valid = |n: f64| n.is_finite() && n >= 1.0 && n <= f64::from(u32::MAX);
    if !valid(w) || !valid(h) {
        return Err(processing_failure(format!(
            "Expected positive integer for width but received {w}"
        )));
    }
    ops.resize.width = Some(w as u32);
    ops.resize.height = Some(h as u32);
    Ok(())
}

/// The bytes of pixels a still transform holds at its peak, estimated (see
/// [`Limits::max_decoded_bytes`]); refused past the budget.
fn check_memory(
    format: Format,
    (width, height): (u32, u32),
    shrink: u8,
    (out_w, out_h): (u64, u64),
    limits: &Limits,
) -> Result<()> {
    if limits.max_decoded_bytes == 0 {
        return Ok(());
    }
    let decoded = if format == Format::Jpeg {
        let s = u64::from(shrink.max(1));
        u64::from(width).div_ceil(s) * u64::from(height).div_ceil(s) * 3
    } else {
        u64::from(width) * u64::from(height) * 4
    };
    let needed = decoded
        .saturating_mul(2)
        .saturating_add(out_w.saturating_mul(out_h).saturating_mul(4));
    if needed > limits.max_decoded_bytes {
        return Err(over_memory_budget(needed, limits.max_decoded_bytes));
    }
    Ok(())
}

/// Refuses outputs past the limit before any pixel is allocated; the output size it
/// estimates (the final size after a resize, extend or rotation, when the plan has one).
fn check_output_size(ops: &Ops, width: u32, height: u32, limits: &Limits) -> Result<(u64, u64)> {
    let max = u64::from(limits.max_output_dimension);
    let (mut w, mut h) = (u64::from(width), u64::from(height));
    if let Some(e) = ops.extract_pre {
        w = u64::from(e.area.width);
        h = u64::from(e.area.height);
    }
    if ops.resize.is_expected() {
        let spec = &ops.resize;
        if u64::from(spec.width.unwrap_or(0)) > max || u64::from(spec.height.unwrap_or(0)) > max {
            return Err(too_large());
        }
        if w > 0 && h > 0 && w <= u64::from(u32::MAX) && h <= u64::from(u32::MAX) {
            let (ow, oh) = geometry::layout(w as u32, h as u32, spec).output();
            w = u64::from(ow);
            h = u64::from(oh);
        }
    }
    // In sharp's order: rotation, affine, extend.
    if ops.rotation_angle != 0.0 {
        // The bounding box of any rotation is at most the diagonal.
        let d = ((w * w + h * h) as f64).sqrt().ceil() as u64;
        w = d;
        h = d;
    }
    if let Some(m) = ops.affine
        && w <= max
        && h <= max
    {
        let (_, _, aw, ah) = fl::affine_canvas(w as u32, h as u32, m);
        if !(aw <= max as f64 && ah <= max as f64) {
            return Err(too_large());
        }
        w = aw.max(0.0) as u64;
        h = ah.max(0.0) as u64;
    }
    if let Some((t, b, l, r, _)) = ops.extend {
        w += u64::from(l) + u64::from(r);
        h += u64::from(t) + u64::from(b);
    }
    if w > max || h > max || w.saturating_mul(h) > limits.max_output_pixels {
        return Err(too_large());
    }
    Ok((w, h))
}

fn decode_overlay(bytes: &[u8], limits: &Limits) -> Result<Px> {
    let overlay_error = || {
        Error::new(
            400,
            "OverlayImageException",
            "The overlay image could not be applied. Please contact the system administrator.",
        )
    };
    let format = Format::sniff(bytes).ok_or_else(overlay_error)?;
    let (w, h) = decode::dimensions(format, bytes).map_err(|_| overlay_error())?;
    let pixels = u64::from(w) * u64::from(h);
    if (limits.max_input_pixels > 0 && pixels > limits.max_input_pixels)
        || (limits.max_decoded_bytes > 0 && pixels * 4 > limits.max_decoded_bytes / 2)
    {
        return Err(overlay_error());
    }
    let orientation = exif::orientation(format, bytes).unwrap_or(1);
    let px = if format == Format::Jpeg {
        decode::jpeg(bytes, 1)
    } else {
        decode::still(format, bytes)
    }
    .map_err(|_| overlay_error())?;
    let px = icc::into_srgb(px, format, bytes);
    Ok(px.orient(orientation))
}

fn extract(px: Px, e: &Extract) -> Result<Px> {
    let a = e.area;
    let fits = a.width > 0
        && a.height > 0
        && u64::from(a.left) + u64::from(a.width) <= u64::from(px.width())
        && u64::from(a.top) + u64::from(a.height) <= u64::from(px.height());
    if !fits {
        return Err(if e.from_crop {
            Error::new(
                400,
                "Crop::AreaOutOfBounds",
                "The cropping area you provided exceeds the boundaries of the original image. Please try choosing a correct cropping value.",
            )
        } else {
            processing_failure("extract_area: bad extract area".to_owned())
        });
    }
    Ok(px.crop(a.left, a.top, a.width, a.height))
}

fn to_filters_sharpen(s: &edits::SharpenOpts) -> fl::Sharpen {
    fl::Sharpen {
        sigma: s.sigma,
        m1: s.m1,
        m2: s.m2,
        x1: s.x1,
        y2: s.y2,
        y3: s.y3,
    }
}

/// sharp's pipeline on one frame.
fn run(mut px: Px, ops: &Ops, overlay: Option<&Px>, animation: bool, clock: &Clock) -> Result<Px> {
    // Rotate before (sharp's `rotateBefore`).
    let mut flip = ops.flip;
    let mut flop = ops.flop;
    let mut angle = ops.angle;
    let mut rotation_angle = ops.rotation_angle;
    if ops.rotate_before && (angle % 360 != 0 || flip || flop || rotation_angle != 0.0) {
        if flip {
            px = px.flip();
            flip = false;
        }
        if flop {
            px = px.flop();
            flop = false;
        }
        if angle % 360 != 0 {
            px = px.rotate90s(angle);
            angle = 0;
        }
        if rotation_angle != 0.0 {
            let bg = ops.rotation_background();
            px = px.with_rgba(|i| fl::rotate_any(&i, rotation_angle, bg));
            if bg[3] < 255 {
                px = Px::Rgba(px.into_rgba());
            }
            rotation_angle = 0.0;
        }
    }
    if let Some((bg, threshold)) = ops.trim {
        if animation {
            return Err(processing_failure(
                "Trim is not supported for multi-page images".to_owned(),
            ));
        }
        let rgba = px.clone().into_rgba();
        if let Some((l, t, w, h)) = fl::trim_box(&rgba, bg, threshold)
            && w > 0
            && h > 0
            && l + w <= px.width()
            && t + h <= px.height()
        {
            px = px.crop(l, t, w, h);
        }
    }
    if let Some(e) = &ops.extract_pre {
        px = extract(px, e)?;
    }
    // Colour work that sharp does before the resize.
    if let Some(bg) = ops.flatten
        && px.has_alpha()
    {
        let mut i = px.into_rgba();
        fl::flatten(&mut i, bg);
        px = Px::Rgba(i).remove_alpha();
    }
    if let Some((g, _)) = ops.gamma {
        px = px.with_rgba(|mut i| {
            fl::gamma_darken(&mut i, g);
            i
        });
    }
    if ops.greyscale {
        px = match px {
            Px::Rgb(mut i) => {
                fl::grayscale_rgb(&mut i);
                Px::Rgb(i)
            }
            other => other.with_rgba(|mut i| {
                fl::grayscale(&mut i);
                i
            }),
        };
    }
    // sharp premultiplies an image with alpha here when it resizes, blurs, convolves or
    // sharpens it, and divides by alpha after the sharpen: operations in between that mix
    // pixels or change alpha (affine, a 4x4 recomb) see premultiplied colour.
    let premultiplied = px.has_alpha()
        && (ops.resize.is_expected()
            || ops.blur.is_some()
            || ops.convolve.is_some()
            || ops.sharpen.is_some());
    // Compositing needs an alpha channel (sharp's EnsureAlpha before premultiplying).
    if ops.overlay.is_some() && !px.has_alpha() {
        px = Px::Rgba(px.into_rgba());
    }
    // Resize, then the post-resize crop or embed.
    if ops.resize.is_expected() {
        let layout = geometry::layout(px.width(), px.height(), &ops.resize);
        match layout.canvas {
            Canvas::None => px = px.resize(layout.scaled_width, layout.scaled_height)?,
            Canvas::Crop { width, height, .. }
                if matches!(
                    ops.resize.position,
                    geometry::Position::Entropy | geometry::Position::Attention
                ) =>
            {
                // A strategy: libvips's smartcrop on the whole scaled image; sharp refuses it
                // for the pages of an animation.
                if animation {
                    return Err(processing_failure(
                        "Resize strategy is not supported for multi-page images".to_owned(),
                    ));
                }
                px = px.resize(layout.scaled_width, layout.scaled_height)?;
                let (left, top) = if ops.resize.position == geometry::Position::Entropy {
                    smartcrop::entropy(&px, width, height)
                } else {
                    smartcrop::attention(&px, width, height)
                };
                px = px.crop(left, top, width, height);
            }
            Canvas::Crop {
                left,
                top,
                width,
                height,
            } => {
                // The cropped part of the scaled image, straight from the source: the full
                // scaled image of an extreme `cover` would never be allocated.
                let sx = f64::from(px.width()) / f64::from(layout.scaled_width);
                let sy = f64::from(px.height()) / f64::from(layout.scaled_height);
                let area = (
                    f64::from(left) * sx,
                    f64::from(top) * sy,
                    f64::from(width) * sx,
                    f64::from(height) * sy,
                );
                px = px.resize_area(area, width, height)?;
            }
            Canvas::Embed {
                left,
                top,
                width,
                height,
            } => {
                px = px.resize(layout.scaled_width, layout.scaled_height)?;
                px = px.embed(left, top, width, height, ops.resize.background);
            }
        }
    }
    if flip {
        px = px.flip();
    }
    if flop {
        px = px.flop();
    }
    if angle % 360 != 0 {
        if animation && angle.rem_euclid(360) != 180 {
            return Err(processing_failure(
                "Rotate is not supported for multi-page images".to_owned(),
            ));
        }
        px = px.rotate90s(angle);
    }
    if rotation_angle != 0.0 {
        if animation {
            return Err(processing_failure(
                "Rotate is not supported for multi-page images".to_owned(),
            ));
        }
        let bg = ops.rotation_background();
        let had_alpha = px.has_alpha();
        let rotated = fl::rotate_any(&px.into_rgba(), rotation_angle, bg);
        px = if had_alpha || bg[3] < 255 {
            Px::Rgba(rotated)
        } else {
            Px::Rgba(rotated).remove_alpha()
        };
    }
    if let Some(e) = &ops.extract_post {
        px = extract(px, e)?;
    }
    if let Some(m) = ops.affine {
        if animation {
            return Err(processing_failure(
                "Affine is not supported for multi-page images".to_owned(),
            ));
        }
        // sharp's default background, opaque black, whether or not the image has alpha.
        px = px
            .try_with_rgba(|i| fl::affine(&i, m, [0, 0, 0, 255], premultiplied))
            .map_err(|_| {
                processing_failure("affine: singular matrix or empty output".to_owned())
            })?;
    }
    if let Some((t, b, l, r, bg)) = ops.extend {
        let had_alpha = px.has_alpha();
        let out = fl::extend(&px.into_rgba(), t, b, l, r, bg);
        px = if had_alpha || bg[3] < 255 {
            Px::Rgba(out)
        } else {
            Px::Rgba(out).remove_alpha()
        };
    }
    if let Some(size) = ops.median {
        px = px.with_rgba(|i| fl::median(&i, size));
    }
    if let Some((t, grey)) = ops.threshold {
        px = px.with_rgba(|mut i| {
            fl::threshold(&mut i, t, grey);
            i
        });
    }
    if let Some(sigma) = ops.blur {
        px = px.with_rgba(|i| fl::blur(&i, sigma));
    }
    if ops.unflatten {
        let mut i = px.into_rgba();
        bands::unflatten(&mut i);
        px = Px::Rgba(i);
    }
    if let Some(k) = &ops.convolve {
        let kernel = fl::Kernel {
            width: k.width,
            height: k.height,
            kernel: k.kernel.clone(),
            scale: Some(k.scale),
            offset: k.offset,
        };
        px = px.with_rgba(|i| fl::convolve(&i, &kernel));
    }
    if let Some(m) = &ops.recomb {
        let n_bands = px.bands();
        if m.len() == 16 && n_bands == 3 {
            return Err(processing_failure(
                "recomb: bands in must equal matrix width".to_owned(),
            ));
        }
        px = px.with_rgba(|mut i| {
            bands::recomb(&mut i, m, n_bands, premultiplied && n_bands == 4);
            i
        });
    }
    if let Some((b, s, h, l)) = ops.modulate {
        px = px.with_rgba(|mut i| {
            fl::modulate(&mut i, b, s, h, l);
            i
        });
    }
    if let Some(s) = &ops.sharpen {
        let s = to_filters_sharpen(s);
        px = px.with_rgba(|i| fl::sharpen(&i, &s));
    }
    if let (Some(o), Some(overlay)) = (&ops.overlay, overlay) {
        px = composite(px, o, overlay)?;
    }
    if let Some((_, g_out)) = ops.gamma {
        px = px.with_rgba(|mut i| {
            fl::gamma_brighten(&mut i, g_out);
            i
        });
    }
    if let Some((a, b)) = ops.linear {
        px = px.with_rgba(|mut i| {
            fl::linear(&mut i, a, b);
            i
        });
    }
    if let Some((lower, upper)) = ops.normalise {
        px = px.with_rgba(|mut i| {
            fl::normalise(&mut i, lower, upper);
            i
        });
    }
    if let Some((w, h, slope)) = ops.clahe {
        let n_bands = px.bands();
        let expired = || clock.check().is_err();
        px = px
            .try_with_rgba(|i| bands::clahe(&i, w, h, slope, n_bands, &expired))
            .map_err(|e| match e {
                bands::ClaheError::WindowTooLarge => {
                    processing_failure("hist_local: window too large".to_owned())
                }
                bands::ClaheError::OutOfTime => timeout(),
            })?;
    }
    if let Some(op) = ops.bandbool {
        let n_bands = px.bands();
        let mut i = px.into_rgba();
        bands::bandbool(&mut i, op, n_bands);
        px = Px::Rgba(i).remove_alpha();
    }
    if let Some(rgb) = ops.tint {
        px = px.with_rgba(|mut i| {
            fl::tint(&mut i, rgb);
            i
        });
    }
    if ops.remove_alpha {
        px = px.remove_alpha();
    }
    if let Some(alpha) = ops.ensure_alpha
        && !px.has_alpha()
    {
        let mut i = px.into_rgba();
        let a = (alpha * 255.0).round().clamp(0.0, 255.0) as u8;
        for p in i.pixels_mut() {
            p[3] = a;
        }
        px = Px::Rgba(i);
    }
    if let Some(channel) = ops.extract_channel {
        let n_bands = px.bands();
        if usize::from(channel) >= n_bands {
            return Err(processing_failure(format!(
                "Cannot extract channel {channel} from image with channels 0-{}",
                n_bands - 1
            )));
        }
        let mut i = px.into_rgba();
        bands::extract_channel(&mut i, usize::from(channel));
        px = Px::Rgba(i).remove_alpha();
    }
    if let Some(alpha) = ops.negate {
        let had_alpha = px.has_alpha();
        px = px.with_rgba(|mut i| {
            fl::negate(&mut i, alpha && had_alpha);
            i
        });
    }
    if let Some(rc) = &ops.round_crop {
        px = round_crop(px, rc);
    }
    Ok(px)
}

/// SIH's `overlayWith`: the overlay sized by `wRatio`/`hRatio` against the resized image,
/// faded by `alpha`, placed by `options.left`/`top` (pixels, `Np` percentages, negatives
/// from the far edge), centred when unplaced.
fn composite(px: Px, o: &edits::OverlayOpts, overlay: &Px) -> Result<Px> {
    let (bw, bh) = (px.width(), px.height());
    let mut spec = ResizeSpec {
        fit: Fit::Inside,
        ..ResizeSpec::default()
    };
    if let Some(r) = o.w_ratio {
        spec.width = Some(((u64::from(bw) * u64::from(r)) / 100) as u32);
    }
    if let Some(r) = o.h_ratio {
        spec.height = Some(((u64::from(bh) * u64::from(r)) / 100) as u32);
    }
    // sharp rejects a 0 target (`Math.floor` of a small ratio): SIH's overlay error.
    if spec.width == Some(0) || spec.height == Some(0) {
        return Err(Error::new(
            400,
            "OverlayImageException",
            "The overlay image could not be applied. Please contact the system administrator.",
        ));
    }
    let mut over = overlay.clone();
    if spec.is_expected() {
        let l = geometry::layout(over.width(), over.height(), &spec);
        over = over.resize(l.scaled_width, l.scaled_height)?;
    }
    let mut over: RgbaImage = over.into_rgba();
    if o.alpha > 0 {
        fl::set_opacity(&mut over, 1.0 - o.alpha as f32 / 100.0);
    }
    let (ow, oh) = over.dimensions();
    if ow > bw || oh > bh {
        return Err(Error::new(
            400,
            "BadRequest",
            "Image to overlay must have same dimensions or smaller",
        ));
    }
    let (left, top) = overlay_position(o.options.as_ref(), (bw, bh), (ow, oh))?;
    let mut base = px.into_rgba();
    fl::composite_over(&mut base, &over, left, top);
    Ok(Px::Rgba(base))
}

/// Where SIH's `{...options, left, top}` makes sharp's `composite` put the overlay.
fn overlay_position(
    options: Option<&serde_json::Map<String, serde_json::Value>>,
    (bw, bh): (u32, u32),
    (ow, oh): (u32, u32),
) -> Result<(i64, i64)> {
    let get = |k: &str| options.and_then(|o| o.get(k)).filter(|v| !v.is_null());
    // SIH replaces left/top by calcOverlaySizeOption unless that is NaN; sharp then wants
    // integers, and both or neither.
    let resolve = |k: &str, image: u32, over: u32| -> Result<Option<i64>> {
        match get(k) {
            None => Ok(None),
            Some(raw) => edits::overlay_offset(Some(raw), image, over)
                .filter(|n| (-100_000_000..=100_000_000).contains(n))
                .map(Some)
                .ok_or_else(|| processing_failure(format!("Expected integer for {k}"))),
        }
    };
    let left = resolve("left", bw, ow)?;
    let top = resolve("top", bh, oh)?;
    if let Some(blend) = get("blend")
        && blend.as_str() != Some("over")
    {
        return Err(Error::new(
            400,
            "UnsupportedEditException",
            "The edit \"overlayWith.options.blend\" is not supported by this image handler.",
        ));
    }
    if get("tile").and_then(serde_json::Value::as_bool) == Some(true) {
        return Err(Error::new(
            400,
            "UnsupportedEditException",
            "The edit \"overlayWith.options.tile\" is not supported by this image handler.",
        ));
    }
    match (left, top) {
        (Some(l), Some(t)) => Ok((l, t)),
        (None, None) => {
            let gravity = match get("gravity") {
                None => 0,
                Some(g) => match g {
                    serde_json::Value::String(s) => match geometry::Position::from_name(s) {
                        Some(geometry::Position::Gravity(n)) => n,
                        _ => return Err(processing_failure("Expected valid gravity".to_owned())),
                    },
                    other => match other.as_u64() {
                        Some(n) if n <= 8 => n as u8,
                        _ => return Err(processing_failure("Expected valid gravity".to_owned())),
                    },
                },
            };
            let (l, t) = geometry::crop_position(bw, bh, ow, oh, gravity);
            Ok((i64::from(l), i64::from(t)))
        }
        _ => Err(processing_failure(
            "Expected both left and top to be set".to_owned(),
        )),
    }
}

/// SIH's `roundCrop`: an ellipse mask (`dest-in`), then `trim()` of the transparent corners.
fn round_crop(px: Px, rc: &edits::RoundCropOpts) -> Px {
    let (w, h) = (f64::from(px.width()), f64::from(px.height()));
    let r = w.min(h) / 2.0;
    let rx = rc.rx.unwrap_or(r);
    let ry = rc.ry.unwrap_or(r);
    let cy = rc.top.unwrap_or(h / 2.0);
    let cx = rc.left.unwrap_or(w / 2.0);
    let mut i = px.into_rgba();
    fl::round_crop(&mut i, cx, cy, rx, ry);
    // trim(): the bounding box of what the mask kept.
    let (iw, ih) = i.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (iw, ih, 0, 0);
    for (x, y, p) in i.enumerate_pixels() {
        if p[3] != 0 {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    let px = Px::Rgba(i);
    if x1 > x0 && y1 > y0 {
        px.crop(x0, y0, x1 - x0, y1 - y0)
    } else {
        px
    }
}
