//! Serverless Image Handler's edits object turned into the options sharp would hold after
//! `applyEdits` called its methods, in the edits' key order, with sharp's own argument checks.
//!
//! sharp applies operations in a fixed pipeline order whatever the call order, except for a few
//! flags that the call order sets (`rotateBefore`, extract before or after resize); those are
//! simulated here the way sharp's JavaScript sets them.

use serde_json::{Map, Value};

use super::encode::EncodeOptions;
use super::filters::bands::BandOp;
use super::geometry::{Fit, Position, ResizeSpec};
use super::{OverlaySource, processing_failure};
use crate::{Edits, Error, Format, Result};

/// An area: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Area {
    pub(crate) left: u32,
    pub(crate) top: u32,
    pub(crate) width: u32,
    pub(crate) height: u32,
}

/// SIH `crop` or sharp `extract`: they fail differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extract {
    pub(crate) area: Area,
    /// From SIH's `crop` edit (errors are `Crop::AreaOutOfBounds`).
    pub(crate) from_crop: bool,
}

/// sharp `sharpen` options (`sigma: None` is the fast mild sharpen).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SharpenOpts {
    pub(crate) sigma: Option<f32>,
    pub(crate) m1: f32,
    pub(crate) m2: f32,
    pub(crate) x1: f32,
    pub(crate) y2: f32,
    pub(crate) y3: f32,
}

/// sharp `convolve` kernel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KernelOpts {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) kernel: Vec<f32>,
    pub(crate) scale: f32,
    pub(crate) offset: f32,
}

/// `overlayWith` as SIH reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OverlayOpts {
    pub(crate) source: OverlaySource,
    pub(crate) w_ratio: Option<u32>,
    pub(crate) h_ratio: Option<u32>,
    pub(crate) alpha: u32,
    /// `options`, passed on to sharp's `composite` (`left`/`top` recomputed by SIH).
    pub(crate) options: Option<Map<String, Value>>,
}

/// `roundCrop` as SIH reads it (`None` fields take SIH's defaults from the image size).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct RoundCropOpts {
    pub(crate) top: Option<f64>,
    pub(crate) left: Option<f64>,
    pub(crate) rx: Option<f64>,
    pub(crate) ry: Option<f64>,
}

/// Everything sharp would do, as its options after the calls.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ops {
    pub(crate) resize: ResizeSpec,
    /// SIH's `resize.ratio` when it needs the image size.
    pub(crate) ratio: Option<f64>,
    pub(crate) angle: i64,
    pub(crate) rotation_angle: f64,
    pub(crate) rotate_before: bool,
    pub(crate) flip: bool,
    pub(crate) flop: bool,
    pub(crate) trim: Option<(Option<[u8; 4]>, f32)>,
    pub(crate) extract_pre: Option<Extract>,
    pub(crate) extract_post: Option<Extract>,
    pub(crate) extend: Option<(u32, u32, u32, u32, [u8; 4])>,
    pub(crate) flatten: Option<[u8; 3]>,
    pub(crate) negate: Option<bool>,
    pub(crate) gamma: Option<(f32, f32)>,
    pub(crate) greyscale: bool,
    pub(crate) median: Option<u32>,
    pub(crate) threshold: Option<(u8, bool)>,
    pub(crate) blur: Option<Option<f32>>,
    pub(crate) convolve: Option<KernelOpts>,
    pub(crate) modulate: Option<(f32, f32, f32, f32)>,
    pub(crate) sharpen: Option<SharpenOpts>,
    pub(crate) linear: Option<(f32, f32)>,
    pub(crate) normalise: Option<(f32, f32)>,
    pub(crate) tint: Option<[u8; 3]>,
    pub(crate) remove_alpha: bool,
    pub(crate) ensure_alpha: Option<f32>,
    /// `recomb`: a 3x3 or 4x4 matrix, row by row.
    pub(crate) recomb: Option<Vec<f64>>,
    pub(crate) unflatten: bool,
    /// `clahe`: window width, height and maximum slope.
    pub(crate) clahe: Option<(u32, u32, u32)>,
    pub(crate) bandbool: Option<BandOp>,
    /// `extractChannel`: 0..=4 as sharp accepts it; the image's bands decide at run time.
    pub(crate) extract_channel: Option<u8>,
    /// `affine`: `[a, b, c, d]`.
    pub(crate) affine: Option<[f64; 4]>,
    pub(crate) overlay: Option<OverlayOpts>,
    pub(crate) round_crop: Option<RoundCropOpts>,
    /// The last format sharp was told (`jpeg()`, `png()`, `toFormat()`, ...).
    pub(crate) format: Option<Format>,
    pub(crate) encode: EncodeOptions,
    rotation_background: [u8; 4],
}

impl Ops {
    pub(crate) fn rotation_background(&self) -> [u8; 4] {
        self.rotation_background
    }

    fn new() -> Self {
        Self {
            resize: ResizeSpec::default(),
            ratio: None,
            angle: 0,
            rotation_angle: 0.0,
            rotate_before: false,
            flip: false,
            flop: false,
            trim: None,
            extract_pre: None,
            extract_post: None,
            extend: None,
            flatten: None,
            negate: None,
            gamma: None,
            greyscale: false,
            median: None,
            threshold: None,
            blur: None,
            convolve: None,
            modulate: None,
            sharpen: None,
            linear: None,
            normalise: None,
            tint: None,
            remove_alpha: false,
            ensure_alpha: None,
            recomb: None,
            unflatten: false,
            clahe: None,
            bandbool: None,
            extract_channel: None,
            affine: None,
            overlay: None,
            round_crop: None,
            format: None,
            encode: EncodeOptions::default(),
            rotation_background: [0, 0, 0, 255],
        }
    }

    fn rotation_expected(&self) -> bool {
        self.angle % 360 != 0 || self.rotation_angle != 0.0
    }
}

/// Edits on sharp's allow-list that this crate does not implement: a 400 naming them.
fn unsupported_edit(name: &str) -> Error {
    Error::new(
        400,
        "UnsupportedEditException",
        format!("The edit \"{name}\" is not supported by this image handler."),
    )
}

