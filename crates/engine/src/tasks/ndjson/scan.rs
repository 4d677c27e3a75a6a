//! A strict JSON scanner over the text of a chunk: it reads the keys and the values the parser
//! asks for and skips the others while still checking their grammar, so a field nobody reads
//! costs one pass over its bytes and builds nothing.
//!
//! simd-json (what Polars' reader parses with) builds a tape of every value of a line first; on
//! logs whose queries read a few of many fields that was most of the reader's time. This scanner
//! reads values exactly as simd-json does where it reads them (integers that fit `i64`, then
//! `u64`; floats correctly rounded, as Rust's `parse` is; the same escapes) and gives up with
//! [`Unhandled`] on everything else it meets (lone surrogates, raw control characters, numbers
//! beyond `u64` or `f64`, very deep nesting), so the caller hands that chunk to Polars' parser,
//! which decides. Accepting less than simd-json is safe; accepting more never happens.

use polars_arrow::array::View;

use super::parse::Unhandled;

/// Deepest nesting a skipped value may have here (deeper: Polars' parser decides).
const MAX_DEPTH: u32 = 128;

/// A value's JSON type, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// A number as simd-json types it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer that fits `i64` (`-0` included, as 0).
    Int(i64),
    /// A non-negative integer beyond `i64` that fits `u64`.
    UInt(u64),
    /// A number with a fraction or an exponent.
    Float(f64),
}

/// A key as a line spells it, quotes and colon included (`"name":`), compared 16 bytes at once:
/// log lines repeat their keys in the same order, so most keys are matched, not parsed.
#[derive(Debug, Clone, Copy)]
pub struct KeyPattern {
    word: u128,
    mask: u128,
    len: usize,
}

impl KeyPattern {
    /// The pattern of `key`, if it fits 16 bytes with its quotes and colon and needs no escape.
    pub fn new(key: &str) -> Option<Self> {
        let len = key.len() + 3;
        if len > 16 || key.bytes().any(|b| matches!(b, b'"' | b'\\' | 0..0x20)) {
            return None;
        }
        let mut bytes = [0u8; 16];
        bytes[0] = b'"';
        bytes[1..len - 2].copy_from_slice(key.as_bytes());
        bytes[len - 2] = b'"';
        bytes[len - 1] = b':';
        let mask = if len == 16 { u128::MAX } else { (1u128 << (len * 8)) - 1 };
        Some(KeyPattern { word: u128::from_le_bytes(bytes), mask, len })
    }
}

