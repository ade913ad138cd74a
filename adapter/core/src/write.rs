//! The JSON every runtime prints for a conversion, written directly: the same bytes
//! `serde_json::to_string` gives for these documents (a test holds the two together), without
//! serde's per-character escaping loop or `fmt` machinery. In the plugin these documents are
//! most of what a call costs beyond the conversion itself.

/// Appends `s` as a JSON string, escaped exactly as `serde_json` escapes it: `"` and `\`,
/// `\b \t \n \f \r`, other control characters as `\u00xx`; everything else as it is.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    if plain(s.as_bytes()) {
        out.push_str(s);
    } else {
        escaped(out, s);
    }
    out.push('"');
}

/// Whether no byte of `bytes` needs escaping; eight at a time.
#[inline]
fn plain(bytes: &[u8]) -> bool {
    const fn splat(b: u8) -> u64 {
        (b as u64) * 0x0101_0101_0101_0101
    }
    const LOW: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    let zero_in = |v: u64| v.wrapping_sub(LOW) & !v & HIGH;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let special = zero_in(w ^ splat(b'"'))
            | zero_in(w ^ splat(b'\\'))
            | (w.wrapping_sub(splat(0x20)) & !w & HIGH);
        if special != 0 {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

#[cold]
fn escaped(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            c => out.push(c),
        }
    }
}

/// Appends `"name":` (a name that needs no escaping) before a member's value; `first` is
/// whether it opens its object.
pub(crate) fn key(out: &mut String, name: &str, first: bool) {
    if !first {
        out.push(',');
    }
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
}

/// Appends `"name":"value"`.
pub(crate) fn member(out: &mut String, name: &str, value: &str, first: bool) {
    key(out, name, first);
    string(out, value);
}

/// Appends `items` as a JSON array of objects, `members` writing each object's members.
pub(crate) fn objects<T>(out: &mut String, items: &[T], members: impl Fn(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        members(out, item);
        out.push('}');
    }
    out.push(']');
}

/// Appends a count.
pub(crate) fn count(out: &mut String, n: usize) {
    out.push_str(itoa::Buffer::new().format(n));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written(s: &str) -> String {
        let mut out = String::new();
        string(&mut out, s);
        out
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        for s in [
            "",
            "in_26e7b5d3",
            "quote \" and backslash \\ inside a longer string",
            &every_ascii,
            "ünïcödé and 🦀, \u{7f}, \u{2028}",
            "/~0~1 slash",
        ] {
            assert_eq!(written(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn counts_are_decimal() {
        for n in [0usize, 7, 10, 5000, usize::MAX] {
            let mut out = String::new();
            count(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(s in any::<String>()) {
            prop_assert_eq!(written(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
