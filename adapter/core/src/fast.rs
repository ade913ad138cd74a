//! The fast path: one streaming pass over a payload that checks it against every event's
//! schema at once and keeps only the fields detection and the mappings read, without building
//! a `serde_json::Value` tree of the whole payload.
//!
//! [`walk`] is a strict JSON parser of its own (`serde_json` decodes only its strings with
//! escapes and its numbers other than plain integers) that is directed by the schemas. Every event's
//! schema, compiled at build time into static tables (`build.rs`), is a *candidate*; each value
//! is checked against the subschema each candidate has for it, and a candidate that fails is
//! marked. Values no candidate constrains and no one reads are skipped without being kept. What
//! the sources read ([`crate::sources::SourceSpec::detected_by`] and
//! [`crate::sources::EventSpec::reads`]) is kept, borrowed from the payload where it can be
//! ([`Kept`]): the same detection and the same mapping then run on it, through
//! [`crate::json::Payload`].
//!
//! The walk decides only "passes" for a candidate, never why something fails: any failure, any
//! keyword it does not check exactly, a nesting past the limit, malformed JSON — the payload
//! takes the slow path (`Value` + the generated jsonschema validators), which says exactly what
//! is wrong. So the fast path may be narrower than JSON Schema, but it can never disagree with
//! it; the agreement tests (`tests/fast_path.rs`, `fuzz/fuzz_targets/agree.rs`) hold it to that.

use std::borrow::Cow;
use std::sync::LazyLock;

use serde_json::Number;

use crate::context::Context;
use crate::conversion::Conversion;
use crate::error::FieldError;
use crate::json::{Field, Payload};
use crate::limits::MAX_DEPTH;
use crate::sources::{EventSpec, Source};

/// JSON types, as bits.
pub(crate) mod types {
    pub const NULL: u8 = 1;
    pub const BOOLEAN: u8 = 2;
    pub const INTEGER: u8 = 4;
    pub const NUMBER: u8 = 8;
    pub const STRING: u8 = 16;
    pub const ARRAY: u8 = 32;
    pub const OBJECT: u8 = 64;
    pub const ALL: u8 = 127;
}
use types::*;

/// A compiled subschema.
#[derive(Debug, Clone, Copy)]
pub enum Sub {
    /// Anything passes (`true`, `{}`, annotations only).
    Any,
    /// Nothing passes (`false`).
    Never,
    /// A keyword the fast path does not check exactly: whatever reaches it takes the slow path.
    Unsupported,
    /// The keywords it checks.
    Check(&'static Check),
}

/// The checked keywords of one subschema.
#[derive(Debug)]
pub struct Check {
    /// `type`, as [`types`] bits.
    pub types: u8,
    /// `enum` or `const`.
    pub choices: Option<&'static [Literal<'static>]>,
    /// `minLength`, in characters.
    pub min_length: Option<u32>,
    /// `maxLength`, in characters.
    pub max_length: Option<u32>,
    /// `properties`, with every `required` name, sorted by [`key_hash`].
    pub properties: &'static [Prop],
    /// The bits of all `required` names ([`Prop::required`]).
    pub required: u64,
    /// `properties` by hash: slot `(hash >> shift) % slots.len()` holds the index plus one of
    /// the only property whose name can have that hash, or 0 (`build.rs` finds a shift and a
    /// power-of-two length without collisions).
    pub slots: &'static [u8],
    /// See [`Check::slots`].
    pub shift: u32,
    /// `additionalProperties`.
    pub additional: Sub,
    /// `items`.
    pub items: Sub,
}

impl Check {
    /// No constraint: what an absent keyword means.
    pub const ANY: Check = Check {
        types: ALL,
        choices: None,
        min_length: None,
        max_length: None,
        properties: &[],
        required: 0,
        slots: &[],
        shift: 0,
        additional: Sub::Any,
        items: Sub::Any,
    };

    /// The subschema of the member `name` (whose [`key_hash`] is `hash`), and its `required`
    /// bit (if it is required).
    fn member(&self, name: &str, hash: u64) -> (Sub, u64) {
        // One probe: the only property this hash can be.
        let slot = match self.slots.len() {
            0 => 0,
            len => self.slots[((hash >> self.shift) as usize) & (len - 1)],
        };
        match self.properties.get(usize::from(slot).wrapping_sub(1)) {
            Some(p) if p.hash == hash && same_name(p.name.as_bytes(), name.as_bytes()) => {
                (p.sub, p.required)
            }
            _ => (self.additional, 0),
        }
    }

