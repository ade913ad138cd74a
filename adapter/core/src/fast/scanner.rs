//! The JSON grammar of the fast path: a strict scanner that reads strings, numbers, literals,
//! objects and arrays exactly as `serde_json` does, or gives up (`None`), and skips what nobody
//! checks or reads. What a value is held to is [`super::walk`]'s.

use std::borrow::Cow;

use serde_json::Number;

use crate::limits::MAX_DEPTH;

/// The JSON grammar, read strictly: where the scanner is in the payload and how deep.
///
/// It accepts only JSON that `serde_json` reads the very same way, and answers `None` for the
/// rest (the slow path then decides): it finds the extent of a string with escapes or of a
/// number other than a plain non-negative integer itself, and hands that slice to
/// `serde_json` to decode, so escapes, lone surrogates, float rounding and out-of-range numbers
/// are exactly `serde_json`'s. What `serde_json` rejects — a control character in a string,
/// a leading zero, a trailing comma, anything after the value — this rejects too.
pub struct Scanner<'a> {
    /// The payload, whose UTF-8 is already checked.
    pub(super) text: &'a str,
    /// The next byte to read.
    pub(super) at: usize,
    /// The event slots that failed (the walk's: kept here, in the one value it passes down).
    pub(super) failed: u64,
    /// How many arrays and objects enclose the current value.
    pub(super) depth: usize,
}

/// Bytes the string scan stops at: `"`, `\` and the control characters.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The first byte at or after `i` that ends a plain run of a string: `"`, `\` or a control
/// character (below 0x20); `bytes.len()` if none does. Eight bytes at a time: per term, the
/// lowest flagged byte is always a real one (a false flag needs a borrow from a real one below
/// it), so the lowest flag of the three is the first such byte.
#[inline]
pub(super) fn string_stop(bytes: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGH;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = bytes.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

impl<'a> Scanner<'a> {
    #[inline]
    pub(super) fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skips white space (JSON's four characters, as `serde_json`).
    #[inline(always)]
    pub(super) fn white(&mut self) {
        let bytes = self.bytes();
        while let Some(&c) = bytes.get(self.at) {
            match c {
                b'\n' => {
                    self.at += 1;
                    // A line's indentation: its spaces counted eight at a time.
                    if let Some(chunk) = bytes.get(self.at..self.at + 8) {
                        let other = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))
                            ^ (ONES * u64::from(b' '));
                        self.at += (other.trailing_zeros() / 8) as usize;
                    }
                }
                b' ' | b'\t' | b'\r' => self.at += 1,
                _ => break,
            }
        }
    }

    /// The next byte after white space, consumed.
    #[inline(always)]
    pub(super) fn next(&mut self) -> Option<u8> {
        self.white();
        let c = *self.bytes().get(self.at)?;
        self.at += 1;
        Some(c)
    }

    /// Consumes `rest`, the remainder of `true`, `false` or `null`.
    #[inline]
    pub(super) fn literal(&mut self, rest: &[u8]) -> Option<()> {
        if self.bytes()[self.at..].starts_with(rest) {
            self.at += rest.len();
            Some(())
        } else {
            None
        }
    }

    #[inline]
    pub(super) fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A string, its opening quote consumed: borrowed when it has no escapes.
    #[inline]
    pub(super) fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at;
        let end = string_stop(self.bytes(), start);
        match self.bytes().get(end) {
            Some(b'"') => {
                self.at = end + 1;
                // Both ends are at ASCII quotes: on character boundaries.
                self.text.get(start..end).map(Cow::Borrowed)
            }
            Some(b'\\') => self.escaped(start),
            _ => None,
        }
    }

    /// A string with escapes: its extent found here, decoded by `serde_json`.
    #[cold]
    pub(super) fn escaped(&mut self, start: usize) -> Option<Cow<'a, str>> {
        let bytes = self.bytes();
        let mut i = start;
        loop {
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => i += 2,
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
        self.at = i + 1;
        let literal = self.text.get(start - 1..=i)?;
        serde_json::from_str::<String>(literal).ok().map(Cow::Owned)
    }

    /// A number, at its first byte: a plain non-negative integer of up to 19 digits is read
    /// here; any other is handed to `serde_json`, so that its type (`-0` and `1.0` are floats,
    /// an integer past `u64` too) and its value are `serde_json`'s.
    #[inline]
    pub(super) fn number(&mut self) -> Option<Number> {
        let bytes = self.bytes();
        let start = self.at;
        let mut end = start;
        let mut n = 0u64;
        let mut plain = true;
        while let Some(&c) = bytes.get(end) {
            match c {
                b'0'..=b'9' => n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0')),
                b'-' | b'+' | b'.' | b'e' | b'E' => plain = false,
                _ => break,
            }
            end += 1;
        }
        self.at = end;
        let digits = end - start;
        if plain && digits <= 19 && (bytes[start] != b'0' || digits == 1) {
            return Some(Number::from(n));
        }
        serde_json::from_str(self.text.get(start..end)?).ok()
    }

    /// The members of an object, its `{` consumed: `each` reads a member's value, given its
    /// name, after the `:`. The object grammar, and the nesting count, for checked and skipped
    /// objects alike.
    #[inline]
    pub(super) fn members(
        &mut self,
        mut each: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        self.enter()?;
        match self.next()? {
            b'}' => {}
            b'"' => loop {
                let name = self.string()?;
                if self.next()? != b':' {
                    return None;
                }
                each(self, name)?;
                match self.next()? {
                    b',' if self.next()? == b'"' => {}
                    b'}' => break,
                    _ => return None,
                }
            },
            _ => return None,
        }
        self.depth -= 1;
        Some(())
    }

    /// The elements of an array, its `[` consumed: `each` reads one. The array grammar, and
    /// the nesting count, for checked and skipped arrays alike.
    #[inline]
    pub(super) fn elements(&mut self, mut each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.enter()?;
        self.white();
        if self.bytes().get(self.at) == Some(&b']') {
            self.at += 1;
        } else {
            loop {
                each(self)?;
                match self.next()? {
                    b',' => {}
                    b']' => break,
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// Skips a value nobody checks or reads: still parsed strictly, its nesting counted.
    pub(super) fn skip(&mut self) -> Option<()> {
        match self.next()? {
            b'{' => self.members(|this, _| this.skip())?,
            b'[' => self.elements(Self::skip)?,
            b'"' => {
                self.string()?;
            }
            b't' => self.literal(b"rue")?,
            b'f' => self.literal(b"alse")?,
            b'n' => self.literal(b"ull")?,
            b'-' | b'0'..=b'9' => {
                self.at -= 1;
                self.number()?;
            }
            _ => return None,
        }
        Some(())
    }
}
