//! Searchable PDFs: each page is the original image with Textract's words as an invisible,
//! selectable, searchable text layer; and text-only PDFs.
//!
//! The text layer uses an embedded glyph-less font (every glyph empty and half an em wide) with
//! a ToUnicode map, so any script is searchable and copyable, and nothing is drawn over the
//! image. Each word is placed on its Textract polygon: rotated to the polygon's angle, the font
//! size equal to the word's height, and horizontally scaled to the word's width, with a space
//! after each word of a line so text extraction sees words. JPEG pages are embedded byte for
//! byte; PNG pages by their own compressed data where PDF can read it (grey, RGB and palette
//! images), otherwise decoded with the alpha channel as a soft mask.

mod font;
mod image;
mod text;

use std::collections::{HashMap, HashSet};

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Settings, Str, TextStr};

use crate::model::{Block, BlockType, Point};
use crate::{Error, Page};

pub use text::text_only;

/// The largest page image accepted by default, in pixels (a 50-megapixel photo).
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;

/// Builds a searchable PDF page by page.
///
/// ```
/// use lambdakit_textract::{pdf::SearchablePdf, Document};
/// # fn main() -> Result<(), lambdakit_textract::Error> {
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
/// let image = std::fs::read(format!("{dir}/paystub.jpg")).unwrap();
/// let doc = Document::from_json(&std::fs::read(format!("{dir}/paystub.analyze.json")).unwrap())?;
///
/// let mut pdf = SearchablePdf::new().title("Pay stub");
/// pdf.add_page(&image, doc.page(1))?;
/// let bytes = pdf.finish();
/// assert!(bytes.starts_with(b"%PDF-"));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SearchablePdf {
    pdf: Pdf,
    next_ref: i32,
    page_ids: Vec<Ref>,
    font: FontRefs,
    codes: HashMap<char, u16>,
    chars: Vec<char>,
    default_dpi: f64,
    dpi: Option<f64>,
    max_pixels: u64,
    title: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct FontRefs {
    type0: Ref,
    cid: Ref,
    descriptor: Ref,
    file: Ref,
    to_unicode: Ref,
    cid_to_gid: Ref,
}

/// No pretty-printing: smaller files.
const COMPACT: Settings = Settings { pretty: false };

/// The resource name of the page image.
const IMAGE: Name<'static> = Name(b"Im0");
/// The resource name of the text layer's font.
const FONT: Name<'static> = Name(b"F0");

impl Default for SearchablePdf {
    fn default() -> Self {
        Self::new()
    }
}

impl SearchablePdf {
    /// An empty PDF. Page size comes from each image's resolution (96 dpi when the file records
    /// none), the largest image accepted is [`DEFAULT_MAX_PIXELS`].
    pub fn new() -> Self {
        let mut pdf = Pdf::with_settings(COMPACT);
        pdf.set_version(1, 7);
        let mut next_ref = 3; // 1: catalog, 2: page tree
        let mut alloc = || {
            next_ref += 1;
            Ref::new(next_ref - 1)
        };
        let font = FontRefs {
            type0: alloc(),
            cid: alloc(),
            descriptor: alloc(),
            file: alloc(),
            to_unicode: alloc(),
            cid_to_gid: alloc(),
        };
        Self {
            pdf,
            next_ref,
            page_ids: Vec::new(),
            font,
            codes: HashMap::new(),
            chars: Vec::new(),
            default_dpi: 96.0,
            dpi: None,
            max_pixels: DEFAULT_MAX_PIXELS,
            title: None,
        }
    }

    /// The resolution assumed for images whose file records none (default 96, img2pdf's choice).
    pub fn default_dpi(mut self, dpi: f64) -> Self {
        if dpi.is_finite() && dpi > 0.0 {
            self.default_dpi = dpi;
        }
        self
    }

    /// One resolution for every image, whatever the files say.
    pub fn dpi(mut self, dpi: f64) -> Self {
        if dpi.is_finite() && dpi > 0.0 {
            self.dpi = Some(dpi);
        }
        self
    }

