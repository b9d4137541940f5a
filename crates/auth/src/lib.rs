#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod arn;
pub mod cache_key;
mod error;
pub mod policy;
pub mod response;

#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub mod jwt;

#[cfg(feature = "mtls")]
#[cfg_attr(docsrs, doc(cfg(feature = "mtls")))]
pub mod mtls;

pub use arn::{MethodArn, Verb};
pub use error::Error;
pub use policy::Policy;
pub use response::SimpleResponse;