    fn allows(&self, literal: Literal<'_>) -> bool {
        self.choices
            .is_none_or(|choices: &[Literal<'_>]| choices.contains(&literal))
    }
}

include!("key_hash.rs");

/// Whether two member names are equal: after their hashes matched, so nearly always yes. An
/// inline comparison, word by word: cheaper for short names than a call to `memcmp`.
#[inline]
fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut x = a.chunks_exact(8);
    let mut y = b.chunks_exact(8);
    for (p, q) in (&mut x).zip(&mut y) {
        if p != q {
            return false;
        }
    }
    x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
}

/// One member a schema names: in `properties`, in `required`, or both.
#[derive(Debug)]
pub struct Prop {
    /// The member's name.
    pub name: &'static str,
    /// [`key_hash`] of the name: members are sorted by it.
    pub hash: u64,
    /// Its subschema (`additionalProperties` for a name only `required` lists).
    pub sub: Sub,
    /// Its bit among the `required` names (`1 << position`), or 0 when it is not required.
    pub required: u64,
}

/// A scalar of `enum` or `const`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Literal<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A string.
    Str(&'a str),
}

include!(concat!(env!("OUT_DIR"), "/compiled_schemas.rs"));

/// Byte equality, for [`compiled`] at compile time.
const fn same(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// The conversion of `payload` on the fast path, or `None` when the slow path must answer
/// ([`crate::convert_slow`]): the payload is refused, or the fast path cannot tell.
pub fn convert(payload: &[u8], ctx: &Context) -> Option<Conversion> {
    crate::check_size(payload, ctx).ok()?;
    let bytes = crate::without_bom(payload);
    // A named source's payload is only ever held to that source's events' schemas: the walk
    // checks no other.
    let walked = match ctx.source {
        Some(source) => {
            let (slots, cands) = &SOURCE_ROOTS[Source::ALL.iter().position(|s| *s == source)?];
            walk_against(bytes, cands, *slots)
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
    crate::convert_value(payload, &walked.value, validate, ctx).ok()
}

/// The source and deletion event `payload` looks like ([`crate::detect_event`]), from a walk
/// that checks no schema and keeps only what the sources read; `None` when the walk cannot
/// tell (the slow path's detection answers).
pub fn detect(payload: &[u8]) -> Option<Option<(Source, &'static EventSpec)>> {
    let walked = walk_against(crate::without_bom(payload), &Cands::default(), 0)?;
    Some(crate::detect_value(&walked.value).ok())
}

/// What one pass found: what it kept of the payload and which events' schemas it passes.
#[doc(hidden)]
pub struct Walked<'a> {
    /// Only what detection and the mappings read.
    pub value: Kept<'a>,
    /// The slots of the events the payload was checked against.
    checked: u64,
    /// Those of them it fails.
    failed: u64,
}

/// What the walk keeps of a value: scalars as they are (strings borrowed from the payload
/// unless they have escapes), and of containers only the members and elements that are read.
/// An element nobody reads inside is kept as `Null`, so that an array keeps its length.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Kept<'a> {
    /// `null`, or an element nobody reads inside.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Kept<'a>>),
    /// The members of an object that are read, in the payload's order (a repeated name's last
    /// value counts, as in `serde_json`'s `Value`).
    Object(Vec<(Cow<'a, str>, Kept<'a>)>),
}

impl Payload for Kept<'_> {
    fn at(&self, pointer: &str) -> Option<Field<'_>> {
        let node = crate::json::follow(self, pointer, |node, token| match node {
            Kept::Object(members) => members
                .iter()
                .rev()
                .find(|(name, _)| name == token)
                .map(|(_, value)| value),
            Kept::Array(items) => items.get(crate::json::array_index(token)?),
            _ => None,
        })?;
        Some(match node {
            Kept::Null => Field::Null,
            Kept::Bool(b) => Field::Bool(*b),
            Kept::Number(_) => Field::Number,
            Kept::String(s) => Field::String(s),
            Kept::Array(items) => Field::Array(items.len()),
            Kept::Object(_) => Field::Object,
        })
    }
}

impl Walked<'_> {
    /// Whether the payload passes `event`'s schema (`false` if it was not checked against it).
    pub fn passes(&self, event: &EventSpec) -> bool {
        events()
            .position(|e| std::ptr::eq(e, event))
            .is_some_and(|slot| (self.checked & !self.failed) & (1 << slot) != 0)
    }
}

/// Every event of every source, in [`Source::ALL`] order: the candidates' slots.
fn events() -> impl Iterator<Item = &'static EventSpec> {
    Source::ALL.iter().flat_map(|s| s.events().iter())
}

/// How many events there are: each has a bit of a `u64` in the walk.
const EVENTS: usize = {
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
static ROOT: LazyLock<Cands> = LazyLock::new(|| candidates(ALL_EVENTS));

/// For each source of [`Source::ALL`], the slots of its events and their candidates at the root.
static SOURCE_ROOTS: LazyLock<Vec<(u64, Cands)>> = LazyLock::new(|| {
    Source::ALL
        .iter()
        .map(|source| {
            let slots = events()
                .enumerate()
                .filter(|(_, event)| source.events().iter().any(|e| std::ptr::eq(e, *event)))
                .fold(0, |slots, (slot, _)| slots | 1 << slot);
            (slots, candidates(slots))
        })
        .collect()
});

/// The slots of all events.
const ALL_EVENTS: u64 = u64::MAX >> (64 - EVENTS);

/// The candidates at the root for the events whose slots are `slots`.
fn candidates(slots: u64) -> Cands {
    let mut cands = Cands::default();
    for (slot, event) in events().enumerate() {
        if slots & 1 << slot != 0 {
            cands.push(1 << slot, event.schema.compiled);
        }
    }
    cands
}

/// The pass over `payload` (its byte-order mark already removed), or `None` when the slow path
/// must decide: malformed JSON, nesting deeper than the limit, anything the pass cannot be
/// sure `serde_json` reads the same way.
#[doc(hidden)]
pub fn walk(payload: &[u8]) -> Option<Walked<'_>> {
    walk_against(payload, &ROOT, ALL_EVENTS)
}

/// [`walk`], checking only the events whose `slots` the `cands` are.
fn walk_against<'a>(payload: &'a [u8], cands: &Cands, slots: u64) -> Option<Walked<'a>> {
    // UTF-8 checked once for the whole payload (with SIMD where the CPU has it), rather than
    // string by string.
    let text = simdutf8::basic::from_utf8(payload).ok()?;
    let mut parser = Parser {
        text,
        at: 0,
        failed: cands.failed_at_start,
        depth: 0,
    };
    let mut value = Kept::Null;
    parser.value(cands, Some(Read::Node(0)), &mut value)?;
    parser.white();
    if parser.at != text.len() {
        return None;
    }
    Some(Walked {
        value,
        checked: slots,
        failed: parser.failed,
    })
}

