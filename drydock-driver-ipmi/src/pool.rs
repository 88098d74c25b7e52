//! The session cache of [`IpmiDriver`](crate::IpmiDriver): authenticated RMCP+ sessions kept
//! per BMC between driver calls, under the driver's global session limit.
//!
//! * Key: BMC host, port, user name and a salted SHA-256 digest of the password (the salt is
//!   random per driver). A design that changes a BMC's password therefore never reuses a
//!   session opened with the old one. The key's `Debug` shows host, port and user only.
//! * Limit: every open session, in use or idle in the cache, holds one permit of the global
//!   semaphore. A call that needs a new session while none is free closes the least recently
//!   used idle session (of any BMC) to take its permit; when every session is in use, it waits,
//!   and sessions handed back while someone waits are closed instead of cached.
//! * Idle sessions older than the idle limit are never reused: they are dropped (one
//!   best-effort Close Session datagram, no wait, as the BMC may have expired them already)
//!   on the next checkout or check-in of any BMC.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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
    waiters: usize,
}

/// The session cache (or, with reuse off, only the limit).
pub(crate) struct SessionPool {
    limit: Arc<Semaphore>,
    state: Mutex<State>,
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

/// Decrements the waiter count when a wait for a permit ends (also when cancelled).
struct Waiting<'a>(&'a SessionPool);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.lock().waiters -= 1;
    }
}

impl SessionPool {
    pub(crate) fn new(max_sessions: usize, idle_timeout: Duration, reuse: bool) -> SessionPool {
        SessionPool {
            limit: Arc::new(Semaphore::new(max_sessions.max(1))),
            state: Mutex::new(State::default()),
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
        if self.reuse && reuse {
            let (expired, cached) = {
                let mut state = self.lock();
                let expired = self.take_expired(&mut state);
                let cached = state.idle.get_mut(&key).and_then(Vec::pop);
                if state.idle.get(&key).is_some_and(Vec::is_empty) {
                    state.idle.remove(&key);
                }
                (expired, cached)
            };
            self.drop_sessions(expired);
            if let Some(idle) = cached {
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
        }
        let permit = self.permit().await?;
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

    /// A permit of the global limit: a free one, else one of the least recently used idle
    /// session (closed for it), else the next one released.
    async fn permit(&self) -> Result<OwnedSemaphorePermit> {
        let closed = || Error::Config("the session limiter is closed".into());
        loop {
            match self.limit.clone().try_acquire_owned() {
                Ok(permit) => return Ok(permit),
                Err(tokio::sync::TryAcquireError::Closed) => return Err(closed()),
                Err(tokio::sync::TryAcquireError::NoPermits) => {}
            }
            let evicted = {
                let mut state = self.lock();
                let oldest = state
                    .idle
                    .iter()
                    .flat_map(|(k, v)| v.iter().enumerate().map(move |(i, s)| (k, i, s.since)))
                    .min_by_key(|(_, _, since)| *since)
                    .map(|(k, i, _)| (k.clone(), i));
                match oldest {
                    Some((key, i)) => {
                        let sessions = state.idle.get_mut(&key).expect("key just seen");
                        let idle = sessions.remove(i);
                        if sessions.is_empty() {
                            state.idle.remove(&key);
                        }
                        Some((key, idle))
                    }
                    None => {
                        state.waiters += 1;
                        None
                    }
                }
            };
            match evicted {
                Some((key, idle)) => {
                    tracing::debug!(bmc = ?key, "session limit reached: closing an idle session");
                    self.close_client(idle.client, &key).await;
                }
                None => {
                    let _waiting = Waiting(self);
                    return self
                        .limit
                        .clone()
                        .acquire_owned()
                        .await
                        .map_err(|_| closed());
                }
            }
        }
    }

    /// Hands a session back after a call: cached when reuse is on, the session is `healthy`
    /// and nobody waits for a permit; else closed (awaited when healthy, else best effort).
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
                if state.waiters == 0 {
                    state.idle.entry(key.clone()).or_default().push(Idle {
                        client,
                        _permit: permit,
                        since: Instant::now(),
                    });
                    drop(state);
                    self.drop_sessions(expired);
                    return;
                }
                expired
            };
            self.drop_sessions(expired);
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
