// Shared by build.rs and src/fast.rs (through `include!`): the hash the fast path's member
// tables are sorted and searched by. Word at a time: member names are short, and hashing every
// name of a payload is on the fast path's hot loop.

/// A 64-bit hash of a member name (multiply-rotate over 8-byte little-endian words).
pub const fn key_hash(name: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let b = name.as_bytes();
    let mut hash = (b.len() as u64).wrapping_mul(K);
    let mut i = 0;
    while i + 8 <= b.len() {
        let word = u64::from_le_bytes([
            b[i],
            b[i + 1],
            b[i + 2],
            b[i + 3],
            b[i + 4],
            b[i + 5],
            b[i + 6],
            b[i + 7],
        ]);
        hash = (hash ^ word).wrapping_mul(K).rotate_left(31);
        i += 8;
    }
    let mut tail = 0u64;
    let mut shift = 0;
    while i < b.len() {
        tail |= (b[i] as u64) << shift;
        shift += 8;
        i += 1;
    }
    hash = (hash ^ tail).wrapping_mul(K);
    hash ^ (hash >> 29)
}
