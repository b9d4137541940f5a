//! sharp's resize arithmetic: how `resize({width, height, fit, position, ...})` turns into a
//! scale, then a crop (`cover`) or an embed (`contain`). Mirrors `ResolveShrink`,
//! `CalculateCrop` and `CalculateEmbedPosition` in sharp's `src/common.cc` and the
//! "Resolve dimensions / Crop/embed" step of `src/pipeline.cc`, so that output dimensions match
//! sharp's pixel for pixel.

/// sharp's `fit`, as its `canvas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// `cover`: scale to cover both, then crop (sharp's `crop` canvas).
    Cover,
    /// `contain`: scale to fit inside both, then letterbox (`embed`).
    Contain,
    /// `fill`: ignore the aspect ratio.
    Fill,
    /// `inside`: scale to fit inside both (`max`).
    Inside,
    /// `outside`: scale to cover both, no crop (`min`).
    Outside,
}

impl Fit {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "cover" => Self::Cover,
            "contain" => Self::Contain,
            "fill" => Self::Fill,
            "inside" => Self::Inside,
            "outside" => Self::Outside,
            _ => return None,
        })
    }
}

/// sharp's `position`: a gravity 0..=8 (0 centre, 1 north, 2 east, 3 south, 4 west,
/// 5 north-east, 6 south-east, 7 south-west, 8 north-west) or a strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    /// A gravity, 0..=8.
    Gravity(u8),
    /// `entropy` (16).
    Entropy,
    /// `attention` (17).
    Attention,
}

impl Position {
    /// Parses sharp's position names (`strategy`, `position`, `gravity` maps) and integers.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "entropy" => Self::Entropy,
            "attention" => Self::Attention,
            "center" | "centre" => Self::Gravity(0),
            "top" | "north" => Self::Gravity(1),
            "right" | "east" => Self::Gravity(2),
            "bottom" | "south" => Self::Gravity(3),
            "left" | "west" => Self::Gravity(4),
            "right top" | "northeast" => Self::Gravity(5),
            "right bottom" | "southeast" => Self::Gravity(6),
            "left bottom" | "southwest" => Self::Gravity(7),
            "left top" | "northwest" => Self::Gravity(8),
            _ => return None,
        })
    }

    pub(crate) fn from_int(n: i64) -> Option<Self> {
        match n {
            0..=8 => Some(Self::Gravity(n as u8)),
            16 => Some(Self::Entropy),
            17 => Some(Self::Attention),
            _ => None,
        }
    }

    fn gravity(self) -> u8 {
        match self {
            Self::Gravity(g) => g,
            // A strategy embeds (`contain`) at the centre, as sharp does; a `cover` crop with
            // one goes through `smartcrop` instead.
            Self::Entropy | Self::Attention => 0,
        }
    }
}

/// A resize request, as sharp holds it after validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ResizeSpec {
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    pub(crate) fit: Fit,
    pub(crate) position: Position,
    pub(crate) background: [u8; 4],
    pub(crate) without_enlargement: bool,
    pub(crate) without_reduction: bool,
}

impl Default for ResizeSpec {
    fn default() -> Self {
        Self {
            width: None,
            height: None,
            fit: Fit::Cover,
            position: Position::Gravity(0),
            background: [0, 0, 0, 255],
            without_enlargement: false,
            without_reduction: false,
        }
    }
}

impl ResizeSpec {
    /// Whether sharp would consider a resize expected (`width` or `height` set).
    pub(crate) fn is_expected(&self) -> bool {
        self.width.is_some() || self.height.is_some()
    }
}

/// sharp's `ResolveShrink`: the horizontal and vertical shrink factors.
pub(crate) fn resolve_shrink(width: u32, height: u32, spec: &ResizeSpec) -> (f64, f64) {
    let (w, h) = (f64::from(width), f64::from(height));
    let mut hshrink = 1.0;
    let mut vshrink = 1.0;
    match (spec.width, spec.height) {
        (Some(tw), Some(th)) => {
            hshrink = w / f64::from(tw);
            vshrink = h / f64::from(th);
            match spec.fit {
                Fit::Cover | Fit::Outside => {
                    let s = hshrink.min(vshrink);
                    hshrink = s;
                    vshrink = s;
                }
                Fit::Contain | Fit::Inside => {
                    let s = hshrink.max(vshrink);
                    hshrink = s;
                    vshrink = s;
                }
                Fit::Fill => {}
            }
        }
        (Some(tw), None) => {
            hshrink = w / f64::from(tw);
            if spec.fit != Fit::Fill {
                vshrink = hshrink;
            }
        }
        (None, Some(th)) => {
            vshrink = h / f64::from(th);
            if spec.fit != Fit::Fill {
                hshrink = vshrink;
            }
        }
        (None, None) => {}
    }
    if spec.without_reduction {
        hshrink = hshrink.min(1.0);
        vshrink = vshrink.min(1.0);
    } else if spec.without_enlargement {
        hshrink = hshrink.max(1.0);
        vshrink = vshrink.max(1.0);
    }
    (hshrink.min(w), vshrink.min(h))
}

