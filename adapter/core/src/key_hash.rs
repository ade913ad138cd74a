// Shared by build.rs and src/fast/tables.rs (through `include!`): the hash the fast path's member
// tables are sorted and searched by. Word at a time: member names are short, and hashing every
// name of a payload is on the fast path's hot loop.

/// A 64-bit hash of a member name (multiply-rotate over 8-byte little-endian words).
pub const fn key_hash(name: &str) -> u64 {
    key_hash_bytes(name.as_bytes())
}

/// [`key_hash`] of a name's bytes.
pub const fn key_hash_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rest = bytes;
    let mut hash = (rest.len() as u64).wrapping_mul(K);
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        hash = (hash ^ u64::from_le_bytes(*word)).wrapping_mul(K).rotate_left(31);
        rest = tail;
    }
    // The last 0–7 bytes in at most two loads, which may overlap (the length is in the hash).
    let n = rest.len();
    let last = if n >= 4 {
        let low = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as u64;
        let high = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
        low | (high as u64) << 32
    } else if n > 0 {
        rest[0] as u64 | (rest[n / 2] as u64) << 8 | (rest[n - 1] as u64) << 16
    } else {
        0
    };
    hash = (hash ^ last).wrapping_mul(K);
    hash ^ (hash >> 29)
}
