#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod format;
pub mod handler;
pub mod ops;
pub mod request;
pub mod response;
pub mod secret;
pub mod signature;
pub mod source;

pub use error::{Error, ErrorKind, Result};
pub use format::Format;
pub use ops::{Limits, Plan, Transformed, transform};
pub use request::{ImageRequest, RequestConfig, RequestType};

/// Serverless Image Handler's edits object: sharp operation names (`resize`, `grayscale`,
/// `rotate`, `toFormat`, `overlayWith`, ...) mapped to their options, exactly as a Default
/// request carries them and as the Thumbor mapper builds them.
///
/// The keys keep their order, as a JavaScript object does: Serverless Image Handler calls
/// sharp once per key in that order, and a few of sharp's results depend on the order of the
/// calls (`{"rotate": 90, "resize": {"width": 100}}` rotates, then resizes the rotated image;
/// with the keys the other way round it resizes first). Deserializing keeps the document's
/// order; [`indexmap`] is re-exported for building one by hand.
pub type Edits = indexmap::IndexMap<String, serde_json::Value>;

pub use indexmap;
