//! A glyph-less TrueType font: every character is an empty glyph half an em wide.
//!
//! The text layer of a searchable PDF must be invisible, extractable and selectable in any
//! script. Tesseract and OCRmyPDF solve this with a tiny embedded font whose glyphs draw
//! nothing; the characters' meaning comes from the ToUnicode map, so one font covers every
//! script. This builds such a font from scratch (the tables FreeType and PDF readers expect:
//! `cmap`, `glyf`, `head`, `hhea`, `hmtx`, `loca`, `maxp`, `name`, `OS/2`, `post`).

/// Units per em.
pub(crate) const UNITS: u16 = 1000;
/// Advance width of every glyph, in font units.
pub(crate) const ADVANCE: u16 = 500;
/// Ascent and descent in font units: together one em, so a font size equal to a word's height
/// makes the glyph box exactly the word's box.
pub(crate) const ASCENT: i16 = 800;
pub(crate) const DESCENT: i16 = -200;
/// The font's PostScript name.
pub(crate) const NAME: &str = "GlyphLessFont";

/// The font file (`FontFile2`).
pub(crate) fn glyphless_ttf() -> Vec<u8> {
    let mut tables: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"OS/2", os2()),
        (b"cmap", cmap()),
        (b"glyf", Vec::new()),
        (b"head", head()),
        (b"hhea", hhea()),
        (b"hmtx", hmtx()),
        (b"loca", vec![0; 6]),
        (b"maxp", maxp()),
        (b"name", name()),
        (b"post", post()),
    ];
    tables.sort_by_key(|(tag, _)| **tag);

    let count = tables.len() as u16;
    let entry_selector = 15 - count.leading_zeros() as u16; // floor(log2(count))
    let search_range = 16u16 << entry_selector;
    let mut out = Vec::new();
    out.extend(0x0001_0000u32.to_be_bytes());
    out.extend(count.to_be_bytes());
    out.extend(search_range.to_be_bytes());
    out.extend(entry_selector.to_be_bytes());
    out.extend((count * 16 - search_range).to_be_bytes());
    let mut offset = 12 + 16 * tables.len();
    let mut head_offset = 0;
    for (tag, data) in &tables {
        if *tag == b"head" {
            head_offset = offset;
        }
        out.extend(*tag);
        out.extend(checksum(data).to_be_bytes());
        out.extend((offset as u32).to_be_bytes());
        out.extend((data.len() as u32).to_be_bytes());
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &tables {
        out.extend(data);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
    let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
    out[head_offset + 8..head_offset + 12].copy_from_slice(&adjustment.to_be_bytes());
    out
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

struct Be(Vec<u8>);

impl Be {
    fn u16(mut self, v: u16) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    fn i16(mut self, v: i16) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend(v.to_be_bytes());
        self
    }
    fn bytes(mut self, v: &[u8]) -> Self {
        self.0.extend(v);
        self
    }
}

fn head() -> Vec<u8> {
    Be(Vec::new())
        .u32(0x0001_0000) // version
        .u32(0x0001_0000) // fontRevision
        .u32(0) // checksumAdjustment, patched once the whole font exists
        .u32(0x5F0F_3CF5) // magic
        .u16(0x000B) // flags: baseline at y=0, lsb at x=0, integer ppem
        .u16(UNITS)
        .bytes(&[0; 16]) // created, modified
        .i16(0)
        .i16(DESCENT)
        .i16(ADVANCE as i16)
        .i16(ASCENT) // xMin yMin xMax yMax
        .u16(0) // macStyle
        .u16(3) // lowestRecPPEM
        .i16(2) // fontDirectionHint
        .i16(0) // indexToLocFormat: short offsets
        .i16(0) // glyphDataFormat
        .0
}

fn hhea() -> Vec<u8> {
    Be(Vec::new())
        .u32(0x0001_0000)
        .i16(ASCENT)
        .i16(DESCENT)
        .i16(0) // lineGap
        .u16(ADVANCE)
        .i16(0)
        .i16(0)
        .i16(0) // minLSB, minRSB, xMaxExtent
        .i16(1)
        .i16(0)
        .i16(0) // caret slope rise, run, offset
        .bytes(&[0; 8])
        .i16(0) // metricDataFormat
        .u16(2) // numberOfHMetrics
        .0
}

fn hmtx() -> Vec<u8> {
    Be(Vec::new()).u16(ADVANCE).i16(0).u16(ADVANCE).i16(0).0
}

fn maxp() -> Vec<u8> {
    Be(Vec::new())
        .u32(0x0001_0000)
        .u16(2) // numGlyphs: .notdef and the one empty glyph
        .bytes(&[0; 4]) // maxPoints, maxContours
        .bytes(&[0; 4]) // maxCompositePoints, maxCompositeContours
        .u16(2) // maxZones
        .bytes(&[0; 16]) // twilight points .. component depth
        .0
}

fn cmap() -> Vec<u8> {
    // One format-4 subtable with only the mandatory final segment: the PDF maps codes to glyphs
    // itself (CIDToGIDMap), so the font needs no character map of its own.
    Be(Vec::new())
        .u16(0)
        .u16(1) // version, numTables
        .u16(3)
        .u16(1)
        .u32(12) // Windows, Unicode BMP, offset
        .u16(4)
        .u16(24)
        .u16(0) // format, length, language
        .u16(2)
        .u16(2)
        .u16(0)
        .u16(0) // segCountX2, searchRange, entrySelector, rangeShift
        .u16(0xFFFF) // endCode
        .u16(0) // reservedPad
        .u16(0xFFFF) // startCode
        .i16(1) // idDelta
        .u16(0) // idRangeOffset
        .0
}

fn name() -> Vec<u8> {
    let utf16: Vec<u8> = NAME.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let ids = [1u16, 2, 4, 6];
    let style: Vec<u8> = "Regular"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let mut records = Be(Vec::new())
        .u16(0)
        .u16(ids.len() as u16)
        .u16(6 + 12 * ids.len() as u16);
    let mut strings = Vec::new();
    for id in ids {
        let s = if id == 2 { &style } else { &utf16 };
        records = records
            .u16(3)
            .u16(1)
            .u16(0x0409)
            .u16(id)
            .u16(s.len() as u16)
            .u16(strings.len() as u16);
        strings.extend(s);
    }
    records.bytes(&strings).0
}

fn post() -> Vec<u8> {
    Be(Vec::new())
        .u32(0x0003_0000) // version 3: no glyph names
        .u32(0) // italicAngle
        .i16(-100)
        .i16(50) // underline position, thickness
        .u32(0) // isFixedPitch
        .bytes(&[0; 16])
        .0
}

fn os2() -> Vec<u8> {
    Be(Vec::new())
        .u16(1) // version
        .i16(ADVANCE as i16) // xAvgCharWidth
        .u16(400)
        .u16(5) // weight, width class
        .u16(0) // fsType: installable embedding
        .bytes(&[0; 20]) // sub/superscript sizes and offsets, strikeout size and position
        .i16(0) // sFamilyClass
        .bytes(&[0; 10]) // panose
        .bytes(&[0; 16]) // ulUnicodeRange1-4
        .bytes(b"LKIT")
        .u16(0x0040) // fsSelection: regular
        .u16(0x20)
        .u16(0xFFFF) // first, last char index
        .i16(ASCENT)
        .i16(DESCENT)
        .i16(0) // typo ascender, descender, line gap
        .u16(ASCENT as u16)
        .u16((-DESCENT) as u16) // win ascent, descent
        .u32(1)
        .u32(0) // code page ranges: Latin 1 (informational only)
        .0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_font_checks_out() {
        let font = glyphless_ttf();
        // The whole-font checksum is the magic number once checksumAdjustment is in place.
        assert_eq!(checksum(&font), 0xB1B0_AFBA);
        let tables = u16::from_be_bytes([font[4], font[5]]) as usize;
        assert_eq!(tables, 10);
        let tags: Vec<&[u8]> = (0..tables)
            .map(|i| &font[12 + 16 * i..16 + 16 * i])
            .collect();
        assert!(tags.windows(2).all(|w| w[0] < w[1]), "tables sorted by tag");
        assert_eq!(head().len(), 54);
        assert_eq!(hhea().len(), 36);
        assert_eq!(maxp().len(), 32);
        assert_eq!(cmap().len(), 36);
        assert_eq!(post().len(), 32);
        assert_eq!(os2().len(), 86);
    }
}
