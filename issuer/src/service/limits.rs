//! The service's limits: open connections (in all and per client
//! address), and requests per fixed window for one key (a license, a client
//! address). Both are kept in memory: a restart clears them.

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
    pub(crate) fn enter(this: &Arc<Self>, client: IpAddr) -> Option<Slot> {
        let mut state = this.state.lock().ok()?;
        let (total, per_client) = &mut *state;
        let n = per_client.get(&client).copied().unwrap_or(0);
        if *total >= this.max || n >= this.max_per_client {
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
pub(crate) struct Limiter<K> {
    limit: u32,
    window_secs: u64,
    /// The current window's number and the counts in it (cleared when it ends).
    state: Mutex<(u64, HashMap<K, u32>)>,
}

impl<K: core::hash::Hash + Eq> Limiter<K> {
    pub(crate) fn new(limit: u32, window_secs: u64) -> Self {
        Self { limit, window_secs: window_secs.max(1), state: Mutex::new((0, HashMap::new())) }
    }

    /// `Err(seconds to wait)` when the limit is already used up; counts nothing.
    pub(crate) fn check(&self, key: &K, now_secs: u64) -> Result<(), u64> {
        let window = now_secs / self.window_secs;
        let retry_after = (window + 1) * self.window_secs - now_secs;
        let Ok(state) = self.state.lock() else { return Ok(()) };
        let used = if state.0 == window { state.1.get(key).copied().unwrap_or(0) } else { 0 };
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
        let n = state.1.entry(key).or_insert(0);
        *n = n.saturating_add(1);
        if *n > self.limit { Err(retry_after.max(1)) } else { Ok(()) }
    }
}
