//! What a request is handled with: the ports a shell plugs in ([`Env`]: the key-value store,
//! the upstream, the clock) and, over them, the typed store and the events noted for the
//! operator (`Ctx`).

use std::cell::RefCell;

use tombstone_core::Timestamp;

use crate::model::event::Event;
use crate::store::keys::Store;
use crate::store::KeyValue;
use crate::upstream::Upstream;

/// The clock port: the wall clock, to the millisecond at least.
pub trait Clock {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// A clock that always reads this time (tests, replays).
impl Clock for Timestamp {
    fn now(&self) -> Timestamp {
        *self
    }
}

/// The ports a request may use: the key-value store, the upstream and the clock.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The key-value store (Spin's `default`).
    pub kv: &'a dyn KeyValue,
    /// Outbound HTTP to the canonical deletion API (relay mode).
    pub upstream: &'a dyn Upstream,
    /// The wall clock: a request's `received_at`, and each delivery attempt's time.
    pub clock: &'a dyn Clock,
}

/// What a request's handling works with: typed storage, the upstream, the clock, and the events
/// it notes for the operator.
pub(crate) struct Ctx<'a> {
    pub store: Store<'a>,
    pub upstream: &'a dyn Upstream,
    pub clock: &'a dyn Clock,
    events: RefCell<Vec<Event>>,
}

impl<'a> Ctx<'a> {
    /// The context of one request (or one dispatch), with no events yet.
    pub fn new(env: Env<'a>) -> Ctx<'a> {
        Ctx {
            store: Store::new(env.kv),
            upstream: env.upstream,
            clock: env.clock,
            events: RefCell::new(Vec::new()),
        }
    }

    /// Notes an event for the operator.
    pub fn note(&self, event: Event) {
        self.events.borrow_mut().push(event);
    }

    /// The events noted so far, taken.
    pub fn take_events(&self) -> Vec<Event> {
        self.events.take()
    }
}
