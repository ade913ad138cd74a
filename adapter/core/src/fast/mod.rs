//! The fast path: one streaming pass over a payload that checks it against every event's
//! schema at once and keeps only the fields detection and the mappings read, without building
//! a `serde_json::Value` tree of the whole payload.
//!
//! The walk is a strict JSON scanner of its own (`serde_json` decodes only its strings with
//! escapes and its numbers other than plain integers) that is directed by the schemas. Every event's
//! schema, compiled at build time into static tables (`build.rs`), is a *candidate*; each value
//! is checked against the subschema each candidate has for it, and a candidate that fails is
//! marked. Values no candidate constrains and no one reads are skipped without being kept. What
//! the sources read ([`crate::sources::SourceSpec::detected_by`] and
//! [`crate::sources::EventSpec::reads`]) is kept, borrowed from the payload where it can be
//! ([`KeptValue`]): the same detection and the same mapping then run on it, through
//! [`crate::json::Payload`].
//!
//! The walk decides only "passes" for a candidate, never why something fails: any failure, any
//! keyword it does not check exactly, a nesting past the limit, malformed JSON — the payload
//! takes the slow path (`Value` + the generated jsonschema validators), which says exactly what
//! is wrong. So the fast path may be narrower than JSON Schema, but it can never disagree with
//! it; the agreement tests (`tests/fast_path.rs`, `fuzz/fuzz_targets/agree.rs`) hold it to that.

//! The parts, from the data up:
//!
//! - `tables.rs`: the schemas compiled into static tables at build time (`build.rs`);
//! - `reads.rs`: the pointers the sources read, as a tree built at compile time;
//! - `candidates.rs`: the subschemas a value is held to, one per event that still passes;
//! - `scanner.rs`: the JSON grammar, read strictly, with nothing kept;
//! - `walk.rs`: the checked walk, which holds each value to its candidates as the scanner reads
//!   it and keeps what the reads ask for (`kept.rs`: a [`KeptValue`]).

mod candidates;
mod kept;
mod reads;
mod scanner;
pub mod tables;
#[cfg(test)]
mod tests;
mod walk;

use crate::context::Context;
use crate::conversion::Conversion;
use crate::error::FieldError;
use crate::pipeline;
use crate::sources::{EventSpec, Source};

pub use kept::KeptValue;
pub use walk::{walk, WalkResult};

use candidates::Candidates;
use walk::walk_against;

/// The conversion of `payload` on the fast path, or `None` when the slow path must answer
/// ([`crate::convert_slow`]): the payload is refused, or the fast path cannot tell.
pub fn convert(payload: &[u8], ctx: &Context) -> Option<Conversion> {
    pipeline::check_size(payload, ctx).ok()?;
    let bytes = pipeline::without_bom(payload);
    // A named source's payload is only ever held to that source's events' schemas: the walk
    // checks no other.
    let walked = match ctx.source {
        Some(source) => {
            let (slots, candidates) =
                &candidates::SOURCE_ROOTS[Source::ALL.iter().position(|s| *s == source)?];
            walk_against(bytes, candidates, *slots)
        }
        None => walk(bytes),
    }?;
    let validate = |event: &EventSpec| {
        if walked.passes(event) {
            Vec::new()
        } else {
            // Never shown: the slow path answers instead.
            vec![FieldError::new("", "fast-path", "")]
        }
    };
    pipeline::convert_value(payload, &walked.value, validate, ctx).ok()
}

/// The source and deletion event `payload` looks like ([`crate::detect_event`]), from a walk
/// that checks no schema and keeps only what the sources read; `None` when the walk cannot
/// tell (the slow path's detection answers).
pub fn detect(payload: &[u8]) -> Option<Option<(Source, &'static EventSpec)>> {
    let walked = walk_against(pipeline::without_bom(payload), &Candidates::default(), 0)?;
    Some(pipeline::detect_value(&walked.value).ok())
}
