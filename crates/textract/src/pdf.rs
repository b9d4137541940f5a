//! Searchable PDFs: page images with an invisible text layer, and text-only PDFs.

use crate::{Error, Page};

/// Builds a searchable PDF page by page.
#[derive(Debug, Default)]
pub struct SearchablePdf {
    pages: Vec<Vec<u8>>,
}

impl SearchablePdf {
    /// An empty PDF.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a page: the JPEG or PNG `image`, with `page`'s words as invisible text on it.
    pub fn add_page(&mut self, image: &[u8], page: Option<Page<'_>>) -> Result<(), Error> {
        let _ = (image, page);
        Err(Error::UnsupportedImage("not yet".into()))
    }

    /// The finished PDF.
    pub fn finish(self) -> Vec<u8> {
        Vec::new()
    }
}

/// A text-only PDF: each item of `pages` is one page's text, lines separated by `\n`.
pub fn text_only<S: AsRef<str>>(pages: impl IntoIterator<Item = S>) -> Vec<u8> {
    let _ = pages.into_iter().count();
    Vec::new()
}
