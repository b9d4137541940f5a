//! JavaScript regular expressions on top of `fancy-regex`: `new RegExp(source, flags)` and
//! `String.prototype.replace` with JavaScript's replacement patterns (`$1`, `$&`, `` $` ``,
//! `$'`, `$<name>`, `$$`).
//!
//! The source is translated, not passed through: JavaScript's `.`, `\d`, `\w`, `\s`, `\b`
//! and `^`/`$` under `m` differ from the `regex` crate's Unicode-aware ones, and Annex B
//! syntax (`a{`, a lone `]`, `\8`, `\c`, octal escapes) means a literal in JavaScript but an
//! error or something else in Rust. What cannot be translated (or compiled) is an error with
//! the reason, as `new RegExp` throws a `SyntaxError`.

use std::fmt::Write as _;

use fancy_regex::{Captures, Regex, RegexBuilder};

/// JavaScript's `\s`, as the inside of a character class.
const JS_SPACE_CLASS: &str =
    r"\t\n\x0B\x0C\r \xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";
const JS_WORD_CLASS: &str = "A-Za-z0-9_";
/// JavaScript's `.` without the `s` flag.
pub(crate) const JS_DOT: &str = r"[^\n\r\x{2028}\x{2029}]";
const WORD_BOUNDARY: &str =
    "(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))";
const NOT_WORD_BOUNDARY: &str =
    "(?:(?<=[A-Za-z0-9_])(?=[A-Za-z0-9_])|(?<![A-Za-z0-9_])(?![A-Za-z0-9_]))";
/// Bounds the backtracking a hostile pattern can cost (JavaScript would simply hang).
const BACKTRACK_LIMIT: usize = 1_000_000;

/// A compiled JavaScript regular expression.
#[derive(Debug, Clone)]
pub(crate) struct JsRegex {
    regex: Regex,
    global: bool,
    sticky: bool,
    has_named_groups: bool,
}

impl JsRegex {
    /// `new RegExp(source, flags)`; `Err` with the reason where JavaScript throws.
    pub(crate) fn new(source: &str, flags: &str) -> Result<Self, String> {
        let mut seen = String::new();
        for f in flags.chars() {
            if !"dgimsuvy".contains(f) || seen.contains(f) {
                return Err(format!(
                    "Invalid flags supplied to RegExp constructor '{flags}'"
                ));
            }
            seen.push(f);
        }
        if seen.contains('u') && seen.contains('v') {
            return Err(format!(
                "Invalid flags supplied to RegExp constructor '{flags}'"
            ));
        }
        let opts = Options {
            dot_all: seen.contains('s'),
            multiline: seen.contains('m'),
            unicode: seen.contains('u') || seen.contains('v'),
        };
        let translated = translate(source, opts)?;
        let pattern = if seen.contains('i') {
            format!("(?i){translated}")
        } else {
            translated
        };
        let regex = RegexBuilder::new(&pattern)
            .backtrack_limit(BACKTRACK_LIMIT)
            .build()
            .map_err(|e| format!("Invalid regular expression: /{source}/{flags}: {e}"))?;
        Ok(Self {
            regex,
            global: seen.contains('g'),
            sticky: seen.contains('y'),
            has_named_groups: has_named_groups(source),
        })
    }

    /// `regex.test(s)` (without `lastIndex` state).
    pub(crate) fn is_match(&self, s: &str) -> Result<bool, String> {
        self.regex.is_match(s).map_err(|e| e.to_string())
    }

    /// `s.replace(regex, replacement)` with JavaScript's replacement patterns.
    pub(crate) fn replace(&self, s: &str, replacement: &str) -> Result<String, String> {
        self.replace_with(s, |caps, out| {
            expand(caps, s, replacement, self.has_named_groups, out);
        })
    }

