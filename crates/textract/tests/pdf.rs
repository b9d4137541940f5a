//! The searchable PDF, checked with the tools people open PDFs with: qpdf and poppler-utils
//! (`cargo xtask setup` installs them).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use lambdakit_textract::model::{BlockType, BoundingBox};
use lambdakit_textract::pdf::{SearchablePdf, text_only};
use lambdakit_textract::{Document, Error, Page, Response};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// The fixture pages: (image, recorded Textract response).
const PAGES: [(&str, &str); 4] = [
    ("paystub.jpg", "paystub.analyze.json"),
    ("receipt.jpg", "receipt.detect.json"),
    ("multicol.png", "multicol.detect.json"),
    (
        "twocol-header-footer.png",
        "twocol-header-footer.detect.json",
    ),
];

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pdf-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(tool: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is needed for this test ({e}); `cargo xtask setup` installs qpdf and poppler-utils")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(tool: &str, args: &[&str]) -> String {
    String::from_utf8(run(tool, args).stdout).unwrap()
}

fn write(name: &str, bytes: &[u8]) -> String {
    let path = scratch(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

fn one_page(image: &[u8], page: Option<Page<'_>>) -> Vec<u8> {
    let mut pdf = SearchablePdf::new();
    pdf.add_page(image, page).unwrap();
    pdf.finish()
}

fn searchable(image: &str, json: &str) -> (Vec<u8>, Document, Vec<u8>) {
    let img = fixture(image);
    let doc = Document::from_json(&fixture(json)).unwrap();
    let pdf = one_page(&img, doc.page(1));
    (pdf, doc, img)
}

/// A white page image of the given size, for recorded responses whose image is not public.
fn blank_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&vec![255u8; (width * height) as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}

#[derive(Debug)]
struct Word {
    text: String,
    bbox: [f64; 4],
}

/// `pdftotext -bbox` output: per page, (width, height, words).
fn bbox_words(pdf: &str) -> Vec<(f64, f64, Vec<Word>)> {
    let html = stdout("pdftotext", &["-bbox", pdf, "-"]);
    let attr = |tag: &str, name: &str| -> f64 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[start..].split('"').next().unwrap().parse().unwrap()
    };
    let mut pages = Vec::new();
    for chunk in html.split("<page ").skip(1) {
        let (w, h) = (attr(chunk, "width"), attr(chunk, "height"));
        let mut words = Vec::new();
        for word in chunk.split("<word ").skip(1) {
            let (tag, rest) = word.split_once('>').unwrap();
            let text = rest.split("</word>").next().unwrap();
            let text = text
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            words.push(Word {
                text,
                bbox: [
                    attr(tag, "xMin"),
                    attr(tag, "yMin"),
                    attr(tag, "xMax"),
                    attr(tag, "yMax"),
                ],
            });
        }
        pages.push((w, h, words));
    }
    pages
}

fn iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
}

