//! The JSON Schemas in `schemas/`, embedded at compile time, and their validators.
//!
//! Validators are generated at compile time by `#[jsonschema::validator]`: nothing is compiled
//! at run time, so a fresh wasm instance per request pays no schema compilation, and the
//! generated code carries no regex engine (the schemas use no `pattern`).

use serde_json::Value;

use crate::error::{FieldError, MAX_REPORTED_ERRORS};
use crate::json::escape_token;
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
    compiled: crate::fast::compiled("canonical-response.schema.json"),
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

/// Turns jsonschema errors into field errors whose messages never echo instance values.
pub(crate) fn collect<'a>(
    errors: impl Iterator<Item = jsonschema::ValidationError<'a>>,
) -> Vec<FieldError> {
    use jsonschema::error::ValidationErrorKind as Kind;
    let mut out = Vec::new();
    for error in errors {
        let pointer = error.instance_path().to_string();
        let keyword = error.kind().keyword().to_owned();
        match error.kind() {
            // Point at the property itself: that is where a person has to look.
            Kind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                out.push(FieldError::new(
                    format!("{pointer}/{}", escape_token(name)),
                    keyword,
                    format!("required property '{name}' is missing"),
                ));
            }
            Kind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    out.push(FieldError::new(
                        format!("{pointer}/{}", escape_token(name)),
                        keyword.clone(),
                        format!("property '{name}' is not allowed here"),
                    ));
                }
            }
            Kind::Type { .. } | Kind::Constant { .. } | Kind::Enum { .. } => {
                let expected = schema_expectation(&error);
                out.push(FieldError::new(pointer, keyword, expected));
            }
            _ => out.push(FieldError::new(
                pointer,
                keyword,
                error.masked().to_string(),
            )),
        }
        if out.len() >= MAX_REPORTED_ERRORS {
            break;
        }
    }
    out.truncate(MAX_REPORTED_ERRORS);
    out
}

/// "must be …" for type, const and enum failures, from the schema (never the instance).
fn schema_expectation(error: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
    match error.kind() {
        Kind::Type { kind } => {
            let names: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(ts) => ts.iter().map(|t| t.to_string()).collect(),
            };
            let article = |n: &str| match n {
                "null" => "null".to_owned(),
                "array" | "object" | "integer" => format!("an {n}"),
                _ => format!("a {n}"),
            };
            let names: Vec<String> = names.iter().map(|n| article(n)).collect();
            format!("must be {}", names.join(" or "))
        }
        Kind::Constant { expected_value } => format!("must be {expected_value}"),
        Kind::Enum { options } => format!("must be one of {options}"),
        _ => error.masked().to_string(),
    }
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