/// The JPEG DCT shrink-on-load sharp picks (with `fastShrinkOnLoad`, its default): 1, 2, 4 or 8.
pub(crate) fn jpeg_shrink_on_load(hshrink: f64, vshrink: f64) -> u8 {
    let shrink = hshrink.min(vshrink);
    let mut s: u8 = if shrink >= 8.0 {
        8
    } else if shrink >= 4.0 {
        4
    } else if shrink >= 2.0 {
        2
    } else {
        1
    };
    // sharp: "Lower shrink-on-load for known libjpeg rounding errors".
    if s > 1 && shrink as i64 == i64::from(s) {
        s /= 2;
    }
    s
}

/// What follows the scale: sharp's crop (`cover`) or embed (`contain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Canvas {
    /// Nothing more.
    None,
    /// Extract this area of the scaled image.
    Crop {
        left: u32,
        top: u32,
        width: u32,
        height: u32,
    },
    /// Place the scaled image at (left, top) on a canvas this size.
    Embed {
        left: u32,
        top: u32,
        width: u32,
        height: u32,
    },
}

/// The full resize layout for an input of `width` x `height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Scaled size (before crop or embed).
    pub(crate) scaled_width: u32,
    pub(crate) scaled_height: u32,
    pub(crate) canvas: Canvas,
}

impl Layout {
    /// The output size.
    pub(crate) fn output(&self) -> (u32, u32) {
        match self.canvas {
            Canvas::None => (self.scaled_width, self.scaled_height),
            Canvas::Crop { width, height, .. } | Canvas::Embed { width, height, .. } => {
                (width, height)
            }
        }
    }
}

fn rint(x: f64) -> u32 {
    let r = x.round_ties_even();
    if r < 1.0 {
        1
    } else if r > f64::from(u32::MAX) {
        u32::MAX
    } else {
        r as u32
    }
}

/// sharp's resize layout for an input of `width` x `height` (after any shrink-on-load).
pub(crate) fn layout(width: u32, height: u32, spec: &ResizeSpec) -> Layout {
    let (hshrink, vshrink) = resolve_shrink(width, height, spec);
    let scaled_width = if hshrink == 1.0 {
        width
    } else {
        rint(f64::from(width) / hshrink)
    };
    let scaled_height = if vshrink == 1.0 {
        height
    } else {
        rint(f64::from(height) / vshrink)
    };
    let mut target_w = spec.width.unwrap_or(scaled_width);
    let mut target_h = spec.height.unwrap_or(scaled_height);
    let mut canvas = Canvas::None;
    if scaled_width != target_w || scaled_height != target_h {
        let gravity = spec.position.gravity();
        match spec.fit {
            Fit::Contain => {
                let (left, top) =
                    embed_position(scaled_width, scaled_height, target_w, target_h, gravity);
                canvas = Canvas::Embed {
                    left,
                    top,
                    width: target_w.max(scaled_width),
                    height: target_h.max(scaled_height),
                };
            }
            Fit::Cover => {
                target_w = target_w.min(scaled_width);
                target_h = target_h.min(scaled_height);
                let (left, top) =
                    crop_position(scaled_width, scaled_height, target_w, target_h, gravity);
                canvas = Canvas::Crop {
                    left,
                    top,
                    width: target_w,
                    height: target_h,
                };
            }
            Fit::Fill | Fit::Inside | Fit::Outside => {}
        }
    }
    Layout {
        scaled_width,
        scaled_height,
        canvas,
    }
}

/// sharp's `CalculateEmbedPosition` (negative offsets clamp to 0: the canvas is never smaller).
fn embed_position(in_w: u32, in_h: u32, out_w: u32, out_h: u32, gravity: u8) -> (u32, u32) {
    let dw = i64::from(out_w) - i64::from(in_w);
    let dh = i64::from(out_h) - i64::from(in_h);
    let (left, top) = match gravity {
        1 => (dw / 2, 0),
        2 => (dw, dh / 2),
        3 => (dw / 2, dh),
        4 => (0, dh / 2),
        5 => (dw, 0),
        6 => (dw, dh),
        7 => (0, dh),
        8 => (0, 0),
        _ => (dw / 2, dh / 2),
    };
    (left.max(0) as u32, top.max(0) as u32)
}