/// Every Textract word of `page` is a word of `extracted`, on its box: IoU ≥ 0.9 and every edge
/// within `tolerance` pt. Returns how many words were checked.
fn assert_words_on_their_boxes(
    page: Page<'_>,
    width: f64,
    height: f64,
    extracted: &[Word],
    tolerance: f64,
) -> usize {
    let mut checked = 0;
    let mut squeezed = 0;
    for word in page.words() {
        let text = word.text.as_deref().unwrap();
        if text.contains(' ') {
            // Textract sometimes keeps a space inside one word ("$ 452.43"): the pieces are
            // separate words to a reader; check they are there.
            for piece in text.split_whitespace() {
                assert!(
                    extracted.iter().any(|w| w.text == piece),
                    "{piece:?} of {text:?} missing"
                );
            }
            checked += 1;
            continue;
        }
        let b: BoundingBox = word.bbox();
        let poly = &word.geometry.as_ref().unwrap().polygon;
        let pt = |i: usize| (poly[i].x * width, poly[i].y * height);
        let dist = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
        let (run, tall) = (dist(pt(0), pt(1)), dist(pt(0), pt(3)));
        if run / (text.chars().count() as f64) < 0.12 * tall {
            // Squeezed into a box far narrower than tall: the font is made smaller so readers
            // keep every character (see `pdf::place`); the word is there, its box is shorter.
            assert!(extracted.iter().any(|w| w.text == text), "{text:?} missing");
            checked += 1;
            squeezed += 1;
            continue;
        }
        let expected = [
            b.left * width,
            b.top * height,
            b.right() * width,
            b.bottom() * height,
        ];
        let best = extracted
            .iter()
            .filter(|w| w.text == text)
            .map(|w| (iou(w.bbox, expected), w))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let Some((score, found)) = best else {
            panic!(
                "page {}: word {text:?} is not in the text layer",
                page.number()
            );
        };
        let off = (0..4)
            .map(|i| (found.bbox[i] - expected[i]).abs())
            .fold(0.0, f64::max);
        assert!(
            score >= 0.9 && off <= tolerance,
            "page {}: {text:?} at {:?}, Textract box {expected:?} (IoU {score:.3}, {off:.2} pt off)",
            page.number(),
            found.bbox
        );
        checked += 1;
    }
    assert!(
        squeezed * 50 <= checked,
        "{squeezed} of {checked} words squeezed"
    );
    checked
}

#[test]
fn qpdf_finds_every_pdf_well_formed() {
    let mut all = SearchablePdf::new().title("Fixtures");
    let mut docs = Vec::new();
    for (image, json) in PAGES {
        docs.push((fixture(image), Document::from_json(&fixture(json)).unwrap()));
    }
    for (image, doc) in &docs {
        all.add_page(image, doc.page(1)).unwrap();
    }
    let path = write("all.pdf", &all.finish());
    run("qpdf", &["--check", &path]);
    assert!(stdout("pdfinfo", &[&path]).contains("Pages:           4"));
    let text = write(
        "text-only.pdf",
        &text_only(["Première ligne\nΚαλημέρα κόσμε", "two"]),
    );
    run("qpdf", &["--check", &text]);
}

#[test]
fn the_font_is_embedded_with_a_unicode_map() {
    let (pdf, _, _) = searchable("paystub.jpg", "paystub.analyze.json");
    let path = write("fonts.pdf", &pdf);
    let fonts = stdout("pdffonts", &[&path]);
    let row = fonts
        .lines()
        .find(|l| l.contains("GlyphLessFont"))
        .expect("font listed");
    let cols: Vec<&str> = row.split_whitespace().collect();
    // name, type ("CID TrueType"), encoding ("Identity-H"), emb, sub, uni, object, id
    assert_eq!(&cols[1..4], ["CID", "TrueType", "Identity-H"], "{fonts}");
    assert_eq!(cols[4], "yes", "embedded: {fonts}");
    assert_eq!(cols[6], "yes", "unicode map: {fonts}");
}

#[test]
fn jpeg_pages_are_embedded_byte_for_byte() {
    for (image, json) in [PAGES[0], PAGES[1]] {
        let (pdf, _, original) = searchable(image, json);
        let path = write(&format!("{image}.pdf"), &pdf);
        let list = stdout("pdfimages", &["-list", &path]);
        let row = list.lines().nth(2).unwrap();
        assert!(row.split_whitespace().any(|c| c == "jpeg"), "{list}");
        let prefix = scratch(&format!("{image}-extract"));
        run("pdfimages", &["-j", &path, prefix.to_str().unwrap()]);
        let extracted = std::fs::read(format!("{}-000.jpg", prefix.display())).unwrap();
        assert!(
            extracted == original,
            "{image}: the embedded JPEG differs from the input"
        );
    }
}