/// Where the walk is in the pointers the sources read: a node of [`READS`], or below a
/// pointer's end (kept whole).
#[derive(Clone, Copy)]
enum Read {
    /// Everything below is kept.
    Whole,
    /// A node of [`READS`].
    Node(u16),
}

impl Read {
    #[inline(always)]
    fn member(self, name: &str, hash: u64) -> Option<Read> {
        let node = match self {
            Read::Whole => return Some(Read::Whole),
            Read::Node(i) => &READS.nodes[usize::from(i)],
        };
        if node.whole {
            return Some(Read::Whole);
        }
        if node.names & name_bit(hash) == 0 {
            // Most members of an object are read by nobody: one test says so, in line.
            return None;
        }
        Read::edge(node, name, hash)
    }

    /// The edge of `node` named `name`, if it has one.
    #[inline(never)]
    fn edge(node: &ReadNode, name: &str, hash: u64) -> Option<Read> {
        let edges = &READS.edges[usize::from(node.first_edge)..][..usize::from(node.edges)];
        // Names of one level may share a hash: look at each that does.
        let start = edges.partition_point(|e| e.hash < hash);
        edges[start..]
            .iter()
            .take_while(|e| e.hash == hash)
            .find(|e| same_name(e.token, name.as_bytes()))
            .map(|e| Read::Node(e.child))
    }

    fn element(self) -> Option<Read> {
        match self {
            Read::Whole => Some(Read::Whole),
            Read::Node(i) => {
                let node = &READS.nodes[usize::from(i)];
                if node.whole {
                    Some(Read::Whole)
                } else if node.every == NONE {
                    None
                } else {
                    Some(Read::Node(node.every))
                }
            }
        }
    }
}

/// The pointers the sources read ([`crate::sources::SourceSpec::detected_by`],
/// [`crate::sources::EventSpec::reads`]) as a tree of reference tokens, built at compile time: a
/// fresh wasm instance per request finds it ready.
static READS: ReadTree = ReadTree::build();

/// Room in [`READS`]; a compile-time error says when the sources read more.
const READ_CAPACITY: usize = 96;
const NONE: u16 = u16::MAX;

#[derive(Clone, Copy)]
struct ReadNode {
    /// A pointer ends here: the value is kept whole.
    whole: bool,
    /// The node of `*` (every element of an array), or [`NONE`].
    every: u16,
    /// This node's edges: `edges[first_edge..first_edge + edges]`, sorted by hash.
    first_edge: u16,
    edges: u16,
    /// [`name_bit`] of every edge's name: a member whose bit is not here is not read.
    names: u64,
}

/// One of 64 bits for a member name's hash, chosen by its top six bits.
#[inline]
const fn name_bit(hash: u64) -> u64 {
    1 << (hash >> 58)
}

#[derive(Clone, Copy)]
struct ReadEdge {
    parent: u16,
    hash: u64,
    token: &'static [u8],
    child: u16,
}

struct ReadTree {
    nodes: [ReadNode; READ_CAPACITY],
    edges: [ReadEdge; READ_CAPACITY],
}

impl ReadTree {
    const fn build() -> ReadTree {
        let node = ReadNode {
            whole: false,
            every: NONE,
            first_edge: 0,
            edges: 0,
            names: 0,
        };
        let edge = ReadEdge {
            parent: NONE,
            hash: 0,
            token: b"",
            child: NONE,
        };
        let mut tree = ReadTree {
            nodes: [node; READ_CAPACITY],
            edges: [edge; READ_CAPACITY],
        };
        let (mut nodes, mut edges) = (1usize, 0usize);
        let mut s = 0;
        while s < Source::ALL.len() {
            let spec = Source::ALL[s].spec();
            let mut p = 0;
            while p < spec.detected_by.len() {
                (nodes, edges) = tree.insert(spec.detected_by[p], nodes, edges);
                p += 1;
            }
            let mut e = 0;
            while e < spec.events.len() {
                let reads = spec.events[e].reads;
                let mut p = 0;
                while p < reads.len() {
                    (nodes, edges) = tree.insert(reads[p], nodes, edges);
                    p += 1;
                }
                e += 1;
            }
            s += 1;
        }
        // Edges by (parent, hash): each node's edges are then one sorted run.
        let mut i = 1;
        while i < edges {
            let mut j = i;
            while j > 0 && ReadTree::before(&tree.edges[j], &tree.edges[j - 1]) {
                let swap = tree.edges[j];
                tree.edges[j] = tree.edges[j - 1];
                tree.edges[j - 1] = swap;
                j -= 1;
            }
            i += 1;
        }
        let mut e = 0;
        while e < edges {
            let parent = tree.edges[e].parent as usize;
            if tree.nodes[parent].edges == 0 {
                tree.nodes[parent].first_edge = e as u16;
            }
            tree.nodes[parent].edges += 1;
            tree.nodes[parent].names |= name_bit(tree.edges[e].hash);
            e += 1;
        }
        tree
    }

    const fn before(a: &ReadEdge, b: &ReadEdge) -> bool {
        a.parent < b.parent || (a.parent == b.parent && a.hash < b.hash)
    }

