//! getrandom's `custom` backend, selected in `.cargo/config.toml` for `wasm32-unknown-unknown`
//! (the plugin and the browser module).
//!
//! Only jsonschema's hash maps ask for randomness, to seed ahash; no result of the core depends on
//! it. Fixed bytes keep those artifacts free of imports and their behaviour identical on every
//! host. It lives here, beside the dependency that needs it, so every shell over the core links it
//! once.

/// Fills `dest` with fixed bytes.
///
/// # Safety
/// getrandom calls it with a valid, writable buffer of `len` bytes.
#[allow(unsafe_code)]
#[no_mangle]
unsafe extern "Rust" fn __getrandom_v03_custom(
    dest: *mut u8,
    len: usize,
) -> Result<(), getrandom::Error> {
    // SAFETY: getrandom passes a valid, writable buffer of `len` bytes.
    unsafe { std::ptr::write_bytes(dest, 0x5a, len) };
    Ok(())
}
