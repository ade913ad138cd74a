//! The module's ABI with the JavaScript shell (`workers/src/index.mjs`).
//!
//! Exports:
//! - `input(len) -> ptr`: room for `len` bytes, which the shell fills before the next call;
//! - `handle(len) -> out_len` (promising): the input is a frame of a [`RequestHead`] and the body;
//!   the answer, a frame of a [`ResponseHead`] and the body, is at `output()`;
//! - `refuse(len) -> out_len`: the input is a [`Refusal`] as JSON (a body the shell did not read);
//! - `body_limit(len) -> bytes`: the input is a path; `body_timeout_ms() -> ms`;
//! - `uses_store(len) -> 0 | 1`: the input is a path; whether its route reads or writes the store
//!   (store mode sends only those to the Durable Object);
//! - `after_response()` (promising): relay mode's dispatcher, once the response is complete;
//! - `output() -> ptr`.
//!
//! Imports (module `tombstone`): an I/O import leaves its answer with the shell and returns its
//! length `n >= 0`, which the module takes with `take_result(ptr)`; `-1` is "absent" (for
//! `kv_increment`, "not a counter"); `-2 - n` is a failure whose `n`-byte message is taken the
//! same way.
//!
//! [`RequestHead`]: crate::wire::RequestHead
//! [`ResponseHead`]: crate::wire::ResponseHead
//! [`Refusal`]: crate::wire::Refusal

use std::cell::RefCell;
use std::sync::OnceLock;

use tombstone_edge::config::DEFAULT_BODY_TIMEOUT_MS;
use tombstone_edge::{Config, ConfigError, Env, Event, Request, Response};

use crate::ports::{FetchUpstream, WorkersClock, WorkersStore};
use crate::wire::{self, Refusal, RefusalReason, RequestHead, ResponseHead};

/// What an import answered.
pub enum Reply {
    /// A value (or an empty one for a write).
    Value(Vec<u8>),
    /// Nothing there.
    Absent,
    /// A failure, in the shell's words.
    Failed(String),
}

/// The imports, each behind a safe function.
pub mod host {
    use super::Reply;

    mod raw {
        #[link(wasm_import_module = "tombstone")]
        extern "C" {
            pub fn kv_get(key: *const u8, key_len: usize) -> i32;
            pub fn kv_set(
                key: *const u8,
                key_len: usize,
                value: *const u8,
                value_len: usize,
            ) -> i32;
            pub fn kv_delete(key: *const u8, key_len: usize) -> i32;
            pub fn kv_increment(key: *const u8, key_len: usize, delta: i64) -> i32;
            pub fn kv_list(cursor: *const u8, cursor_len: usize, has_cursor: i32) -> i32;
            pub fn upstream_send(request: *const u8, request_len: usize) -> i32;
            pub fn var_get(name: *const u8, name_len: usize) -> i32;
            pub fn now_ms() -> f64;
            pub fn log(line: *const u8, line_len: usize);
            pub fn take_result(into: *mut u8);
            pub fn random_fill(into: *mut u8, len: usize);
        }
    }

    /// Reads an import's answer (see the module's documentation).
    fn reply(status: i32) -> Reply {
        let take = |len: i32| {
            let mut bytes = vec![0; usize::try_from(len).unwrap_or(0)];
            // SAFETY: the shell writes exactly the `len` bytes it announced.
            unsafe { raw::take_result(bytes.as_mut_ptr()) };
            bytes
        };
        match status {
            -1 => Reply::Absent,
            n if n >= 0 => Reply::Value(take(n)),
            n => Reply::Failed(String::from_utf8_lossy(&take(-2 - n)).into_owned()),
        }
    }

    pub fn kv_get(key: &str) -> Reply {
        // SAFETY (each call below): pointers and lengths of live slices, read during the call.
        reply(unsafe { raw::kv_get(key.as_ptr(), key.len()) })
    }

    pub fn kv_set(key: &str, value: &[u8]) -> Reply {
        reply(unsafe { raw::kv_set(key.as_ptr(), key.len(), value.as_ptr(), value.len()) })
    }

    pub fn kv_delete(key: &str) -> Reply {
        reply(unsafe { raw::kv_delete(key.as_ptr(), key.len()) })
    }

    pub fn kv_increment(key: &str, delta: i64) -> Reply {
        reply(unsafe { raw::kv_increment(key.as_ptr(), key.len(), delta) })
    }

    pub fn kv_list(cursor: Option<&str>) -> Reply {
        let (text, has) = cursor.map_or(("", 0), |c| (c, 1));
        reply(unsafe { raw::kv_list(text.as_ptr(), text.len(), has) })
    }

    pub fn upstream_send(frame: &[u8]) -> Reply {
        reply(unsafe { raw::upstream_send(frame.as_ptr(), frame.len()) })
    }