    /// Adds one pointer; returns the node and edge counts.
    const fn insert(
        &mut self,
        pointer: &'static str,
        nodes: usize,
        edges: usize,
    ) -> (usize, usize) {
        let (mut nodes, mut edges) = (nodes, edges);
        let bytes = pointer.as_bytes();
        assert!(
            !bytes.is_empty() && bytes[0] == b'/',
            "a read is a JSON Pointer into the payload"
        );
        let mut at = 0usize;
        let mut rest = bytes.split_at(1).1;
        loop {
            let mut end = 0;
            while end < rest.len() && rest[end] != b'/' {
                assert!(
                    rest[end] != b'~',
                    "escaped tokens are not supported in reads"
                );
                end += 1;
            }
            let (token, tail) = rest.split_at(end);
            let child = if token.len() == 1 && token[0] == b'*' {
                if self.nodes[at].every == NONE {
                    assert!(nodes < READ_CAPACITY, "raise READ_CAPACITY");
                    self.nodes[at].every = nodes as u16;
                    nodes += 1;
                }
                self.nodes[at].every as usize
            } else {
                let mut found = NONE as usize;
                let mut e = 0;
                while e < edges {
                    if self.edges[e].parent as usize == at && same_bytes(self.edges[e].token, token)
                    {
                        found = self.edges[e].child as usize;
                    }
                    e += 1;
                }
                if found == NONE as usize {
                    assert!(
                        nodes < READ_CAPACITY && edges < READ_CAPACITY,
                        "raise READ_CAPACITY"
                    );
                    self.edges[edges] = ReadEdge {
                        parent: at as u16,
                        hash: key_hash_bytes(token),
                        token,
                        child: nodes as u16,
                    };
                    edges += 1;
                    found = nodes;
                    nodes += 1;
                }
                found
            };
            at = child;
            if tail.is_empty() {
                break;
            }
            rest = tail.split_at(1).1;
        }
        self.nodes[at].whole = true;
        (nodes, edges)
    }
}

/// Byte equality, at compile time.
const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Candidates: the subschemas the current value is held to, each with the event slots (bits)
/// that hold it to that subschema. Events that share a subschema (`build.rs` compiles identical
/// subschemas to one `Check`) share an entry, so it is checked once.
#[derive(Clone, Copy)]
struct Cands {
    len: u8,
    slots: [u64; MAX_CANDIDATES],
    checks: [&'static Check; MAX_CANDIDATES],
    /// Slots that failed while these were chosen.
    failed_at_start: u64,
}

/// How many distinct subschemas are checked at once; an event past this always takes the slow
/// path (checked at compile time for every source's events).
pub(crate) const MAX_CANDIDATES: usize = 8;
// Past MAX_CANDIDATES an event would always take the slow path: raise it.
const _: () = assert!(EVENTS <= MAX_CANDIDATES, "more events than candidates");

impl Default for Cands {
    fn default() -> Cands {
        Cands {
            len: 0,
            slots: [0; MAX_CANDIDATES],
            checks: [&Check::ANY; MAX_CANDIDATES],
            failed_at_start: 0,
        }
    }
}

impl Cands {
    /// Adds `slots` held to `sub`: `Any` needs no check, `Never` and `Unsupported` fail them.
    #[inline]
    fn push(&mut self, slots: u64, sub: Sub) {
        match sub {
            Sub::Any => {}
            Sub::Never | Sub::Unsupported => self.failed_at_start |= slots,
            Sub::Check(check) => self.keep(slots, check),
        }
    }

