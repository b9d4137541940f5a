//! Pixel filters on RGBA images, as sharp does them.
//!
//! OWNER: filters helper. (Stub: replaced by the real implementation.)
