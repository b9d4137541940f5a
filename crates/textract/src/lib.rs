#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod document;
mod error;
pub mod model;
mod order;
pub mod pdf;
pub mod s3;

#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub mod jobs;

pub use document::{Cell, Document, KeyValue, Page, QueryAnswer, Region, Table};
pub use error::Error;
pub use model::{Block, BlockType, BoundingBox, Geometry, Response};
