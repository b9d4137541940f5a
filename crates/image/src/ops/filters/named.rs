//! CSS named colours (CSS Color Module Level 4): the `color-name` list that both sharp's colour
//! parser and Serverless Image Handler's Thumbor mapper use, kept once in
//! `request::color_names`.

use crate::request::color_names::COLOR_NAMES;

/// Looks up a CSS colour keyword, case-insensitively; `None` if it is not one.
pub(crate) fn named_color(name: &str) -> Option<[u8; 3]> {
    let lower = name.to_ascii_lowercase();
    COLOR_NAMES
        .binary_search_by(|(n, _)| n.cmp(&lower.as_str()))
        .ok()
        .map(|i| COLOR_NAMES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        assert!(
            COLOR_NAMES.windows(2).all(|w| w[0].0 < w[1].0),
            "table must be sorted"
        );
        // CSS Color 4 defines 148 keywords besides `transparent` and `currentcolor`.
        assert_eq!(COLOR_NAMES.len(), 148);
    }

    #[test]
    fn lookups() {
        assert_eq!(named_color("rebeccapurple"), Some([0x66, 0x33, 0x99]));
        assert_eq!(named_color("AliceBlue"), Some([0xf0, 0xf8, 0xff]));
        assert_eq!(named_color("yellowgreen"), Some([0x9a, 0xcd, 0x32]));
        assert_eq!(named_color("notacolour"), None);
    }
}