    /// The largest page image accepted, in pixels; larger ones are [`Error::TooLarge`].
    pub fn max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels;
        self
    }

    /// The document title (shown by PDF viewers).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The number of pages added so far.
    pub fn page_count(&self) -> usize {
        self.page_ids.len()
    }

    fn alloc(&mut self) -> Ref {
        self.next_ref += 1;
        Ref::new(self.next_ref - 1)
    }

    /// Adds a page: the JPEG or PNG `image` with `page`'s words on it as invisible text
    /// (`None` adds the image alone). The words' positions are ratios of the image, as Textract
    /// returns them.
    ///
    /// Returns [`Error::UnsupportedImage`] for other formats or broken files and
    /// [`Error::TooLarge`] for images over [`max_pixels`](Self::max_pixels); the PDF is
    /// unchanged then.
    pub fn add_page(&mut self, image: &[u8], page: Option<Page<'_>>) -> Result<(), Error> {
        let img = image::load(image, self.max_pixels)?;
        let (dpi_x, dpi_y) = match (self.dpi, img.dpi) {
            (Some(d), _) => (d, d),
            (None, Some(d)) => d,
            (None, None) => (self.default_dpi, self.default_dpi),
        };
        let width = img.width as f64 * 72.0 / dpi_x;
        let height = img.height as f64 * 72.0 / dpi_y;
        if !(width.is_finite() && height.is_finite()) || width > 14_400.0 || height > 14_400.0 {
            return Err(Error::TooLarge(format!(
                "a {width:.0} x {height:.0} pt page is over PDF's 14,400 pt limit; set a higher dpi"
            )));
        }

        let mut content = Content::with_settings(COMPACT);
        content.save_state();
        content.transform([width as f32, 0.0, 0.0, height as f32, 0.0, 0.0]);
        content.x_object(IMAGE);
        content.restore_state();
        if let Some(page) = page {
            self.text_layer(&mut content, page, width, height)?;
        }
        let content = image::compress(&content.finish());

        let page_id = self.alloc();
        let content_id = self.alloc();
        let image_id = self.alloc();
        let mask_id = img.alpha.as_ref().map(|_| self.alloc());

        self.pdf
            .stream(content_id, &content)
            .filter(Filter::FlateDecode);
        write_image(&mut self.pdf, image_id, &img, mask_id);
        if let (Some(id), Some(alpha)) = (mask_id, &img.alpha) {
            let mut mask = self.pdf.image_xobject(id, alpha);
            mask.filter(Filter::FlateDecode);
            mask.width(img.width as i32).height(img.height as i32);
            mask.color_space().device_gray();
            mask.bits_per_component(8);
        }
        let mut p = self.pdf.page(page_id);
        p.parent(Ref::new(2));
        p.media_box(Rect::new(0.0, 0.0, width as f32, height as f32));
        p.contents(content_id);
        let mut resources = p.resources();
        resources.x_objects().pair(IMAGE, image_id);
        if page.is_some() {
            resources.fonts().pair(FONT, self.font.type0);
        }
        resources.finish();
        p.finish();
        self.page_ids.push(page_id);
        Ok(())
    }

    fn code(&mut self, ch: char) -> Result<u16, Error> {
        if let Some(&code) = self.codes.get(&ch) {
            return Ok(code);
        }
        // Code 0 is .notdef; 0xFFFF stays unused.
        let code = u16::try_from(self.chars.len() + 1)
            .ok()
            .filter(|&c| c < u16::MAX)
            .ok_or_else(|| Error::TooLarge("more than 65,534 distinct characters".into()))?;
        self.codes.insert(ch, code);
        self.chars.push(ch);
        Ok(code)
    }

    fn encode(&mut self, text: &str) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            out.extend(self.code(ch)?.to_be_bytes());
        }
        Ok(out)
    }

    fn text_layer(
        &mut self,
        content: &mut Content,
        page: Page<'_>,
        width: f64,
        height: f64,
    ) -> Result<(), Error> {
        let doc = page.document();
        let mut placed: HashSet<&str> = HashSet::new();
        let mut runs: Vec<Vec<&Block>> = Vec::new();
        for line in page.reading_order() {
            let words: Vec<&Block> = doc
                .related(line, &crate::model::RelationshipType::Child)
                .filter(|w| w.block_type == BlockType::Word && placed.insert(w.id.as_str()))
                .collect();
            if !words.is_empty() {
                runs.push(words);
            }
        }
        for word in page.words() {
            if placed.insert(word.id.as_str()) {
                runs.push(vec![word]);
            }
        }
        if runs.is_empty() {
            return Ok(());
        }
        content.begin_text();
        content.set_text_rendering_mode(TextRenderingMode::Invisible);
        let space = self.encode(" ")?;
        // Font size and scaling stay in effect across words: set them only when they change.
        let (mut size, mut scaling) = (f32::NAN, f32::NAN);
        for run in runs {
            let last = run.len() - 1;
            for (i, word) in run.into_iter().enumerate() {
                let Some(text) = word.text.as_deref().filter(|t| !t.is_empty()) else {
                    continue;
                };
                let Some(placement) = place(word, width, height, text.chars().count()) else {
                    continue;
                };
                let codes = if text.chars().any(is_right_to_left) {
                    // PDF text is in visual order: readers put right-to-left runs back into
                    // logical order when they extract them.
                    self.encode(&text.chars().rev().collect::<String>())?
                } else {
                    self.encode(text)?
                };
                if placement.size != size {
                    size = placement.size;
                    content.set_font(FONT, size);
                }
                if placement.scaling != scaling {
                    scaling = placement.scaling;
                    content.set_horizontal_scaling(scaling);
                }
                content.set_text_matrix(placement.matrix);
                let mut codes = codes;
                if i != last {
                    codes.extend_from_slice(&space);
                }
                content.show(Str(&codes));
            }
        }
        content.end_text();
        Ok(())
    }

    /// Writes the font, page tree and catalog and returns the PDF.
    pub fn finish(mut self) -> Vec<u8> {
        self.write_font();
        let count = self.page_ids.len() as i32;
        self.pdf
            .pages(Ref::new(2))
            .kids(self.page_ids.iter().copied())
            .count(count);
        self.pdf.catalog(Ref::new(1)).pages(Ref::new(2));
        let info = self.alloc();
        let mut doc_info = self.pdf.document_info(info);
        doc_info.producer(TextStr(concat!(
            "lambdakit-textract ",
            env!("CARGO_PKG_VERSION")
        )));
        if let Some(title) = &self.title {
            doc_info.title(TextStr(title));
        }
        doc_info.finish();
        self.pdf.finish()
    }

    fn write_font(&mut self) {
        let f = self.font;
        if self.chars.is_empty() {
            return;
        }
        let name = Name(font::NAME.as_bytes());
        let info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        self.pdf
            .type0_font(f.type0)
            .base_font(name)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(f.cid)
            .to_unicode(f.to_unicode);
        let mut cid = self.pdf.cid_font(f.cid);
        cid.subtype(CidFontType::Type2)
            .base_font(name)
            .system_info(info)
            .font_descriptor(f.descriptor)
            .default_width(f32::from(font::ADVANCE))
            .cid_to_gid_map_stream(f.cid_to_gid);
        cid.finish();
        let units = f32::from(font::UNITS);
        self.pdf
            .font_descriptor(f.descriptor)
            .name(name)
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                0.0,
                f32::from(font::DESCENT),
                f32::from(font::ADVANCE),
                f32::from(font::ASCENT),
            ))
            .italic_angle(0.0)
            .ascent(f32::from(font::ASCENT) * 1000.0 / units)
            .descent(f32::from(font::DESCENT) * 1000.0 / units)
            .cap_height(f32::from(font::ASCENT))
            .stem_v(80.0)
            .font_file2(f.file);
        let ttf = font::glyphless_ttf();
        let compressed = image::compress_small(&ttf);
        self.pdf
            .stream(f.file, &compressed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), ttf.len() as i32);
        // Every code maps to glyph 1, the empty glyph.
        let mut map = Vec::with_capacity((self.chars.len() + 1) * 2);
        map.extend([0, 0]);
        for _ in &self.chars {
            map.extend([0, 1]);
        }
        let map = image::compress(&map);
        self.pdf
            .stream(f.cid_to_gid, &map)
            .filter(Filter::FlateDecode);
        let mut cmap = UnicodeCmap::new(Name(b"Custom"), info);
        for (i, &ch) in self.chars.iter().enumerate() {
            cmap.pair(i as u16 + 1, ch);
        }
        let cmap = image::compress_small(&cmap.finish());
        self.pdf
            .cmap(f.to_unicode, &cmap)
            .filter(Filter::FlateDecode);
    }
}