/// A position in the text of a chunk (already checked to be UTF-8).
pub struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Cursor { text, at: 0 }
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte, if any.
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    /// Whether the whole text was read.
    #[inline]
    pub fn at_end(&self) -> bool {
        self.at >= self.text.len()
    }

    /// Where the cursor is, in bytes from the start of the text.
    #[cfg(test)]
    fn position(&self) -> usize {
        self.at
    }

    /// Skips JSON whitespace within a line (space, tab, carriage return).
    #[inline]
    pub fn blanks(&mut self) {
        let b = self.bytes();
        while self.at < b.len() && matches!(b[self.at], b' ' | b'\t' | b'\r') {
            self.at += 1;
        }
    }

    /// Skips whitespace and blank lines.
    #[inline]
    pub fn blank_lines(&mut self) {
        let b = self.bytes();
        while self.at < b.len() && matches!(b[self.at], b' ' | b'\t' | b'\r' | b'\n') {
            self.at += 1;
        }
    }

    /// Consumes `byte` if it comes next.
    #[inline]
    pub fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `byte`, which must come next.
    #[inline]
    pub fn expect(&mut self, byte: u8) -> Result<(), Unhandled> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(Unhandled)
        }
    }

    /// The type of the value that comes next (after whitespace).
    #[inline]
    pub fn kind(&mut self) -> Result<Kind, Unhandled> {
        self.blanks();
        Ok(match self.peek().ok_or(Unhandled)? {
            b'{' => Kind::Object,
            b'[' => Kind::Array,
            b'"' => Kind::String,
            b'-' | b'0'..=b'9' => Kind::Number,
            b't' => Kind::True,
            b'f' => Kind::False,
            b'n' => Kind::Null,
            _ => return Err(Unhandled),
        })
    }

    /// Reads a literal (`true`, `false`, `null`) that comes next.
    #[inline]
    pub fn literal(&mut self, word: &str) -> Result<(), Unhandled> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Unhandled)
        }
    }

    /// Reads the string that comes next (at its opening quote); an escaped one is unescaped into
    /// `buf`.
    #[inline(always)]
    pub fn string<'s>(&mut self, buf: &'s mut String) -> Result<&'s str, Unhandled>
    where
        'a: 's,
    {
        self.expect(b'"')?;
        let start = self.at;
        let i = plain_run(self.bytes(), start);
        match self.bytes().get(i) {
            Some(b'"') => {
                self.at = i + 1;
                // SAFETY: `start` follows a quote and `i` is at one: both ASCII, so both char
                // boundaries of the text (UTF-8 by construction), and start <= i <= len.
                Ok(unsafe { self.text.get_unchecked(start..i) })
            }
            Some(b'\\') => {
                buf.clear();
                buf.push_str(&self.text[start..i]);
                self.at = i;
                self.escaped(buf)?;
                Ok(buf.as_str())
            }
            _ => Err(Unhandled),
        }
    }

    /// Reads the string that comes next (at its opening quote) as an Arrow view (length, then
    /// the bytes, zero-padded), when it has no escape, is at most 12 bytes long and 16 bytes of
    /// text follow its opening quote; else `None`, and the cursor stays where it was.
    #[inline(always)]
    pub fn short_string_view(&mut self) -> Option<View> {
        let b = self.bytes();
        let start = self.at + 1;
        let word = b.get(start..start + 16)?;
        let end = plain_run(b, start);
        let len = end - start;
        if len > 12 || b[end] != b'"' {
            return None;
        }
        let raw = u128::from_le_bytes(word.try_into().expect("sixteen bytes"));
        self.at = end + 1;
        let view = (raw & ((1u128 << (len * 8)) - 1)) << 32 | len as u128;
        // SAFETY: any 16 bytes are a `View` (it is `Pod`); these are an inline one.
        Some(unsafe { std::mem::transmute::<u128, View>(view) })
    }

    /// The rest of a string from its first backslash, unescaped onto `buf`.
    fn escaped(&mut self, buf: &mut String) -> Result<(), Unhandled> {
        let b = self.bytes();
        loop {
            let start = self.at;
            let i = plain_run(b, start);
            buf.push_str(&self.text[start..i]);
            match b.get(i) {
                Some(b'"') => {
                    self.at = i + 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let c = match b.get(i + 1).ok_or(Unhandled)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4(i + 2)?;
                            self.at = i + 6;
                            let c = match high {
                                0xD800..=0xDBFF => {
                                    // A pair: the low half must follow as another escape.
                                    if b.get(self.at) != Some(&b'\\') || b.get(self.at + 1) != Some(&b'u') {
                                        return Err(Unhandled);
                                    }
                                    let low = self.hex4(self.at + 2)?;
                                    if !(0xDC00..=0xDFFF).contains(&low) {
                                        return Err(Unhandled);
                                    }
                                    self.at += 6;
                                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                                }
                                0xDC00..=0xDFFF => None,
                                _ => char::from_u32(high),
                            };
                            buf.push(c.ok_or(Unhandled)?);
                            continue;
                        }
                        _ => return Err(Unhandled),
                    };
                    buf.push(c);
                    self.at = i + 2;
                }
                _ => return Err(Unhandled),
            }
        }
    }

    /// Four hex digits at `at`.
    fn hex4(&self, at: usize) -> Result<u32, Unhandled> {
        let digits = self.bytes().get(at..at + 4).ok_or(Unhandled)?;
        digits.iter().try_fold(0u32, |acc, d| Ok(acc << 4 | (*d as char).to_digit(16).ok_or(Unhandled)?))
    }

    /// Reads the number that comes next.
    #[inline(always)]
    pub fn number(&mut self) -> Result<Number, Unhandled> {
        let b = self.bytes();
        let start = self.at;
        let mut i = start;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        // The integer part: 0, or digits not starting with 0.
        let digits_at = i;
        let mut magnitude: u64 = 0;
        let mut overflow = false;
        while let Some(d @ b'0'..=b'9') = b.get(i).copied() {
            match magnitude.checked_mul(10).and_then(|m| m.checked_add((d - b'0') as u64)) {
                Some(m) => magnitude = m,
                None => overflow = true,
            }
            i += 1;
        }
        let int_digits = i - digits_at;
        if int_digits == 0 || (int_digits > 1 && b[digits_at] == b'0') {
            return Err(Unhandled);
        }
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            i = digits(b, i + 1)?;
            float = true;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            i = digits(b, i)?;
            float = true;
        }
        self.at = i;
        if float {
            let v: f64 = self.text[start..i].parse().map_err(|_| Unhandled)?;
            // simd-json refuses what overflows f64.
            return if v.is_finite() { Ok(Number::Float(v)) } else { Err(Unhandled) };
        }
        if overflow {
            return Err(Unhandled);
        }
        if negative {
            if magnitude <= i64::MAX as u64 {
                Ok(Number::Int(-(magnitude as i64)))
            } else if magnitude == i64::MAX as u64 + 1 {
                Ok(Number::Int(i64::MIN))
            } else {
                Err(Unhandled)
            }
        } else if magnitude <= i64::MAX as u64 {
            Ok(Number::Int(magnitude as i64))
        } else {
            Ok(Number::UInt(magnitude))
        }
    }

    /// Skips the value that comes next, checking it is well-formed JSON (escaped strings are
    /// unescaped into `scratch`, reused, to check their escapes).
    pub fn skip(&mut self, scratch: &mut String) -> Result<(), Unhandled> {
        // Open containers, innermost in the lowest bit: 1 for an object, 0 for an array.
        let mut open: u128 = 0;
        let mut depth: u32 = 0;
        loop {
            // A value.
            match self.kind()? {
                Kind::Object | Kind::Array => {
                    let object = self.peek() == Some(b'{');
                    self.at += 1;
                    if depth == MAX_DEPTH {
                        return Err(Unhandled);
                    }
                    depth += 1;
                    open = open << 1 | object as u128;
                    self.blanks();
                    let close = if object { b'}' } else { b']' };
                    if self.eat(close) {
                        depth -= 1;
                        open >>= 1;
                    } else {
                        if object {
                            self.key(scratch)?;
                        }
                        continue;
                    }
                }
                Kind::String => {
                    self.string(scratch)?;
                }
                Kind::Number => {
                    self.number()?;
                }
                Kind::True => self.literal("true")?,
                Kind::False => self.literal("false")?,
                Kind::Null => self.literal("null")?,
            }
            // After a value: close containers until one goes on.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                self.blanks();
                let object = open & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        if object {
                            self.blanks();
                            self.key(scratch)?;
                        }
                        break;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    _ => return Err(Unhandled),
                }
                self.at += 1;
                depth -= 1;
                open >>= 1;
            }
        }
    }

    /// Consumes the key `pattern` spells (and the blanks after its colon) if it comes next.
    /// Near the end of the text it says no: the caller then reads the key itself.
    #[inline]
    pub fn eat_key(&mut self, pattern: &KeyPattern) -> bool {
        let Some(word) = self.bytes().get(self.at..self.at + 16) else { return false };
        let word = u128::from_le_bytes(word.try_into().expect("sixteen bytes"));
        if (word ^ pattern.word) & pattern.mask != 0 {
            return false;
        }
        self.at += pattern.len;
        self.blanks();
        true
    }

    /// Reads an object's key and its colon, leaving the cursor at the value.
    #[inline]
    pub fn key<'s>(&mut self, buf: &'s mut String) -> Result<&'s str, Unhandled>
    where
        'a: 's,
    {
        self.blanks();
        let key = self.string(buf)?;
        self.blanks();
        self.expect(b':')?;
        self.blanks();
        Ok(key)
    }
}

