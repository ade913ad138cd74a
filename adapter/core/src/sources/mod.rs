//! The formats tombstone accepts: the canonical request itself and one module per provider.
//!
//! Each source module owns everything about its source in one [`SourceSpec`] — its name, its
//! deletion event(s) with their JSON Schema and mapping, how it is detected, the status its
//! webhooks expect on success, and how a sender proves itself — and every list elsewhere (the
//! webhook routes, the variables, the command line's `--source`, the playground's menu) is derived
//! from [`Source::ALL`]. A new source is one module, its schema(s) and its conformance cases,
//! plus one line in [`Source::ALL`]; a new event of a source is one [`EventSpec`] in its module.

pub mod canonical;
pub(crate) mod fields;
pub mod highlevel;
pub mod mercoa;
pub mod spec;
pub mod willsuite;

pub use spec::{
    Detection, EventSpec, Mapped, Proof, Retried, RetryContract, SchemaSpec, Source, SourceSpec,
};

impl Source {
    /// Every source, in detection order: the one list a new source is added to.
    pub const ALL: &'static [Source] = &[
        Source(&mercoa::SOURCE),
        Source(&willsuite::SOURCE),
        Source(&highlevel::SOURCE),
        Source(&canonical::SOURCE),
    ];

    /// The canonical request (the target format itself).
    pub const CANONICAL: Source = Source(&canonical::SOURCE);

    /// The source called `name`.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// Whether it is a provider (every source but the canonical request).
    pub fn is_provider(self) -> bool {
        self != Source::CANONICAL
    }
}

/// Every JSON Schema the sources are validated against, in source order.
pub fn schemas() -> impl Iterator<Item = &'static SchemaSpec> {
    Source::ALL
        .iter()
        .flat_map(|source| source.events().iter().map(|event| &event.schema))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn every_source_has_a_unique_name_and_events_with_schemas() {
        let mut names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Source::ALL.len());
        for &source in Source::ALL {
            assert_eq!(Source::from_name(source.name()), Some(source));
            assert!(!source.events().is_empty(), "{}", source.name());
            for event in source.events() {
                let schema: Value = serde_json::from_str(event.schema.text).unwrap();
                assert_eq!(
                    schema["$id"],
                    format!("urn:tombstone:schema:{}", event.schema.name),
                    "{}",
                    event.name
                );
            }
        }
        let mut schema_names: Vec<&str> = schemas().map(|s| s.name).collect();
        schema_names.sort_unstable();
        schema_names.dedup();
        assert_eq!(
            schema_names.len(),
            schemas().count(),
            "schema names are unique"
        );
    }
}