    /// `s.replace(regex, fn)`: every match (or the first without `g`) replaced with what `f`
    /// writes.
    pub(crate) fn replace_with(
        &self,
        s: &str,
        mut f: impl FnMut(&Captures<'_, str>, &mut String),
    ) -> Result<String, String> {
        let mut out = String::with_capacity(s.len());
        let mut last_end = 0;
        let mut pos = 0;
        while pos <= s.len() {
            let Some(caps) = self
                .regex
                .captures_from_pos(s, pos)
                .map_err(|e| e.to_string())?
            else {
                break;
            };
            let Some(m) = caps.get(0) else { break };
            if self.sticky && m.start() != pos {
                break;
            }
            out.push_str(&s[last_end..m.start()]);
            f(&caps, &mut out);
            last_end = m.end();
            if !self.global {
                break;
            }
            pos = if m.end() == m.start() {
                // An empty match: step past one character, as `AdvanceStringIndex` does.
                match s[m.end()..].chars().next() {
                    Some(c) => m.end() + c.len_utf8(),
                    None => break,
                }
            } else {
                m.end()
            };
        }
        out.push_str(&s[last_end..]);
        Ok(out)
    }
}

/// `new RegExp(source)` for a fixed, known-good pattern.
pub(crate) fn fixed(source: &str, flags: &str) -> JsRegex {
    #[allow(clippy::expect_used)]
    JsRegex::new(source, flags).expect("a fixed Serverless Image Handler pattern compiles")
}

/// JavaScript's `GetSubstitution`.
fn expand(caps: &Captures<'_, str>, s: &str, replacement: &str, named: bool, out: &mut String) {
    let Some(m) = caps.get(0) else { return };
    let groups = caps.len() - 1;
    let group = |n: usize| caps.get(n).map_or("", |g| g.as_str());
    let r = replacement.as_bytes();
    let mut i = 0;
    let mut literal_start = 0;
    while i < r.len() {
        if r[i] != b'$' || i + 1 >= r.len() {
            i += 1;
            continue;
        }
        out.push_str(&replacement[literal_start..i]);
        let next = r[i + 1];
        let consumed = match next {
            b'$' => {
                out.push('$');
                2
            }
            b'&' => {
                out.push_str(m.as_str());
                2
            }
            b'`' => {
                out.push_str(&s[..m.start()]);
                2
            }
            b'\'' => {
                out.push_str(&s[m.end()..]);
                2
            }
            b'0'..=b'9' => {
                let one = usize::from(next - b'0');
                let two = r
                    .get(i + 2)
                    .filter(|c| c.is_ascii_digit())
                    .map(|c| one * 10 + usize::from(c - b'0'));
                match two {
                    Some(n) if (1..=groups).contains(&n) => {
                        out.push_str(group(n));
                        3
                    }
                    _ if (1..=groups).contains(&one) => {
                        out.push_str(group(one));
                        2
                    }
                    _ => {
                        out.push('$');
                        1
                    }
                }
            }
            b'<' if named => match replacement[i + 2..].find('>') {
                Some(close) => {
                    let name = &replacement[i + 2..i + 2 + close];
                    out.push_str(caps.name(name).map_or("", |g| g.as_str()));
                    close + 3
                }
                None => {
                    out.push('$');
                    1
                }
            },
            _ => {
                out.push('$');
                1
            }
        };
        i += consumed;
        literal_start = i;
    }
    out.push_str(&replacement[literal_start..]);
}

#[derive(Debug, Clone, Copy)]
struct Options {
    dot_all: bool,
    multiline: bool,
    unicode: bool,
}

fn has_named_groups(source: &str) -> bool {
    let b = source.as_bytes();
    (0..b.len()).any(|i| {
        b[i..].starts_with(b"(?<")
            && !matches!(b.get(i + 3), Some(b'=' | b'!'))
            && (i == 0 || b[i - 1] != b'\\')
    })
}

/// How many capturing groups the source has (for telling `\3` from an octal escape).
fn count_groups(chars: &[char]) -> usize {
    let mut count = 0;
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => {
                let next = chars.get(i + 1);
                let named = next == Some(&'?')
                    && chars.get(i + 2) == Some(&'<')
                    && !matches!(chars.get(i + 3), Some('=' | '!'));
                if next != Some(&'?') || named {
                    count += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    count
}

/// Appends a translation that used one character after the backslash.
fn push_str(out: &mut String, s: &str) -> usize {
    out.push_str(s);
    1
}

fn push_literal(out: &mut String, c: char) {
    let _ = write!(out, "\\x{{{:X}}}", u32::from(c));
}

fn translate(source: &str, opts: Options) -> Result<String, String> {
    let chars: Vec<char> = source.chars().collect();
    let groups = count_groups(&chars);
    let named = has_named_groups(source);
    let mut out = String::with_capacity(source.len() * 2);
    let mut names: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let j = i + 1;
                let Some(&e) = chars.get(j) else {
                    return Err("\\ at end of pattern".to_owned());
                };
                let used = match e {
                    'd' => push_str(&mut out, "[0-9]"),
                    'D' => push_str(&mut out, "[^0-9]"),
                    'w' => push_str(&mut out, "[A-Za-z0-9_]"),
                    'W' => push_str(&mut out, "[^A-Za-z0-9_]"),
                    's' => push_str(&mut out, &format!("[{JS_SPACE_CLASS}]")),
                    'S' => push_str(&mut out, &format!("[^{JS_SPACE_CLASS}]")),
                    'b' => push_str(&mut out, WORD_BOUNDARY),
                    'B' => push_str(&mut out, NOT_WORD_BOUNDARY),
                    '1'..='9' => {
                        let (n, len) = read_decimal(&chars[j..]);
                        if n <= groups {
                            let _ = write!(out, "\\{n}");
                            len
                        } else {
                            escape_char(&chars, j, opts, &mut out)?
                        }
                    }
                    'k' if named => {
                        let close = chars[j..].iter().position(|&c| c == '>');
                        match (chars.get(j + 1), close) {
                            (Some('<'), Some(close)) => {
                                let name: String = chars[j + 2..j + close].iter().collect();
                                let _ = write!(out, "\\k<{name}>");
                                close + 1
                            }
                            _ => return Err("Invalid named reference".to_owned()),
                        }
                    }
                    _ => escape_char(&chars, j, opts, &mut out)?,
                };
                i = j + used;
            }
            '.' => {
                out.push_str(if opts.dot_all { "(?s:.)" } else { JS_DOT });
                i += 1;
            }
            '^' => {
                out.push_str(if opts.multiline {
                    r"(?<![^\n\r\x{2028}\x{2029}])"
                } else {
                    "^"
                });
                i += 1;
            }
            '$' => {
                out.push_str(if opts.multiline {
                    r"(?![^\n\r\x{2028}\x{2029}])"
                } else {
                    "$"
                });
                i += 1;
            }
            '[' => i = translate_class(&chars, i, opts, &mut out)?,
            '{' => {
                let close = chars[i..].iter().position(|&c| c == '}');
                let quantifier = close.is_some_and(|close| {
                    let body: String = chars[i + 1..i + close].iter().collect();
                    let (lo, hi) = body.split_once(',').unwrap_or((&body, &body));
                    !lo.is_empty()
                        && lo.chars().all(|c| c.is_ascii_digit())
                        && hi.chars().all(|c| c.is_ascii_digit())
                });
                if let Some(close) = close.filter(|_| quantifier) {
                    let body: String = chars[i + 1..i + close].iter().collect();
                    if let Some((lo, hi)) = body.split_once(',')
                        && let (Ok(lo), Ok(hi)) = (lo.parse::<u64>(), hi.parse::<u64>())
                        && lo > hi
                    {
                        return Err("numbers out of order in {} quantifier".to_owned());
                    }
                }
                match close {
                    Some(close) if quantifier => {
                        let body: String = chars[i..=i + close].iter().collect();
                        out.push_str(&body);
                        i += close + 1;
                    }
                    _ => {
                        out.push_str("\\{");
                        i += 1;
                    }
                }
            }
            '}' | ']' => {
                push_literal(&mut out, c);
                i += 1;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i..chars.len().min(i + 4)].iter().collect();
                let prefix = ["(?<=", "(?<!", "(?:", "(?=", "(?!", "(?<"]
                    .into_iter()
                    .find(|p| rest.starts_with(p))
                    .ok_or_else(|| "Invalid group".to_owned())?;
                out.push_str(prefix);
                i += prefix.chars().count();
                if prefix == "(?<" {
                    let close = chars[i..]
                        .iter()
                        .position(|&c| c == '>')
                        .ok_or_else(|| "Invalid capture group name".to_owned())?;
                    let name: String = chars[i..i + close].iter().collect();
                    let starts_well = name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_');
                    if !starts_well || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        return Err("Invalid capture group name".to_owned());
                    }
                    if names.contains(&name) {
                        return Err("Duplicate capture group name".to_owned());
                    }
                    names.push(name.clone());
                    out.push_str(&name);
                    out.push('>');
                    i += close + 1;
                }
            }
            '(' | ')' | '|' | '*' | '+' | '?' => {
                out.push(c);
                i += 1;
            }
            _ => {
                push_literal(&mut out, c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn read_decimal(chars: &[char]) -> (usize, usize) {
    let len = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    let n = chars[..len].iter().fold(0usize, |acc, c| {
        acc.saturating_mul(10)
            .saturating_add(c.to_digit(10).unwrap_or(0) as usize)
    });
    (n, len)
}

/// One escaped character (the `\` at `chars[i - 1]`); returns how many characters after the
/// backslash it used.
fn escape_char(chars: &[char], i: usize, opts: Options, out: &mut String) -> Result<usize, String> {
    let (c, used) = escaped_char(chars, i, opts, false)?;
    push_literal(out, c);
    Ok(used)
}

/// The character an escape stands for; `in_class` makes `\b` a backspace.
fn escaped_char(
    chars: &[char],
    i: usize,
    opts: Options,
    in_class: bool,
) -> Result<(char, usize), String> {
    let e = chars[i];
    let hex = |from: usize, n: usize| -> Option<u32> {
        let digits: String = chars.get(from..from + n)?.iter().collect();
        if digits.chars().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(&digits, 16).ok()
        } else {
            None
        }
    };
    let to_char = |v: u32| {
        char::from_u32(v).ok_or_else(|| format!("\\u{v:X} (a lone surrogate) is not supported"))
    };
    Ok(match e {
        'n' => ('\n', 1),
        'r' => ('\r', 1),
        't' => ('\t', 1),
        'f' => ('\u{0C}', 1),
        'v' => ('\u{0B}', 1),
        'b' if in_class => ('\u{08}', 1),
        '0'..='7' => {
            // `\0` or a legacy octal escape: at most three digits, at most 0o377.
            let mut value = 0u32;
            let mut used = 0;
            while used < 3 {
                match chars.get(i + used).and_then(|c| c.to_digit(8)) {
                    Some(d) if value * 8 + d <= 0o377 => {
                        value = value * 8 + d;
                        used += 1;
                    }
                    _ => break,
                }
            }
            (to_char(value)?, used)
        }
        'x' => match hex(i + 1, 2) {
            Some(v) => (to_char(v)?, 3),
            None => ('x', 1),
        },
        'u' => {
            if opts.unicode && chars.get(i + 1) == Some(&'{') {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .ok_or("Invalid Unicode escape")?;
                let digits: String = chars[i + 2..i + close].iter().collect();
                let v = u32::from_str_radix(&digits, 16).map_err(|_| "Invalid Unicode escape")?;
                (to_char(v)?, close + 1)
            } else {
                match hex(i + 1, 4) {
                    Some(v) => (to_char(v)?, 5),
                    None => ('u', 1),
                }
            }
        }
        'c' => match chars.get(i + 1) {
            Some(&l) if l.is_ascii_alphabetic() => (to_char(u32::from(l) % 32)?, 2),
            // Annex B: a backslash that escapes nothing stands for itself.
            _ => ('\\', 0),
        },
        'p' | 'P' if opts.unicode => {
            return Err("\\p{...} property escapes are not supported".to_owned());
        }
        other => (other, 1),
    })
}

/// A character class starting at `chars[start]` (`[`); returns the index after its `]`.
fn translate_class(
    chars: &[char],
    start: usize,
    opts: Options,
    out: &mut String,
) -> Result<usize, String> {
    let mut i = start + 1;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        // `[]` matches nothing, `[^]` anything.
        out.push_str(if negated {
            r"[\x{0}-\x{10FFFF}]"
        } else {
            r"[^\x{0}-\x{10FFFF}]"
        });
        return Ok(i + 1);
    }
    enum Atom {
        /// A character, and whether it was escaped (an escaped `-` is never a range).
        Char(char, bool),
        Set(String),
    }
    let mut atoms: Vec<Atom> = Vec::new();
    let mut closed = false;
    while i < chars.len() {
        let c = chars[i];
        if c == ']' {
            closed = true;
            i += 1;
            break;
        }
        if c == '\\' {
            i += 1;
            let Some(&e) = chars.get(i) else {
                return Err("\\ at end of pattern".to_owned());
            };
            let set = match e {
                'd' => Some("0-9".to_owned()),
                'D' => Some("[^0-9]".to_owned()),
                'w' => Some(JS_WORD_CLASS.to_owned()),
                'W' => Some(format!("[^{JS_WORD_CLASS}]")),
                's' => Some(JS_SPACE_CLASS.to_owned()),
                'S' => Some(format!("[^{JS_SPACE_CLASS}]")),
                _ => None,
            };
            if let Some(set) = set {
                atoms.push(Atom::Set(set));
                i += 1;
            } else {
                // `\c` not followed by a letter uses nothing: the backslash is literal and the
                // `c` comes next.
                let (ch, used) = escaped_char(chars, i, opts, true)?;
                atoms.push(Atom::Char(ch, true));
                i += used;
            }
            continue;
        }
        atoms.push(Atom::Char(c, false));
        i += 1;
    }
    if !closed {
        return Err("Unterminated character class".to_owned());
    }
    let mut body = String::new();
    let mut k = 0;
    while k < atoms.len() {
        let is_range =
            matches!(atoms.get(k + 1), Some(Atom::Char('-', false))) && k + 2 < atoms.len();
        match (&atoms[k], is_range) {
            (Atom::Char(a, _), true) => match &atoms[k + 2] {
                Atom::Char(b, _) => {
                    if a > b {
                        return Err("Range out of order in character class".to_owned());
                    }
                    let _ = write!(
                        body,
                        "\\x{{{:X}}}-\\x{{{:X}}}",
                        u32::from(*a),
                        u32::from(*b)
                    );
                    k += 3;
                    continue;
                }
                Atom::Set(_) => push_literal(&mut body, *a),
            },
            (Atom::Char(a, _), false) => push_literal(&mut body, *a),
            (Atom::Set(s), _) => body.push_str(s),
        }
        k += 1;
    }
    if body.is_empty() {
        body.push_str(r"^\x{0}-\x{10FFFF}");
    }
    let _ = write!(out, "[{}{body}]", if negated { "^" } else { "" });
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(pattern: &str, flags: &str, s: &str, with: &str) -> String {
        JsRegex::new(pattern, flags)
            .and_then(|re| re.replace(s, with))
            .expect("valid pattern")
    }

    #[test]
    fn replaces_as_javascript_does() {
        assert_eq!(
            replace("(filters-)", "gm", "/filters-a/filters-b", "filters:"),
            "/filters:a/filters:b"
        );
        assert_eq!(replace("a", "", "aaa", "b"), "baa");
        assert_eq!(replace("a", "g", "aaa", "b"), "bbb");
        assert_eq!(
            replace("(\\w+)-(\\w+)", "", "ab-cd", "$2-$1 [$&] $$ $3 $0"),
            "cd-ab [ab-cd] $ $3 $0"
        );
        assert_eq!(replace("b", "", "abc", "[$`|$']"), "a[a|c]c");
        assert_eq!(replace("(?<x>b)", "", "abc", "<$<x>>"), "a<b>c");
        assert_eq!(replace("x*", "g", "abc", "-"), "-a-b-c-");
        assert_eq!(replace("^/+", "g", "///a/", ""), "a/");
        assert_eq!(replace("\\d", "g", "a1٣", "#"), "a#٣");
        assert_eq!(replace("a.c", "", "a\nc abc", "X"), "a\nc X");
        assert_eq!(replace("a{", "", "a{b", "X"), "Xb");
        assert_eq!(replace("[\\d-z]+", "", "x9-z", "X"), "xX");
        assert_eq!(
            replace("(?<=v1/)img", "", "/v1/img.jpg", "pic"),
            "/v1/pic.jpg"
        );
        assert_eq!(
            replace("\\bcat\\b", "g", "cat concat cat", "dog"),
            "dog concat dog"
        );
        assert_eq!(replace("A", "gi", "aA", "b"), "bb");
        assert_eq!(replace("a", "y", "ba", "X"), "ba");
        assert_eq!(replace("[]", "g", "ab", "X"), "ab");
        assert_eq!(replace("[^]", "g", "ab", "X"), "XX");
        assert_eq!(replace("^b", "gm", "a\rb", "X"), "a\rX");
    }

    #[test]
    fn rejects_what_javascript_rejects() {
        assert!(JsRegex::new("a", "gg").is_err());
        assert!(JsRegex::new("a", "x").is_err());
        assert!(JsRegex::new("(", "").is_err());
        assert!(JsRegex::new("[b-a]", "").is_err());
    }
}

#[cfg(test)]
mod node_cases {
    use super::*;

    /// `String.prototype.replace` answers from Node 20 (`tests/request/oracle/regex_cases.js`).
    #[test]
    fn replace_matches_node() {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../tests/request/js_replace_cases.json"))
                .expect("valid JSON");
        let mut failures = Vec::new();
        for case in &cases {
            let pattern = case["pattern"].as_str().expect("pattern");
            let flags = case["flags"].as_str().expect("flags");
            let compiled = JsRegex::new(pattern, flags);
            if case["error"] == true {
                if compiled.is_ok() {
                    failures.push(format!("/{pattern}/{flags} should not compile"));
                }
                continue;
            }
            let input = case["input"].as_str().expect("input");
            let replacement = case["replacement"].as_str().expect("replacement");
            let expected = case["output"].as_str().expect("output");
            match compiled.and_then(|re| re.replace(input, replacement)) {
                Ok(got) if got == expected => {}
                other => failures.push(format!(
                    "/{pattern}/{flags} on {input:?} with {replacement:?}: expected {expected:?}, got {other:?}"
                )),
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}
