//! Candidates: the subschemas the current value is held to, each with the events (one bit, or
//! slot, per event) that hold it to that subschema, and the candidates at the root of a payload.

use std::sync::LazyLock;

use super::tables::{CompiledSchema, Keywords};
use crate::sources::{EventSpec, Source};

/// Candidates: the subschemas the current value is held to, each with the event slots (bits)
/// that hold it to that subschema. Events that share a subschema (`build.rs` compiles identical
/// subschemas to one `Keywords`) share an entry, so it is checked once.
#[derive(Clone, Copy)]
pub struct Candidates {
    pub(super) len: u8,
    pub(super) slots: [u64; MAX_CANDIDATES],
    pub(super) checks: [&'static Keywords; MAX_CANDIDATES],
    /// Slots that failed while these were chosen.
    pub(super) failed_at_start: u64,
}

/// How many distinct subschemas are checked at once; an event past this always takes the slow
/// path (checked at compile time for every source's events).
pub(crate) const MAX_CANDIDATES: usize = 8;
// Past MAX_CANDIDATES an event would always take the slow path: raise it.
const _: () = assert!(EVENTS <= MAX_CANDIDATES, "more events than candidates");

impl Default for Candidates {
    fn default() -> Candidates {
        Candidates {
            len: 0,
            slots: [0; MAX_CANDIDATES],
            checks: [&Keywords::ANY; MAX_CANDIDATES],
            failed_at_start: 0,
        }
    }
}

impl Candidates {
    /// Adds `slots` held to `sub`: `Any` needs no check, `Never` and `Unsupported` fail them.
    #[inline]
    pub(super) fn push(&mut self, slots: u64, sub: CompiledSchema) {
        match sub {
            CompiledSchema::Any => {}
            CompiledSchema::Never | CompiledSchema::Unsupported => self.failed_at_start |= slots,
            CompiledSchema::Keywords(check) => self.keep(slots, check),
        }
    }

    #[inline]
    pub(super) fn keep(&mut self, slots: u64, check: &'static Keywords) {
        let n = usize::from(self.len);
        if let Some(i) = self.checks[..n]
            .iter()
            .position(|c| std::ptr::eq(*c, check))
        {
            self.slots[i] |= slots;
        } else if n == MAX_CANDIDATES {
            self.failed_at_start |= slots;
        } else {
            self.slots[n] = slots;
            self.checks[n] = check;
            self.len += 1;
        }
    }

    /// No candidates, as [`Candidates::default`], without clearing every entry.
    #[inline]
    pub(super) fn clear(&mut self) {
        self.len = 0;
        self.failed_at_start = 0;
    }

    #[inline]
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &'static Keywords)> + '_ {
        let n = usize::from(self.len);
        self.slots[..n]
            .iter()
            .copied()
            .zip(self.checks[..n].iter().copied())
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Every event of every source, in [`Source::ALL`] order: the candidates' slots.
pub(super) fn events() -> impl Iterator<Item = &'static EventSpec> {
    Source::ALL.iter().flat_map(|s| s.events().iter())
}

/// How many events there are: each has a bit of a `u64` in the walk.
pub(super) const EVENTS: usize = {
    let mut n = 0;
    let mut s = 0;
    while s < Source::ALL.len() {
        n += Source::ALL[s].spec().events.len();
        s += 1;
    }
    n
};
const _: () = assert!(EVENTS <= 64, "a u64 holds the failed slots");

/// The candidates at the root: every event's schema, its slot the event's position in
/// [`events`]. Built once (the tables are `static`; pointer comparisons are not `const`).
pub(super) static ROOT: LazyLock<Candidates> = LazyLock::new(|| root_candidates(ALL_EVENTS));

/// For each source of [`Source::ALL`], the slots of its events and their candidates at the root.
pub(super) static SOURCE_ROOTS: LazyLock<Vec<(u64, Candidates)>> = LazyLock::new(|| {
    Source::ALL
        .iter()
        .map(|source| {
            let slots = events()
                .enumerate()
                .filter(|(_, event)| source.events().iter().any(|e| std::ptr::eq(e, *event)))
                .fold(0, |slots, (slot, _)| slots | 1 << slot);
            (slots, root_candidates(slots))
        })
        .collect()
});

/// The slots of all events.
pub(super) const ALL_EVENTS: u64 = u64::MAX >> (64 - EVENTS);

/// The candidates at the root for the events whose slots are `slots`.
pub(super) fn root_candidates(slots: u64) -> Candidates {
    let mut candidates = Candidates::default();
    for (slot, event) in events().enumerate() {
        if slots & 1 << slot != 0 {
            candidates.push(1 << slot, event.schema.compiled);
        }
    }
    candidates
}
