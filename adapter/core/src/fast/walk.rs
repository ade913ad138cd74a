//! The checked walk: each value held to its candidates as the scanner reads it (a candidate
//! that fails is marked, never explained), and what the reads ask for kept.

use super::candidates::{Candidates, ALL_EVENTS, MAX_CANDIDATES, ROOT};
use super::kept::KeptValue;
use super::reads::ReadPosition;
use super::scanner::Scanner;
use super::tables::json_types::*;
use super::tables::{key_hash, Keywords, Literal};
use crate::sources::EventSpec;

/// What one pass found: what it kept of the payload and which events' schemas it passes.
#[doc(hidden)]
pub struct WalkResult<'a> {
    /// Only what detection and the mappings read.
    pub value: KeptValue<'a>,
    /// The slots of the events the payload was checked against.
    checked: u64,
    /// Those of them it fails.
    failed: u64,
}

impl WalkResult<'_> {
    /// Whether the payload passes `event`'s schema (`false` if it was not checked against it).
    pub fn passes(&self, event: &EventSpec) -> bool {
        super::candidates::events()
            .position(|e| std::ptr::eq(e, event))
            .is_some_and(|slot| (self.checked & !self.failed) & (1 << slot) != 0)
    }
}

/// The pass over `payload` (its byte-order mark already removed), or `None` when the slow path
/// must decide: malformed JSON, nesting deeper than the limit, anything the pass cannot be
/// sure `serde_json` reads the same way.
#[doc(hidden)]
pub fn walk(payload: &[u8]) -> Option<WalkResult<'_>> {
    walk_against(payload, &ROOT, ALL_EVENTS)
}

/// [`walk`], checking only the events whose `slots` the `candidates` are.
pub(super) fn walk_against<'a>(
    payload: &'a [u8],
    candidates: &Candidates,
    slots: u64,
) -> Option<WalkResult<'a>> {
    // UTF-8 checked once for the whole payload (with SIMD where the CPU has it), rather than
    // string by string.
    let text = simdutf8::basic::from_utf8(payload).ok()?;
    let mut scanner = Scanner {
        text,
        at: 0,
        failed: candidates.failed_at_start,
        depth: 0,
    };
    let mut value = KeptValue::Null;
    scanner.value(candidates, Some(ReadPosition::Node(0)), &mut value)?;
    scanner.white();
    if scanner.at != text.len() {
        return None;
    }
    Some(WalkResult {
        value,
        checked: slots,
        failed: scanner.failed,
    })
}

impl<'a> Scanner<'a> {
    /// One value, checked against `candidates`, and written to `out` if `reads` says it is kept.
    /// (Written in place rather than returned: a returned `Value`, read back by the caller
    /// after every value, cost more than the check of a scalar.)
    fn value(
        &mut self,
        candidates: &Candidates,
        reads: Option<ReadPosition>,
        out: &mut KeptValue<'a>,
    ) -> Option<()> {
        if reads.is_none() && candidates.is_empty() {
            // Nobody checks or reads it.
            return self.skip();
        }
        // Written only when kept: a value built and then dropped costs a call per value.
        let keep = reads.is_some();
        match self.next()? {
            b'{' => return self.object(candidates, reads, out),
            b'[' => return self.array(candidates, reads, out),
            b'"' => {
                let s = self.string()?;
                self.scalar(candidates, STRING, Some(Literal::Str(&s)), Some(&s));
                if keep {
                    *out = KeptValue::String(s);
                }
            }
            b't' => {
                self.literal(b"rue")?;
                self.scalar(candidates, BOOLEAN, Some(Literal::Bool(true)), None);
                if keep {
                    *out = KeptValue::Bool(true);
                }
            }
            b'f' => {
                self.literal(b"alse")?;
                self.scalar(candidates, BOOLEAN, Some(Literal::Bool(false)), None);
                if keep {
                    *out = KeptValue::Bool(false);
                }
            }
            b'n' => {
                self.literal(b"ull")?;
                self.scalar(candidates, NULL, Some(Literal::Null), None);
                if keep {
                    *out = KeptValue::Null;
                }
            }
            b'-' | b'0'..=b'9' => {
                self.at -= 1;
                let n = self.number()?;
                // jsonschema counts an integer-valued float as an integer; here only `number`
                // takes one, so a schema asking for `integer` sends it to the slow path.
                let ty = if n.is_f64() { NUMBER } else { INTEGER };
                // `enum` and `const` here hold no numbers.
                self.scalar(candidates, ty, None, None);
                if keep {
                    *out = KeptValue::Number(n);
                }
            }
            _ => return None,
        }
        Some(())
    }