/// sharp's `invalidParameterError`, which SIH answers with its catch-all processing failure.
fn invalid(name: &str, expected: &str, got: Option<&Value>) -> Error {
    let got = got.map_or_else(|| "undefined".to_owned(), Value::to_string);
    processing_failure(format!("Expected {expected} for {name} but received {got}"))
}

fn invalid_resize() -> Error {
    Error::new(400, "InvalidResizeException", "The image size is invalid.")
}

fn crop_error() -> Error {
    Error::new(
        400,
        "Crop::AreaOutOfBounds",
        "The cropping area you provided exceeds the boundaries of the original image. Please try choosing a correct cropping value.",
    )
}

/// sharp's `is.defined`: neither undefined nor null.
fn defined(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn as_integer(v: &Value) -> Option<i64> {
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

fn as_bool_opt(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match defined(obj.get(key)) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(invalid(key, "boolean", Some(other))),
    }
}

fn number_in(obj: &Map<String, Value>, key: &str, lo: f64, hi: f64) -> Result<Option<f64>> {
    match defined(obj.get(key)) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
            _ => Err(invalid(
                key,
                &format!("number between {lo} and {hi}"),
                Some(v),
            )),
        },
    }
}

fn integer_in(obj: &Map<String, Value>, key: &str, lo: i64, hi: i64) -> Result<Option<i64>> {
    match defined(obj.get(key)) {
        None => Ok(None),
        Some(v) => match as_integer(v) {
            Some(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
            _ => Err(invalid(
                key,
                &format!("integer between {lo} and {hi}"),
                Some(v),
            )),
        },
    }
}

/// JavaScript's `Number(v)`.
pub(crate) fn js_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                0.0
            } else {
                t.parse::<f64>().unwrap_or(f64::NAN)
            }
        }
        Value::Array(a) => match a.as_slice() {
            [] => 0.0,
            [one] => js_number(&Value::String(match one {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })),
            _ => f64::NAN,
        },
        Value::Object(_) => f64::NAN,
    }
}

