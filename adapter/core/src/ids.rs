//! Identifier newtypes, checked once in their constructors, and the deterministic derivations of
//! idempotency keys (UUIDv5) and task ids (SHA-256).

use std::fmt;

use serde::{Serialize, Serializer};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Why an identifier was refused. Messages never contain the refused value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty (after trimming, or after removing RFC 8941 quotes).
    #[error("must not be empty")]
    Empty,
    /// Longer than the limit, in characters.
    #[error("must be at most {0} characters")]
    TooLong(usize),
    /// Holds a character outside printable ASCII, or a space.
    #[error("must be printable ASCII without spaces")]
    NotPrintableAscii,
    /// A quoted string that is not a valid RFC 8941 sf-string.
    #[error("is a malformed RFC 8941 quoted string")]
    BadQuoting,
}

impl IdError {
    /// The JSON Schema keyword this rule corresponds to.
    pub fn keyword(self) -> &'static str {
        match self {
            IdError::Empty => "minLength",
            IdError::TooLong(_) => "maxLength",
            IdError::NotPrintableAscii | IdError::BadQuoting => "pattern",
        }
    }
}

fn printable_ascii_no_space(s: &str) -> bool {
    s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

/// An `Idempotency-Key`: 1–36 characters of printable ASCII without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);
string_newtype!(IdempotencyKey);

impl IdempotencyKey {
    /// Longest key accepted, in characters.
    pub const MAX_LEN: usize = 36;

    /// The key as an `Idempotency-Key` header value that [`IdempotencyKey::parse_header`]
    /// reads back as this very key: bare, or as an RFC 8941 quoted string when bare it would
    /// read as another (it starts with `"`; a key has no white space).
    pub fn header_value(&self) -> std::borrow::Cow<'_, str> {
        let key = self.as_str();
        if !key.starts_with('"') {
            return key.into();
        }
        let mut quoted = String::with_capacity(key.len() + 4);
        quoted.push('"');
        for c in key.chars() {
            if matches!(c, '"' | '\\') {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        quoted.push('"');
        quoted.into()
    }

    /// Parses a header value: the bare key, or the key as an RFC 8941 quoted string (`"abc"`),
    /// whose quotes are not part of the key. Surrounding white space (OWS) is ignored.
    pub fn parse_header(value: &str) -> Result<IdempotencyKey, IdError> {
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        let key = match value.strip_prefix('"') {
            Some(rest) => unquote_sf_string(rest)?,
            None => value.to_owned(),
        };
        IdempotencyKey::new(key)
    }

    /// Checks a bare key.
    pub fn new(key: impl Into<String>) -> Result<IdempotencyKey, IdError> {
        let key = key.into();
        if key.is_empty() {
            return Err(IdError::Empty);
        }
        if !printable_ascii_no_space(&key) {
            return Err(IdError::NotPrintableAscii);
        }
        if key.len() > Self::MAX_LEN {
            return Err(IdError::TooLong(Self::MAX_LEN));
        }
        Ok(IdempotencyKey(key))
    }

    /// The key of a source webhook that carried no `Idempotency-Key`: UUIDv5 of
    /// `"<source>:<event>:<id>"` in [`KEY_NAMESPACE`], so every retry and re-send of the same
    /// deletion maps to the same key.
    pub fn derive(source: &str, event: &str, id: &str) -> IdempotencyKey {
        let mut hasher = Sha1::new();
        hasher.update(KEY_NAMESPACE);
        for part in [source, ":", event, ":", id] {
            hasher.update(part.as_bytes());
        }
        IdempotencyKey(uuid_v5_from(hasher))
    }
}

/// Parses the rest of an RFC 8941 sf-string after its opening quote.
fn unquote_sf_string(rest: &str) -> Result<String, IdError> {
    let mut out = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    loop {
        match chars.next() {
            None => return Err(IdError::BadQuoting),
            Some('"') => {
                return if chars.as_str().is_empty() {
                    Ok(out)
                } else {
                    Err(IdError::BadQuoting)
                };
            }
            Some('\\') => match chars.next() {
                Some(c @ ('"' | '\\')) => out.push(c),
                _ => return Err(IdError::BadQuoting),
            },
            Some(c) if (' '..='~').contains(&c) => out.push(c),
            Some(_) => return Err(IdError::NotPrintableAscii),
        }
    }
}

/// An `X-Organization-Id`: 1–128 characters of printable ASCII without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrganizationId(String);
string_newtype!(OrganizationId);

impl OrganizationId {
    /// Longest organization id accepted, in characters.
    pub const MAX_LEN: usize = 128;

    /// Checks an organization id.
    pub fn new(id: impl Into<String>) -> Result<OrganizationId, IdError> {
        let id = id.into();
        if id.is_empty() {
            return Err(IdError::Empty);
        }
        if !printable_ascii_no_space(&id) {
            return Err(IdError::NotPrintableAscii);
        }
        if id.len() > Self::MAX_LEN {
            return Err(IdError::TooLong(Self::MAX_LEN));
        }
        Ok(OrganizationId(id))
    }
}

/// An id inside the canonical body (`invoice_id`, `clinic_id`, …): 1–255 characters after
/// trimming surrounding white space. Stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(String);
string_newtype!(EntityId);

impl EntityId {
    /// Longest id accepted, in characters (Unicode scalar values) after trimming.
    pub const MAX_LEN: usize = 255;

    /// Trims and checks an id.
    pub fn new(id: &str) -> Result<EntityId, IdError> {
        Self::trimmed(id).map(|id| EntityId(id.to_owned()))
    }

    /// The id [`EntityId::new`] would make of `id`, without making it (to compare ids).
    pub fn trimmed(id: &str) -> Result<&str, IdError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(IdError::Empty);
        }
        // Never more characters than bytes: most ids need no count.
        if id.len() > Self::MAX_LEN && id.chars().count() > Self::MAX_LEN {
            return Err(IdError::TooLong(Self::MAX_LEN));
        }
        Ok(id)
    }
}

