//! Page images as PDF image streams: JPEG byte for byte, PNG by its own compressed data where
//! PDF can read it, otherwise decoded and re-compressed with the alpha channel as a soft mask.

use std::borrow::Cow;

use crate::Error;

/// How the image's samples are stored in the PDF.
#[derive(Debug)]
pub(crate) enum Samples<'a> {
    /// A JPEG file, embedded unchanged (`DCTDecode`).
    Jpeg { data: &'a [u8], inverted_cmyk: bool },
    /// zlib data; with `predictor`, the PNG file's own IDAT data (`Predictor 15`).
    Flate {
        data: Cow<'a, [u8]>,
        predictor: bool,
    },
}

/// The colour space of the samples.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Colour {
    Gray,
    Rgb,
    Cmyk,
    Indexed(Vec<u8>),
}

impl Colour {
    pub(crate) fn components(&self) -> i32 {
        match self {
            Self::Gray | Self::Indexed(_) => 1,
            Self::Rgb => 3,
            Self::Cmyk => 4,
        }
    }
}

/// A page image ready to embed.
#[derive(Debug)]
pub(crate) struct Image<'a> {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) bits: u8,
    pub(crate) colour: Colour,
    pub(crate) samples: Samples<'a>,
    /// zlib-compressed 8-bit alpha, when the image has transparency.
    pub(crate) alpha: Option<Vec<u8>>,
    /// Pixels per inch (x, y) when the file records them.
    pub(crate) dpi: Option<(f64, f64)>,
}

/// Reads a JPEG or PNG, refusing images over `max_pixels`.
pub(crate) fn load(bytes: &[u8], max_pixels: u64) -> Result<Image<'_>, Error> {
    let image = if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg(bytes)?
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_image(bytes, max_pixels)?
    } else {
        return Err(Error::UnsupportedImage(
            "page images must be JPEG or PNG".into(),
        ));
    };
    let pixels = u64::from(image.width) * u64::from(image.height);
    if pixels > max_pixels {
        return Err(Error::TooLarge(format!(
            "page image of {}x{} pixels is over the limit of {max_pixels}",
            image.width, image.height
        )));
    }
    if image.width == 0 || image.height == 0 {
        return Err(Error::UnsupportedImage("image has no pixels".into()));
    }
    Ok(image)
}

fn jpeg(bytes: &[u8]) -> Result<Image<'_>, Error> {
    let bad = |why: &str| Error::UnsupportedImage(format!("jpeg: {why}"));
    let mut pos = 2;
    let mut dpi = None;
    let mut adobe = false;
    loop {
        // Markers may be padded with any number of 0xFF bytes.
        while bytes.get(pos) == Some(&0xFF) && bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) else {
            return Err(bad("no frame header"));
        };
        pos += 2;
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            continue;
        }
        if marker == 0xD9 || marker == 0xDA {
            return Err(bad("no frame header before the image data"));
        }
        let len = bytes
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| bad("truncated"))?;
        let body = bytes
            .get(pos + 2..pos + len)
            .ok_or_else(|| bad("truncated segment"))?;
        if len < 2 {
            return Err(bad("bad segment length"));
        }
        match marker {
            0xE0 if body.starts_with(b"JFIF\0") && body.len() >= 12 => {
                let x = f64::from(u16::from_be_bytes([body[8], body[9]]));
                let y = f64::from(u16::from_be_bytes([body[10], body[11]]));
                dpi = match body[7] {
                    1 if x > 0.0 && y > 0.0 => Some((x, y)),
                    2 if x > 0.0 && y > 0.0 => Some((x * 2.54, y * 2.54)),
                    _ => dpi,
                };
            }
            0xEE if body.starts_with(b"Adobe") => adobe = true,
            0xC0..=0xC2 => {
                if body.len() < 6 {
                    return Err(bad("short frame header"));
                }
                let bits = body[0];
                let height = u32::from(u16::from_be_bytes([body[1], body[2]]));
                let width = u32::from(u16::from_be_bytes([body[3], body[4]]));
                let colour = match body[5] {
                    1 => Colour::Gray,
                    3 => Colour::Rgb,
                    4 => Colour::Cmyk,
                    n => return Err(bad(&format!("{n} colour components"))),
                };
                if bits != 8 {
                    return Err(bad("only 8-bit samples"));
                }
                if height == 0 {
                    return Err(bad(
                        "height defined later in the stream (DNL) is not supported",
                    ));
                }
                let inverted_cmyk = adobe && colour == Colour::Cmyk;
                return Ok(Image {
                    width,
                    height,
                    bits,
                    colour,
                    samples: Samples::Jpeg {
                        data: bytes,
                        inverted_cmyk,
                    },
                    alpha: None,
                    dpi,
                });
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(bad(
                    "lossless, hierarchical and arithmetic-coded JPEGs are not supported",
                ));
            }
            _ => {}
        }
        pos += len;
    }
}

