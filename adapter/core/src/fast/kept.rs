//! What the walk keeps of a payload: only what detection and the mappings read, which they
//! then read through [`Payload`] as they read a whole `Value`.

use std::borrow::Cow;

use serde_json::Number;

use crate::json::{Field, Payload};

/// What the walk keeps of a value: scalars as they are (strings borrowed from the payload
/// unless they have escapes), and of containers only the members and elements that are read.
/// An element nobody reads inside is kept as `Null`, so that an array keeps its length.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum KeptValue<'a> {
    /// `null`, or an element nobody reads inside.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<KeptValue<'a>>),
    /// The members of an object that are read, in the payload's order (a repeated name's last
    /// value counts, as in `serde_json`'s `Value`).
    Object(Vec<(Cow<'a, str>, KeptValue<'a>)>),
}

impl Payload for KeptValue<'_> {
    fn at(&self, pointer: &str) -> Option<Field<'_>> {
        let node = crate::json::follow(self, pointer, |node, token| match node {
            KeptValue::Object(members) => members
                .iter()
                .rev()
                .find(|(name, _)| name == token)
                .map(|(_, value)| value),
            KeptValue::Array(items) => items.get(crate::json::array_index(token)?),
            _ => None,
        })?;
        Some(match node {
            KeptValue::Null => Field::Null,
            KeptValue::Bool(b) => Field::Bool(*b),
            KeptValue::Number(_) => Field::Number,
            KeptValue::String(s) => Field::String(s),
            KeptValue::Array(items) => Field::Array(items.len()),
            KeptValue::Object(_) => Field::Object,
        })
    }
}
