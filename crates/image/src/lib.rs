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
pub type Edits = serde_json::Map<String, serde_json::Value>;
