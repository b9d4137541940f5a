//! EXIF orientation (tag 0x0112 in IFD0), found in JPEG APP1, PNG `eXIf`, WebP `EXIF` chunks
//! and TIFF files themselves. Hand-parsed and bounds-checked: junk yields `None`, never a panic.

use crate::Format;

/// The EXIF orientation (1..=8) of an encoded image, when it carries a valid one.
pub(crate) fn orientation(format: Format, bytes: &[u8]) -> Option<u8> {
    let tiff = match format {
        Format::Jpeg => jpeg_exif(bytes)?,
        Format::Png => png_exif(bytes)?,
        Format::Webp => webp_exif(bytes)?,
        Format::Tiff => bytes,
        _ => return None,
    };
    tiff_orientation(tiff)
}

fn jpeg_exif(bytes: &[u8]) -> Option<&[u8]> {
    walk_jpeg_segments(bytes, |marker, start, len| {
        let body = bytes.get(start..(start + len).checked_sub(2)?)?;
        (marker == 0xE1 && body.starts_with(b"Exif\0\0")).then(|| &body[6..])
    })
}

/// Walks a JPEG's marker segments from after SOI up to the first scan, calling
/// `visit(marker, payload_start, declared_length)` for each (SOS and EOI included) until it
/// answers `Some`. Fill bytes, RSTn and TEM are skipped; a byte out of place, a length under
/// 2, SOS or EOI end the walk. The declared length may run past the end of `bytes`: `visit`
/// slices what it needs.
pub(super) fn walk_jpeg_segments<T>(
    bytes: &[u8],
    mut visit: impl FnMut(u8, usize, usize) -> Option<T>,
) -> Option<T> {
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if let Some(found) = visit(marker, i + 4, len) {
            return Some(found);
        }
        if marker == 0xDA || marker == 0xD9 || len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

fn png_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut i = 8;
    while i + 8 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize;
        let kind = &bytes[i + 4..i + 8];
        let body = bytes.get(i + 8..(i + 8).checked_add(len)?)?;
        match kind {
            b"eXIf" => return Some(body.strip_prefix(b"Exif\0\0").unwrap_or(body)),
            b"IDAT" | b"IEND" => return None,
            _ => {}
        }
        i = i.checked_add(12 + len)?;
    }
    None
}

fn webp_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut i = 12;
    while i + 8 <= bytes.len() {
        let kind = &bytes[i..i + 4];
        let len =
            u32::from_le_bytes([bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]]) as usize;
        let body = bytes.get(i + 8..(i + 8).checked_add(len)?)?;
        if kind == b"EXIF" {
            return Some(body.strip_prefix(b"Exif\0\0").unwrap_or(body));
        }
        i = i.checked_add(8 + len + (len & 1))?;
    }
    None
}

/// Orientation from a TIFF structure ("II*\0" or "MM\0*", then IFD0).
pub(crate) fn tiff_orientation(tiff: &[u8]) -> Option<u8> {
    let little = match tiff.get(0..4)? {
        [b'I', b'I', 0x2A, 0x00] => true,
        [b'M', b'M', 0x00, 0x2A] => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        Some(if little {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        })
    };
    let ifd = u32_at(4)? as usize;
    let count = usize::from(u16_at(ifd)?);
    for n in 0..count.min(1024) {
        let entry = ifd.checked_add(2 + n * 12)?;
        if u16_at(entry)? == 0x0112 {
            // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
            let value = u16_at(entry + 8)?;
            return (1..=8).contains(&value).then_some(value as u8);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn exif_blob(orientation: u16, little: bool) -> Vec<u8> {
        let mut t = Vec::new();
        if little {
            t.extend_from_slice(b"II*\0");
            t.extend_from_slice(&8u32.to_le_bytes());
            t.extend_from_slice(&1u16.to_le_bytes());
            t.extend_from_slice(&0x0112u16.to_le_bytes());
            t.extend_from_slice(&3u16.to_le_bytes());
            t.extend_from_slice(&1u32.to_le_bytes());
            t.extend_from_slice(&orientation.to_le_bytes());
            t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        } else {
            t.extend_from_slice(b"MM\0*");
            t.extend_from_slice(&8u32.to_be_bytes());
            t.extend_from_slice(&1u16.to_be_bytes());
            t.extend_from_slice(&0x0112u16.to_be_bytes());
            t.extend_from_slice(&3u16.to_be_bytes());
            t.extend_from_slice(&1u32.to_be_bytes());
            t.extend_from_slice(&orientation.to_be_bytes());
            t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        }
        t
    }

    #[test]
    fn reads_both_byte_orders() {
        for o in 1..=8 {
            assert_eq!(tiff_orientation(&exif_blob(o, true)), Some(o as u8));
            assert_eq!(tiff_orientation(&exif_blob(o, false)), Some(o as u8));
        }
        assert_eq!(tiff_orientation(&exif_blob(9, true)), None);
    }

    #[test]
    fn junk_is_none_not_a_panic() {
        assert_eq!(tiff_orientation(b""), None);
        assert_eq!(tiff_orientation(b"II*\0\xff\xff\xff\xff"), None);
        let mut truncated = exif_blob(6, true);
        truncated.truncate(15);
        assert_eq!(tiff_orientation(&truncated), None);
        assert_eq!(orientation(Format::Jpeg, b"\xFF\xD8\xFF\xE1\x00"), None);
        assert_eq!(orientation(Format::Jpeg, b"\xFF\xD8\xFF\xE1\x00\x01"), None);
        assert_eq!(
            orientation(Format::Png, b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffeXIf"),
            None
        );
        assert_eq!(
            orientation(Format::Webp, b"RIFF\0\0\0\0WEBPEXIF\xff\xff\xff\xff"),
            None
        );
    }

    #[test]
    fn finds_jpeg_app1() {
        let blob = exif_blob(6, false);
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xE1];
        jpeg.extend_from_slice(&((blob.len() + 8) as u16).to_be_bytes());
        jpeg.extend_from_slice(b"Exif\0\0");
        jpeg.extend_from_slice(&blob);
        jpeg.extend_from_slice(&[0xFF, 0xDA]);
        assert_eq!(orientation(Format::Jpeg, &jpeg), Some(6));
    }
}