struct PngChunks<'a> {
    width: u32,
    height: u32,
    bit_depth: u8,
    colour_type: u8,
    interlaced: bool,
    palette: Option<&'a [u8]>,
    transparency: bool,
    idat: Vec<&'a [u8]>,
    dpi: Option<(f64, f64)>,
}

fn png_chunks(bytes: &[u8]) -> Result<PngChunks<'_>, Error> {
    let bad = |why: &str| Error::UnsupportedImage(format!("png: {why}"));
    let mut pos = 8;
    let mut out: Option<PngChunks<'_>> = None;
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]])
            as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = bytes
            .get(pos + 8..(pos + 8).saturating_add(len))
            .ok_or_else(|| bad("truncated chunk"))?;
        pos = pos.saturating_add(12).saturating_add(len);
        if kind == b"IHDR" {
            if data.len() != 13 {
                return Err(bad("bad header"));
            }
            out = Some(PngChunks {
                width: u32::from_be_bytes([data[0], data[1], data[2], data[3]]),
                height: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
                bit_depth: data[8],
                colour_type: data[9],
                interlaced: data[12] != 0,
                palette: None,
                transparency: false,
                idat: Vec::new(),
                dpi: None,
            });
            continue;
        }
        let Some(png) = out.as_mut() else {
            return Err(bad("first chunk is not IHDR"));
        };
        match kind {
            b"PLTE" => png.palette = Some(data),
            b"tRNS" => png.transparency = true,
            b"IDAT" => png.idat.push(data),
            b"pHYs" if data.len() == 9 && data[8] == 1 => {
                let x =
                    f64::from(u32::from_be_bytes([data[0], data[1], data[2], data[3]])) * 0.0254;
                let y =
                    f64::from(u32::from_be_bytes([data[4], data[5], data[6], data[7]])) * 0.0254;
                if x > 0.0 && y > 0.0 {
                    png.dpi = Some((x, y));
                }
            }
            b"IEND" => break,
            _ => {}
        }
    }
    let png = out.ok_or_else(|| bad("no header"))?;
    if png.idat.is_empty() {
        return Err(bad("no image data"));
    }
    Ok(png)
}

fn png_image(bytes: &[u8], max_pixels: u64) -> Result<Image<'_>, Error> {
    let chunks = png_chunks(bytes)?;
    let pixels = u64::from(chunks.width) * u64::from(chunks.height);
    if pixels > max_pixels {
        return Err(Error::TooLarge(format!(
            "page image of {}x{} pixels is over the limit of {max_pixels}",
            chunks.width, chunks.height
        )));
    }
    // Grey, RGB and palette images without transparency: PDF's Flate filter with the PNG
    // predictors reads the file's own compressed data, so nothing is decoded or re-encoded.
    let direct =
        !chunks.interlaced && !chunks.transparency && matches!(chunks.colour_type, 0 | 2 | 3);
    if direct {
        let colour = match chunks.colour_type {
            0 => Colour::Gray,
            2 => Colour::Rgb,
            _ => Colour::Indexed(
                chunks
                    .palette
                    .ok_or_else(|| {
                        Error::UnsupportedImage("png: palette image without a palette".into())
                    })?
                    .to_vec(),
            ),
        };
        let data: Cow<'_, [u8]> = if chunks.idat.len() == 1 {
            Cow::Borrowed(chunks.idat[0])
        } else {
            Cow::Owned(chunks.idat.concat())
        };
        return Ok(Image {
            width: chunks.width,
            height: chunks.height,
            bits: chunks.bit_depth,
            colour,
            samples: Samples::Flate {
                data,
                predictor: true,
            },
            alpha: None,
            dpi: chunks.dpi,
        });
    }
    decode_png(bytes, chunks.dpi)
}