/// The end of the run of at least one digit starting at `i` (a fraction's or an exponent's).
#[inline]
fn digits(b: &[u8], i: usize) -> Result<usize, Unhandled> {
    let end = i + b[i.min(b.len())..].iter().take_while(|d| d.is_ascii_digit()).count();
    if end == i {
        Err(Unhandled)
    } else {
        Ok(end)
    }
}

/// Where the run of plain string text starting at `i` ends: the first quote, backslash or
/// control character (or the end of `b`). Sixteen bytes at a time (SSE2, part of every x86-64
/// CPU): most strings of a log line end within the first sixteen.
#[cfg(target_arch = "x86_64")]
#[inline]
fn plain_run(b: &[u8], mut i: usize) -> usize {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    while i + 16 <= b.len() {
        // SAFETY: SSE2 is part of x86-64; the 16 bytes at `i` are within `b` (checked above).
        let hits = unsafe {
            let v = _mm_loadu_si128(b.as_ptr().add(i).cast());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // A byte below 0x20 is its own minimum with 0x1f.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), control)) as u32
        };
        if hits != 0 {
            return i + hits.trailing_zeros() as usize;
        }
        i += 16;
    }
    plain_run_words(b, i)
}

/// [`plain_run`] elsewhere (and for the last bytes of a chunk).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn plain_run(b: &[u8], i: usize) -> usize {
    plain_run_words(b, i)
}

