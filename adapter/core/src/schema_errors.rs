//! What a generated validator reports, as the core's field errors: a pointer to the place, the
//! keyword, and a message taken from the schema, never from the value.

use crate::error::{FieldError, MAX_REPORTED_ERRORS};
use crate::json::escape_token;

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