    /// Checks a scalar of type bit `ty` (and, for strings and `enum`/`const`, its value).
    fn scalar(
        &mut self,
        candidates: &Candidates,
        ty: u8,
        literal: Option<Literal<'_>>,
        text: Option<&str>,
    ) {
        for (slots, check) in candidates.iter() {
            let ok = type_matches(check, ty)
                && match literal {
                    Some(literal) => check.allows(literal),
                    None => check.choices.is_none(),
                }
                && text.is_none_or(|s| length_ok(check, s));
            if !ok {
                self.failed |= slots;
            }
        }
    }

    /// The candidates that accept a container of type bit `ty`; the rest fail.
    #[inline(always)]
    fn container(&mut self, candidates: &Candidates, ty: u8) -> Candidates {
        let mut kept = Candidates::default();
        for (slots, check) in candidates.iter() {
            // `enum` and `const` hold only scalars here: no array or object is one of them.
            if check.types & ty == 0 || check.choices.is_some() {
                self.failed |= slots;
            } else {
                // `candidates` holds each check once: so does what is kept of it.
                let n = usize::from(kept.len);
                kept.slots[n] = slots;
                kept.checks[n] = check;
                kept.len += 1;
            }
        }
        kept
    }

    /// An object, its `{` consumed.
    fn object(
        &mut self,
        candidates: &Candidates,
        reads: Option<ReadPosition>,
        out: &mut KeptValue<'a>,
    ) -> Option<()> {
        let candidates = self.container(candidates, OBJECT);
        // The required members seen, per candidate.
        let mut seen = [0u64; MAX_CANDIDATES];
        let mut kept = Vec::new();
        // Where a value nobody reads goes: nothing is written to it, and it is dropped once
        // here rather than once per member.
        let mut unread = KeptValue::Null;
        // One member's candidates, refilled for each (what lies past `len` is never read, so
        // it is not cleared).
        let mut members = Candidates::default();
        self.members(|this, key| {
            let hash = key_hash(&key);
            members.clear();
            for (i, (slots, check)) in candidates.iter().enumerate() {
                let live = slots & !this.failed;
                if live == 0 {
                    // Failed on an earlier member (a `const` event name, say): no need to look
                    // further into this one.
                    continue;
                }
                let (sub, required) = check.member(&key, hash);
                seen[i] |= required;
                members.push(live, sub);
            }
            this.failed |= members.failed_at_start;
            match reads.and_then(|r| r.member(&key, hash)) {
                Some(read) => {
                    let mut value = KeptValue::Null;
                    this.value(&members, Some(read), &mut value)?;
                    kept.push((key, value));
                }
                None => this.value(&members, None, &mut unread)?,
            }
            Some(())
        })?;
        for (i, (slots, check)) in candidates.iter().enumerate() {
            if seen[i] != check.required {
                self.failed |= slots;
            }
        }
        if reads.is_some() {
            *out = KeptValue::Object(kept);
        }
        Some(())
    }

    /// An array, its `[` consumed.
    fn array(
        &mut self,
        candidates: &Candidates,
        reads: Option<ReadPosition>,
        out: &mut KeptValue<'a>,
    ) -> Option<()> {
        let candidates = self.container(candidates, ARRAY);
        let mut items = Candidates::default();
        for (slots, check) in candidates.iter() {
            let live = slots & !self.failed;
            if live != 0 {
                items.push(live, check.items);
            }
        }
        self.failed |= items.failed_at_start;
        let element_reads = reads.map(ReadPosition::element);
        let mut kept = Vec::new();
        // As in `object`: the one place values nobody reads go.
        let mut unread = KeptValue::Null;
        self.elements(|this| match element_reads {
            Some(read) => {
                let mut value = KeptValue::Null;
                this.value(&items, read, &mut value)?;
                // An element nobody reads inside is still an element (null): the count holds.
                kept.push(value);
                Some(())
            }
            None => this.value(&items, None, &mut unread),
        })?;
        if element_reads.is_some() {
            *out = KeptValue::Array(kept);
        }
        Some(())
    }
}

/// Whether a value of type bit `ty` has one of `check`'s types (an integer is a number too).
fn type_matches(check: &Keywords, ty: u8) -> bool {
    check.types & ty != 0 || (ty == INTEGER && check.types & NUMBER != 0)
}

fn length_ok(check: &Keywords, s: &str) -> bool {
    if check.min_length.is_none() && check.max_length.is_none() {
        return true;
    }
    let chars = s.chars().count();
    check.min_length.is_none_or(|n| chars >= n as usize)
        && check.max_length.is_none_or(|n| chars <= n as usize)
}
