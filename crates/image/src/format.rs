//! Image formats, as Serverless Image Handler names them.

/// An image format the handler reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// JPEG (`jpg` or `jpeg`).
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF, animated or not.
    Gif,
    /// TIFF (read; written as TIFF).
    Tiff,
    /// AVIF.
    Avif,
    /// HEIF.
    Heif,
}

impl Format {
    /// Parses a format name as Serverless Image Handler accepts it (`jpg`, `jpeg`, `png`,
    /// `webp`, `gif`, `tiff`, `avif`, `heif`), case-insensitively; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Self::Jpeg,
            "png" => Self::Png,
            "webp" => Self::Webp,
            "gif" => Self::Gif,
            "tiff" | "tif" => Self::Tiff,
            "avif" => Self::Avif,
            "heif" | "heic" => Self::Heif,
            _ => return None,
        })
    }

    /// Serverless Image Handler's name for the format (`jpeg`, `png`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Tiff => "tiff",
            Self::Avif => "avif",
            Self::Heif => "heif",
        }
    }

    /// The media type, such as `image/jpeg`.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Tiff => "image/tiff",
            Self::Avif => "image/avif",
            Self::Heif => "image/heif",
        }
    }

    /// The format of an encoded image, from its first bytes; `None` when unknown.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0xFF, 0xD8, ..] => Some(Self::Jpeg),
            [0x89, b'P', b'N', b'G', ..] => Some(Self::Png),
            [b'G', b'I', b'F', b'8', ..] => Some(Self::Gif),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Some(Self::Webp),
            [b'I', b'I', 0x2A, 0x00, ..] | [b'M', b'M', 0x00, 0x2A, ..] => Some(Self::Tiff),
            [
                _,
                _,
                _,
                _,
                b'f',
                b't',
                b'y',
                b'p',
                b'a',
                b'v',
                b'i',
                b'f',
                ..,
            ] => Some(Self::Avif),
            [
                _,
                _,
                _,
                _,
                b'f',
                b't',
                b'y',
                b'p',
                b'h',
                b'e',
                b'i',
                b'c' | b'f',
                ..,
            ] => Some(Self::Heif),
            _ => None,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
