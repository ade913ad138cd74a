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
    let mut conversions = 0;
    for case in tombstone_tests::load_cases() {
        if case.expected_outcome() != "conversion" {
            continue;
        }
        conversions += 1;
        let ctx = case.context.parse().expect("a conversion's context parses");
        if fast::convert(&case.payload_bytes(), &ctx).is_none() {
            slow.push(case.name.clone());
        }
    }
    assert_eq!(slow, Vec::<String>::new());
    assert!(
        conversions >= 90,
        "only {conversions} conversions in the table"
    );
}

#[test]
fn every_case_of_the_table_agrees() {
    let mut checked = 0;
    for case in tombstone_tests::load_cases() {
        // A context that does not parse is refused before any payload is read.
        if let Ok(ctx) = case.context.parse() {
            agree(&case.payload_bytes(), &ctx).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            checked += 1;
        }
    }
    assert!(checked >= 150, "only {checked} cases of the table checked");
}

/// Whether detection on the fast path must answer: every payload that is JSON, valid UTF-8,
/// and nested no deeper than the limit (the walk reads all of those; only the rest is left to
/// the slow path's detection).
fn walkable(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    serde_json::from_slice::<Value>(bytes).is_ok()
        && tombstone_core::json::nesting_depth(bytes, tombstone_core::limits::MAX_DEPTH)
            <= tombstone_core::limits::MAX_DEPTH
}

#[test]
fn detection_on_the_fast_path_answers_for_every_json_payload_of_the_table() {
    let mut answered = 0;
    for case in tombstone_tests::load_cases() {
        let bytes = case.payload_bytes();
        if walkable(&bytes) {
            assert!(fast::detect(&bytes).is_some(), "{}", case.name);
            answered += 1;
        }
    }
    assert!(
        answered >= 150,
        "only {answered} JSON payloads in the table"
    );
}

/// `seeds` respellings of `payload`, each from a fixed sequence of choices, without decoy
/// duplicate members (no choice is a multiple of ten: [`tombstone_tests::respell`]).
fn respellings(payload: &Value, seeds: u32) -> impl Iterator<Item = (u32, Vec<u8>)> + '_ {
    (0..seeds).map(move |seed| {
        // xorshift32, seeded per respelling
        let mut state = seed.wrapping_mul(0x9e37_79b9) | 1;
        let bytes = tombstone_tests::respell(payload, &mut || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let choice = (state >> 24) as u8;
            choice + u8::from(choice % 10 == 0)
        });
        (seed, bytes)
    })
}

#[test]
fn respelled_samples_that_convert_take_the_fast_path() {
    // Escapes, white space, integers spelled as floats, a byte-order mark: none of them sends a
    // valid delivery to the slow path, and detection on the fast path answers for every one of
    // them. (A repeated member name, which no provider sends, may: the walk checks every value
    // of a name and the schemas only the last; the agreement tests hold that it never diverges.)
    let mut ctx = Context::new(
        OrganizationId::new("acme-vet").unwrap(),
        Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
    );
    ctx.clinic_id = Some(EntityId::new("clinic-from-context").unwrap());
    let (mut converting, mut slow_only) = (0, Vec::new());
    for (name, payload) in samples() {
        let converts = convert_slow(&serde_json::to_vec(&payload).unwrap(), &ctx).is_ok();
        converting += usize::from(converts);
        for (seed, bytes) in respellings(&payload, 48) {
            assert!(
                walkable(&bytes),
                "{name} #{seed}: the respelling is not JSON"
            );
            assert!(
                fast::detect(&bytes).is_some(),
                "{name} #{seed}: not detected on the fast path"
            );
            if converts && fast::convert(&bytes, &ctx).is_none() {
                slow_only.push(format!("{name} #{seed}"));
            }
        }
    }
    assert_eq!(slow_only, Vec::<String>::new());
    assert!(converting >= 12, "only {converting} samples convert");
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

    /// The samples as they are, only respelled, under any context (which of them the fast path
    /// must take: `respelled_samples_that_convert_take_the_fast_path`).
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

#[test]
fn respelling_ends_whatever_the_choices() {
    // A cycle of choices that asks for a decoy object before every member named "decoy" (a
    // decoy check, a decoy kind, the name's five characters: seven choices a level), and so
    // before the member of every decoy object, used to nest decoys without end: a stack
    // overflow, now and then, in the proptests. Every alignment of that cycle must end in JSON.
    let value = serde_json::json!({"decoy": {"b": ["c", null]}});
    let cycle = [10u8, 3, 1, 1, 1, 1, 1];
    let mut decoyed = 0;
    for rotation in 0..cycle.len() {
        let mut i = rotation;
        let bytes = tombstone_tests::respell(&value, &mut || {
            i += 1;
            cycle[i % cycle.len()]
        });
        let text = std::str::from_utf8(&bytes).unwrap();
        let parsed: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap();
        assert_eq!(parsed, value, "rotation {rotation}: {text}");
        decoyed += usize::from(text.contains("\"decoy\""));
    }
    assert!(decoyed > 0, "no alignment wrote a decoy object");
}