    #[inline]
    fn keep(&mut self, slots: u64, check: &'static Check) {
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

    /// No candidates, as [`Cands::default`], without clearing every entry.
    #[inline]
    fn clear(&mut self) {
        self.len = 0;
        self.failed_at_start = 0;
    }

    fn iter(&self) -> impl Iterator<Item = (u64, &'static Check)> + '_ {
        let n = usize::from(self.len);
        self.slots[..n]
            .iter()
            .copied()
            .zip(self.checks[..n].iter().copied())
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The pass itself: a strict JSON parser that checks each value against the candidates as it
/// goes and keeps what `reads` asks for.
///
/// It accepts only JSON that `serde_json` reads the very same way, and answers `None` for the
/// rest (the slow path then decides): it finds the extent of a string with escapes or of a
/// number other than a plain non-negative integer itself, and hands that slice to
/// `serde_json` to decode, so escapes, lone surrogates, float rounding and out-of-range numbers
/// are exactly `serde_json`'s. What `serde_json` rejects — a control character in a string,
/// a leading zero, a trailing comma, anything after the value — this rejects too.
struct Parser<'a> {
    /// The payload, whose UTF-8 is already checked.
    text: &'a str,
    /// The next byte to read.
    at: usize,
    /// The event slots that failed.
    failed: u64,
    /// How many arrays and objects enclose the current value.
    depth: usize,
}

/// Bytes the string scan stops at: `"`, `\` and the control characters.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The first byte at or after `i` that ends a plain run of a string: `"`, `\` or a control
/// character (below 0x20); `bytes.len()` if none does. Eight bytes at a time: per term, the
/// lowest flagged byte is always a real one (a false flag needs a borrow from a real one below
/// it), so the lowest flag of the three is the first such byte.
#[inline]
fn string_stop(bytes: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGH;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = bytes.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

impl<'a> Parser<'a> {
    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skips white space (JSON's four characters, as `serde_json`).
    #[inline(always)]
    fn white(&mut self) {
        let bytes = self.bytes();
        while let Some(&c) = bytes.get(self.at) {
            match c {
                b'\n' => {
                    self.at += 1;
                    // A line's indentation: its spaces counted eight at a time.
                    if let Some(chunk) = bytes.get(self.at..self.at + 8) {
                        let other = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))
                            ^ (ONES * u64::from(b' '));
                        self.at += (other.trailing_zeros() / 8) as usize;
                    }
                }
                b' ' | b'\t' | b'\r' => self.at += 1,
                _ => break,
            }
        }
    }

    /// The next byte after white space, consumed.
    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        self.white();
        let c = *self.bytes().get(self.at)?;
        self.at += 1;
        Some(c)
    }

    /// Consumes `rest`, the remainder of `true`, `false` or `null`.
    fn literal(&mut self, rest: &[u8]) -> Option<()> {
        if self.bytes()[self.at..].starts_with(rest) {
            self.at += rest.len();
            Some(())
        } else {
            None
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A string, its opening quote consumed: borrowed when it has no escapes.
    #[inline]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at;
        let end = string_stop(self.bytes(), start);
        match self.bytes().get(end) {
            Some(b'"') => {
                self.at = end + 1;
                // Both ends are at ASCII quotes: on character boundaries.
                self.text.get(start..end).map(Cow::Borrowed)
            }
            Some(b'\\') => self.escaped(start),
            _ => None,
        }
    }

    /// A string with escapes: its extent found here, decoded by `serde_json`.
    #[cold]
    fn escaped(&mut self, start: usize) -> Option<Cow<'a, str>> {
        let bytes = self.bytes();
        let mut i = start;
        loop {
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => i += 2,
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
        self.at = i + 1;
        let literal = self.text.get(start - 1..=i)?;
        serde_json::from_str::<String>(literal).ok().map(Cow::Owned)
    }

    /// A number, at its first byte: a plain non-negative integer of up to 19 digits is read
    /// here; any other is handed to `serde_json`, so that its type (`-0` and `1.0` are floats,
    /// an integer past `u64` too) and its value are `serde_json`'s.
    #[inline]
    fn number(&mut self) -> Option<Number> {
        let bytes = self.bytes();
        let start = self.at;
        let mut end = start;
        let mut n = 0u64;
        let mut plain = true;
        while let Some(&c) = bytes.get(end) {
            match c {
                b'0'..=b'9' => n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0')),
                b'-' | b'+' | b'.' | b'e' | b'E' => plain = false,
                _ => break,
            }
            end += 1;
        }
        self.at = end;
        let digits = end - start;
        if plain && digits <= 19 && (bytes[start] != b'0' || digits == 1) {
            return Some(Number::from(n));
        }
        serde_json::from_str(self.text.get(start..end)?).ok()
    }

    /// One value, checked against `cands`, and written to `out` if `reads` says it is kept.
    /// (Written in place rather than returned: a returned `Value`, read back by the caller
    /// after every value, cost more than the check of a scalar.)
    fn value(&mut self, cands: &Cands, reads: Option<Read>, out: &mut Kept<'a>) -> Option<()> {
        if reads.is_none() && cands.is_empty() {
            // Nobody checks or reads it.
            return self.skip();
        }
        // Written only when kept: a value built and then dropped costs a call per value.
        let keep = reads.is_some();
        match self.next()? {
            b'{' => return self.object(cands, reads, out),
            b'[' => return self.array(cands, reads, out),
            b'"' => {
                let s = self.string()?;
                self.scalar(cands, STRING, Some(Literal::Str(&s)), Some(&s));
                if keep {
                    *out = Kept::String(s);
                }
            }
            b't' => {
                self.literal(b"rue")?;
                self.scalar(cands, BOOLEAN, Some(Literal::Bool(true)), None);
                if keep {
                    *out = Kept::Bool(true);
                }
            }
            b'f' => {
                self.literal(b"alse")?;
                self.scalar(cands, BOOLEAN, Some(Literal::Bool(false)), None);
                if keep {
                    *out = Kept::Bool(false);
                }
            }
            b'n' => {
                self.literal(b"ull")?;
                self.scalar(cands, NULL, Some(Literal::Null), None);
                if keep {
                    *out = Kept::Null;
                }
            }
            b'-' | b'0'..=b'9' => {
                self.at -= 1;
                let n = self.number()?;
                // jsonschema counts an integer-valued float as an integer; here only `number`
                // takes one, so a schema asking for `integer` sends it to the slow path.
                let ty = if n.is_f64() { NUMBER } else { INTEGER };
                // `enum` and `const` here hold no numbers.
                self.scalar(cands, ty, None, None);
                if keep {
                    *out = Kept::Number(n);
                }
            }
            _ => return None,
        }
        Some(())
    }

    /// Checks a scalar of type bit `ty` (and, for strings and `enum`/`const`, its value).
    fn scalar(&mut self, cands: &Cands, ty: u8, literal: Option<Literal<'_>>, text: Option<&str>) {
        for (slots, check) in cands.iter() {
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
    fn container(&mut self, cands: &Cands, ty: u8) -> Cands {
        let mut kept = Cands::default();
        for (slots, check) in cands.iter() {
            // `enum` and `const` hold only scalars here: no array or object is one of them.
            if check.types & ty == 0 || check.choices.is_some() {
                self.failed |= slots;
            } else {
                // `cands` holds each check once: so does what is kept of it.
                let n = usize::from(kept.len);
                kept.slots[n] = slots;
                kept.checks[n] = check;
                kept.len += 1;
            }
        }
        kept
    }

    /// The members of an object, its `{` consumed: `each` reads a member's value, given its
    /// name, after the `:`. The object grammar, and the nesting count, for checked and skipped
    /// objects alike.
    #[inline]
    fn members(
        &mut self,
        mut each: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        self.enter()?;
        match self.next()? {
            b'}' => {}
            b'"' => loop {
                let name = self.string()?;
                if self.next()? != b':' {
                    return None;
                }
                each(self, name)?;
                match self.next()? {
                    b',' if self.next()? == b'"' => {}
                    b'}' => break,
                    _ => return None,
                }
            },
            _ => return None,
        }
        self.depth -= 1;
        Some(())
    }

    /// The elements of an array, its `[` consumed: `each` reads one. The array grammar, and
    /// the nesting count, for checked and skipped arrays alike.
    #[inline]
    fn elements(&mut self, mut each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.enter()?;
        self.white();
        if self.bytes().get(self.at) == Some(&b']') {
            self.at += 1;
        } else {
            loop {
                each(self)?;
                match self.next()? {
                    b',' => {}
                    b']' => break,
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// An object, its `{` consumed.
    fn object(&mut self, cands: &Cands, reads: Option<Read>, out: &mut Kept<'a>) -> Option<()> {
        let cands = self.container(cands, OBJECT);
        // The required members seen, per candidate.
        let mut seen = [0u64; MAX_CANDIDATES];
        let mut kept = Vec::new();
        // Where a value nobody reads goes: nothing is written to it, and it is dropped once
        // here rather than once per member.
        let mut unread = Kept::Null;
        // One member's candidates, refilled for each (what lies past `len` is never read, so
        // it is not cleared).
        let mut members = Cands::default();
        self.members(|this, key| {
            let hash = key_hash(&key);
            members.clear();
            for (i, (slots, check)) in cands.iter().enumerate() {
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
                    let mut value = Kept::Null;
                    this.value(&members, Some(read), &mut value)?;
                    kept.push((key, value));
                }
                None => this.value(&members, None, &mut unread)?,
            }
            Some(())
        })?;
        for (i, (slots, check)) in cands.iter().enumerate() {
            if seen[i] != check.required {
                self.failed |= slots;
            }
        }
        if reads.is_some() {
            *out = Kept::Object(kept);
        }
        Some(())
    }

    /// An array, its `[` consumed.
    fn array(&mut self, cands: &Cands, reads: Option<Read>, out: &mut Kept<'a>) -> Option<()> {
        let cands = self.container(cands, ARRAY);
        let mut items = Cands::default();
        for (slots, check) in cands.iter() {
            let live = slots & !self.failed;
            if live != 0 {
                items.push(live, check.items);
            }
        }
        self.failed |= items.failed_at_start;
        let element_reads = reads.map(Read::element);
        let mut kept = Vec::new();
        // As in `object`: the one place values nobody reads go.
        let mut unread = Kept::Null;
        self.elements(|this| match element_reads {
            Some(read) => {
                let mut value = Kept::Null;
                this.value(&items, read, &mut value)?;
                // An element nobody reads inside is still an element (null): the count holds.
                kept.push(value);
                Some(())
            }
            None => this.value(&items, None, &mut unread),
        })?;
        if element_reads.is_some() {
            *out = Kept::Array(kept);
        }
        Some(())
    }

    /// Skips a value nobody checks or reads: still parsed strictly, its nesting counted.
    fn skip(&mut self) -> Option<()> {
        match self.next()? {
            b'{' => self.members(|this, _| this.skip())?,
            b'[' => self.elements(Self::skip)?,
            b'"' => {
                self.string()?;
            }
            b't' => self.literal(b"rue")?,
            b'f' => self.literal(b"alse")?,
            b'n' => self.literal(b"ull")?,
            b'-' | b'0'..=b'9' => {
                self.at -= 1;
                self.number()?;
            }
            _ => return None,
        }
        Some(())
    }
}

/// Whether a value of type bit `ty` has one of `check`'s types (an integer is a number too).
fn type_matches(check: &Check, ty: u8) -> bool {
    check.types & ty != 0 || (ty == INTEGER && check.types & NUMBER != 0)
}

fn length_ok(check: &Check, s: &str) -> bool {
    if check.min_length.is_none() && check.max_length.is_none() {
        return true;
    }
    let chars = s.chars().count();
    check.min_length.is_none_or(|n| chars >= n as usize)
        && check.max_length.is_none_or(|n| chars <= n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::Value;

    /// A kept value as a `Value`, to compare with what `serde_json` reads.
    fn to_value(kept: &Kept<'_>) -> Value {
        match kept {
            Kept::Null => Value::Null,
            Kept::Bool(b) => Value::Bool(*b),
            Kept::Number(n) => Value::Number(n.clone()),
            Kept::String(s) => Value::String(s.to_string()),
            Kept::Array(items) => Value::Array(items.iter().map(to_value).collect()),
            // Collected into a map, a repeated name keeps its last value.
            Kept::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(name, value)| (name.to_string(), to_value(value)))
                    .collect(),
            ),
        }
    }

    /// A `Value` kept whole.
    fn to_kept(value: &Value) -> Kept<'_> {
        match value {
            Value::Null => Kept::Null,
            Value::Bool(b) => Kept::Bool(*b),
            Value::Number(n) => Kept::Number(n.clone()),
            Value::String(s) => Kept::String(Cow::Borrowed(s)),
            Value::Array(items) => Kept::Array(items.iter().map(to_kept).collect()),
            Value::Object(map) => Kept::Object(
                map.iter()
                    .map(|(name, value)| (Cow::Borrowed(name.as_str()), to_kept(value)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn what_is_kept_answers_pointers_as_the_whole_value_does() {
        use crate::json::{POINTER_TESTS, POINTER_TEST_DOCUMENT};
        let doc: Value = serde_json::from_str(POINTER_TEST_DOCUMENT).unwrap();
        let kept = to_kept(&doc);
        for pointer in POINTER_TESTS {
            assert_eq!(
                kept.at(pointer),
                doc.pointer(pointer).map(Field::of),
                "{pointer}"
            );
        }
        // A repeated name: its last value counts, as in serde_json's `Value`.
        let payload = br#"{"webhook_type": {"x": 1}, "webhook_type": "case_invoice.deleted"}"#;
        let walked = walk(payload).unwrap();
        assert_eq!(
            walked.value.at("/webhook_type"),
            Some(Field::String("case_invoice.deleted"))
        );
        let payload = br#"{"webhook_type": "case_invoice.deleted", "webhook_type": [1, 2]}"#;
        assert_eq!(
            walk(payload).unwrap().value.at("/webhook_type"),
            Some(Field::Array(2))
        );
    }

    /// What the walk keeps of `{"webhook_type": X}` (a read of detection: kept whole).
    fn kept(x: &str) -> Option<Value> {
        let payload = format!(r#"{{"webhook_type": {x}}}"#);
        walk(payload.as_bytes()).map(|walked| to_value(&walked.value)["webhook_type"].clone())
    }

    #[test]
    fn the_walk_reads_values_as_serde_json_does() {
        let values = [
            "0",
            "7",
            "-0",
            "-7",
            "1.0",
            "1e5",
            "1E+2",
            "-1.5e-3",
            "0.1",
            "9999999999999999999",
            "12345678901234567890",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "1e308",
            "2.2250738585072014e-308",
            "0.30000000000000004",
            r#""plain""#,
            r#""esc\"aped\\""#,
            r#""\u00e9\u20ac\ud83d\ude00""#,
            r#""\/\b\f\n\r\t""#,
            "\"caf\u{e9} \u{1f600}\"",
            r#""""#,
            "true",
            "false",
            "null",
            "[]",
            "{}",
            "[1, [2, {}], \"x\"]",
            r#"{"a": {"b": [1.5, null]}, "c\u0041": true}"#,
            r#"{"a": 1, "a": 2}"#,
            " \t\r\n 5 \n",
        ];
        for x in values {
            let expected: Value = serde_json::from_str(x).unwrap();
            let got = kept(x);
            assert_eq!(got, Some(expected.clone()), "{x}");
            // The same number type: `-0` and `1.0` are floats, `-7` signed, `7` unsigned.
            let got = got.unwrap();
            assert_eq!(
                (got.is_u64(), got.is_i64(), got.is_f64()),
                (expected.is_u64(), expected.is_i64(), expected.is_f64()),
                "{x}"
            );
        }
    }

    #[test]
    fn the_walk_refuses_what_serde_json_refuses() {
        let values = [
            "",
            "01",
            "-01",
            "00",
            "1.",
            ".5",
            "-",
            "+1",
            "1e",
            "1e+",
            "1e400",
            "-1e400",
            "0x10",
            "NaN",
            "Infinity",
            "tru",
            "truex",
            "nul",
            "nulll",
            "False",
            r#""\x""#,
            r#""\ud800""#,
            r#""\udc00x""#,
            r#""\u12""#,
            r#""\u12G4""#,
            "\"a\u{1}b\"",
            "\"tab\there\"",
            "\"new\nline\"",
            "\"\\",
            "\"open",
            "[1,]",
            "[,1]",
            "[1 2]",
            r#"{"a":1,}"#,
            "{,}",
            r#"{"a" 1}"#,
            r#"{"a":}"#,
            "{1:2}",
            "{'a':1}",
            "[",
            "]",
            "1 2",
            "\u{a0}1",
            "\u{c}1",
        ];
        for x in values {
            let payload = format!(r#"{{"webhook_type": {x}}}"#);
            assert!(
                serde_json::from_str::<Value>(&payload).is_err(),
                "serde_json takes {x:?}"
            );
            assert!(kept(x).is_none(), "{x:?}");
        }
    }

    #[test]
    fn the_walk_takes_one_value_and_white_space_only() {
        assert!(walk(b" {} \n\t\r").is_some());
        for payload in [
            &b""[..],
            b" ",
            b"{} x",
            b"{}{}",
            b"{} ,",
            b"{}\x00",
            b"\x0c{}",
        ] {
            assert!(walk(payload).is_none(), "{payload:?}");
        }
        // Invalid UTF-8, even in a string nobody reads.
        assert!(walk(b"{\"x\": \"\xff\"}").is_none());
        assert!(walk(b"{\"x\": \"\xc3\xa9\"}").is_some());
    }

    #[test]
    fn indentation_of_any_width_is_white_space() {
        for width in 0..20 {
            for line in ["\n", "\r\n", "\n\t", "\n \t", " \n"] {
                let indent = format!("{line}{}", " ".repeat(width));
                let payload = format!(
                    "{{{indent}\"webhook_type\":{indent}[{indent}1{indent},2]{indent}}}{indent}"
                );
                let expected: Value = serde_json::from_str(&payload).unwrap();
                let walked = walk(payload.as_bytes()).map(|w| to_value(&w.value));
                assert_eq!(walked, Some(expected), "{payload:?}");
                // Anything else after the spaces is not white space.
                for stray in ["\u{c}", "\u{0}", "x", "\u{a0}"] {
                    let bad = format!("{{{indent}{stray}\"webhook_type\": 1}}");
                    assert!(walk(bad.as_bytes()).is_none(), "{bad:?}");
                }
            }
        }
    }

    #[test]
    fn the_walk_counts_nesting_to_the_limit() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(walk(nested(MAX_DEPTH).as_bytes()).is_some());
        assert!(walk(nested(MAX_DEPTH + 1).as_bytes()).is_none());
        // Below a member nobody reads or checks too.
        let skipped = |n: usize| format!(r#"{{"zz": {}}}"#, nested(n));
        assert!(walk(skipped(MAX_DEPTH - 1).as_bytes()).is_some());
        assert!(walk(skipped(MAX_DEPTH).as_bytes()).is_none());
    }

    #[test]
    fn the_string_scan_stops_at_the_first_quote_backslash_or_control() {
        let fillers = [b'a', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xc3, 0xff];
        let stops = [b'"', b'\\', 0x00, 0x01, 0x1f];
        for filler in fillers {
            for len in 0..24 {
                let plain = vec![filler; len];
                assert_eq!(string_stop(&plain, 0), len);
                for at in 0..len {
                    for stop in stops {
                        for after in stops.iter().chain(&fillers) {
                            let mut bytes = plain.clone();
                            bytes[at] = stop;
                            if at + 1 < len {
                                bytes[at + 1] = *after;
                            }
                            assert_eq!(string_stop(&bytes, 0), at, "{bytes:?}");
                            assert_eq!(string_stop(&bytes, at), at, "{bytes:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_byte_of_a_name_counts_in_its_hash() {
        // Names of one object that differ in one byte must not share a hash only because the
        // hash skipped that byte (the slot tables would then need a larger shift, or fail).
        for len in 0..=24 {
            let name: Vec<u8> = (0..len).map(|i| b'a' + i as u8).collect();
            let hash = key_hash_bytes(&name);
            for at in 0..len {
                let mut other = name.clone();
                other[at] = b'_';
                assert_ne!(key_hash_bytes(&other), hash, "{len} {at}");
            }
            let mut longer = name.clone();
            longer.push(0);
            assert_ne!(key_hash_bytes(&longer), hash, "{len}");
        }
    }

    #[test]
    fn names_are_the_same_only_when_every_byte_is() {
        for len in 0..=40 {
            let name: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_name(&name, &name.clone()), "{len}");
            for at in 0..len {
                let mut other = name.clone();
                other[at] ^= 0x20;
                assert!(!same_name(&name, &other), "{len} {at}");
                assert!(!same_name(&other, &name), "{len} {at}");
            }
            let mut longer = name.clone();
            longer.push(b'a');
            assert!(!same_name(&name, &longer), "{len}");
        }
    }

    #[test]
    fn a_walk_for_one_source_passes_no_other_sources_events() {
        // Valid for Mercoa's schema and, checked, for none other: a named source's walk must
        // not say it passes events it never checked.
        let payload = include_bytes!(
            "../../../tests/conformance/payloads/mercoa/00-doc-example-verbatim.json"
        );
        let all = walk(payload).unwrap();
        let mercoa = Source::ALL[0];
        assert_eq!(mercoa.name(), "mercoa");
        let (slots, cands) = &SOURCE_ROOTS[0];
        let named = walk_against(payload, cands, *slots).unwrap();
        assert!(all.passes(&mercoa.events()[0]));
        for event in events() {
            let own = mercoa.events().iter().any(|e| std::ptr::eq(e, event));
            assert_eq!(
                named.passes(event),
                own && all.passes(event),
                "{}",
                event.name
            );
        }
        assert!(named.passes(&mercoa.events()[0]));
    }

    #[test]
    fn every_source_schema_compiles_to_checks() {
        // A source schema that compiled to `Unsupported` at its root would never take the fast
        // path: build.rs has to learn its keywords.
        for event in events() {
            assert!(
                matches!(event.schema.compiled, Sub::Check(_)),
                "{}",
                event.schema.name
            );
        }
    }

    /// Whether two compiled subschemas are the same one.
    fn same_sub(a: Sub, b: Sub) -> bool {
        match (a, b) {
            (Sub::Check(a), Sub::Check(b)) => std::ptr::eq(a, b),
            (Sub::Any, Sub::Any) | (Sub::Never, Sub::Never) => true,
            (Sub::Unsupported, Sub::Unsupported) => true,
            _ => false,
        }
    }

    #[test]
    fn every_property_is_found_in_its_slot_table() {
        // Every check reachable from every event's schema.
        let mut todo: Vec<Sub> = events().map(|e| e.schema.compiled).collect();
        let mut seen: Vec<*const Check> = Vec::new();
        let mut properties = 0;
        while let Some(sub) = todo.pop() {
            let Sub::Check(check) = sub else { continue };
            if seen.contains(&std::ptr::from_ref(check)) {
                continue;
            }
            seen.push(check);
            let mut required = 0u64;
            for p in check.properties {
                let (found, bit) = check.member(p.name, p.hash);
                assert!(same_sub(found, p.sub), "{}", p.name);
                assert_eq!(bit, p.required, "{}", p.name);
                // Each required name has a bit of its own.
                assert!(bit.count_ones() <= 1 && required & bit == 0, "{}", p.name);
                required |= bit;
                properties += 1;
                todo.push(p.sub);
            }
            // The bits of the required names are the check's, from the lowest up.
            assert_eq!(required, check.required);
            assert_eq!(required.count_ones(), 64 - required.leading_zeros());
            // Names it does not list (whatever slot their hash falls in) get
            // `additionalProperties`, and no `required` bit.
            for name in ["", "x", "not-a-member", "data ", "ID", "webhook_type_"] {
                let (found, bit) = check.member(name, key_hash(name));
                let listed = check.properties.iter().any(|p| p.name == name);
                assert!(
                    listed || (same_sub(found, check.additional) && bit == 0),
                    "{name}"
                );
            }
            todo.extend([check.additional, check.items]);
        }
        assert!(
            properties > 20,
            "the schemas name more properties than {properties}"
        );
    }

    #[test]
    fn the_read_tree_holds_every_pointer() {
        for source in Source::ALL {
            let pointers = source
                .spec()
                .detected_by
                .iter()
                .chain(source.events().iter().flat_map(|e| e.reads));
            for pointer in pointers {
                let mut at = Some(Read::Node(0));
                for token in pointer.split('/').skip(1) {
                    at = at.and_then(|r| {
                        if token == "*" {
                            r.element()
                        } else {
                            r.member(token, key_hash(token))
                        }
                    });
                }
                let whole = at.and_then(|r| r.member("anything-below", key_hash("anything-below")));
                assert!(matches!(whole, Some(Read::Whole)), "{pointer}");
            }
        }
        // Names nobody reads are not found, whether or not their bit is among a node's names.
        let root = Read::Node(0);
        for name in [
            "",
            "case_data",
            "webhook_typ",
            "webhook_type_",
            "Invoice",
            "data",
        ] {
            assert!(root.member(name, key_hash(name)).is_none(), "{name}");
        }
    }
}
