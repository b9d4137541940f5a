//! The image pipeline: decode (with JPEG shrink-on-load and EXIF orientation), the edits in
//! sharp's order, encode. Pure: no I/O.
//!
//! OWNER: pipeline helper. (Stub: replaced by the real implementation.)

pub(crate) mod filters;

use std::time::Duration;

use crate::{Edits, Error, Format, Result};

/// Limits on what one request may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most input pixels (width x height) decoded; sharp's default `limitInputPixels` is
    /// 268,402,689 (0x3FFF squared).
    pub max_input_pixels: u64,
    /// Most output width or height.
    pub max_output_dimension: u32,
    /// Time budget for one transform.
    pub time_budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_pixels: 0x3FFF * 0x3FFF,
            max_output_dimension: 16_383,
            time_budget: Duration::from_secs(25),
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

/// Validated edits, ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    output: Option<Format>,
}

impl Plan {
    /// Validates Serverless Image Handler edits and the output format.
    pub fn new(edits: &Edits, output: Option<Format>, effort: Option<u8>) -> Result<Self> {
        let _ = (edits, effort);
        Ok(Self { output })
    }

    /// The overlay image this plan needs, if any.
    pub fn overlay(&self) -> Option<&OverlaySource> {
        None
    }

    /// Whether there is nothing to do: the original bytes are the answer.
    pub fn is_noop(&self) -> bool {
        self.output.is_none()
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

/// Runs a plan on an encoded image (and the overlay image, when the plan has one).
pub fn transform(
    input: &[u8],
    plan: &Plan,
    overlay: Option<&[u8]>,
    limits: &Limits,
) -> Result<Transformed> {
    let _ = (input, plan, overlay, limits);
    Err(Error::internal())
}
