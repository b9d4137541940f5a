#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod content_type;
mod error;
mod key;
#[cfg(feature = "lambda")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda")))]
pub mod lambda;
mod multipart;
mod post;
mod presign;
mod sigv4;
mod uploader;

pub use content_type::ContentTypes;
pub use error::Error;
pub use key::{KeyPrefix, MAX_KEY_BYTES, ObjectKey};
pub use multipart::{
    CompletedUpload, CreatedUpload, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, PartPlan, SignedPart,
    UploadedPart,
};
pub use post::{Condition, Fields, PostPolicy, PresignedPost, sign_policy};
pub use presign::{
    CannedAcl, MAX_EXPIRY, PresignedRequest, Presigner, PresignerBuilder, PutObject,
};
pub use sigv4::Credentials;
pub use uploader::{PostUpload, PresignedUpload, UploadRequest, Uploader, UploaderBuilder};
