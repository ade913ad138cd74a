//! The compiled tables: each JSON Schema of `schemas/` as static [`Keywords`], written by
//! `build.rs` into `$OUT_DIR/compiled_schemas.rs` and included here. Data, and the lookups on
//! it: nothing here reads a payload.

/// JSON types, as bits.
pub mod json_types {
    /// `null`.
    pub const NULL: u8 = 1;
    /// `boolean`.
    pub const BOOLEAN: u8 = 2;
    /// `integer`.
    pub const INTEGER: u8 = 4;
    /// `number` (an integer is one too).
    pub const NUMBER: u8 = 8;
    /// `string`.
    pub const STRING: u8 = 16;
    /// `array`.
    pub const ARRAY: u8 = 32;
    /// `object`.
    pub const OBJECT: u8 = 64;
    /// Every type: no `type` keyword.
    pub const ALL: u8 = 127;
}
use json_types::*;

/// A compiled subschema.
#[derive(Debug, Clone, Copy)]
pub enum CompiledSchema {
    /// Anything passes (`true`, `{}`, annotations only).
    Any,
    /// Nothing passes (`false`).
    Never,
    /// A keyword the fast path does not check exactly: whatever reaches it takes the slow path.
    Unsupported,
    /// The keywords it checks.
    Keywords(&'static Keywords),
}

/// The checked keywords of one subschema.
#[derive(Debug)]
pub struct Keywords {
    /// `type`, as [`json_types`] bits.
    pub types: u8,
    /// `enum` or `const`.
    pub choices: Option<&'static [Literal<'static>]>,
    /// `minLength`, in characters.
    pub min_length: Option<u32>,
    /// `maxLength`, in characters.
    pub max_length: Option<u32>,
    /// `properties`, with every `required` name, sorted by [`key_hash`].
    pub properties: &'static [Member],
    /// The bits of all `required` names ([`Member::required`]).
    pub required: u64,
    /// `properties` by hash: slot `(hash >> shift) % slots.len()` holds the index plus one of
    /// the only property whose name can have that hash, or 0 (`build.rs` finds a shift and a
    /// power-of-two length without collisions).
    pub slots: &'static [u8],
    /// See [`Keywords::slots`].
    pub shift: u32,
    /// `additionalProperties`.
    pub additional: CompiledSchema,
    /// `items`.
    pub items: CompiledSchema,
}

impl Keywords {
    /// No constraint: what an absent keyword means.
    pub const ANY: Keywords = Keywords {
        types: ALL,
        choices: None,
        min_length: None,
        max_length: None,
        properties: &[],
        required: 0,
        slots: &[],
        shift: 0,
        additional: CompiledSchema::Any,
        items: CompiledSchema::Any,
    };

    /// The subschema of the member `name` (whose [`key_hash`] is `hash`), and its `required`
    /// bit (if it is required).
    #[inline]
    pub(super) fn member(&self, name: &str, hash: u64) -> (CompiledSchema, u64) {
        // One probe: the only property this hash can be.
        let slot = match self.slots.len() {
            0 => 0,
            len => self.slots[((hash >> self.shift) as usize) & (len - 1)],
        };
        match self.properties.get(usize::from(slot).wrapping_sub(1)) {
            Some(p) if p.hash == hash && same_name(p.name.as_bytes(), name.as_bytes()) => {
                (p.schema, p.required)
            }
            _ => (self.additional, 0),
        }
    }

    #[inline]
    pub(super) fn allows(&self, literal: Literal<'_>) -> bool {
        self.choices
            .is_none_or(|choices: &[Literal<'_>]| choices.contains(&literal))
    }
}

include!("../key_hash.rs");

/// Whether two member names are equal: after their hashes matched, so nearly always yes. An
/// inline comparison, word by word: cheaper for short names than a call to `memcmp`.
#[inline]
pub(super) fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut x = a.chunks_exact(8);
    let mut y = b.chunks_exact(8);
    for (p, q) in (&mut x).zip(&mut y) {
        if p != q {
            return false;
        }
    }
    x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
}

/// One member a schema names: in `properties`, in `required`, or both.
#[derive(Debug)]
pub struct Member {
    /// The member's name.
    pub name: &'static str,
    /// [`key_hash`] of the name: members are sorted by it.
    pub hash: u64,
    /// Its subschema (`additionalProperties` for a name only `required` lists).
    pub schema: CompiledSchema,
    /// Its bit among the `required` names (`1 << position`), or 0 when it is not required.
    pub required: u64,
}

/// A scalar of `enum` or `const`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Literal<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A string.
    Str(&'a str),
}

include!(concat!(env!("OUT_DIR"), "/compiled_schemas.rs"));

/// Byte equality, for [`compiled`] at compile time.
pub(super) const fn same(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// Byte equality, at compile time.
pub(super) const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
