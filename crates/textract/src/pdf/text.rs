//! Text-only PDFs: the document scanner blog's output, for any script.

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// US Letter, in points.
const PAGE: (f32, f32) = (612.0, 792.0);
const MARGIN: f32 = 54.0;
const SIZE: f32 = 10.0;
const LEADING: f32 = 12.5;
/// Courier's glyphs are all 600/1000 em wide, so a line of this many characters fits exactly.
const COLUMNS: usize = ((PAGE.0 - 2.0 * MARGIN) / (SIZE * 0.6)) as usize;
const ROWS: usize = ((PAGE.1 - 2.0 * MARGIN) / LEADING) as usize;

/// A text-only PDF: each item of `pages` is one source page's text, lines separated by `\n`.
/// Long lines wrap; a source page longer than one PDF page continues on the next.
///
/// The text is set in Courier (a standard PDF font, nothing embedded). Characters Courier
/// cannot show (outside Windows-1252) are drawn as `?`, but each line carries its exact text
/// as `ActualText`, so copying and searching return the original, in any script.
///
/// ```
/// let pdf = lambdakit_textract::pdf::text_only(["Première page\nΚαλημέρα", "page 2"]);
/// assert!(pdf.starts_with(b"%PDF-"));
/// ```
pub fn text_only<S: AsRef<str>>(pages: impl IntoIterator<Item = S>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let mut next = 4;
    let mut page_ids = Vec::new();
    pdf.type1_font(font)
        .base_font(Name(b"Courier"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));

    let mut physical: Vec<Vec<String>> = Vec::new();
    for page in pages {
        let mut rows: Vec<String> = Vec::new();
        for line in page.as_ref().lines() {
            rows.extend(wrap(line));
        }
        if rows.is_empty() {
            physical.push(Vec::new());
        }
        for chunk in rows.chunks(ROWS) {
            physical.push(chunk.to_vec());
        }
    }
    if physical.is_empty() {
        physical.push(Vec::new());
    }

    for rows in physical {
        let mut content = Content::new();
        content.begin_text();
        content.set_font(Name(b"F0"), SIZE);
        content.set_leading(LEADING);
        content.next_line(MARGIN, PAGE.1 - MARGIN - SIZE);
        for row in &rows {
            let encoded: Vec<u8> = row.chars().map(win_ansi).collect();
            let exact = row.chars().all(|c| win_ansi(c) != b'?' || c == '?');
            if exact {
                content.show(Str(&encoded));
            } else {
                content
                    .begin_marked_content_with_properties(Name(b"Span"))
                    .properties()
                    .actual_text(TextStr(row));
                content.show(Str(&encoded));
                content.end_marked_content();
            }
            content.next_line(0.0, -LEADING);
        }
        content.end_text();
        let bytes = super::image::compress(&content.finish());
        let (page_id, content_id) = (Ref::new(next), Ref::new(next + 1));
        next += 2;
        pdf.stream(content_id, &bytes).filter(Filter::FlateDecode);
        let mut page = pdf.page(page_id);
        page.parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1))
            .contents(content_id);
        page.resources().fonts().pair(Name(b"F0"), font);
        page.finish();
        page_ids.push(page_id);
    }
    let count = page_ids.len() as i32;
    pdf.pages(tree).kids(page_ids).count(count);
    pdf.catalog(catalog).pages(tree);
    pdf.document_info(Ref::new(next)).producer(TextStr(concat!(
        "lambdakit-textract ",
        env!("CARGO_PKG_VERSION")
    )));
    pdf.finish()
}

/// Splits a line into rows of at most [`COLUMNS`] characters, at spaces where possible.
fn wrap(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().filter(|c| !c.is_control()).collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    let mut rows = Vec::new();
    let mut start = 0;
    while chars.len() - start > COLUMNS {
        let end = start + COLUMNS;
        let cut = (start + 1..end)
            .rev()
            .find(|&i| chars[i] == ' ')
            .unwrap_or(end);
        rows.push(chars[start..cut].iter().collect());
        start = if chars.get(cut) == Some(&' ') {
            cut + 1
        } else {
            cut
        };
    }
    rows.push(chars[start..].iter().collect());
    rows
}

/// The Windows-1252 (`WinAnsiEncoding`) byte for `c`, or `?`.
fn win_ansi(c: char) -> u8 {
    let u = c as u32;
    match u {
        0x20..=0x7E | 0xA0..=0xFF => u as u8,
        _ => match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            _ => b'?',
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_at_spaces_and_long_words_are_cut() {
        let long = "word ".repeat(40);
        let rows = wrap(long.trim_end());
        assert!(rows.iter().all(|r| r.chars().count() <= COLUMNS));
        assert_eq!(rows.join(" "), long.trim_end());
        let word = "x".repeat(COLUMNS * 2 + 3);
        assert_eq!(wrap(&word).concat(), word);
    }

    #[test]
    fn windows_1252_covers_latin_1_and_smart_quotes() {
        assert_eq!(win_ansi('é'), 0xE9);
        assert_eq!(win_ansi('€'), 0x80);
        assert_eq!(win_ansi('“'), 0x93);
        assert_eq!(win_ansi('文'), b'?');
    }
}
