//! The session cache of [`IpmiDriver`](crate::IpmiDriver): authenticated RMCP+ sessions kept
//! per BMC between driver calls, under the driver's global session limit.
//!
//! * Key: BMC host, port, user name and a salted SHA-256 digest of the password (the salt is
//!   random per driver). A design that changes a BMC's password therefore never reuses a
//!   session opened with the old one. The key's `Debug` shows host, port and user only.
//! * Limit: every open session, in use or idle in the cache, holds one permit of the global
//!   semaphore. A call that needs a new session while none is free closes the least recently
//!   used idle session (of any BMC) to take its permit; when every session is in use, it waits
//!   until a session is handed back (and reuses it if it is for its BMC, else closes it) or a
//!   permit is released.
//! * Idle sessions older than the idle limit are never reused: they are dropped (one
//!   best-effort Close Session datagram, no wait, as the BMC may have expired them already)
//!   on the next checkout or check-in of any BMC.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;

use crate::IpmiClient;
use crate::config::IpmiConfig;
use crate::error::{Error, Result};

/// Counters of the driver's sessions, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStats {
    /// Sessions opened (successful RAKP handshakes) since the driver was created.
    pub opened: u64,
    /// Driver calls served by a cached session instead of a new one.
    pub reused: u64,
    /// Sessions whose Close Session was sent (awaited or best effort).
    pub closed: u64,
    /// Sessions idle in the cache now.
    pub idle: usize,
}

/// Which BMC, as whom: the cache key. The password is only present as a salted digest.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct BmcKey {
    host: String,
    port: u16,
    user: String,
    credential: [u8; 32],
}

impl fmt::Debug for BmcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.host, self.port)
    }
}

struct Idle {
    client: IpmiClient,
    _permit: OwnedSemaphorePermit,
    since: Instant,
}

/// A session checked out of the pool for one driver call.
pub(crate) struct Lease {
    /// The session.
    pub(crate) client: IpmiClient,
    /// Whether the session served an earlier call (it may have died on the BMC meanwhile).
    pub(crate) reused: bool,
    /// [`IpmiClient::answered`] at checkout.
    pub(crate) answered_at_checkout: u64,
    permit: OwnedSemaphorePermit,
    key: BmcKey,
}

#[derive(Default)]
struct State {
    idle: HashMap<BmcKey, Vec<Idle>>,
}

/// What a checkout found under the lock.
enum Found {
    Cached(Idle),
    Permit(OwnedSemaphorePermit),
    Evict(BmcKey, Idle),
    Wait,
}

/// The session cache (or, with reuse off, only the limit).
pub(crate) struct SessionPool {
    limit: Arc<Semaphore>,
    state: Mutex<State>,
    /// Signalled when a session is cached.
    returned: Notify,
    salt: [u8; 16],
    idle_timeout: Duration,
    reuse: bool,
    opened: AtomicU64,
    reused: AtomicU64,
    closed: AtomicU64,
}

impl fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionPool")
            .field("reuse", &self.reuse)
            .field("idle_timeout", &self.idle_timeout)
            .field("available_permits", &self.limit.available_permits())
            .field("stats", &self.stats())
            .finish()
    }
}

