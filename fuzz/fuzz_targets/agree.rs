//! The fast path and the slow path agree on any bytes: whenever `fast::convert` converts a
//! payload, `convert_slow` converts it to the very same conversion (and the same JSON bytes);
//! and `convert` always answers exactly what the slow path answers, problems included; and
//! detection on the fast path, whenever it answers, answers what detection on the whole `Value`
//! answers (`tests/it/fast_path.rs` requires it to answer for every JSON payload of the table
//! and every respelled sample).
//!
//! Structure comes from the seed corpus (the real sample payloads, which libFuzzer mutates with
//! a dictionary of the schemas' names and values: `fuzz/dict.py`), and from respelling: when
//! the input is JSON, the same value is also checked spelled another way (escapes, white space,
//! float spellings, decoy duplicate members, a byte-order mark), driven by the input's bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tombstone_core::{
    convert, convert_slow, detect_event, detect_event_slow, fast, Context, Conversion, EventSpec,
    Problem, Source,
};

fn printed(outcome: &Result<Conversion, Problem>) -> String {
    match outcome {
        Ok(c) => c.to_json(),
        Err(p) => p.to_json(),
    }
}

fn check(payload: &[u8], ctx: &Context) {
    let slow = convert_slow(payload, ctx);
    if let Some(conversion) = fast::convert(payload, ctx) {
        match &slow {
            Ok(expected) => {
                assert_eq!(&conversion, expected);
                assert_eq!(conversion.to_json(), expected.to_json());
            }
            Err(problem) => panic!(
                "the fast path converted what the slow path refuses: {}",
                problem.to_json()
            ),
        }
    }
    assert_eq!(printed(&convert(payload, ctx)), printed(&slow));
    // Detection (what the `auto` route asks before it converts) agrees too.
    let named = |found: Option<(Source, &EventSpec)>| found.map(|(s, e)| (s.name(), e.name));
    let slow_detection = named(detect_event_slow(payload));
    if let Some(found) = fast::detect(payload) {
        assert_eq!(named(found), slow_detection);
    }
    assert_eq!(named(detect_event(payload)), slow_detection);
}

fuzz_target!(|data: &[u8]| {
    let ctx = tombstone_tests::fuzz_context(data);
    check(data, &ctx);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let mut i = 0usize;
        let mut choose = || {
            i += 1;
            data[i % data.len()].wrapping_add(i as u8)
        };
        check(&tombstone_tests::respell(&value, &mut choose), &ctx);
    }
});