fn write_image(pdf: &mut Pdf, id: Ref, img: &image::Image<'_>, mask: Option<Ref>) {
    let data: &[u8] = match &img.samples {
        image::Samples::Jpeg { data, .. } => data,
        image::Samples::Flate { data, .. } => data,
    };
    let mut x = pdf.image_xobject(id, data);
    match &img.samples {
        image::Samples::Jpeg { inverted_cmyk, .. } => {
            x.filter(Filter::DctDecode);
            if *inverted_cmyk {
                x.decode([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
            }
        }
        image::Samples::Flate { predictor, .. } => {
            x.filter(Filter::FlateDecode);
            if *predictor {
                x.decode_parms()
                    .predictor(pdf_writer::types::Predictor::PngOptimum)
                    .colors(img.colour.components())
                    .bits_per_component(i32::from(img.bits))
                    .columns(img.width as i32);
            }
        }
    }
    x.width(img.width as i32).height(img.height as i32);
    match &img.colour {
        image::Colour::Gray => x.color_space().device_gray(),
        image::Colour::Rgb => x.color_space().device_rgb(),
        image::Colour::Cmyk => x.color_space().device_cmyk(),
        image::Colour::Indexed(palette) => {
            let hival = (palette.len() / 3).saturating_sub(1) as i32;
            x.color_space().indexed(Name(b"DeviceRGB"), hival, palette)
        }
    }
    x.bits_per_component(i32::from(img.bits));
    if let Some(mask) = mask {
        x.s_mask(mask);
    }
}

/// Whether `c` belongs to a right-to-left script (Hebrew, Arabic, Syriac, Thaana, N'Ko, and
/// their presentation forms).
fn is_right_to_left(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF)
}

/// The smallest advance per character, as a share of the font size, that text extractors do not
/// take for overprinting (poppler's threshold is 0.1).
pub(crate) const MIN_ADVANCE: f64 = 0.12;

/// Where and how large one word's text goes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placement {
    size: f32,
    scaling: f32,
    matrix: [f32; 6],
}

