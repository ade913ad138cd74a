//! The JSON Schemas in `schemas/`, embedded at compile time, and their validators.
//!
//! Validators are generated at compile time by `#[jsonschema::validator]`: nothing is compiled
//! at run time, so a fresh wasm instance per request pays no schema compilation, and the
//! generated code carries no regex engine (the schemas use no `pattern`).

use serde_json::Value;

use crate::error::FieldError;
use crate::schema_errors::collect;
use crate::sources::SchemaSpec;

// The attribute takes a literal path, relative to this crate's manifest. The sources' own
// schemas are declared beside their mappings (`sources/*.rs`); this is the one schema that is no
// source's: the answer of the canonical deletion API.
#[jsonschema::validator(path = "../../schemas/canonical-response.schema.json")]
struct CanonicalResponse;

/// The canonical deletion API's answer (202).
pub const CANONICAL_RESPONSE: SchemaSpec = SchemaSpec {
    name: "canonical-response",
    text: include_str!("../../../schemas/canonical-response.schema.json"),
    validate: |instance| collect(CanonicalResponse::iter_errors(instance)),
    compiled: crate::fast::tables::compiled("canonical-response.schema.json"),
};

/// Every embedded schema: each source's (in source order), then the canonical response's.
pub fn all() -> impl Iterator<Item = &'static SchemaSpec> {
    crate::sources::schemas().chain(std::iter::once(&CANONICAL_RESPONSE))
}

/// The names of the embedded schemas (served as `/schemas/<name>.json`).
pub fn names() -> Vec<&'static str> {
    all().map(|s| s.name).collect()
}

/// The text of the schema called `name`, if there is one.
pub fn text(name: &str) -> Option<&'static str> {
    all().find(|s| s.name == name).map(|s| s.text)
}

/// Validates `instance` against the schema called `name`; `None` if there is no such schema.
pub fn validate(name: &str, instance: &Value) -> Option<Vec<FieldError>> {
    all()
        .find(|s| s.name == name)
        .map(|s| (s.validate)(instance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_schema_is_embedded_and_valid_json() {
        for name in names() {
            let text = text(name).unwrap();
            let schema: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{name}"
            );
            assert!(validate(name, &json!({})).is_some());
        }
        assert!(text("nope").is_none());
        assert!(validate("nope", &json!({})).is_none());
    }

    #[test]
    fn messages_name_places_not_values() {
        let secret = "SECRET-VALUE-1234";
        let errors = validate(
            "canonical-request",
            &json!({"invoices": [{"invoice_id": 5, "clinic_id": secret, "extra": secret}], secret: 1}),
        )
        .unwrap();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert!(pointers.contains(&"/invoices/0/invoice_id"), "{errors:?}");
        assert!(pointers.contains(&"/invoices/0/extra"), "{errors:?}");
        for e in &errors {
            if !e.pointer.contains(secret) {
                assert!(!e.message.contains(secret), "{e:?}");
            }
        }
        let type_error = errors.iter().find(|e| e.keyword == "type").unwrap();
        assert_eq!(type_error.message, "must be a string");
    }

    #[test]
    fn required_points_at_the_missing_property() {
        let errors = validate("canonical-request", &json!({"invoice_lines": [{}]})).unwrap();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/invoice_lines/0/invoice_line_id",
                "/invoice_lines/0/invoice_id",
                "/invoice_lines/0/clinic_id"
            ]
        );
    }
}
