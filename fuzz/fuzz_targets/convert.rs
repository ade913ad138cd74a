//! `detect → validate → convert` on arbitrary bytes, under every forced source and auto.
//!
//! Checks more than "no panic": a successful conversion must re-convert to itself as a canonical
//! request, its task id must be a Cloud Tasks id, and a problem must render to JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tombstone_core::{convert, Source};

fuzz_target!(|data: &[u8]| {
    // The last byte picks the context (`fuzz_context`); it stays part of the payload.
    let payload = data;
    let ctx = tombstone_tests::fuzz_context(data);
    match convert(payload, &ctx) {
        Ok(conversion) => {
            let id = conversion.task_id.as_str();
            assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()));
            let body = conversion.request.to_json();
            let mut again_ctx = ctx.clone();
            again_ctx.source = Some(Source::CANONICAL);
            again_ctx.idempotency_key = Some(conversion.idempotency_key.clone());
            let again = convert(body.as_bytes(), &again_ctx).expect("a canonical body re-converts");
            assert_eq!(again.request, conversion.request);
            assert_eq!(again.task_id, conversion.task_id);
        }
        Err(problem) => {
            let json = problem.to_json();
            assert!(json.starts_with("{\"type\":\"urn:tombstone:problem:"));
        }
    }
});
