//! The fast path: one streaming pass over a payload that checks it against every event's
//! schema at once and keeps only the fields detection and the mappings read, without building
//! a `serde_json::Value` tree of the whole payload.
//!
//! [`walk`] drives `serde_json`'s deserializer with a schema-directed visitor. Every event's
//! schema, compiled at build time into static tables (`build.rs`), is a *candidate*; each value
//! is checked against the subschema each candidate has for it, and a candidate that fails is
//! marked. Values no candidate constrains and no one reads are skipped without being kept. What
//! the sources read ([`crate::sources::SourceSpec::detected_by`] and
//! [`crate::sources::EventSpec::reads`]) is kept as a sparse `Value`: the same detection and
//! the same mapping then run on it, unchanged.
//!
//! The walk decides only "passes" for a candidate, never why something fails: any failure, any
//! keyword it does not check exactly, a nesting past the limit, malformed JSON — the payload
//! takes the slow path (`Value` + the generated jsonschema validators), which says exactly what
//! is wrong. So the fast path may be narrower than JSON Schema, but it can never disagree with
//! it; the agreement tests (`tests/fast_path.rs`, `fuzz/fuzz_targets/agree.rs`) hold it to that.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::context::Context;
use crate::conversion::Conversion;
use crate::error::FieldError;
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
    /// `properties`, sorted by name, with every `required` name.
    pub properties: &'static [Prop],
    /// How many names are `required`.
    pub required: u8,
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
        additional: Sub::Any,
        items: Sub::Any,
    };

    /// The subschema of the member `name` (whose [`key_hash`] is `hash`), and its `required`
    /// bit (if it is required).
    fn member(&self, name: &str, hash: u64) -> (Sub, u64) {
        match self.properties.binary_search_by_key(&hash, |p| p.hash) {
            Ok(i) if same_name(self.properties[i].name, name) => {
                let p = &self.properties[i];
                let bit = if p.required == Prop::NOT_REQUIRED {
                    0
                } else {
                    1 << p.required
                };
                (p.sub, bit)
            }
            _ => (self.additional, 0),
        }
    }

    /// The bits of all `required` names.
    fn all_required(&self) -> u64 {
        match self.required {
            0 => 0,
            n => u64::MAX >> (64 - u32::from(n)),
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
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
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
    /// Its position in `required`, or [`Prop::NOT_REQUIRED`].
    pub required: u8,
}

impl Prop {
    /// `required` of a member that is not required.
    pub const NOT_REQUIRED: u8 = u8::MAX;
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
    let walked = walk(crate::without_bom(payload))?;
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

/// What one pass found: the sparse payload and which events' schemas it passes.
#[doc(hidden)]
pub struct Walked {
    /// Only what detection and the mappings read.
    pub value: Value,
    failed: u64,
}

impl Walked {
    /// Whether the payload passes `event`'s schema.
    pub fn passes(&self, event: &EventSpec) -> bool {
        events()
            .position(|e| std::ptr::eq(e, event))
            .is_some_and(|slot| self.failed & (1 << slot) == 0)
    }
}

/// Every event of every source, in [`Source::ALL`] order: the candidates' slots.
fn events() -> impl Iterator<Item = &'static EventSpec> {
    Source::ALL.iter().flat_map(|s| s.events().iter())
}

/// The pass over `payload` (its byte-order mark already removed), or `None` when the slow path
/// must decide: malformed JSON, nesting deeper than the limit.
#[doc(hidden)]
pub fn walk(payload: &[u8]) -> Option<Walked> {
    if events().count() > 64 {
        return None;
    }
    let mut cands = Cands::default();
    for (slot, event) in events().enumerate() {
        cands.push(1 << slot, event.schema.compiled);
    }
    let mut state = State {
        failed: cands.failed_at_start,
        depth: 0,
    };
    // UTF-8 checked once for the whole payload (quick on ASCII), rather than string by string.
    let text = std::str::from_utf8(payload).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Walk {
        state: &mut state,
        cands: &cands,
        reads: Some(Read::Node(0)),
    };
    let value = seed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(Walked {
        value: value.unwrap_or(Value::Null),
        failed: state.failed,
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
    fn member(self, name: &str, hash: u64) -> Option<Read> {
        let node = match self {
            Read::Whole => return Some(Read::Whole),
            Read::Node(i) => &READS.nodes[usize::from(i)],
        };
        if node.whole {
            return Some(Read::Whole);
        }
        let edges = &READS.edges[usize::from(node.first_edge)..][..usize::from(node.edges)];
        // Names of one level may share a hash: look at each that does.
        let start = edges.partition_point(|e| e.hash < hash);
        edges[start..]
            .iter()
            .take_while(|e| e.hash == hash)
            .find(|e| e.token == name.as_bytes())
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
/// path (a test keeps every source's events within it).
pub(crate) const MAX_CANDIDATES: usize = 8;

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

struct State {
    failed: u64,
    depth: usize,
}

impl State {
    fn fail(&mut self, slots: u64) {
        self.failed |= slots;
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(E::custom("nesting past the limit"))
        } else {
            Ok(())
        }
    }
}

/// Walks one value: checks it against `cands`, keeps it as `reads` says. (Small: it is moved
/// through serde's seed and visitor calls for every value.)
struct Walk<'s, 'c> {
    state: &'s mut State,
    cands: &'c Cands,
    reads: Option<Read>,
}

impl Walk<'_, '_> {
    /// Checks a scalar of type bit `ty` (and, for strings and `enum`/`const`, its value).
    fn scalar(&mut self, ty: u8, literal: Option<Literal<'_>>, text: Option<&str>) {
        for (slots, check) in self.cands.iter() {
            let ok = type_matches(check, ty)
                && match literal {
                    Some(literal) => check.allows(literal),
                    // A number: `enum` and `const` here hold no numbers.
                    None => check.choices.is_none(),
                }
                && text.is_none_or(|s| length_ok(check, s));
            if !ok {
                self.state.fail(slots);
            }
        }
    }

    /// The candidates that accept a container of type bit `ty`; the rest fail.
    fn container(&mut self, ty: u8) -> Cands {
        let mut kept = Cands::default();
        for (slots, check) in self.cands.iter() {
            // `enum` and `const` hold only scalars here: no array or object is one of them.
            if check.types & ty == 0 || check.choices.is_some() {
                self.state.fail(slots);
            } else {
                kept.keep(slots, check);
            }
        }
        kept
    }

    fn kept(&self, value: impl FnOnce() -> Value) -> Option<Value> {
        self.reads.map(|_| value())
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

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        if self.reads.is_none() && self.cands.is_empty() {
            // Nobody checks or reads it: only its nesting counts.
            Skip { state: self.state }.deserialize(deserializer)?;
            return Ok(None);
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(mut self) -> Result<Self::Value, E> {
        self.scalar(NULL, Some(Literal::Null), None);
        Ok(self.kept(|| Value::Null))
    }

    fn visit_bool<E>(mut self, b: bool) -> Result<Self::Value, E> {
        self.scalar(BOOLEAN, Some(Literal::Bool(b)), None);
        Ok(self.kept(|| Value::Bool(b)))
    }

    fn visit_i64<E>(mut self, n: i64) -> Result<Self::Value, E> {
        self.scalar(INTEGER, None, None);
        Ok(self.kept(|| Value::Number(n.into())))
    }

    fn visit_u64<E>(mut self, n: u64) -> Result<Self::Value, E> {
        self.scalar(INTEGER, None, None);
        Ok(self.kept(|| Value::Number(n.into())))
    }

    fn visit_f64<E: de::Error>(mut self, n: f64) -> Result<Self::Value, E> {
        // jsonschema counts an integer-valued float as an integer; here only `number` takes
        // one, so a schema asking for `integer` sends it to the slow path.
        self.scalar(NUMBER, None, None);
        match Number::from_f64(n) {
            Some(number) => Ok(self.kept(|| Value::Number(number))),
            None => Err(E::custom("not a JSON number")),
        }
    }

    fn visit_str<E>(mut self, s: &str) -> Result<Self::Value, E> {
        self.scalar(STRING, Some(Literal::Str(s)), Some(s));
        Ok(self.kept(|| Value::String(s.to_owned())))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        self.state.enter()?;
        let cands = self.container(ARRAY);
        let mut items = Cands::default();
        for (slots, check) in cands.iter() {
            let live = slots & !self.state.failed;
            if live != 0 {
                items.push(live, check.items);
            }
        }
        self.state.failed |= items.failed_at_start;
        let reads = self.reads.map(Read::element);
        let mut kept = Vec::new();
        loop {
            let walk = Walk {
                state: &mut *self.state,
                cands: &items,
                reads: reads.flatten(),
            };
            match seq.next_element_seed(walk)? {
                None => break,
                Some(value) => {
                    if reads.is_some() {
                        // An element nobody reads inside is still an element: the count holds.
                        kept.push(value.unwrap_or(Value::Null));
                    }
                }
            }
        }
        self.state.depth -= 1;
        Ok(reads.map(|_| Value::Array(kept)))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        self.state.enter()?;
        let cands = self.container(OBJECT);
        // The required members seen, per candidate.
        let mut seen = [0u64; MAX_CANDIDATES];
        let mut kept = Map::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let mut members = Cands::default();
            let hash = key_hash(&key);
            for (i, (slots, check)) in cands.iter().enumerate() {
                let live = slots & !self.state.failed;
                if live == 0 {
                    // Failed on an earlier member (a `const` event name, say): no need to look
                    // further into this one.
                    continue;
                }
                let (sub, required) = check.member(&key, hash);
                seen[i] |= required;
                members.push(live, sub);
            }
            self.state.failed |= members.failed_at_start;
            let reads = self.reads.and_then(|r| r.member(&key, hash));
            let walk = Walk {
                state: &mut *self.state,
                cands: &members,
                reads,
            };
            if let Some(value) = map.next_value_seed(walk)? {
                // A repeated name keeps its last value, as serde_json's `Value` does.
                kept.insert(key.into_owned(), value);
            }
        }
        for (i, (slots, check)) in cands.iter().enumerate() {
            if seen[i] != check.all_required() {
                self.state.fail(slots);
            }
        }
        self.state.depth -= 1;
        Ok(self.reads.map(|_| Value::Object(kept)))
    }
}

/// An object member's name, borrowed from the payload when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
}

/// Skips a value, counting only its nesting.
struct Skip<'s> {
    state: &'s mut State,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        // Not `deserialize_ignored_any`: serde_json skips a value there without visiting its
        // arrays and objects, so their nesting could not be counted.
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.enter()?;
        while seq
            .next_element_seed(Skip {
                state: &mut *self.state,
            })?
            .is_some()
        {}
        self.state.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.state.enter()?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Skip {
                state: &mut *self.state,
            })?;
        }
        self.state.depth -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_fits_among_the_candidates() {
        // Past MAX_CANDIDATES an event would always take the slow path: raise it.
        assert!(events().count() <= MAX_CANDIDATES);
        assert!(events().count() <= 64, "a u64 holds the failed slots");
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
    }
}