/// Deserializes through the type's constructor, so a stored value is checked like a fresh one.
macro_rules! checked_deserialize {
    ($name:ident, $check:expr) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                let check: fn(&str) -> Option<$name> = $check;
                check(&s).ok_or_else(|| {
                    serde::de::Error::custom(concat!("not a valid ", stringify!($name)))
                })
            }
        }
    };
}
checked_deserialize!(IdempotencyKey, |s| IdempotencyKey::new(s).ok());
checked_deserialize!(OrganizationId, |s| OrganizationId::new(s).ok());
checked_deserialize!(TaskId, TaskId::parse);

impl<'de> serde::Deserialize<'de> for EntityId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        EntityId::new(&s).map_err(serde::de::Error::custom)
    }
}

/// A task id: lowercase hex SHA-256 of `organization_id || 0x00 || idempotency_key`.
///
/// 64 characters of `[0-9a-f]`: a valid Cloud Tasks TASK_ID (`[A-Za-z0-9_-]{1,500}`), hashed from
/// its first character as Cloud Tasks advises for an even key distribution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(String);
string_newtype!(TaskId);

impl TaskId {
    /// Derives the task id of a delivery.
    pub fn derive(organization: &OrganizationId, key: &IdempotencyKey) -> TaskId {
        let mut hasher = Sha256::new();
        hasher.update(organization.as_str().as_bytes());
        hasher.update([0u8]);
        hasher.update(key.as_str().as_bytes());
        TaskId(hex(&hasher.finalize()))
    }

    /// Accepts a string that has the shape of a task id (64 lowercase hex characters), for look-ups.
    pub fn parse(s: &str) -> Option<TaskId> {
        (s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| TaskId(s.to_owned()))
    }
}

/// The UUID namespace of derived idempotency keys (docs/contract.md §2).
pub const KEY_NAMESPACE: [u8; 16] = [
    0x13, 0xe7, 0xf5, 0xba, 0xb1, 0x82, 0x57, 0xf9, 0xbe, 0x3d, 0xc7, 0x3b, 0x47, 0xad, 0x38, 0x73,
];

