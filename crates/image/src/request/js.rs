//! The few JavaScript semantics Serverless Image Handler's parsing leans on, reproduced exactly:
//! `Number(string)`, `parseInt(string)`, truthiness, `String(value)`, `decodeURIComponent`,
//! Node's lenient `Buffer.from(string, "base64")`, and how numbers come out in JSON.

use serde_json::Value;

/// JavaScript's `WhiteSpace` and `LineTerminator` code points: what `String.prototype.trim`,
/// `Number(string)`, `parseInt` and the regex class `\s` treat as white space.
pub(crate) fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// The code points JavaScript's regex `.` does not match (without the `s` flag).
pub(crate) fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// `Number(string)`: `NaN` for anything that is not a whole numeric literal.
pub(crate) fn to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = t.strip_prefix(prefix) {
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return f64::NAN;
            }
            return digits.chars().fold(0.0, |acc, c| {
                acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
            });
        }
    }
    let (sign, unsigned) = match t.as_bytes()[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if unsigned == "Infinity" {
        return sign * f64::INFINITY;
    }
    if !is_decimal_literal(unsigned) {
        return f64::NAN;
    }
    unsigned.parse::<f64>().map_or(f64::NAN, |v| sign * v)
}

/// `StrUnsignedDecimalLiteral`: `1`, `1.`, `.5`, `1.5e-3`; no `_`, no `inf`.
fn is_decimal_literal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_digits = count_digits(&b[i..]);
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(&b[i..]);
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = count_digits(&b[i..]);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// `parseInt(string)` without a radix: leading white space, a sign, `0x` for hex, then the
/// longest run of digits; `NaN` when there is none.
pub(crate) fn parse_int(s: &str) -> f64 {
    let t = s.trim_start_matches(is_js_space);
    let (sign, t) = match t.as_bytes().first() {
        Some(b'+') => (1.0, &t[1..]),
        Some(b'-') => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    let (radix, t) = match t.get(..2) {
        Some("0x" | "0X") => (16, &t[2..]),
        _ => (10, t),
    };
    let digits: &str = {
        let end = t
            .char_indices()
            .find(|&(_, c)| !c.is_digit(radix))
            .map_or(t.len(), |(i, _)| i);
        &t[..end]
    };
    if digits.is_empty() {
        return f64::NAN;
    }
    let magnitude = if radix == 10 {
        digits.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        digits.chars().fold(0.0, |acc, c| {
            acc * 16.0 + f64::from(c.to_digit(16).unwrap_or(0))
        })
    };
    sign * magnitude
}

/// A JavaScript number as it goes into the edits: integers as JSON integers, other finite
/// numbers as JSON floats, `-0` as `0`, and the values JSON cannot hold as the strings
/// `"NaN"`, `"Infinity"` and `"-Infinity"` (what `Number()` turns back into the same value).
pub(crate) fn number(x: f64) -> Value {
    const MAX_SAFE: f64 = 9_007_199_254_740_992.0;
    if x.is_nan() {
        Value::from("NaN")
    } else if x.is_infinite() {
        Value::from(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else if x.fract() == 0.0 && x.abs() <= MAX_SAFE {
        // Exact: |x| <= 2^53 and integral.
        #[allow(clippy::cast_possible_truncation)]
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// The numeric value of a JSON value as JavaScript's `Number(value)` sees it.
pub(crate) fn value_to_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => to_number(s),
        Value::Array(_) => to_number(&to_js_string(v)),
        Value::Object(_) => f64::NAN,
    }
}

/// JavaScript truthiness of a JSON value.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `String(value)` for a JSON value.
pub(crate) fn to_js_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (_, Some(u)) => u.to_string(),
            _ => number_to_string(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Null => String::new(),
                other => to_js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// `Number.prototype.toString()` (radix 10).
pub(crate) fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits, as JavaScript does.
    let formatted = format!("{:e}", x.abs());
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let e: i64 = exponent.parse().unwrap_or(0);
    let k = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let n = e + 1;
    let sign = if x < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!(
            "{digits}{}",
            "0".repeat(usize::try_from(n - k).unwrap_or(0))
        )
    } else if 0 < n && n <= 21 {
        let (a, b) = digits.split_at(usize::try_from(n).unwrap_or(0));
        format!("{a}.{b}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat(usize::try_from(-n).unwrap_or(0)))
    } else {
        let (first, rest) = digits.split_at(1);
        let exp_sign = if n > 0 { "+" } else { "-" };
        let point = if rest.is_empty() { "" } else { "." };
        format!("{first}{point}{rest}e{exp_sign}{}", (n - 1).abs())
    };
    format!("{sign}{body}")
}

/// Rewrites every number the way JavaScript holds it: integral values within 2^53 become JSON
/// integers, larger ones lose precision as doubles do, `-0` becomes `0`.
pub(crate) fn normalize_numbers(v: &mut Value) {
    match v {
        Value::Number(n) => {
            let exact_int = n.as_i64().is_some_and(|i| i.unsigned_abs() <= 1 << 53)
                || n.as_u64().is_some_and(|u| u <= 1 << 53);
            if !exact_int {
                *v = number(n.as_f64().unwrap_or(f64::NAN));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_numbers),
        Value::Object(map) => map.values_mut().for_each(normalize_numbers),
        _ => {}
    }
}

/// `decodeURIComponent`: `None` where JavaScript throws `URIError` (a `%` not followed by two
/// hex digits, or escapes that are not well-formed UTF-8).
pub(crate) fn decode_uri_component(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let hex_at = |i: usize| -> Option<u8> {
        if bytes.get(i) != Some(&b'%') {
            return None;
        }
        let hi = char::from(*bytes.get(i + 1)?).to_digit(16)?;
        let lo = char::from(*bytes.get(i + 2)?).to_digit(16)?;
        u8::try_from(hi * 16 + lo).ok()
    };
    while i < bytes.len() {
        if bytes[i] != b'%' {
            let ch = s[i..].chars().next()?;
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let first = hex_at(i)?;
        i += 3;
        let extra = match first {
            0x00..=0x7F => {
                out.push(char::from(first));
                continue;
            }
            0xC0..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF7 => 3,
            _ => return None,
        };
        let mut buf = vec![first];
        for _ in 0..extra {
            let b = hex_at(i)?;
            if b & 0xC0 != 0x80 {
                return None;
            }
            buf.push(b);
            i += 3;
        }
        // Rejects overlong forms, surrogates and code points past U+10FFFF, as JavaScript does.
        out.push_str(std::str::from_utf8(&buf).ok()?);
    }
    Some(out)
}

/// Node's `Buffer.from(string, "base64")`: standard and URL-safe alphabets, characters outside
/// them skipped, decoding stopped at the first `=` inside a group, UTF-16 code units truncated
/// to their low byte, and the output capped at `floor(3 * unpadded_length / 4)` bytes.
pub(crate) fn node_base64_decode(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let src: Vec<u8> = units.iter().map(|u| u.to_le_bytes()[0]).collect();
    let mut len = units.len();
    if len > 0 && units[len - 1] == u16::from(b'=') {
        len -= 1;
    }
    if len > 1 && units[len - 1] == u16::from(b'=') {
        len -= 1;
    }
    let dstlen = len * 3 / 4;
    let mut out = Vec::with_capacity(dstlen);
    let mut i = 0;
    // One group of up to four characters at a time, skipping illegal ones; false = stop.
    'groups: while i < src.len() && out.len() < dstlen {
        let mut sextets = [0u8; 4];
        for n in 0..4 {
            loop {
                if i >= src.len() {
                    break 'groups;
                }
                let c = src[i];
                i += 1;
                if let Some(v) = unbase64(c) {
                    sextets[n] = v;
                    break;
                }
                if c == b'=' {
                    break 'groups;
                }
            }
            let byte = match n {
                0 => None,
                1 => Some((sextets[0] << 2) | (sextets[1] >> 4)),
                2 => Some((sextets[1] << 4) | (sextets[2] >> 2)),
                _ => Some((sextets[2] << 6) | sextets[3]),
            };
            if let Some(b) = byte {
                if out.len() >= dstlen {
                    break 'groups;
                }
                out.push(b);
            }
        }
    }
    out
}

fn unbase64(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Sorts strings as `Array.prototype.sort()` does: by UTF-16 code units.
pub(crate) fn sort_utf16(items: &mut [String]) {
    items.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_parsing_follows_javascript() {
        assert_eq!(to_number("80"), 80.0);
        assert_eq!(to_number(" 1.5e1 "), 15.0);
        assert_eq!(to_number(""), 0.0);
        assert_eq!(to_number("0x1f"), 31.0);
        assert_eq!(to_number("-Infinity"), f64::NEG_INFINITY);
        assert_eq!(to_number(".5"), 0.5);
        assert_eq!(to_number("5."), 5.0);
        for nan in ["abc", "1_000", "inf", "NaN", "1e", "-0x1", "1 2", "."] {
            assert!(to_number(nan).is_nan(), "{nan}");
        }
        assert_eq!(parse_int("100abc"), 100.0);
        assert_eq!(parse_int("  -42"), -42.0);
        assert_eq!(parse_int("0x10"), 16.0);
        assert_eq!(parse_int("1e3"), 1.0);
        assert!(parse_int("abc").is_nan());
        assert!(parse_int("").is_nan());
    }

    #[test]
    fn numbers_render_as_javascript_prints_them() {
        assert_eq!(number(80.0), Value::from(80));
        assert_eq!(number(-0.0), Value::from(0));
        assert_eq!(number(2.5), Value::from(2.5));
        assert_eq!(number(f64::NAN), Value::from("NaN"));
        assert_eq!(number_to_string(1e21), "1e+21");
        assert_eq!(number_to_string(1e20), "100000000000000000000");
        assert_eq!(number_to_string(1.5e-7), "1.5e-7");
        assert_eq!(number_to_string(0.000_001), "0.000001");
        assert_eq!(number_to_string(-12.25), "-12.25");
        assert_eq!(to_js_string(&serde_json::json!([1, null, "a"])), "1,,a");
    }

    #[test]
    fn uri_decoding_rejects_what_javascript_rejects() {
        assert_eq!(decode_uri_component("a%20b%2F").as_deref(), Some("a b/"));
        assert_eq!(decode_uri_component("%C3%A9").as_deref(), Some("é"));
        assert_eq!(decode_uri_component("%"), None);
        assert_eq!(decode_uri_component("%zz"), None);
        assert_eq!(decode_uri_component("%C3"), None);
        assert_eq!(decode_uri_component("%C0%AF"), None);
        assert_eq!(decode_uri_component("%ED%A0%80"), None);
    }

    #[test]
    fn base64_is_as_lenient_as_node() {
        // Outputs taken from Node 20's Buffer.from(s, "base64").
        let cases: [(&str, &[u8]); 11] = [
            ("abc", &[105, 183]),
            ("ab=c", &[105]),
            ("a b c d", &[105, 183, 29]),
            ("YQ", &[97]),
            ("Y", &[]),
            ("-_-_", &[251, 255, 191]),
            ("YWJj\u{141}", &[97, 98, 99]),
            ("YW=Jj", &[97]),
            ("=YWJj", &[]),
            ("YWJjZA==YQ", &[97, 98, 99, 100]),
            ("YW\u{141}j", &[97, 96, 35]),
        ];
        for (input, expected) in cases {
            assert_eq!(node_base64_decode(input), expected, "{input:?}");
        }
        assert_eq!(node_base64_decode("\u{1F600}YWJj"), Vec::<u8>::new());
    }
}