#[test]
fn png_alpha_becomes_a_soft_mask() {
    // A page with a transparent left half.
    let (w, h) = (64u32, 32u32);
    let mut rgba = Vec::new();
    for _y in 0..h {
        for x in 0..w {
            rgba.extend([200, 30, 30, if x < w / 2 { 0 } else { 255 }]);
        }
    }
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, w, h);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&rgba).unwrap();
    writer.finish().unwrap();
    let path = write("alpha.pdf", &one_page(&png_bytes, None));
    let list = stdout("pdfimages", &["-list", &path]);
    assert!(
        list.lines()
            .any(|l| l.contains(" smask ") && l.contains(" gray ")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.contains(" image ") && l.contains(" rgb ")),
        "{list}"
    );
    // The fixture PNGs are RGBA but fully opaque: no mask for them.
    let (pdf, _, _) = searchable("multicol.png", "multicol.detect.json");
    let list = stdout("pdfimages", &["-list", &write("multicol.pdf", &pdf)]);
    assert!(!list.contains("smask"), "{list}");
}

#[test]
fn the_text_layer_is_invisible() {
    for (image, json) in PAGES {
        let img = fixture(image);
        let doc = Document::from_json(&fixture(json)).unwrap();
        let with = write(&format!("{image}-with.pdf"), &one_page(&img, doc.page(1)));
        let without = write(&format!("{image}-without.pdf"), &one_page(&img, None));
        let stem = image.split('.').next().unwrap();
        let a = scratch(&format!("{stem}-with"));
        let b = scratch(&format!("{stem}-without"));
        for (pdf, out) in [(&with, &a), (&without, &b)] {
            run(
                "pdftoppm",
                &["-r", "72", "-singlefile", pdf, out.to_str().unwrap()],
            );
        }
        let a = std::fs::read(a.with_extension("ppm")).unwrap();
        let b = std::fs::read(b.with_extension("ppm")).unwrap();
        assert!(
            a.len() > 1000 && a == b,
            "{image}: the text layer changed the rendering"
        );
    }
}

#[test]
fn every_word_is_extracted_on_its_textract_box() {
    for (image, json) in PAGES {
        let (pdf, doc, _) = searchable(image, json);
        let path = write(&format!("{image}-bbox.pdf"), &pdf);
        let pages = bbox_words(&path);
        assert_eq!(pages.len(), 1);
        let (w, h, words) = &pages[0];
        let checked = assert_words_on_their_boxes(doc.page(1).unwrap(), *w, *h, words, 0.5);
        assert_eq!(checked, doc.page(1).unwrap().words().count());
        assert!(checked > 50, "{image}: only {checked} words");
    }
}

#[test]
fn rotated_pages_keep_words_on_their_boxes() {
    for degrees in [90, 180, 270] {
        let doc =
            Document::from_json(&fixture(&format!("gib-rotated-{degrees}.analyze.json"))).unwrap();
        let page = doc.page(1).unwrap();
        // The words really are rotated in these recordings.
        let angles: Vec<f64> = page
            .words()
            .filter_map(|w| w.geometry.as_ref())
            .map(|g| g.angle_degrees())
            .collect();
        // "Rotated 90 degrees" is the page turned clockwise: text reads top to bottom (270°).
        let expected = f64::from((360 - degrees) % 360);
        let turned = angles
            .iter()
            .filter(|a| ((*a - expected + 540.0) % 360.0 - 180.0).abs() < 10.0)
            .count();
        assert!(
            turned * 10 >= angles.len() * 9,
            "{degrees}: {turned} of {} words turned",
            angles.len()
        );
        let (w, h) = if degrees == 180 {
            (1275, 1650)
        } else {
            (1650, 1275)
        };
        let path = write(
            &format!("rotated-{degrees}.pdf"),
            &one_page(&blank_png(w, h), Some(page)),
        );
        let pages = bbox_words(&path);
        let (pw, ph, words) = &pages[0];
        let checked = assert_words_on_their_boxes(page, *pw, *ph, words, 0.5);
        assert!(checked > 100);
    }
}