/// sharp's `CalculateCrop` by gravity.
pub(crate) fn crop_position(
    in_w: u32,
    in_h: u32,
    out_w: u32,
    out_h: u32,
    gravity: u8,
) -> (u32, u32) {
    let dw = i64::from(in_w) - i64::from(out_w);
    let dh = i64::from(in_h) - i64::from(out_h);
    let (left, top) = match gravity {
        1 => ((dw + 1) / 2, 0),
        2 => (dw, (dh + 1) / 2),
        3 => ((dw + 1) / 2, dh),
        4 => (0, (dh + 1) / 2),
        5 => (dw, 0),
        6 => (dw, dh),
        7 => (0, dh),
        8 => (0, 0),
        _ => ((dw + 1) / 2, (dh + 1) / 2),
    };
    (left.max(0) as u32, top.max(0) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(width: Option<u32>, height: Option<u32>, fit: Fit) -> ResizeSpec {
        ResizeSpec {
            width,
            height,
            fit,
            ..ResizeSpec::default()
        }
    }

    #[test]
    fn dimensions_match_sharp_for_every_fit() {
        // (input, width, height, fit, output) — from sharp's docs and test/unit/resize*.js.
        let cases = [
            ((2725, 2225), Some(320), Some(240), Fit::Cover, (320, 240)),
            ((2725, 2225), Some(320), Some(240), Fit::Contain, (320, 240)),
            ((2725, 2225), Some(320), Some(240), Fit::Fill, (320, 240)),
            ((2725, 2225), Some(320), Some(240), Fit::Inside, (294, 240)),
            ((2725, 2225), Some(320), Some(240), Fit::Outside, (320, 261)),
            ((2725, 2225), Some(320), None, Fit::Cover, (320, 261)),
            ((2725, 2225), None, Some(320), Fit::Cover, (392, 320)),
            ((2725, 2225), Some(320), None, Fit::Fill, (320, 2225)),
            ((2725, 2225), None, Some(320), Fit::Fill, (2725, 320)),
            ((4000, 3000), Some(800), None, Fit::Inside, (800, 600)),
            ((1, 1), Some(99), Some(100), Fit::Cover, (99, 100)),
            ((1, 1), Some(100), None, Fit::Cover, (100, 100)),
            ((25, 15), Some(10), Some(10), Fit::Inside, (10, 6)),
            ((25, 15), Some(10), Some(10), Fit::Outside, (17, 10)),
        ];
        for ((w, h), tw, th, fit, expected) in cases {
            let l = layout(w, h, &spec(tw, th, fit));
            assert_eq!(l.output(), expected, "{w}x{h} -> {tw:?}x{th:?} {fit:?}");
        }
    }

    #[test]
    fn without_enlargement_and_reduction() {
        let mut s = spec(Some(400), Some(400), Fit::Cover);
        s.without_enlargement = true;
        // Smaller input: no enlargement; cover crops to the smaller of target and image.
        assert_eq!(layout(200, 100, &s).output(), (200, 100));
        s.fit = Fit::Inside;
        assert_eq!(layout(200, 100, &s).output(), (200, 100));
        s.fit = Fit::Contain;
        // Contain still letterboxes to the target.
        assert_eq!(layout(200, 100, &s).output(), (400, 400));
        let mut r = spec(Some(100), Some(100), Fit::Inside);
        r.without_reduction = true;
        assert_eq!(layout(400, 200, &r).output(), (400, 200));
    }

    #[test]
    fn crop_and_embed_positions() {
        let mut s = spec(Some(100), Some(100), Fit::Cover);
        let l = layout(200, 100, &s);
        assert_eq!(
            l.canvas,
            Canvas::Crop {
                left: 50,
                top: 0,
                width: 100,
                height: 100
            }
        );
        s.position = Position::Gravity(2);
        assert!(matches!(
            layout(200, 100, &s).canvas,
            Canvas::Crop { left: 100, .. }
        ));
        s.fit = Fit::Contain;
        s.position = Position::Gravity(0);
        assert_eq!(
            layout(200, 100, &s).canvas,
            Canvas::Embed {
                left: 0,
                top: 25,
                width: 100,
                height: 100
            }
        );
    }

    #[test]
    fn shrink_on_load_like_sharp() {
        assert_eq!(jpeg_shrink_on_load(5.0, 5.0), 4);
        assert_eq!(jpeg_shrink_on_load(4.0, 4.0), 2);
        assert_eq!(jpeg_shrink_on_load(8.5, 9.0), 4);
        assert_eq!(jpeg_shrink_on_load(9.5, 9.0), 8);
        assert_eq!(jpeg_shrink_on_load(1.9, 3.0), 1);
        assert_eq!(jpeg_shrink_on_load(2.5, 3.0), 1);
        assert_eq!(jpeg_shrink_on_load(3.0, 3.0), 2);
    }

    #[test]
    fn never_shrinks_an_axis_to_zero() {
        let l = layout(3000, 2, &spec(Some(10), None, Fit::Inside));
        assert_eq!(l.output(), (10, 1));
    }
}
