//! Small JSON helpers: a nesting-depth scan that runs before parsing, JSON Pointers, and
//! [`Payload`], what detection and the mappings see of a payload.

use serde_json::Value;

/// A payload as detection and the mappings read it: the value at a JSON Pointer. The slow
/// path answers from the whole parsed `Value`; the fast path from only what it kept
/// ([`crate::fast`]), without a `Value` tree.
pub trait Payload {
    /// The value at an RFC 6901 JSON Pointer, as [`Value::pointer`] would find it.
    fn at(&self, pointer: &str) -> Option<Field<'_>>;

    /// The string at `pointer`, if a string is there.
    fn str_at(&self, pointer: &str) -> Option<&str> {
        match self.at(pointer) {
            Some(Field::String(s)) => Some(s),
            _ => None,
        }
    }
}

/// What a source sees of one value: scalars whole, containers by kind (and length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Any number (no source reads one's value).
    Number,
    /// A string.
    String(&'a str),
    /// An array of this many elements.
    Array(usize),
    /// An object.
    Object,
}

impl<'a> Field<'a> {
    /// What a source sees of `value`.
    pub fn of(value: &'a Value) -> Field<'a> {
        match value {
            Value::Null => Field::Null,
            Value::Bool(b) => Field::Bool(*b),
            Value::Number(_) => Field::Number,
            Value::String(s) => Field::String(s),
            Value::Array(items) => Field::Array(items.len()),
            Value::Object(_) => Field::Object,
        }
    }
}

impl Payload for Value {
    fn at(&self, pointer: &str) -> Option<Field<'_>> {
        at(self, pointer).map(Field::of)
    }
}

/// The deepest nesting of arrays and objects in `bytes`, stopping early once it passes `limit`.
///
/// A byte scan, not a parser: it counts brackets outside strings, so it is cheap enough to run
/// before `serde_json` (whose own recursion limit is 128) and bounds its stack use. Malformed
/// input is left for the parser to report.
pub fn nesting_depth(bytes: &[u8], limit: usize) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > deepest {
                    deepest = depth;
                    if deepest > limit {
                        return deepest;
                    }
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The value at an RFC 6901 JSON Pointer, as [`Value::pointer`] finds it, without allocating
/// for a pointer that has no escaped token (`~0`, `~1`).
pub fn at<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    follow(value, pointer, |node, token| match node {
        Value::Object(map) => map.get(token),
        Value::Array(items) => items.get(array_index(token)?),
        _ => None,
    })
}

/// Follows a JSON Pointer from `root`, one reference token at a time (unescaped: `~1` → `/`,
/// `~0` → `~`) through `child`; `None` when it is not a pointer (neither empty nor starting
/// with `/`) or a token leads nowhere.
pub(crate) fn follow<'v, T: ?Sized>(
    root: &'v T,
    pointer: &str,
    child: impl Fn(&'v T, &str) -> Option<&'v T>,
) -> Option<&'v T> {
    let mut node = root;
    let mut rest = pointer;
    while !rest.is_empty() {
        rest = rest.strip_prefix('/')?;
        // One short loop finds the token's end and whether it is escaped (`contains` and
        // `find` would each call `memchr`).
        let mut end = 0;
        let mut escaped = false;
        for b in rest.bytes() {
            match b {
                b'/' => break,
                b'~' => escaped = true,
                _ => {}
            }
            end += 1;
        }
        let (token, tail) = rest.split_at(end);
        rest = tail;
        node = if escaped {
            child(node, &token.replace("~1", "/").replace("~0", "~"))?
        } else {
            child(node, token)?
        };
    }
    Some(node)
}

/// An array index token as RFC 6901 (and `serde_json`) read it: digits, no leading zero.
pub(crate) fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

/// Escapes one reference token of an RFC 6901 JSON Pointer (`~` → `~0`, `/` → `~1`).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A document whose names need escaping, and JSON Pointers into it (and past it), for the
/// tests of every way of following a pointer.
#[cfg(test)]
pub(crate) const POINTER_TEST_DOCUMENT: &str =
    r#"{"a":{"b":[10,{"c":true},null,"s"]},"":{"x":1},"a/b":2,"m~n":3,"01":4,"~1":5,"/":6}"#;

/// See [`POINTER_TEST_DOCUMENT`].
#[cfg(test)]
pub(crate) const POINTER_TESTS: &[&str] = &[
    "",
    "/a",
    "/a/b",
    "/a/b/0",
    "/a/b/1/c",
    "/a/b/2",
    "/a/b/3",
    "/a/b/4",
    "/a/b/01",
    "/a/b/+1",
    "/a/b/-1",
    "/a/b/x",
    "/",
    "//x",
    "/a~1b",
    "/m~0n",
    "/~01",
    "/~1",
    "/~2",
    "/01",
    "a",
    "/a/b/1/c/d",
    "/a/b/3/x",
    "/zz",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nesting_outside_strings() {
        assert_eq!(nesting_depth(b"1", 64), 0);
        assert_eq!(nesting_depth(b"{}", 64), 1);
        assert_eq!(nesting_depth(br#"{"a":[{"b":"[[[{{"}]}"#, 64), 3);
        assert_eq!(nesting_depth(br#"["\"[", []]"#, 64), 2);
        assert_eq!(nesting_depth(br#"["\\", [[]]]"#, 64), 3);
    }

    #[test]
    fn stops_once_past_the_limit() {
        let deep = "[".repeat(10_000);
        assert_eq!(nesting_depth(deep.as_bytes(), 64), 65);
    }

    #[test]
    fn at_finds_what_pointer_finds() {
        let doc: Value = serde_json::from_str(POINTER_TEST_DOCUMENT).unwrap();
        for pointer in POINTER_TESTS {
            assert_eq!(at(&doc, pointer), doc.pointer(pointer), "{pointer}");
        }
    }

    #[test]
    fn escapes_pointer_tokens() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
    }
}