/// Places a word of `chars` characters on its polygon (or its box when the polygon is
/// missing) on a `width` x `height` pt page. Returns `None` for degenerate geometry.
fn place(word: &Block, width: f64, height: f64, chars: usize) -> Option<Placement> {
    let geometry = word.geometry.as_ref()?;
    let to_pt = |p: &Point| (p.x * width, (1.0 - p.y) * height);
    let (top_left, top_right, bottom_left) = match geometry.polygon.as_slice() {
        [a, b, _, d, ..] => (to_pt(a), to_pt(b), to_pt(d)),
        _ => {
            let b = geometry.bounding_box;
            let tl = Point {
                x: b.left,
                y: b.top,
            };
            let tr = Point {
                x: b.right(),
                y: b.top,
            };
            let bl = Point {
                x: b.left,
                y: b.bottom(),
            };
            (to_pt(&tl), to_pt(&tr), to_pt(&bl))
        }
    };
    // The baseline direction from the top edge; the height perpendicular to it.
    let (ux, uy) = (top_right.0 - top_left.0, top_right.1 - top_left.1);
    let run = ux.hypot(uy);
    if run <= 0.0 || !run.is_finite() {
        return None;
    }
    let (cos, sin) = (ux / run, uy / run);
    let (vx, vy) = (top_left.0 - bottom_left.0, top_left.1 - bottom_left.1);
    let height = vy * cos - vx * sin; // along the text's "up" direction
    if height <= 0.0 || !height.is_finite() {
        return None;
    }
    // Readers take a character that advances less than a tenth of the font size past the last
    // one for a duplicate (fake bold) and drop it. For words squeezed into a box much narrower
    // than tall, shrink the font so every character survives extraction.
    let size = height.min(run / (chars as f64 * MIN_ADVANCE));
    let descent = -f64::from(font::DESCENT) / f64::from(font::UNITS);
    let origin = (
        bottom_left.0 - sin * size * descent,
        bottom_left.1 + cos * size * descent,
    );
    // A tenth of a point (and of a percent, and 1e-3 of a rotation) is far below what any
    // reader resolves, and short numbers keep the text layer small.
    let round = |v: f64, scale: f64| ((v * scale).round() / scale) as f32;
    let size = round(size, 10.0);
    let natural =
        chars as f64 * f64::from(font::ADVANCE) / f64::from(font::UNITS) * f64::from(size);
    Some(Placement {
        size,
        scaling: round(100.0 * run / natural, 10.0),
        matrix: [
            round(cos, 1e3),
            round(sin, 1e3),
            round(-sin, 1e3) + 0.0,
            round(cos, 1e3),
            round(origin.0, 10.0),
            round(origin.1, 10.0),
        ],
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{BoundingBox, Geometry};

    fn word(polygon: [(f64, f64); 4]) -> Block {
        let mut b = Block::new("w", BlockType::Word);
        b.geometry = Some(Geometry {
            bounding_box: BoundingBox::default(),
            polygon: polygon.iter().map(|&(x, y)| Point { x, y }).collect(),
        });
        b
    }

    #[test]
    fn an_upright_word_fills_its_box() {
        // 0.1..0.3 wide, 0.5..0.52 tall on a 1000 x 1000 pt page.
        let w = word([(0.1, 0.5), (0.3, 0.5), (0.3, 0.52), (0.1, 0.52)]);
        let p = place(&w, 1000.0, 1000.0, 4).unwrap();
        assert!((p.size - 20.0).abs() < 1e-3);
        // Four glyphs half an em wide at 20 pt are 40 pt; the box is 200 pt.
        assert!((p.scaling - 500.0).abs() < 1e-3);
        // Baseline 20% of the height above the bottom edge (y = 480 pt).
        let m = p.matrix;
        assert!((m[0] - 1.0).abs() < 1e-6 && m[1].abs() < 1e-6);
        assert!((m[4] - 100.0).abs() < 1e-3 && (m[5] - 484.0).abs() < 1e-3);
    }

    #[test]
    fn a_word_read_bottom_to_top_is_turned() {
        // Top edge runs up the page; the word's "up" points left.
        let w = word([(0.50, 0.6), (0.50, 0.4), (0.52, 0.4), (0.52, 0.6)]);
        let p = place(&w, 1000.0, 1000.0, 2).unwrap();
        let m = p.matrix;
        assert!(m[0].abs() < 1e-6 && (m[1] - 1.0).abs() < 1e-6, "{m:?}");
        assert!((p.size - 20.0).abs() < 1e-3);
        // The glyphs' bottoms face right (x = 520); the baseline is 20% of the height in (516).
        assert!(
            (m[4] - 516.0).abs() < 1e-3 && (m[5] - 400.0).abs() < 1e-3,
            "{m:?}"
        );
    }

    #[test]
    fn a_squeezed_word_gets_a_smaller_font() {
        // Four characters in a box 4 pt wide and 11 pt tall.
        let w = word([(0.414, 0.5), (0.418, 0.5), (0.418, 0.511), (0.414, 0.511)]);
        let p = place(&w, 1000.0, 1000.0, 4).unwrap();
        assert!(
            p.size < 11.0 && 4.0 / 4.0 >= MIN_ADVANCE * f64::from(p.size) * 0.99,
            "{p:?}"
        );
    }

    #[test]
    fn degenerate_words_are_skipped() {
        assert!(place(&word([(0.1, 0.5); 4]), 100.0, 100.0, 3).is_none());
        assert!(place(&Block::new("w", BlockType::Word), 100.0, 100.0, 3).is_none());
        let nan = word([(f64::NAN, 0.5), (0.3, 0.5), (0.3, 0.52), (0.1, 0.52)]);
        assert!(place(&nan, 100.0, 100.0, 3).is_none());
    }
}