    pub fn var_get(name: &str) -> Option<String> {
        match reply(unsafe { raw::var_get(name.as_ptr(), name.len()) }) {
            Reply::Value(value) => Some(String::from_utf8_lossy(&value).into_owned()),
            Reply::Absent | Reply::Failed(_) => None,
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms() -> i64 {
        // SAFETY: no arguments.
        let millis = unsafe { raw::now_ms() };
        // `as` saturates; the clock is a whole number of milliseconds.
        millis as i64
    }

    pub fn log(line: &str) {
        unsafe { raw::log(line.as_ptr(), line.len()) }
    }

    pub fn random_fill(into: &mut [u8]) {
        unsafe { raw::random_fill(into.as_mut_ptr(), into.len()) }
    }
}

// getrandom 0.2 (rsa's, for HighLevel's legacy signatures): the Web Crypto source.
fn random(into: &mut [u8]) -> Result<(), getrandom02::Error> {
    host::random_fill(into);
    Ok(())
}
getrandom02::register_custom_getrandom!(random);

thread_local! {
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The configuration, read once per instance (one instance a request, as on Spin).
fn config() -> &'static Result<Config, ConfigError> {
    static CONFIG: OnceLock<Result<Config, ConfigError>> = OnceLock::new();
    CONFIG.get_or_init(|| Config::from_variables(host::var_get))
}

fn env() -> Env<'static> {
    Env {
        kv: &WorkersStore,
        upstream: &FetchUpstream,
        clock: &WorkersClock,
    }
}

fn write_events(events: Vec<Event>) {
    for event in events {
        host::log(&event.to_line());
    }
}

/// Leaves `response` at `output()` (its events go to the log) and returns its length.
fn answer(mut response: Response) -> usize {
    write_events(std::mem::take(&mut response.events));
    let head = ResponseHead {
        status: response.status,
        headers: response.headers,
    };
    OUTPUT.with_borrow_mut(|out| {
        *out = wire::frame(&head, &response.body);
        out.len()
    })
}

/// Room for `len` bytes of input.
#[no_mangle]
pub extern "C" fn input(len: usize) -> *mut u8 {
    INPUT.with_borrow_mut(|input| {
        input.clear();
        input.resize(len, 0);
        input.as_mut_ptr()
    })
}

/// The last answer.
#[no_mangle]
pub extern "C" fn output() -> *const u8 {
    OUTPUT.with_borrow(|out| out.as_ptr())
}

/// Handles the request in the input.
#[no_mangle]
pub extern "C" fn handle(len: usize) -> usize {
    let input = INPUT.with_borrow_mut(std::mem::take);
    let Some((head, body)) = wire::unframe::<RequestHead>(&input[..len.min(input.len())]) else {
        return answer(tombstone_edge::body_unreadable());
    };
    let request = Request {
        method: &head.method,
        path: &head.path,
        query: &head.query,
        headers: head.headers.clone(),
        body,
    };
    answer(tombstone_edge::handle(&request, env(), config()))
}

/// Answers a request whose body the shell did not read.
#[no_mangle]
pub extern "C" fn refuse(len: usize) -> usize {
    let input = INPUT.with_borrow_mut(std::mem::take);
    let Ok(refusal) = serde_json::from_slice::<Refusal>(&input[..len.min(input.len())]) else {
        return answer(tombstone_edge::body_unreadable());
    };
    let mut response = match refusal.reason {
        RefusalReason::TooLarge => {
            tombstone_edge::body_too_large(&refusal.path, refusal.declared_length)
        }
        RefusalReason::TooSlow => tombstone_edge::body_too_slow(body_timeout_ms()),
        RefusalReason::Unreadable => tombstone_edge::body_unreadable(),
    };
    tombstone_edge::summarize(&refusal.path, &mut response);
    answer(response)
}

/// The most body bytes the route of the path in the input takes.
#[no_mangle]
pub extern "C" fn body_limit(len: usize) -> usize {
    let input = INPUT.with_borrow_mut(std::mem::take);
    let path = String::from_utf8_lossy(&input[..len.min(input.len())]);
    tombstone_edge::body_limit(&path)
}

/// 1 when the route of the path in the input reads or writes the store, else 0.
#[no_mangle]
pub extern "C" fn uses_store(len: usize) -> u32 {
    let input = INPUT.with_borrow_mut(std::mem::take);
    let path = String::from_utf8_lossy(&input[..len.min(input.len())]);
    u32::from(crate::wire::uses_store(&path))
}

/// How long a body may take to arrive (`body_timeout_ms`).
#[no_mangle]
pub extern "C" fn body_timeout_ms() -> u32 {
    config()
        .as_ref()
        .map_or(DEFAULT_BODY_TIMEOUT_MS, |c| c.body_timeout_ms)
}

/// Relay mode's dispatcher, once the response is complete.
#[no_mangle]
pub extern "C" fn after_response() {
    write_events(tombstone_edge::after_response(env(), config()));
}
