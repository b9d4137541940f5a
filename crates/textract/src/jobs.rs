//! Textract calls.
