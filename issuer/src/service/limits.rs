//! The service's limits: open connections (in all and per client
//! address), and requests per fixed window for one key (a license, a client
//! address). Connections are counted in memory; the rate limits too, and on
//! PostgreSQL shared with the other instances through the database.

use core::net::IpAddr;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// Open connections, in all and per client address.
pub(crate) struct Conns {
    max: u32,
    max_per_client: u32,
    state: Mutex<(u32, HashMap<IpAddr, u32>)>,
}

/// One open connection: counted until dropped.
pub(crate) struct Slot {
    conns: Arc<Conns>,
    client: IpAddr,
}

impl Conns {
    pub(crate) fn new(max: u32, max_per_client: u32) -> Self {
        Self { max: max.max(1), max_per_client: max_per_client.max(1), state: Mutex::new((0, HashMap::new())) }
    }

    /// A slot for a new connection from `client`; `None` when over a cap.
    /// `per_client_cap`: whether the client's own cap applies (not to a
    /// trusted proxy's connections).
    pub(crate) fn enter(this: &Arc<Self>, client: IpAddr, per_client_cap: bool) -> Option<Slot> {
        let mut state = this.state.lock().ok()?;
        let (total, per_client) = &mut *state;
        let n = per_client.get(&client).copied().unwrap_or(0);
        if *total >= this.max || (per_client_cap && n >= this.max_per_client) {
            return None;
        }
        *total += 1;
        per_client.insert(client, n + 1);
        Some(Slot { conns: Arc::clone(this), client })
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> u32 {
        self.state.lock().map_or(0, |s| s.0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut state) = self.conns.state.lock() {
            let (total, per_client) = &mut *state;
            *total = total.saturating_sub(1);
            if let Some(n) = per_client.get_mut(&self.client) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per_client.remove(&self.client);
                }
            }
        }
    }
}

/// Requests per fixed window, per key.
///
/// On PostgreSQL, where several instances serve, the counts are shared
/// through the database's `rate_limits` table without a round trip per
/// request: each instance counts in memory and, about once a second
/// ([`SYNC_EVERY`]), adds what it counted since to the table in the database
/// thread's queue and reads back every instance's total of those keys. A
/// request is checked against its own count plus the others' counts as of
/// the last sync.
///
/// The slack: another instance's requests reach this one's view up to one
/// sync later, so for one key the instances together may admit up to what
/// each other instance admitted in that last second (and a key first seen
/// here starts from the others' counts of its next sync) beyond the limit;
/// never more than `instances × limit` in a window. Counts not yet synced
/// when a window ends, or when an instance dies, are lost. A sync that
/// fails (the database out of reach) is sent again with the next one. On
/// SQLite (one instance) nothing is synced: the limit is exact.
pub(crate) struct Limiter<K> {
    limit: u32,
    window_secs: u64,
    /// The row's `scope` in `rate_limits`.
    scope: &'static str,
    /// The current window's number and the counts in it (cleared when it ends).
    state: Mutex<(u64, HashMap<K, Count>)>,
}

/// How often counts are synced with the database (PostgreSQL only).
pub(crate) const SYNC_EVERY: core::time::Duration = core::time::Duration::from_secs(1);

/// One key's counts in the current window.
#[derive(Clone, Copy, Debug, Default)]
struct Count {
    /// Requests this instance counted.
    local: u32,
    /// Of those, how many the database has (or a sync in flight carries).
    synced: u32,
    /// Every other instance's requests, as of the last sync.
    others: u32,
}

impl Count {
    fn used(self) -> u32 {
        self.local.saturating_add(self.others)
    }
}

/// What one sync sends of a limiter: its window and each key's new requests.
pub(crate) struct Unsynced<K> {
    window: u64,
    pub(crate) window_start: u64,
    pub(crate) counts: Vec<(K, u32)>,
}

impl<K: core::hash::Hash + Eq + Clone> Limiter<K> {
    pub(crate) fn new(scope: &'static str, limit: u32, window_secs: u64) -> Self {
        Self { limit, window_secs: window_secs.max(1), scope, state: Mutex::new((0, HashMap::new())) }
    }

    /// The row's `scope` in `rate_limits`.
    pub(crate) fn scope(&self) -> &'static str {
        self.scope
    }

    /// The window's length in seconds.
    pub(crate) fn window_secs(&self) -> u64 {
        self.window_secs
    }

    /// `Err(seconds to wait)` when the limit is already used up; counts nothing.
    pub(crate) fn check(&self, key: &K, now_secs: u64) -> Result<(), u64> {
        let window = now_secs / self.window_secs;
        let retry_after = (window + 1) * self.window_secs - now_secs;
        let Ok(state) = self.state.lock() else { return Ok(()) };
        let used = if state.0 == window { state.1.get(key).map_or(0, |c| c.used()) } else { 0 };
        if used >= self.limit { Err(retry_after.max(1)) } else { Ok(()) }
    }

    /// Counts a request; `Err(seconds to wait)` when over the limit.
    pub(crate) fn hit(&self, key: K, now_secs: u64) -> Result<(), u64> {
        let window = now_secs / self.window_secs;
        let retry_after = (window + 1) * self.window_secs - now_secs;
        let Ok(mut state) = self.state.lock() else { return Ok(()) };
        if state.0 != window {
            state.0 = window;
            state.1.clear();
        }
        let c = state.1.entry(key).or_default();
        c.local = c.local.saturating_add(1);
        if c.used() > self.limit { Err(retry_after.max(1)) } else { Ok(()) }
    }

    /// The requests counted since the last sync, marked as synced.
    pub(crate) fn unsynced(&self) -> Unsynced<K> {
        let Ok(mut state) = self.state.lock() else {
            return Unsynced { window: 0, window_start: 0, counts: Vec::new() };
        };
        let window = state.0;
        let mut counts = Vec::new();
        for (k, c) in &mut state.1 {
            let new = c.local - c.synced;
            if new > 0 {
                c.synced = c.local;
                counts.push((k.clone(), new));
            }
        }
        Unsynced { window, window_start: window * self.window_secs, counts }
    }

    /// What the database answered to a sync: every instance's totals of
    /// its keys, in order; `None` (the sync failed): sent again next time.
    pub(crate) fn synced(&self, sent: &Unsynced<K>, totals: Option<&[u64]>) {
        let Ok(mut state) = self.state.lock() else { return };
        if state.0 != sent.window {
            return;
        }
        for (i, (k, new)) in sent.counts.iter().enumerate() {
            let Some(c) = state.1.get_mut(k) else { continue };
            match totals.and_then(|t| t.get(i)) {
                Some(&total) => {
                    c.others = u32::try_from(total.saturating_sub(u64::from(c.synced))).unwrap_or(u32::MAX);
                }
                None => c.synced = c.synced.saturating_sub(*new),
            }
        }
    }
}
