//! Small JSON helpers: a nesting-depth scan that runs before parsing, and JSON Pointer building.

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

/// Escapes one reference token of an RFC 6901 JSON Pointer (`~` → `~0`, `/` → `~1`).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

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
    fn escapes_pointer_tokens() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
    }
}