/// Decodes a PNG PDF cannot read directly (alpha, transparency, interlacing) to 8-bit samples
/// and compresses colour and alpha separately.
fn decode_png(bytes: &[u8], dpi: Option<(f64, f64)>) -> Result<Image<'static>, Error> {
    let bad = |e: png::DecodingError| Error::UnsupportedImage(format!("png: {e}"));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(bad)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::TooLarge("png: decoded image does not fit in memory".into()))?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(bad)?;
    buf.truncate(frame.buffer_size());
    let (colour, channels) = match frame.color_type {
        png::ColorType::Grayscale => (Colour::Gray, 1),
        png::ColorType::GrayscaleAlpha => (Colour::Gray, 2),
        png::ColorType::Rgb => (Colour::Rgb, 3),
        png::ColorType::Rgba => (Colour::Rgb, 4),
        png::ColorType::Indexed => {
            return Err(Error::UnsupportedImage("png: palette not expanded".into()));
        }
    };
    let (colour_bytes, alpha) = if channels == 2 || channels == 4 {
        let colour_channels = channels - 1;
        let pixels = buf.len() / channels;
        let mut c = Vec::with_capacity(pixels * colour_channels);
        let mut a = Vec::with_capacity(pixels);
        for px in buf.chunks_exact(channels) {
            c.extend_from_slice(&px[..colour_channels]);
            a.push(px[colour_channels]);
        }
        // Fully opaque alpha is no alpha: leave the soft mask out.
        let alpha = a.iter().any(|&v| v != 255).then(|| compress_pixels(&a));
        (c, alpha)
    } else {
        (buf, None)
    };
    Ok(Image {
        width: frame.width,
        height: frame.height,
        bits: 8,
        colour,
        samples: Samples::Flate {
            data: Cow::Owned(compress_pixels(&colour_bytes)),
            predictor: false,
        },
        alpha,
        dpi,
    })
}

/// Level 6 (zlib's default), for the text layer.
pub(crate) fn compress(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// Level 3, for decoded images: a third faster than level 6 on the RGBA fixtures for 4% more
/// bytes (see docs/benchmarks.md); the deflate is most of such a page's time.
pub(crate) fn compress_pixels(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 3)
}

/// Best compression, for the small streams (text layer, font, maps) where it costs little.
pub(crate) fn compress_small(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 9)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_refused_not_a_panic() {
        for junk in [
            &b""[..],
            b"GIF89a",
            &[0xFF, 0xD8],
            &[0xFF, 0xD8, 0xFF, 0xC0, 0x00],
            &[0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x01],
            &[0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x08, 8, 0, 0, 0, 1, 3],
            b"\x89PNG\r\n\x1a\n",
            b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR",
            b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffIHDR",
        ] {
            assert!(load(junk, u64::MAX).is_err());
        }
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_decoding() {
        // A header claiming 100k x 100k pixels.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend(100_000u32.to_be_bytes());
        png.extend(100_000u32.to_be_bytes());
        png.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        png.extend(b"\0\0\0\x01IDAT\0\0\0\0\0");
        assert!(matches!(load(&png, 50_000_000), Err(Error::TooLarge(_))));
    }
}
