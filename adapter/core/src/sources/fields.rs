//! Reading a payload the way every source does: its event field, its ids, its clinic.

use super::spec::{Detection, EventSpec, Mapped};
use crate::canonical::{DeletionRequest, InvoiceDeletion};
use crate::context::CLINIC_POINTER;
use crate::error::{FieldError, Problem, ProblemKind};
use crate::ids::{EntityId, IdError};
use crate::json::{Field, Payload};
use crate::warning::Warning;

/// Detection for sources that name their event in one top-level string field (at `pointer`).
pub(crate) fn detect_by_event_field(
    payload: &dyn Payload,
    pointer: &'static str,
    events: &'static [EventSpec],
) -> Detection {
    match payload.str_at(pointer) {
        Some(name) => match events.iter().find(|e| e.name == name) {
            Some(event) => Detection::Deletion(event),
            None => Detection::OtherEvent(not_a_deletion(pointer, events)),
        },
        None => Detection::NotThis,
    }
}

/// The error of an event field (at `pointer`) that names no deletion event of `events`.
pub(crate) fn not_a_deletion(pointer: &'static str, events: &[EventSpec]) -> FieldError {
    FieldError::new(
        pointer,
        "const",
        format!(
            "names an event other than {}; only deletions are converted",
            or_list(events.iter().map(|e| e.name))
        ),
    )
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn or_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn id_problem(pointer: &str, error: IdError) -> Problem {
    Problem::at(
        ProblemKind::Validation,
        "An id the mapping reads is not usable.",
        pointer,
        error.keyword(),
        format!("id {error} after trimming"),
    )
}

/// The id at `pointer`: `None` when absent or null; an error when it is not a usable id.
pub(crate) fn optional_id(
    payload: &dyn Payload,
    pointer: &str,
) -> Result<Option<EntityId>, Problem> {
    match payload.at(pointer) {
        None | Some(Field::Null) => Ok(None),
        Some(Field::String(s)) => EntityId::new(s)
            .map(Some)
            .map_err(|e| id_problem(pointer, e)),
        // The schemas type every field the mappings read; this is a defensive answer.
        Some(_) => Err(Problem::at(
            ProblemKind::Validation,
            "An id the mapping reads is not a string.",
            pointer,
            "type",
            "must be a string",
        )),
    }
}

/// The id at `pointer`, which must be there.
pub(crate) fn required_id(payload: &dyn Payload, pointer: &str) -> Result<EntityId, Problem> {
    optional_id(payload, pointer)?.ok_or_else(|| {
        Problem::at(
            ProblemKind::Unmappable,
            "A required id is missing.",
            pointer,
            "required",
            "required id is missing",
        )
    })
}

/// The first usable id among `pointers` (blank ones are skipped with a warning); a warning for
/// each later candidate that names a different id.
pub(crate) fn first_id(
    payload: &dyn Payload,
    pointers: &[&str],
    warnings: &mut Vec<Warning>,
) -> Result<Option<EntityId>, Problem> {
    let mut found: Option<(EntityId, &str)> = None;
    for &pointer in pointers {
        let candidate = match optional_id(payload, pointer) {
            Ok(candidate) => candidate,
            Err(problem)
                if problem
                    .errors
                    .first()
                    .is_some_and(|e| e.keyword == "minLength") =>
            {
                warnings.push(Warning::new(
                    pointer,
                    "blank-id-ignored",
                    "is blank and was ignored",
                ));
                None
            }
            Err(problem) => return Err(problem),
        };
        match (&found, candidate) {
            (None, Some(id)) => found = Some((id, pointer)),
            (Some((first, used)), Some(other)) if *first != other => warnings.push(Warning::new(
                pointer,
                "id-mismatch",
                format!("differs from {used}, which was used"),
            )),
            _ => {}
        }
    }
    Ok(found.map(|(id, _)| id))
}

/// The clinic: the first usable id among `pointers`, else the context's (`fallback`), else an
/// `unmappable` problem naming every place tried.
pub(crate) fn clinic_id(
    payload: &dyn Payload,
    pointers: &[&str],
    fallback: Option<&EntityId>,
    warnings: &mut Vec<Warning>,
) -> Result<EntityId, Problem> {
    if let Some(id) = first_id(payload, pointers, warnings)? {
        return Ok(id);
    }
    if let Some(id) = fallback {
        return Ok(id.clone());
    }
    let mut errors: Vec<FieldError> = pointers
        .iter()
        .map(|p| FieldError::new(*p, "required", "no clinic id here"))
        .collect();
    errors.push(FieldError::new(
        CLINIC_POINTER,
        "required",
        "no clinic_id in the delivery context",
    ));
    Err(Problem::with_errors(
        ProblemKind::Unmappable,
        "No clinic id: the payload names none and the delivery context has no clinic_id.",
        errors,
    ))
}

/// A mapping of one invoice: its clinic (the first usable id among `clinic`, else the
/// context's) and its client (the first among `client`, if any). The deletion is named by the
/// invoice id.
pub(crate) fn one_invoice(
    payload: &dyn Payload,
    invoice_id: EntityId,
    clinic: &[&str],
    client: &[&str],
    context_clinic: Option<&EntityId>,
) -> Result<Mapped, Problem> {
    let mut warnings = Vec::new();
    let clinic_id = clinic_id(payload, clinic, context_clinic, &mut warnings)?;
    let client_id = first_id(payload, client, &mut warnings)?;
    Ok(Mapped {
        request: DeletionRequest {
            invoices: vec![InvoiceDeletion {
                invoice_id: invoice_id.clone(),
                clinic_id,
                client_id,
            }],
            invoice_lines: Vec::new(),
        },
        event_id: Some(invoice_id),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_english() {
        assert_eq!(or_list(["a"].into_iter()), "a");
        assert_eq!(or_list(["a", "b"].into_iter()), "a or b");
        assert_eq!(or_list(["a", "b", "c"].into_iter()), "a, b or c");
    }
}