/// [`plain_run`] eight bytes at a time, in plain integer arithmetic.
#[inline]
fn plain_run_words(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(word) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        // A byte is flagged where it is zero after the XOR (or below 0x20); the lowest flag is
        // always a real one (a false one only appears above a real one, from its borrow).
        let quote = w ^ (ONES * b'"' as u64);
        let slash = w ^ (ONES * b'\\' as u64);
        let hits =
            ((quote.wrapping_sub(ONES) & !quote) | (slash.wrapping_sub(ONES) & !slash) | (w.wrapping_sub(ONES * 0x20) & !w))
                & HIGH;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..0x20) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(json: &str) -> Result<usize, Unhandled> {
        let mut c = Cursor::new(json);
        c.skip(&mut String::new())?;
        Ok(c.position())
    }

    #[test]
    fn a_key_pattern_matches_only_its_own_spelling() {
        let pattern = KeyPattern::new("ab").unwrap();
        let eaten = |text: &str| {
            let mut c = Cursor::new(text);
            c.eat_key(&pattern).then(|| c.position())
        };
        let pad = "                ";
        // Matched: the cursor moves past the colon and the blanks after it.
        assert_eq!(eaten(&format!("\"ab\":  1{pad}")), Some(7));
        // A longer key, a shorter one, a blank before the colon, an escape: not this pattern.
        for text in ["\"abc\":1", "\"a\":1", "\"ab\" :1", "\"a\\u0062\":1", "\"AB\":1"] {
            assert_eq!(eaten(&format!("{text}{pad}")), None, "{text}");
        }
        // Fewer than 16 bytes left: the caller reads the key itself.
        assert_eq!(eaten("\"ab\":1"), None);
        // 13 bytes with quotes and colon make 16: the longest key matched at once.
        let long = KeyPattern::new("TotalDuration").unwrap();
        let mut c = Cursor::new("\"TotalDuration\":5}");
        assert!(c.eat_key(&long));
        assert_eq!(c.peek(), Some(b'5'));
        let mut c = Cursor::new("\"TotalDurationX\":5}");
        assert!(!c.eat_key(&long));
        // Keys too long, or that would need an escape, have no pattern.
        for key in ["TotalDurations", "a\"b", "a\\b", "a\tb"] {
            assert!(KeyPattern::new(key).is_none(), "{key:?}");
        }
    }

    #[test]
    fn a_short_plain_string_is_read_as_the_view_arrow_makes_of_it() {
        let pad = "                ";
        for value in ["", "a", "CHANNEL", "twelve bytes", "zoë €", "SXB881345"] {
            let text = format!("\"{value}\",{pad}");
            let mut c = Cursor::new(&text);
            assert_eq!(c.short_string_view().map(View::as_u128), Some(View::new_inline(value.as_bytes()).as_u128()), "{value}");
            assert_eq!(c.peek(), Some(b','), "{value}");
        }
        // Longer than 12 bytes, escaped, or too near the end of the text: left to `string`.
        for text in [format!("\"thirteen byte\",{pad}"), format!("\"a\\nb\",{pad}"), "\"short\"".to_string()] {
            let mut c = Cursor::new(&text);
            assert!(c.short_string_view().is_none(), "{text}");
            assert_eq!(c.position(), 0, "{text}");
        }
    }

    #[test]
    fn skips_valid_values_to_their_end() {
        for json in [
            "1",
            "-0",
            "1.5e-3",
            "\"a\\\"b\\u00e9\\ud83d\\ude00\"",
            "true",
            "false",
            "null",
            "{}",
            "[]",
            "[ ]",
            "{ }",
            "{\"a\":[1,{\"b\":[]},\"x\"], \"c\" : {\"d\":null}}",
            "[[[[[]]]],[{}],1,2]",
        ] {
            assert_eq!(skipped(&format!("{json},rest")), Ok(json.len()), "{json}");
        }
    }

    #[test]
    fn refuses_what_is_not_json() {
        for json in [
            "",
            "01",
            "1.",
            ".5",
            "1e",
            "+1",
            "-",
            "tru",
            "nul",
            "\"open",
            "\"bad\\q\"",
            "\"tab\there\"",
            "[1 2]",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{1:2}",
            "[}",
            "{]",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"\\u12G4\"",
            "1e400",
            "18446744073709551616",
            "-9223372036854775809",
        ] {
            assert_eq!(skipped(json), Err(Unhandled), "{json:?}");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_polars() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH as usize), "]".repeat(MAX_DEPTH as usize));
        assert_eq!(skipped(&ok), Ok(ok.len()));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH as usize + 1), "]".repeat(MAX_DEPTH as usize + 1));
        assert_eq!(skipped(&deep), Err(Unhandled));
    }

    #[test]
    fn numbers_are_typed_as_simd_json_types_them() {
        let read = |s: &str| Cursor::new(s).number();
        assert_eq!(read("0"), Ok(Number::Int(0)));
        assert_eq!(read("-0"), Ok(Number::Int(0)));
        assert_eq!(read("-9223372036854775808"), Ok(Number::Int(i64::MIN)));
        assert_eq!(read("9223372036854775807"), Ok(Number::Int(i64::MAX)));
        assert_eq!(read("9223372036854775808"), Ok(Number::UInt(1 << 63)));
        assert_eq!(read("18446744073709551615"), Ok(Number::UInt(u64::MAX)));
        assert_eq!(read("-0.0").map(|n| matches!(n, Number::Float(f) if f == 0.0 && f.is_sign_negative())), Ok(true));
        assert_eq!(read("1E5"), Ok(Number::Float(100000.0)));
        assert_eq!(read("1e-400"), Ok(Number::Float(0.0)));
        assert_eq!(read("0.1"), Ok(Number::Float(0.1)));
    }

    #[test]
    fn plain_runs_end_at_the_first_quote_backslash_or_control_character() {
        let naive =
            |b: &[u8], i: usize| b[i..].iter().position(|c| matches!(c, b'"' | b'\\' | 0..0x20)).map_or(b.len(), |p| i + p);
        let alphabet = [b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, 0xc3, 0xa9, b'\n', b'~'];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for len in 0..40 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly plain text, so runs are long enough to cross words.
                        if seed.is_multiple_of(5) {
                            alphabet[(seed >> 8) as usize % alphabet.len()]
                        } else {
                            b'a' + (seed >> 16) as u8 % 26
                        }
                    })
                    .collect();
                for start in 0..=len.min(3) {
                    assert_eq!(plain_run(&bytes, start), naive(&bytes, start), "{bytes:?} from {start}");
                    assert_eq!(plain_run_words(&bytes, start), naive(&bytes, start), "{bytes:?} from {start}");
                }
            }
        }
    }

    #[test]
    fn strings_unescape_like_json() {
        let read = |s: &str| {
            let mut buf = String::new();
            Cursor::new(s).string(&mut buf).map(str::to_string)
        };
        assert_eq!(read("\"plain\""), Ok("plain".into()));
        assert_eq!(
            read("\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\""),
            Ok("café 😀 \"q\" \\ / \u{8}\u{c}\n\r\t".into())
        );
        assert_eq!(read("\"Zoë 東京 🚀\""), Ok("Zoë 東京 🚀".into()));
        assert_eq!(read("\"\\u0000\""), Ok("\0".into()));
    }
}
