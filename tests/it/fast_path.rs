//! The fast path ([`tombstone_core::fast`]) and the slow path (`Value` + the generated jsonschema
//! validators) agree: whenever the fast path converts a payload, the slow path converts it to
//! the very same conversion, byte for byte; and `convert` always answers what the slow path
//! answers. The `agree` fuzz target (fuzz/fuzz_targets/agree.rs) checks the same on any bytes.

use proptest::prelude::*;
use serde_json::Value;
use tombstone_core::{
    convert, convert_slow, detect_event, detect_event_slow, fast, Context, EntityId, EventSpec,
    IdempotencyKey, OrganizationId, Source, Timestamp,
};

use crate::mutations::{mutated_sample, samples};

/// The outcome as every runtime prints it.
fn printed(outcome: &Result<tombstone_core::Conversion, tombstone_core::Problem>) -> String {
    match outcome {
        Ok(c) => c.to_json(),
        Err(p) => p.to_json(),
    }
}

/// Checks one payload under one context; `Ok(true)` when the fast path converted it.
fn agree(payload: &[u8], ctx: &Context) -> Result<bool, TestCaseError> {
    let slow = convert_slow(payload, ctx);
    let fast = fast::convert(payload, ctx);
    if let Some(conversion) = &fast {
        let Ok(expected) = &slow else {
            return Err(TestCaseError::fail(format!(
                "the fast path converted what the slow path refuses: {}\n{}",
                printed(&slow),
                String::from_utf8_lossy(payload)
            )));
        };
        prop_assert_eq!(conversion, expected);
        prop_assert_eq!(conversion.to_json(), expected.to_json());
    }
    prop_assert_eq!(printed(&convert(payload, ctx)), printed(&slow));
    // Detection (what the `auto` route asks before it converts) agrees too.
    let named = |found: Option<(Source, &EventSpec)>| found.map(|(s, e)| (s.name(), e.name));
    let slow_detection = named(detect_event_slow(payload));
    if let Some(found) = fast::detect(payload) {
        prop_assert_eq!(named(found), slow_detection);
    }
    prop_assert_eq!(named(detect_event(payload)), slow_detection);
    Ok(fast.is_some())
}

/// A context: forced source or auto, a key or none, a clinic or none.
fn context() -> impl Strategy<Value = Context> {
    (
        proptest::option::of(proptest::sample::select(Source::ALL)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(source, key, clinic)| {
            let mut ctx = Context::new(
                OrganizationId::new("acme-vet").unwrap(),
                Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            );
            ctx.source = source;
            ctx.idempotency_key = key.then(|| IdempotencyKey::new("k-1").unwrap());
            ctx.clinic_id = clinic.then(|| EntityId::new("clinic-from-context").unwrap());
            ctx
        })
}

#[test]
fn every_conversion_of_the_table_takes_the_fast_path() {
    let mut slow = Vec::new();
    for case in tombstone_tests::load_cases() {
        if case.expected_outcome() != "conversion" {
            continue;
        }
        let ctx = case.context.parse().expect("a conversion's context parses");
        if fast::convert(&case.payload_bytes(), &ctx).is_none() {
            slow.push(case.name.clone());
        }
    }
    assert_eq!(slow, Vec::<String>::new());
}

#[test]
fn every_case_of_the_table_agrees() {
    for case in tombstone_tests::load_cases() {
        if let Ok(ctx) = case.context.parse() {
            agree(&case.payload_bytes(), &ctx).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// The samples, mutated (a member gone, null, another type, blank, unknown members, extra
    /// nesting) and respelled (escapes, white space, float spellings, decoy duplicate members,
    /// a byte-order mark), under any context.
    #[test]
    fn the_paths_agree_on_mutated_and_respelled_samples(
        (_, payload) in mutated_sample(),
        ctx in context(),
        choices in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut next = choices.into_iter().cycle();
        let bytes = tombstone_tests::respell(&payload, &mut || next.next().unwrap_or(1));
        agree(&bytes, &ctx)?;
    }

    /// The samples as they are, only respelled: the fast path must take nearly all of them.
    #[test]
    fn respelled_samples_agree(
        i in 0..samples().len(),
        ctx in context(),
        choices in proptest::collection::vec(any::<u8>(), 1..4096),
    ) {
        let (_, payload): (String, Value) = samples()[i].clone();
        let mut next = choices.into_iter().cycle();
        let bytes = tombstone_tests::respell(&payload, &mut || next.next().unwrap_or(1));
        agree(&bytes, &ctx)?;
    }
}