/// JavaScript truthiness.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// JavaScript's `Math.round`.
pub(crate) fn js_round(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// sharp's `_getBackgroundColourOption`, or `None` when undefined.
fn colour(v: Option<&Value>, name: &str) -> Result<Option<[u8; 4]>> {
    let Some(v) = defined(v) else {
        return Ok(None);
    };
    let shaped = match v {
        Value::Object(_) | Value::Array(_) => true,
        Value::String(s) => (3..=200).contains(&s.len()),
        _ => false,
    };
    if !shaped {
        return Err(invalid(name, "object or string", Some(v)));
    }
    super::fl::parse_color(v)
        .map(Some)
        .ok_or_else(|| invalid(name, "valid colour", Some(v)))
}

/// A dimension that SIH's `validateResizeInputs` may have rounded: `None` when absent.
fn sih_dimension(v: Option<&Value>) -> Result<Option<f64>> {
    let Some(v) = v else { return Ok(None) };
    if v.is_null() {
        return Ok(None);
    }
    if truthy(v) {
        let n = js_round(js_number(v));
        if n <= 0.0 {
            return Err(invalid_resize());
        }
        Ok(Some(n))
    } else {
        // Falsy and not null: 0, "", false — all `<= 0` in JavaScript.
        Err(invalid_resize())
    }
}

/// A positive integer sharp accepts as a width or height.
fn sharp_dimension(n: f64, name: &str) -> Result<u32> {
    if n.is_finite() && n.fract() == 0.0 && n > 0.0 && n <= f64::from(u32::MAX) {
        Ok(n as u32)
    } else {
        Err(invalid(name, "positive integer", Some(&Value::from(n))))
    }
}

impl Ops {
    /// Builds sharp's options from SIH edits; `animation` applies SIH's `skipEdit`.
    pub(crate) fn build(edits: &Edits, animation: bool) -> Result<Self> {
        let mut ops = Ops::new();
        // SIH `applyResize` runs before the loop and validates first.
        // SIH's rounded (and ratio-scaled) width and height, which sharp then checks.
        let mut sih_dims = (None, None);
        let mut pending_ratio = None;
        let mut had_ratio = false;
        match edits.get("resize") {
            Some(Value::Object(r)) => {
                let mut width = sih_dimension(r.get("width"))?;
                let mut height = sih_dimension(r.get("height"))?;
                if let Some(ratio) = r.get("ratio").filter(|v| truthy(v)).map(js_number) {
                    had_ratio = true;
                    match (width, height) {
                        (Some(w), Some(h))
                            if truthy(&Value::from(w)) && truthy(&Value::from(h)) =>
                        {
                            width = Some(js_round(w * ratio));
                            height = Some(js_round(h * ratio));
                        }
                        // Needs the image's size: resolved by `transform`.
                        _ => pending_ratio = Some(ratio),
                    }
                }
                sih_dims = (width, height);
            }
            Some(Value::Null) => {
                return Err(processing_failure(
                    "Cannot read properties of null (reading 'width')".to_owned(),
                ));
            }
            _ => {}
        }

        for (key, value) in edits {
            let key = key.as_str();
            if animation
                && matches!(
                    key,
                    "rotate" | "smartCrop" | "roundCrop" | "contentModeration"
                )
            {
                continue;
            }
            match key {
                "overlayWith" => ops.overlay = Some(overlay(value)?),
                "smartCrop" => {
                    if matches!(
                        value,
                        Value::Bool(true) | Value::Object(_) | Value::Array(_) | Value::Null
                    ) {
                        return Err(Error::new(
                            400,
                            "SmartCrop::Unsupported",
                            "Smart crop needs Amazon Rekognition face detection, which this image handler does not provide.",
                        ));
                    }
                }
                "contentModeration" => {
                    if matches!(
                        value,
                        Value::Bool(true) | Value::Object(_) | Value::Array(_) | Value::Null
                    ) {
                        return Err(Error::new(
                            400,
                            "ContentModeration::Unsupported",
                            "Content moderation needs Amazon Rekognition moderation labels, which this image handler does not provide.",
                        ));
                    }
                }
                "roundCrop" => match value {
                    Value::Bool(true) => ops.round_crop = Some(RoundCropOpts::default()),
                    Value::Object(o) => {
                        // SIH's validRoundCropParam: a truthy number >= 0.
                        let p = |k: &str| {
                            o.get(k)
                                .filter(|v| truthy(v))
                                .map(js_number)
                                .filter(|n| *n >= 0.0)
                        };
                        ops.round_crop = Some(RoundCropOpts {
                            top: p("top"),
                            left: p("left"),
                            rx: p("rx"),
                            ry: p("ry"),
                        });
                    }
                    Value::Null => {
                        return Err(processing_failure(
                            "Cannot destructure roundCrop null".to_owned(),
                        ));
                    }
                    _ => {}
                },
                "crop" => ops.extract(value, true)?,
                "animated" => {}
                "rotate" => ops.rotate(value)?,
                "resize" => ops.resize_call(value, sih_dims, had_ratio, pending_ratio.is_some())?,
                _ => ops.sharp_call(key, value)?,
            }
        }
        ops.ratio = pending_ratio;
        Ok(ops)
    }

    fn rotate(&mut self, value: &Value) -> Result<()> {
        // `null`: SIH strips metadata, which output never carries here. `"auto"`: the request
        // parser's spelling of `rotate: undefined`, sharp's `autoOrient()`, which decoding
        // always does here.
        if value.is_null() || value.as_str() == Some("auto") {
            return Ok(());
        }
        self.angle = 0;
        self.rotation_angle = 0.0;
        match (as_integer(value), value.as_f64()) {
            (Some(n), _) if n % 90 == 0 => self.angle = n,
            (_, Some(f)) => self.rotation_angle = f,
            _ => return Err(invalid("angle", "numeric", Some(value))),
        }
        Ok(())
    }

    fn resize_call(
        &mut self,
        value: &Value,
        (width, height): (Option<f64>, Option<f64>),
        ratio: bool,
        ratio_pending: bool,
    ) -> Result<()> {
        let mut spec = ResizeSpec::default();
        match value {
            Value::Object(o) => {
                if let Some(w) = width {
                    spec.width = Some(sharp_dimension(w, "width")?);
                }
                if let Some(h) = height {
                    spec.height = Some(sharp_dimension(h, "height")?);
                }
                if ratio && !o.contains_key("fit") {
                    spec.fit = Fit::Inside;
                }
                if ratio_pending {
                    // Placeholders until `transform` knows the image size.
                    spec.width = Some(1);
                    spec.height = Some(1);
                }
                if let Some(f) = defined(o.get("fit")) {
                    spec.fit = f
                        .as_str()
                        .and_then(Fit::from_name)
                        .ok_or_else(|| invalid("fit", "valid fit", Some(f)))?;
                }
                if let Some(p) = defined(o.get("position")) {
                    let pos = match p {
                        Value::String(s) => Position::from_name(s),
                        other => as_integer(other).and_then(Position::from_int),
                    };
                    spec.position = pos.ok_or_else(|| {
                        invalid("position", "valid position/gravity/strategy", Some(p))
                    })?;
                }
                if let Some(bg) = colour(o.get("background"), "background")? {
                    spec.background = bg;
                }
                if let Some(k) = defined(o.get("kernel")) {
                    let known = matches!(
                        k.as_str(),
                        Some(
                            "nearest"
                                | "linear"
                                | "cubic"
                                | "mitchell"
                                | "lanczos2"
                                | "lanczos3"
                                | "mks2013"
                                | "mks2021"
                        )
                    );
                    if !known {
                        return Err(invalid("kernel", "valid kernel name", Some(k)));
                    }
                }
                if let Some(b) = as_bool_opt(o, "withoutEnlargement")? {
                    spec.without_enlargement = b;
                }
                if let Some(b) = as_bool_opt(o, "withoutReduction")? {
                    spec.without_reduction = b;
                }
                as_bool_opt(o, "fastShrinkOnLoad")?;
            }
            other => {
                let w = other.as_f64().unwrap_or(f64::NAN);
                spec.width = Some(sharp_dimension(w, "width")?);
            }
        }
        self.resize = spec;
        if self.rotation_expected() && self.resize.is_expected() {
            self.rotate_before = true;
        }
        Ok(())
    }

    fn extract(&mut self, value: &Value, from_crop: bool) -> Result<()> {
        let fail = |name: &str, v: Option<&Value>| {
            if from_crop {
                crop_error()
            } else {
                invalid(name, "integer between 0 and 100000000", v)
            }
        };
        let Value::Object(o) = value else {
            return Err(fail("left", None));
        };
        let field = |name: &str| -> Result<u32> {
            let v = o.get(name);
            match v.and_then(as_integer) {
                Some(n) if (0..=100_000_000).contains(&n) => Ok(n as u32),
                _ => Err(fail(name, v)),
            }
        };
        let area = Area {
            left: field("left")?,
            top: field("top")?,
            width: field("width")?,
            height: field("height")?,
        };
        let extract = Extract { area, from_crop };
        if self.resize.is_expected() || self.extract_pre.is_some() {
            self.extract_post = Some(extract);
        } else {
            self.extract_pre = Some(extract);
        }
        if self.rotation_expected() && !self.resize.is_expected() {
            self.rotate_before = true;
        }
        Ok(())
    }

    #[allow(clippy::too_many_lines)]
    fn sharp_call(&mut self, key: &str, value: &Value) -> Result<()> {
        let undefined = value.is_null();
        match key {
            "removeAlpha" => self.remove_alpha = true,
            "ensureAlpha" => {
                self.ensure_alpha = Some(match defined(Some(value)) {
                    None => 1.0,
                    Some(v) => match v.as_f64() {
                        Some(a) if (0.0..=1.0).contains(&a) => a as f32,
                        _ => return Err(invalid("alpha", "number between 0 and 1", Some(v))),
                    },
                });
            }
            "extractChannel" => {
                let band = match value {
                    Value::String(s) => ["red", "green", "blue", "alpha"]
                        .iter()
                        .position(|n| n == s)
                        .map(|i| i as i64),
                    other => as_integer(other),
                };
                self.extract_channel = match band {
                    Some(b) if (0..=4).contains(&b) => Some(b as u8),
                    _ => {
                        return Err(invalid(
                            "channel",
                            "integer or one of: red, green, blue, alpha",
                            Some(value),
                        ));
                    }
                };
            }
            "bandbool" => {
                self.bandbool = Some(
                    value
                        .as_str()
                        .and_then(BandOp::from_name)
                        .ok_or_else(|| invalid("boolOp", "one of: and, or, eor", Some(value)))?,
                );
            }
            // sharp reads the second image from a path or buffer. SIH passes the edit's value
            // alone, so `boolean` never has its operator; `joinChannel` would read files of
            // the server's own disk, which is refused.
            "boolean" => {
                return Err(match value {
                    Value::String(_) | Value::Object(_) => {
                        invalid("operator", "one of: and, or, eor", None)
                    }
                    other => processing_failure(format!("Unsupported input {other}")),
                });
            }
            "joinChannel" => {
                return Err(processing_failure(
                    "joinChannel reads images from the server's disk: refused".to_owned(),
                ));
            }
            "unflatten" => self.unflatten = true,
            "recomb" => self.recomb = Some(recomb(value)?),
            "clahe" => {
                let Value::Object(o) = value else {
                    return Err(invalid("options", "plain object", Some(value)));
                };
                let side = |name: &str| match o.get(name).and_then(as_integer) {
                    Some(n) if n > 0 && n <= i64::from(u32::MAX) => Ok(n as u32),
                    _ => Err(invalid(name, "integer greater than zero", o.get(name))),
                };
                let (w, h) = (side("width")?, side("height")?);
                let slope = integer_in(o, "maxSlope", 0, 100)?.map_or(3, |n| n as u32);
                self.clahe = Some((w, h, slope));
            }
            "affine" => self.affine = Some(affine(value)?),
            // sRGB is what this pipeline always works in and writes.
            "pipelineColourspace" | "pipelineColorspace" | "toColourspace" | "toColorspace"
                if !matches!(value.as_str(), Some("srgb" | "rgb" | "sRGB")) =>
            {
                return Err(unsupported_edit(key));
            }
            "tint" => {
                if let Some(c) = colour(Some(value), "tint")? {
                    self.tint = Some([c[0], c[1], c[2]]);
                }
            }
            "greyscale" | "grayscale" => self.greyscale = value.as_bool().unwrap_or(true),
            "flip" => self.flip = value.as_bool().unwrap_or(true),
            "flop" => self.flop = value.as_bool().unwrap_or(true),
            "sharpen" => self.sharpen = Some(sharpen(value)?),
            "median" => {
                self.median = Some(if undefined {
                    3
                } else {
                    match as_integer(value) {
                        Some(n) if (1..=1000).contains(&n) => n as u32,
                        _ => {
                            return Err(invalid("size", "integer between 1 and 1000", Some(value)));
                        }
                    }
                });
            }
            "blur" => {
                let sigma = match value {
                    Value::Object(o) => match o.get("sigma").and_then(Value::as_f64) {
                        Some(s) => Some(s),
                        None => {
                            return Err(invalid(
                                "options.sigma",
                                "number between 0.3 and 1000",
                                None,
                            ));
                        }
                    },
                    other => other.as_f64(),
                };
                self.blur = match (value, sigma) {
                    (Value::Null, _) | (Value::Bool(true), _) => Some(None),
                    (Value::Bool(false), _) => None,
                    (_, Some(s)) if (0.3..=1000.0).contains(&s) => Some(Some(s as f32)),
                    _ => return Err(invalid("sigma", "number between 0.3 and 1000", Some(value))),
                };
            }
            "flatten" => {
                let on = value.as_bool().unwrap_or(true);
                let mut bg = [0, 0, 0];
                if let Value::Object(o) = value
                    && let Some(c) = colour(o.get("background"), "background")?
                {
                    bg = [c[0], c[1], c[2]];
                }
                self.flatten = on.then_some(bg);
            }
            "gamma" => {
                let g = if undefined {
                    2.2
                } else {
                    match value.as_f64() {
                        Some(g) if (1.0..=3.0).contains(&g) => g,
                        _ => {
                            return Err(invalid(
                                "gamma",
                                "number between 1.0 and 3.0",
                                Some(value),
                            ));
                        }
                    }
                };
                self.gamma = Some((g as f32, g as f32));
            }
            "negate" => {
                let on = value.as_bool().unwrap_or(true);
                let mut alpha = true;
                if let Value::Object(o) = value
                    && let Some(a) = o.get("alpha")
                {
                    alpha = a
                        .as_bool()
                        .ok_or_else(|| invalid("alpha", "boolean value", Some(a)))?;
                }
                self.negate = on.then_some(alpha);
            }
            "normalise" | "normalize" => {
                let (mut lower, mut upper) = self.normalise.unwrap_or((1.0, 99.0));
                if let Value::Object(o) = value {
                    if let Some(l) = number_in(o, "lower", 0.0, 99.0)? {
                        lower = l as f32;
                    }
                    if let Some(u) = number_in(o, "upper", 1.0, 100.0)? {
                        upper = u as f32;
                    }
                }
                if lower >= upper {
                    return Err(invalid("range", "lower to be less than upper", None));
                }
                self.normalise = Some((lower, upper));
            }
            "convolve" => self.convolve = Some(kernel(value)?),
            "threshold" => {
                let t = match value {
                    Value::Null => 128,
                    Value::Bool(b) => {
                        if *b {
                            128
                        } else {
                            0
                        }
                    }
                    other => match as_integer(other) {
                        Some(n) if (0..=255).contains(&n) => n as u8,
                        _ => {
                            return Err(invalid(
                                "threshold",
                                "integer between 0 and 255",
                                Some(other),
                            ));
                        }
                    },
                };
                self.threshold = (t != 0).then_some((t, true));
            }
            "linear" => {
                let a = match value {
                    Value::Null => None,
                    Value::Number(n) => n.as_f64(),
                    Value::Array(items) if items.len() == 1 => items[0].as_f64(),
                    Value::Array(items)
                        if !items.is_empty() && items.iter().all(Value::is_number) =>
                    {
                        // Per-channel arrays with no `b` fail sharp's length check.
                        return Err(processing_failure(
                            "Expected a and b to be arrays of the same length".to_owned(),
                        ));
                    }
                    other => return Err(invalid("a", "number or array of numbers", Some(other))),
                };
                self.linear = a.map(|a| (a as f32, 0.0));
            }
            "modulate" => {
                let Value::Object(o) = value else {
                    return Err(invalid("options", "plain object", Some(value)));
                };
                let (mut b, mut s, mut h, mut l) = self.modulate.unwrap_or((1.0, 1.0, 0.0, 0.0));
                if let Some(v) = o.get("brightness") {
                    b = v
                        .as_f64()
                        .filter(|x| *x >= 0.0)
                        .ok_or_else(|| invalid("brightness", "number above zero", Some(v)))?
                        as f32;
                }
                if let Some(v) = o.get("saturation") {
                    s = v
                        .as_f64()
                        .filter(|x| *x >= 0.0)
                        .ok_or_else(|| invalid("saturation", "number above zero", Some(v)))?
                        as f32;
                }
                if let Some(v) = o.get("hue") {
                    h = (as_integer(v).ok_or_else(|| invalid("hue", "number", Some(v)))? % 360)
                        as f32;
                }
                if let Some(v) = o.get("lightness") {
                    l = v
                        .as_f64()
                        .ok_or_else(|| invalid("lightness", "number", Some(v)))?
                        as f32;
                }
                self.modulate = Some((b, s, h, l));
            }
            "jpeg" | "png" | "webp" | "gif" | "avif" | "tiff" | "heif" => {
                self.format_call(key, value)?;
            }
            "toFormat" => {
                let name = match value {
                    Value::String(s) => s.clone(),
                    Value::Object(o) => {
                        o.get("id").and_then(Value::as_str).unwrap_or("").to_owned()
                    }
                    _ => String::new(),
                };
                let format = Format::from_name(&name).ok_or_else(|| {
                    processing_failure(format!("Unsupported output format {value}"))
                })?;
                self.format = Some(format);
            }
            "extend" => self.extend = Some(extend(value)?),
            "extract" => self.extract(value, false)?,
            "trim" => {
                let mut bg = None;
                let mut threshold = 10.0;
                match value {
                    Value::Null => {}
                    Value::Object(o) => {
                        bg = colour(o.get("background"), "background")?;
                        if let Some(t) = defined(o.get("threshold")) {
                            threshold =
                                t.as_f64().filter(|t| *t >= 0.0).ok_or_else(|| {
                                    invalid("threshold", "positive number", Some(t))
                                })? as f32;
                        }
                    }
                    other => return Err(invalid("trim", "object", Some(other))),
                }
                self.trim = Some((bg, threshold));
                if self.rotation_expected() {
                    self.rotate_before = true;
                }
            }
            // Names outside sharp's allow-list are ignored, as SIH ignores them.
            _ => {}
        }
        Ok(())
    }

    fn format_call(&mut self, key: &str, value: &Value) -> Result<()> {
        let format = Format::from_name(key).ok_or_else(|| unsupported_edit(key))?;
        self.format = Some(format);
        let Value::Object(o) = value else {
            return Ok(());
        };
        let e = &mut self.encode;
        match format {
            Format::Jpeg => {
                if let Some(q) = integer_in(o, "quality", 1, 100)? {
                    e.jpeg_quality = Some(q as u8);
                }
                if let Some(p) = as_bool_opt(o, "progressive")? {
                    e.jpeg_progressive = p;
                }
                if let Some(c) = defined(o.get("chromaSubsampling")) {
                    match c.as_str() {
                        Some("4:4:4") => e.jpeg_chroma_444 = true,
                        Some("4:2:0") => e.jpeg_chroma_444 = false,
                        _ => {
                            return Err(invalid(
                                "chromaSubsampling",
                                "one of: 4:2:0, 4:4:4",
                                Some(c),
                            ));
                        }
                    }
                }
                for k in ["optimiseCoding", "optimizeCoding"] {
                    if let Some(b) = as_bool_opt(o, k)? {
                        e.jpeg_no_optimise = !b;
                    }
                }
                if let Some(m) = as_bool_opt(o, "mozjpeg")? {
                    e.jpeg_mozjpeg = m;
                }
            }
            Format::Png => {
                if let Some(c) = integer_in(o, "compressionLevel", 0, 9)? {
                    e.png_compression = Some(c as u8);
                }
                if let Some(a) = as_bool_opt(o, "adaptiveFiltering")? {
                    e.png_adaptive_filtering = a;
                }
                as_bool_opt(o, "progressive")?;
                as_bool_opt(o, "palette")?;
                integer_in(o, "quality", 0, 100)?;
            }
            Format::Webp => {
                if let Some(q) = integer_in(o, "quality", 1, 100)? {
                    e.webp_quality = Some(q as u8);
                }
                if let Some(q) = integer_in(o, "alphaQuality", 0, 100)? {
                    e.webp_alpha_quality = Some(q as u8);
                }
                if let Some(l) = as_bool_opt(o, "lossless")? {
                    e.webp_lossless = l;
                }
                if let Some(l) = as_bool_opt(o, "nearLossless")? {
                    e.webp_near_lossless = l;
                }
                if let Some(s) = as_bool_opt(o, "smartSubsample")? {
                    e.webp_smart_subsample = s;
                }
                if let Some(n) = integer_in(o, "effort", 0, 6)? {
                    e.webp_effort = Some(n as u8);
                }
                if let Some(n) = integer_in(o, "loop", 0, 65535)? {
                    e.gif_loop = Some(n as u16);
                }
            }
            Format::Gif => {
                if let Some(n) = integer_in(o, "loop", 0, 65535)? {
                    e.gif_loop = Some(n as u16);
                }
            }
            // sharp's `heif` checks, for `avif` (`compression: "av1"`).
            Format::Avif => {
                if let Some(q) = integer_in(o, "quality", 1, 100)? {
                    e.avif.quality = Some(q as u8);
                }
                if let Some(l) = as_bool_opt(o, "lossless")? {
                    e.avif.lossless = l;
                }
                if let Some(n) = integer_in(o, "effort", 0, 9)? {
                    e.avif.effort = Some(n as u8);
                }
                if let Some(c) = defined(o.get("chromaSubsampling"))
                    && !matches!(c.as_str(), Some("4:2:0" | "4:4:4"))
                {
                    return Err(invalid(
                        "chromaSubsampling",
                        "one of: 4:2:0, 4:4:4",
                        Some(c),
                    ));
                }
                if let Some(b) = defined(o.get("bitdepth")) {
                    match as_integer(b) {
                        Some(8) => {}
                        Some(10 | 12) => {
                            return Err(invalid(
                                "bitdepth when using prebuilt binaries",
                                "8",
                                Some(b),
                            ));
                        }
                        _ => return Err(invalid("bitdepth", "8, 10 or 12", Some(b))),
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// sharp `recomb(inputMatrix)`: three or four rows, flattened one level and read with
/// JavaScript's `Number`, nine or sixteen values in all.
fn recomb(value: &Value) -> Result<Vec<f64>> {
    let Value::Array(rows) = value else {
        return Err(invalid("inputMatrix", "array", Some(value)));
    };
    if rows.len() != 3 && rows.len() != 4 {
        return Err(invalid(
            "inputMatrix",
            "3x3 or 4x4 array",
            Some(&Value::from(rows.len())),
        ));
    }
    let flat: Vec<f64> = rows
        .iter()
        .flat_map(|row| match row {
            Value::Array(items) => items.iter().map(js_number).collect(),
            other => vec![js_number(other)],
        })
        .collect();
    if flat.len() != 9 && flat.len() != 16 {
        return Err(invalid(
            "inputMatrix",
            "cardinality of 9 or 16",
            Some(&Value::from(flat.len())),
        ));
    }
    Ok(flat)
}

/// sharp `affine(matrix)`: `[a, b, c, d]` or `[[a, b], [c, d]]` (flattened one level), four
/// numbers.
fn affine(value: &Value) -> Result<[f64; 4]> {
    let fail = || invalid("matrix", "1x4 or 2x2 array", Some(value));
    let Value::Array(rows) = value else {
        // A string spreads into its characters, which are not numbers; anything else is not
        // iterable. Both fail.
        return Err(fail());
    };
    let flat: Vec<&Value> = rows
        .iter()
        .flat_map(|row| match row {
            Value::Array(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect();
    match flat.as_slice() {
        [a, b, c, d] => {
            let n = |v: &Value| v.as_f64().ok_or_else(fail);
            Ok([n(a)?, n(b)?, n(c)?, n(d)?])
        }
        _ => Err(fail()),
    }
}

fn sharpen(value: &Value) -> Result<SharpenOpts> {
    let mut s = SharpenOpts {
        sigma: None,
        m1: 1.0,
        m2: 2.0,
        x1: 2.0,
        y2: 10.0,
        y3: 20.0,
    };
    if let Value::Object(o) = value {
        match o.get("sigma").and_then(Value::as_f64) {
            Some(sigma) if (0.000_001..=10.0).contains(&sigma) => s.sigma = Some(sigma as f32),
            _ => {
                return Err(invalid(
                    "options.sigma",
                    "number between 0.000001 and 10",
                    o.get("sigma"),
                ));
            }
        }
        for (k, slot) in [
            ("m1", &mut s.m1),
            ("m2", &mut s.m2),
            ("x1", &mut s.x1),
            ("y2", &mut s.y2),
            ("y3", &mut s.y3),
        ] {
            if let Some(v) = number_in(o, k, 0.0, 1_000_000.0)? {
                *slot = v as f32;
            }
        }
    }
    Ok(s)
}

fn kernel(value: &Value) -> Result<KernelOpts> {
    let bad = || processing_failure("Invalid convolution kernel".to_owned());
    let Value::Object(o) = value else {
        return Err(bad());
    };
    let width = o.get("width").and_then(as_integer).ok_or_else(bad)?;
    let height = o.get("height").and_then(as_integer).ok_or_else(bad)?;
    let items = o.get("kernel").and_then(Value::as_array).ok_or_else(bad)?;
    if !(3..=1001).contains(&width) || !(3..=1001).contains(&height) {
        return Err(bad());
    }
    if (width * height) as usize != items.len() {
        return Err(bad());
    }
    let kernel: Vec<f32> = items
        .iter()
        .map(|v| v.as_f64().map(|f| f as f32))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let mut scale = match o.get("scale").and_then(as_integer) {
        Some(s) => s as f32,
        None => kernel.iter().sum(),
    };
    if scale < 1.0 {
        scale = 1.0;
    }
    let offset = o.get("offset").and_then(as_integer).unwrap_or(0) as f32;
    Ok(KernelOpts {
        width: width as u32,
        height: height as u32,
        kernel,
        scale,
        offset,
    })
}

fn extend(value: &Value) -> Result<(u32, u32, u32, u32, [u8; 4])> {
    match value {
        Value::Object(o) => {
            let side =
                |k: &str| -> Result<u32> { Ok(integer_in(o, k, 0, 10_000)?.unwrap_or(0) as u32) };
            let (t, b, l, r) = (side("top")?, side("bottom")?, side("left")?, side("right")?);
            let bg = colour(o.get("background"), "background")?.unwrap_or([0, 0, 0, 255]);
            if let Some(w) = defined(o.get("extendWith"))
                && w.as_str() != Some("background")
            {
                if matches!(w.as_str(), Some("copy" | "repeat" | "mirror")) {
                    return Err(unsupported_edit("extend.extendWith"));
                }
                return Err(invalid(
                    "extendWith",
                    "one of: background, copy, repeat, mirror",
                    Some(w),
                ));
            }
            Ok((t, b, l, r, bg))
        }
        other => match as_integer(other) {
            Some(n) if (1..=10_000).contains(&n) => {
                let n = n as u32;
                Ok((n, n, n, n, [0, 0, 0, 255]))
            }
            _ => Err(invalid(
                "extend",
                "integer between 1 and 10000",
                Some(other),
            )),
        },
    }
}

/// `overlayWith`: bucket and key for the handler; SIH's ratio and alpha rules.
fn overlay(value: &Value) -> Result<OverlayOpts> {
    let Value::Object(o) = value else {
        if value.is_null() {
            return Err(processing_failure(
                "Cannot destructure overlayWith null".to_owned(),
            ));
        }
        // SIH destructures `undefined` bucket: the handler's allow-list refuses it (403).
        return Ok(OverlayOpts {
            source: OverlaySource {
                bucket: String::new(),
                key: String::new(),
            },
            w_ratio: None,
            h_ratio: None,
            alpha: 0,
            options: None,
        });
    };
    let text = |k: &str| match o.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    // SIH: /^(100|[1-9]?\d)$/ on the value as a string.
    let zero_to_hundred = |k: &str| -> Option<u32> {
        let s = match o.get(k)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let ok = s == "100"
            || (s.len() == 1 && s.bytes().all(|b| b.is_ascii_digit()))
            || (s.len() == 2 && s.as_bytes()[0] != b'0' && s.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| s.parse().ok()).flatten()
    };
    let options = o.get("options").and_then(Value::as_object).cloned();
    Ok(OverlayOpts {
        source: OverlaySource {
            bucket: text("bucket"),
            key: text("key"),
        },
        w_ratio: zero_to_hundred("wRatio"),
        h_ratio: zero_to_hundred("hRatio"),
        alpha: zero_to_hundred("alpha").unwrap_or(0),
        options,
    })
}

/// SIH's `calcOverlaySizeOption`: `None` where SIH gets `NaN`.
pub(crate) fn overlay_offset(edit: Option<&Value>, image: u32, overlay: u32) -> Option<i64> {
    let edit = edit?;
    let text = match edit {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    };
    let (image, overlay) = (image as f64, overlay as f64);
    if let Some(pct) = text.strip_suffix('p') {
        let _ = pct;
        let n = parse_int(&text.replacen('p', "", 1))? as f64;
        let v = if n < 0.0 {
            image + (image * n) / 100.0 - overlay
        } else {
            (image * n) / 100.0
        };
        Some(v.floor() as i64)
    } else {
        let n = parse_int(&text)?;
        Some(if n < 0 {
            (image + n as f64 - overlay) as i64
        } else {
            n
        })
    }
}

/// JavaScript's `parseInt(s)` (base 10): leading whitespace, sign, digits; `None` for NaN.
fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    if end == 0 {
        return None;
    }
    let n: i64 = digits[..end.min(15)].parse().ok()?;
    Some(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edits(v: Value) -> Edits {
        v.as_object().expect("object").clone().into_iter().collect()
    }

    #[test]
    fn sih_resize_validation() {
        let e = Ops::build(&edits(json!({"resize": {"width": 0, "height": 0}})), false)
            .expect_err("zero");
        assert_eq!((e.status(), e.code()), (400, "InvalidResizeException"));
        assert_eq!(e.message(), "The image size is invalid.");
        for bad in [json!(-5), json!(""), json!(false), json!("0"), json!(0.4)] {
            let e = Ops::build(&edits(json!({"resize": {"width": bad}})), false).expect_err("bad");
            assert_eq!(e.code(), "InvalidResizeException", "{bad}");
        }
        let ok = Ops::build(
            &edits(json!({"resize": {"width": "99.1", "height": "99.9"}})),
            false,
        )
        .expect("strings");
        assert_eq!((ok.resize.width, ok.resize.height), (Some(99), Some(100)));
        let ok = Ops::build(
            &edits(json!({"resize": {"width": 100, "height": null}})),
            false,
        )
        .expect("null");
        assert_eq!((ok.resize.width, ok.resize.height), (Some(100), None));
        let e = Ops::build(&edits(json!({"resize": {"width": "abc"}})), false).expect_err("NaN");
        assert_eq!((e.status(), e.code()), (500, "ProcessingFailure"));
        let e = Ops::build(
            &edits(json!({"resize": {"width": 10, "fit": "bogus"}})),
            false,
        )
        .expect_err("fit");
        assert_eq!(e.code(), "ProcessingFailure");
    }

    #[test]
    fn ratio_with_both_dimensions_and_without() {
        let ok = Ops::build(
            &edits(json!({"resize": {"width": 100, "height": 50, "ratio": 0.5}})),
            false,
        )
        .expect("ratio");
        assert_eq!((ok.resize.width, ok.resize.height), (Some(50), Some(25)));
        assert_eq!(ok.resize.fit, Fit::Inside);
        let pending = Ops::build(&edits(json!({"resize": {"ratio": 0.5}})), false).expect("ratio");
        assert_eq!(pending.ratio, Some(0.5));
        assert_eq!(pending.resize.fit, Fit::Inside);
    }

    #[test]
    fn crop_errors_are_sih_crop_errors() {
        for bad in [
            json!({"left": 0, "right": 0, "width": 1, "height": 1}),
            json!({"left": -1, "top": 0, "width": 1, "height": 1}),
            json!("nope"),
        ] {
            let e = Ops::build(&edits(json!({ "crop": bad })), false).expect_err("crop");
            assert_eq!((e.status(), e.code()), (400, "Crop::AreaOutOfBounds"));
        }
    }

    #[test]
    fn unsupported_and_ignored_edits() {
        let e = Ops::build(&edits(json!({"toColourspace": "cmyk"})), false).expect_err("cmyk");
        assert_eq!(e.status(), 400);
        assert!(e.message().contains("toColourspace"));
        let e = Ops::build(&edits(json!({"smartCrop": true})), false).expect_err("smart");
        assert!(e.message().contains("Rekognition"));
        // Skipped for animations, as SIH's skipEdit does.
        Ops::build(&edits(json!({"smartCrop": true})), true).expect("skipped");
        Ops::build(&edits(json!({"smartCrop": false})), false).expect("off");
        Ops::build(&edits(json!({"toFile": "x", "rotate": null})), false).expect("ignored");
    }

    // sharp's argument checks for the band operations, as SIH calls them with one argument;
    // each failure is SIH's 500 processing failure.
    #[test]
    fn band_operations_take_sharps_arguments() {
        let ops = |v: Value| Ops::build(&edits(v), false);
        let o = ops(json!({"recomb": [[1, 0, 0], [0, "1", 0], [0, 0, true]]})).expect("recomb");
        assert_eq!(o.recomb, Some(vec![1., 0., 0., 0., 1., 0., 0., 0., 1.]));
        for bad in [
            json!({"recomb": "x"}),
            json!({"recomb": [1, 2, 3, 4]}),
            json!({"recomb": [[1, 2], [3, 4]]}),
            json!({"recomb": [[1, 2, 3], [4, 5, 6]]}),
        ] {
            assert_eq!(ops(bad).expect_err("recomb").status(), 500);
        }
        assert_eq!(
            ops(json!({"extractChannel": "green"}))
                .expect("g")
                .extract_channel,
            Some(1)
        );
        assert_eq!(
            ops(json!({"extractChannel": 4}))
                .expect("4")
                .extract_channel,
            Some(4)
        );
        for bad in [json!("cyan"), json!(5), json!(1.5), json!(null)] {
            assert_eq!(
                ops(json!({ "extractChannel": bad }))
                    .expect_err("ch")
                    .status(),
                500
            );
        }
        assert_eq!(
            ops(json!({"bandbool": "eor"})).expect("eor").bandbool,
            Some(BandOp::Eor)
        );
        assert_eq!(
            ops(json!({"bandbool": "xor"})).expect_err("xor").status(),
            500
        );
        assert!(
            ops(json!({"unflatten": false}))
                .expect("any value")
                .unflatten
        );
        assert_eq!(
            ops(json!({"clahe": {"width": 3, "height": 4}}))
                .expect("clahe")
                .clahe,
            Some((3, 4, 3))
        );
        for bad in [
            json!({"width": 3}),
            json!({"width": 3, "height": 3, "maxSlope": 101}),
            json!({"width": 0, "height": 3}),
            json!(3),
        ] {
            assert_eq!(
                ops(json!({ "clahe": bad })).expect_err("clahe").status(),
                500
            );
        }
        assert_eq!(
            ops(json!({"affine": [[1, 0.3], [0.1, 0.7]]}))
                .expect("2x2")
                .affine,
            Some([1., 0.3, 0.1, 0.7])
        );
        assert_eq!(
            ops(json!({"affine": [[2, 0, 0, 2]]}))
                .expect("1x4 nested")
                .affine,
            Some([2., 0., 0., 2.])
        );
        for bad in [
            json!("abcd"),
            json!([1, 2, 3]),
            json!([[[1, 0]], [0, 1]]),
            json!(["1", 0, 0, 1]),
            json!(null),
        ] {
            assert_eq!(
                ops(json!({ "affine": bad })).expect_err("affine").status(),
                500
            );
        }
        for operand in [json!("/etc/passwd"), json!({"a": 1}), json!(1), json!(null)] {
            assert_eq!(
                ops(json!({ "boolean": operand }))
                    .expect_err("boolean")
                    .status(),
                500
            );
        }
        assert_eq!(
            ops(json!({"joinChannel": "/var/task/bootstrap"}))
                .expect_err("join")
                .status(),
            500
        );
    }

    #[test]
    fn overlay_offsets_match_sih() {
        // From SIH's overlay.spec.ts calcOverlaySizeOption cases.
        assert_eq!(overlay_offset(Some(&json!("50p")), 100, 10), Some(50));
        assert_eq!(overlay_offset(Some(&json!("-50p")), 100, 50), Some(0));
        assert_eq!(overlay_offset(Some(&json!("50")), 100, 10), Some(50));
        assert_eq!(overlay_offset(Some(&json!(50)), 100, 10), Some(50));
        assert_eq!(overlay_offset(Some(&json!(-50)), 100, 60), Some(-10));
        assert_eq!(overlay_offset(Some(&json!("-50")), 100, 50), Some(0));
        assert_eq!(overlay_offset(None, 100, 10), None);
        assert_eq!(overlay_offset(Some(&json!("25.5p")), 25, 1), Some(6));
        assert_eq!(overlay_offset(Some(&json!("abc")), 25, 1), None);
    }

    #[test]
    fn call_order_flags() {
        // `crop` sorts before `resize`: extract happens before the resize.
        let ops = Ops::build(
            &edits(json!({"crop": {"left": 0, "top": 0, "width": 10, "height": 10}, "resize": {"width": 5}})),
            false,
        )
        .expect("ops");
        assert!(ops.extract_pre.is_some() && ops.extract_post.is_none());
        let ops = Ops::build(&edits(json!({"rotate": 90, "trim": {}})), false).expect("ops");
        assert!(ops.rotate_before);
        let ops = Ops::build(&edits(json!({"rotate": 45.5})), false).expect("ops");
        assert_eq!((ops.angle, ops.rotation_angle), (0, 45.5));
        let ops = Ops::build(&edits(json!({"rotate": "auto"})), false).expect("auto-orient");
        assert_eq!((ops.angle, ops.rotation_angle), (0, 0.0));
    }
}
