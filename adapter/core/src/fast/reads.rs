//! The pointers the sources read ([`crate::sources::SourceSpec::detected_by`],
//! [`crate::sources::EventSpec::reads`]) as a tree of reference tokens built at compile time,
//! and where the walk is in it ([`ReadPosition`]).

use super::tables::{key_hash_bytes, same_bytes, same_name};
use crate::sources::Source;

/// Where the walk is in the pointers the sources read: a node of [`READ_TREE`], or below a
/// pointer's end (kept whole).
#[derive(Clone, Copy)]
pub enum ReadPosition {
    /// Everything below is kept.
    Whole,
    /// A node of [`READ_TREE`].
    Node(u16),
}

impl ReadPosition {
    #[inline(always)]
    pub(super) fn member(self, name: &str, hash: u64) -> Option<ReadPosition> {
        let node = match self {
            ReadPosition::Whole => return Some(ReadPosition::Whole),
            ReadPosition::Node(i) => &READ_TREE.nodes[usize::from(i)],
        };
        if node.whole {
            return Some(ReadPosition::Whole);
        }
        if node.names & name_bit(hash) == 0 {
            // Most members of an object are read by nobody: one test says so, in line.
            return None;
        }
        ReadPosition::edge(node, name, hash)
    }

    /// The edge of `node` named `name`, if it has one.
    #[inline(never)]
    fn edge(node: &ReadNode, name: &str, hash: u64) -> Option<ReadPosition> {
        let edges = &READ_TREE.edges[usize::from(node.first_edge)..][..usize::from(node.edges)];
        // Names of one level may share a hash: look at each that does.
        let start = edges.partition_point(|e| e.hash < hash);
        edges[start..]
            .iter()
            .take_while(|e| e.hash == hash)
            .find(|e| same_name(e.token, name.as_bytes()))
            .map(|e| ReadPosition::Node(e.child))
    }

    #[inline]
    pub(super) fn element(self) -> Option<ReadPosition> {
        match self {
            ReadPosition::Whole => Some(ReadPosition::Whole),
            ReadPosition::Node(i) => {
                let node = &READ_TREE.nodes[usize::from(i)];
                if node.whole {
                    Some(ReadPosition::Whole)
                } else if node.every == NONE {
                    None
                } else {
                    Some(ReadPosition::Node(node.every))
                }
            }
        }
    }
}

/// The pointers the sources read ([`crate::sources::SourceSpec::detected_by`],
/// [`crate::sources::EventSpec::reads`]) as a tree of reference tokens, built at compile time: a
/// fresh wasm instance per request finds it ready.
static READ_TREE: ReadTree = ReadTree::build();

/// Room in [`READ_TREE`]; a compile-time error says when the sources read more.
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