impl SessionPool {
    pub(crate) fn new(max_sessions: usize, idle_timeout: Duration, reuse: bool) -> SessionPool {
        SessionPool {
            limit: Arc::new(Semaphore::new(max_sessions.max(1))),
            state: Mutex::new(State::default()),
            returned: Notify::new(),
            salt: rand::random(),
            idle_timeout,
            reuse,
            opened: AtomicU64::new(0),
            reused: AtomicU64::new(0),
            closed: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cache key of `config`.
    pub(crate) fn key(&self, config: &IpmiConfig) -> BmcKey {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(config.password.expose());
        BmcKey {
            host: config.host.clone(),
            port: config.port,
            user: config.username.clone(),
            credential: h.finalize().into(),
        }
    }

    pub(crate) fn stats(&self) -> SessionStats {
        SessionStats {
            opened: self.opened.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            idle: self.lock().idle.values().map(Vec::len).sum(),
        }
    }

    /// Takes the idle sessions past the idle limit out of `state`.
    fn take_expired(&self, state: &mut State) -> Vec<Idle> {
        let mut expired = Vec::new();
        let limit = self.idle_timeout;
        state.idle.retain(|_, sessions| {
            let (old, fresh): (Vec<_>, Vec<_>) = std::mem::take(sessions)
                .into_iter()
                .partition(|s| s.since.elapsed() >= limit);
            expired.extend(old);
            *sessions = fresh;
            !sessions.is_empty()
        });
        expired
    }

    /// Drops sessions without waiting (one Close Session datagram each).
    fn drop_sessions(&self, sessions: Vec<Idle>) {
        if !sessions.is_empty() {
            tracing::debug!(count = sessions.len(), "dropping idle IPMI sessions");
            self.closed
                .fetch_add(sessions.len() as u64, Ordering::Relaxed);
        }
    }

    /// A session with the BMC of `config`: a cached one when `reuse` allows and one is idle,
    /// else a new one (taking a permit of the global limit first).
    pub(crate) async fn checkout(&self, config: &IpmiConfig, reuse: bool) -> Result<Lease> {
        let key = self.key(config);
        let reuse = self.reuse && reuse;
        let closed = || Error::Config("the session limiter is closed".into());
        let permit = loop {
            let returned = self.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            let (expired, found) = {
                let mut state = self.lock();
                let expired = self.take_expired(&mut state);
                let found = match reuse.then(|| pop(&mut state, &key)).flatten() {
                    Some(idle) => Found::Cached(idle),
                    None => match self.limit.clone().try_acquire_owned() {
                        Ok(permit) => Found::Permit(permit),
                        Err(TryAcquireError::Closed) => return Err(closed()),
                        Err(TryAcquireError::NoPermits) => match pop_oldest(&mut state) {
                            Some((key, idle)) => Found::Evict(key, idle),
                            None => Found::Wait,
                        },
                    },
                };
                (expired, found)
            };
            self.drop_sessions(expired);
            match found {
                Found::Cached(idle) => {
                    tracing::debug!(bmc = ?key, "reusing the cached IPMI session");
                    self.reused.fetch_add(1, Ordering::Relaxed);
                    return Ok(Lease {
                        answered_at_checkout: idle.client.answered(),
                        client: idle.client,
                        reused: true,
                        permit: idle._permit,
                        key,
                    });
                }
                Found::Permit(permit) => break permit,
                Found::Evict(other, idle) => {
                    tracing::debug!(bmc = ?other, "session limit reached: closing an idle session");
                    self.close_client(idle.client, &other).await;
                }
                Found::Wait => tokio::select! {
                    permit = self.limit.clone().acquire_owned() => break permit.map_err(|_| closed())?,
                    () = &mut returned => {}
                },
            }
        };
        let client = IpmiClient::connect(config).await?;
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(Lease {
            client,
            reused: false,
            answered_at_checkout: 0,
            permit,
            key,
        })
    }

    /// Hands a session back after a call: cached when reuse is on and the session is
    /// `healthy` (waking calls waiting for a session); else closed (awaited when healthy,
    /// else best effort).
    pub(crate) async fn checkin(&self, lease: Lease, healthy: bool) {
        let Lease {
            client,
            permit,
            key,
            ..
        } = lease;
        if !healthy {
            tracing::debug!(bmc = ?key, "dropping an IPMI session after a session-level error");
            self.drop_sessions(vec![Idle {
                client,
                _permit: permit,
                since: Instant::now(),
            }]);
            return;
        }
        if self.reuse {
            let expired = {
                let mut state = self.lock();
                let expired = self.take_expired(&mut state);
                state.idle.entry(key).or_default().push(Idle {
                    client,
                    _permit: permit,
                    since: Instant::now(),
                });
                expired
            };
            self.returned.notify_waiters();
            self.drop_sessions(expired);
            return;
        }
        self.close_client(client, &key).await;
        drop(permit);
    }

    /// Sends Close Session and waits for the answer; failures are logged.
    async fn close_client(&self, client: IpmiClient, key: &BmcKey) {
        self.closed.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = client.close().await {
            tracing::debug!(bmc = ?key, error = %e, "closing the IPMI session failed");
        }
    }

    /// Closes every idle session (Close Session sent and awaited, concurrently); returns how
    /// many were closed.
    pub(crate) async fn close_idle(&self) -> usize {
        let idle: Vec<(BmcKey, Idle)> = {
            let mut state = self.lock();
            state
                .idle
                .drain()
                .flat_map(|(k, v)| v.into_iter().map(move |s| (k.clone(), s)))
                .collect()
        };
        let count = idle.len();
        let closes = idle
            .into_iter()
            .map(|(key, s)| async move { self.close_client(s.client, &key).await });
        join_all(closes).await;
        count
    }
}

/// The most recently used idle session of `key`.
fn pop(state: &mut State, key: &BmcKey) -> Option<Idle> {
    let sessions = state.idle.get_mut(key)?;
    let idle = sessions.pop();
    if sessions.is_empty() {
        state.idle.remove(key);
    }
    idle
}

/// The least recently used idle session of any BMC.
fn pop_oldest(state: &mut State) -> Option<(BmcKey, Idle)> {
    let (key, i) = state
        .idle
        .iter()
        .flat_map(|(k, v)| v.iter().enumerate().map(move |(i, s)| (k, i, s.since)))
        .min_by_key(|(_, _, since)| *since)
        .map(|(k, i, _)| (k.clone(), i))?;
    let sessions = state.idle.get_mut(&key)?;
    let idle = sessions.remove(i);
    if sessions.is_empty() {
        state.idle.remove(&key);
    }
    Some((key, idle))
}

/// Runs `futures` concurrently to completion (no extra dependency).
async fn join_all<F: std::future::Future<Output = ()>>(futures: impl IntoIterator<Item = F>) {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        futures.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if futures.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_separates_credentials_and_hides_them() {
        let pool = SessionPool::new(4, Duration::from_secs(30), true);
        let a = IpmiConfig::new("10.0.0.5", "admin", "hunter2");
        let b = IpmiConfig::new("10.0.0.5", "admin", "hunter3");
        assert_eq!(pool.key(&a), pool.key(&a.clone()));
        assert_ne!(pool.key(&a), pool.key(&b));
        assert_ne!(pool.key(&a), pool.key(&a.clone().with_port(624)));
        let printed = format!("{:?} {pool:?}", pool.key(&a));
        assert_eq!(
            printed.split(' ').next(),
            Some("admin@10.0.0.5:623"),
            "{printed}"
        );
        assert!(!printed.contains("hunter"), "{printed}");
        // Another driver salts differently: digests are not comparable across drivers.
        let other = SessionPool::new(4, Duration::from_secs(30), true);
        assert_ne!(pool.key(&a).credential, other.key(&a).credential);
    }
}