/// RFC 9562 UUID version 5 (SHA-1, name-based), in its lowercase hyphenated form.
#[cfg(test)]
fn uuid_v5(namespace: &[u8; 16], name: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(namespace);
    hasher.update(name);
    uuid_v5_from(hasher)
}

/// The UUID of a SHA-1 hasher fed with the namespace, then the name.
fn uuid_v5_from(hasher: Sha1) -> String {
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    // 8-4-4-4-12 hex digits, written in place.
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, b) in bytes.into_iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = DIGITS[usize::from(b >> 4)];
        out[at + 1] = DIGITS[usize::from(b & 0x0f)];
        at += 2;
    }
    // ASCII digits and hyphens: always UTF-8.
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

/// Lowercase hex digits, by value.
const DIGITS: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    let mut digits = vec![0u8; 2 * bytes.len()];
    for (pair, &b) in digits.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0x0f)];
    }
    // ASCII digits: always UTF-8.
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn task(org: &str, key: &str) -> String {
        TaskId::derive(
            &OrganizationId::new(org).unwrap(),
            &IdempotencyKey::new(key).unwrap(),
        )
        .to_string()
    }

    #[test]
    fn task_id_vectors_from_the_spec() {
        assert_eq!(
            task("org_123", "5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59"),
            "af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60"
        );
        assert_eq!(
            task("acme-vet", "a"),
            "213a2970896a520fbdc8baef026abc1c51866ccac85b7599cae454f89bc4748a"
        );
    }

    #[test]
    fn a_keys_header_value_reads_back_as_the_same_key() {
        for header in ["abc", r#""a\"b""#, r#""\"k\"""#, r#""\"""#, r#""\\""#] {
            let key = IdempotencyKey::parse_header(header).unwrap();
            let value = key.header_value();
            assert_eq!(
                IdempotencyKey::parse_header(&value).unwrap(),
                key,
                "{header} → {value}"
            );
        }
        // A key that reads the same bare is sent bare.
        let plain = IdempotencyKey::parse_header(r#""a\"b""#).unwrap();
        assert_eq!(plain.header_value(), r#"a"b"#);
    }

    #[test]
    fn derived_key_vectors_from_the_spec() {
        let cases = [
            (
                "mercoa",
                "invoice.deleted",
                "in_26e7b5d3-a739-4b23-9ad9-6aaa085f47a9",
                "b1ba9d54-65e6-5911-b649-a53c18671e8f",
            ),
            (
                "willsuite",
                "case_invoice_item.deleted",
                "05a4a551-4333-4927-9406-a7381c3ed957",
                "e438475c-d3a4-577b-a2fa-65ca043d2dc1",
            ),
            (
                "highlevel",
                "InvoiceDelete",
                "6578278e879ad2646715ba9c",
                "1a6f642d-893c-5e2b-b138-8ad6b135547b",
            ),
            // WillSuite's whole-invoice deletion (issue 13), computed independently with
            // Python's uuid.uuid5 (tests/conformance/check_table.py checks the same vector).
            (
                "willsuite",
                "case_invoice.deleted",
                "510634bd-da51-448b-b06a-ab998e10670c",
                "b88a798e-f906-55a1-962e-66b1741a25a1",
            ),
        ];
        for (source, event, id, key) in cases {
            assert_eq!(IdempotencyKey::derive(source, event, id).as_str(), key);
        }
    }

    #[test]
    fn uuid_v5_matches_rfc_9562_example() {
        // RFC 9562 appendix A.4: DNS namespace, "www.example.com".
        let dns = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
            0x30, 0xc8,
        ];
        assert_eq!(
            uuid_v5(&dns, b"www.example.com"),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    #[test]
    fn idempotency_key_edges() {
        assert_eq!(IdempotencyKey::new(""), Err(IdError::Empty));
        assert!(IdempotencyKey::new("a".repeat(36)).is_ok());
        assert_eq!(
            IdempotencyKey::new("a".repeat(37)),
            Err(IdError::TooLong(36))
        );
        assert_eq!(IdempotencyKey::new("a b"), Err(IdError::NotPrintableAscii));
        assert_eq!(IdempotencyKey::new("é"), Err(IdError::NotPrintableAscii));
        assert_eq!(
            IdempotencyKey::new("a\u{7f}"),
            Err(IdError::NotPrintableAscii)
        );
    }

    #[test]
    fn idempotency_key_accepts_rfc8941_quoted_strings() {
        assert_eq!(
            IdempotencyKey::parse_header("\"abc\"").unwrap().as_str(),
            "abc"
        );
        assert_eq!(
            IdempotencyKey::parse_header(" abc ").unwrap().as_str(),
            "abc"
        );
        assert_eq!(
            IdempotencyKey::parse_header(r#""a\"b""#).unwrap().as_str(),
            "a\"b"
        );
        assert_eq!(IdempotencyKey::parse_header("\"\""), Err(IdError::Empty));
        assert_eq!(
            IdempotencyKey::parse_header("\"abc"),
            Err(IdError::BadQuoting)
        );
        assert_eq!(
            IdempotencyKey::parse_header("\"a\"b"),
            Err(IdError::BadQuoting)
        );
        assert_eq!(
            IdempotencyKey::parse_header(r#""a\x""#),
            Err(IdError::BadQuoting)
        );
        assert_eq!(
            IdempotencyKey::parse_header("\"a b\""),
            Err(IdError::NotPrintableAscii)
        );
        let quoted_36 = format!("\"{}\"", "k".repeat(36));
        assert!(IdempotencyKey::parse_header(&quoted_36).is_ok());
    }

    #[test]
    fn organization_id_edges() {
        assert!(OrganizationId::new("o".repeat(128)).is_ok());
        assert_eq!(
            OrganizationId::new("o".repeat(129)),
            Err(IdError::TooLong(128))
        );
        assert_eq!(OrganizationId::new(""), Err(IdError::Empty));
        assert_eq!(OrganizationId::new("a\tb"), Err(IdError::NotPrintableAscii));
    }

    #[test]
    fn entity_id_trims_and_counts_characters() {
        assert_eq!(EntityId::new("  inv_1 \n").unwrap().as_str(), "inv_1");
        assert_eq!(EntityId::new(" \t "), Err(IdError::Empty));
        assert!(EntityId::new(&"é".repeat(255)).is_ok());
        assert_eq!(EntityId::new(&"é".repeat(256)), Err(IdError::TooLong(255)));
        let padded = format!("  {}  ", "x".repeat(255));
        assert!(EntityId::new(&padded).is_ok());
    }

    proptest! {
        #[test]
        fn task_ids_are_cloud_tasks_ids(org in "[!-~]{1,128}", key in "[!-~]{1,36}") {
            let id = task(&org, &key);
            prop_assert_eq!(id.len(), 64);
            prop_assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            prop_assert!(TaskId::parse(&id).is_some());
        }

        #[test]
        fn task_id_separator_prevents_collisions(a in "[!-~]{1,18}", b in "[!-~]{1,18}", c in "[!-~]{1,18}") {
            // ("ab", "c") and ("a", "bc") concatenate alike; the 0x00 separator keeps them apart.
            let left = format!("{a}{b}");
            let right = format!("{b}{c}");
            prop_assert_ne!(task(&left, &c), task(&a, &right));
        }

        #[test]
        fn derived_keys_are_valid_uuid_v5_keys(id in "\\PC{1,255}") {
            let key = IdempotencyKey::derive("mercoa", "invoice.deleted", &id);
            let s = key.as_str();
            prop_assert_eq!(s.len(), 36);
            prop_assert_eq!(&s[14..15], "5");
            prop_assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
            prop_assert_eq!(IdempotencyKey::new(s), Ok(key.clone()));
            prop_assert_eq!(IdempotencyKey::derive("mercoa", "invoice.deleted", &id), key);
        }

        #[test]
        fn quoted_and_bare_keys_are_the_same_key(key in "[!-~&&[^\"\\\\]]{1,36}") {
            let bare = IdempotencyKey::parse_header(&key).unwrap();
            let quoted = IdempotencyKey::parse_header(&format!("\"{key}\"")).unwrap();
            prop_assert_eq!(bare, quoted);
        }
    }
}