#[test]
fn non_latin_text_is_searchable() {
    // The recorded receipt with some words replaced by other scripts (Textract's own output is
    // Latin-script; the point is the PDF, which must not care).
    let mut response = Response::from_json(&fixture("receipt.detect.json")).unwrap();
    let replacements = [
        "Καλημέρα",
        "日本語",
        "مرحبا",
        "Привет",
        "😀👍",
        "naïve",
        "€100",
    ];
    let mut replaced = Vec::new();
    for (block, text) in response
        .blocks
        .iter_mut()
        .filter(|b| b.block_type == BlockType::Word)
        .step_by(9)
        .zip(replacements)
    {
        block.text = Some(text.to_owned());
        replaced.push(text);
    }
    let doc = Document::from_responses([response]).unwrap();
    let pdf = one_page(&fixture("receipt.jpg"), doc.page(1));
    let path = write("non-latin.pdf", &pdf);
    let text = stdout("pdftotext", &[&path, "-"]);
    for word in replaced {
        assert!(text.contains(word), "{word:?} missing from {text}");
    }
    let text_only_pdf = write(
        "non-latin-text-only.pdf",
        &text_only(["Καλημέρα κόσμε 日本語 €100 naïve"]),
    );
    let text = stdout("pdftotext", &[&text_only_pdf, "-"]);
    assert!(text.contains("Καλημέρα κόσμε 日本語 €100 naïve"), "{text}");
}

#[test]
fn multi_page_results_give_one_page_each_in_order() {
    let doc = Document::from_json(&fixture("multi-page-forms-2-page.analyze.json")).unwrap();
    assert_eq!(doc.page_count(), 2);
    let mut pdf = SearchablePdf::new();
    for page in doc.pages() {
        pdf.add_page(&blank_png(850, 1100), Some(page)).unwrap();
    }
    let path = write("two-pages.pdf", &pdf.finish());
    let pages = bbox_words(&path);
    assert_eq!(pages.len(), 2);
    for (page, (w, h, words)) in doc.pages().zip(&pages) {
        assert_words_on_their_boxes(page, *w, *h, words, 0.5);
    }
}

#[test]
fn output_is_about_the_size_of_the_images() {
    let (pdf, _, image) = searchable("paystub.jpg", "paystub.analyze.json");
    let overhead = pdf.len() as f64 / image.len() as f64 - 1.0;
    assert!(overhead < 0.05, "{:.1}% over the image", overhead * 100.0);
    // PNG pages without alpha keep their own compressed data too.
    let png = blank_png(2000, 2000);
    let pdf = one_page(&png, None);
    assert!(
        pdf.len() < png.len() + 2000,
        "{} vs {}",
        pdf.len(),
        png.len()
    );
}

#[test]
fn bad_images_are_typed_errors_and_leave_the_pdf_usable() {
    let doc = Document::from_json(&fixture("receipt.detect.json")).unwrap();
    let mut pdf = SearchablePdf::new().max_pixels(1_000_000);
    assert!(matches!(
        pdf.add_page(b"GIF89a....", doc.page(1)),
        Err(Error::UnsupportedImage(_))
    ));
    let jpeg = fixture("receipt.jpg");
    assert!(matches!(
        pdf.add_page(&jpeg[..jpeg.len() / 2][..20], doc.page(1)),
        Err(Error::UnsupportedImage(_))
    ));
    // 805 x 1917 is 1.5 megapixels.
    assert!(matches!(
        pdf.add_page(&jpeg, doc.page(1)),
        Err(Error::TooLarge(_))
    ));
    pdf.add_page(&blank_png(100, 100), None).unwrap();
    let path = write("after-errors.pdf", &pdf.finish());
    run("qpdf", &["--check", &path]);
    assert!(stdout("pdfinfo", &[&path]).contains("Pages:           1"));
}
