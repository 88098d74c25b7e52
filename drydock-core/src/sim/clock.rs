//! The wait of a simulated call: at least the configured latency, and not a tick more.
//!
//! tokio's timer has a 1 ms wheel and rounds every deadline up to its next tick, so a 10 ms
//! `tokio::time::sleep` started just after a tick lasts about 11 ms: a simulated call would take
//! up to 10% longer than configured, unlike a real driver call, whose answer wakes its task as
//! soon as it arrives. So while tokio's clock runs, [`latency`] waits on a shared timer thread
//! that sleeps on the OS's high-resolution timer and ends the wait right after the deadline.
//! While tokio's clock is paused (tests), it waits with tokio's sleep, which ends at once in
//! virtual time, as before. Either way the wait lasts at least the latency on tokio's clock.
//!
//! The thread wakes at most once every [`GRAIN`]: thousands of calls ending within a few
//! milliseconds are woken in batches, each call at most a grain late, instead of costing the
//! thread (and the CPU it shares) a wake-up each.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The shortest time between two wake-ups of the timer thread.
const GRAIN: Duration = Duration::from_micros(100);

/// Waits `latency` on tokio's clock: on the timer thread while that clock runs (it then runs
/// with the wall clock), with tokio's sleep when it is paused or no timer thread could start.
pub(super) async fn latency(latency: Duration) {
    // A paused clock reads the same twice (auto-advance happens only while the runtime parks);
    // a running one reads the same twice only if it is too coarse to tell the reads apart, and
    // then tokio's sleep is merely less precise.
    let running = tokio::time::Instant::now() != tokio::time::Instant::now();
    match Clock::shared() {
        Some(clock) if running => {
            PreciseSleep {
                clock,
                deadline: Instant::now() + latency,
                registered: None,
            }
            .await
        }
        _ => tokio::time::sleep(latency).await,
    }
}

/// A waker due at a deadline; ordered by deadline, then by registration.
struct Entry {
    deadline: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

#[derive(Default)]
struct Timers {
    /// Earliest deadline on top. Entries of abandoned waits stay until due: waking a task that
    /// no longer waits is harmless.
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

/// The timer thread's queue.
struct Clock {
    timers: Mutex<Timers>,
    changed: Condvar,
}

fn lock(m: &Mutex<Timers>) -> std::sync::MutexGuard<'_, Timers> {
    // The queue holds no invariant a panic could break half-way.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Clock {
    /// The process's timer thread, started on first use; `None` if it cannot be started.
    fn shared() -> Option<&'static Clock> {
        static CLOCK: OnceLock<Option<&'static Clock>> = OnceLock::new();
        *CLOCK.get_or_init(|| {
            let clock: &'static Clock = Box::leak(Box::new(Clock {
                timers: Mutex::default(),
                changed: Condvar::new(),
            }));
            std::thread::Builder::new()
                .name("drydock-sim-clock".into())
                .spawn(move || clock.run())
                .ok()
                .map(|_| clock)
        })
    }

    fn register(&self, deadline: Instant, waker: Waker) {
        let mut t = lock(&self.timers);
        let earliest = t.heap.peek().is_none_or(|Reverse(e)| deadline < e.deadline);
        t.seq += 1;
        let seq = t.seq;
        t.heap.push(Reverse(Entry {
            deadline,
            seq,
            waker,
        }));
        drop(t);
        if earliest {
            self.changed.notify_one();
        }
    }

    fn run(&self) -> ! {
        let mut due = Vec::new();
        let mut next_wake = Instant::now();
        let mut t = lock(&self.timers);
        loop {
            let now = Instant::now();
            if now >= next_wake {
                while t.heap.peek().is_some_and(|Reverse(e)| e.deadline <= now) {
                    if let Some(Reverse(e)) = t.heap.pop() {
                        due.push(e.waker);
                    }
                }
            }
            if !due.is_empty() {
                drop(t);
                due.drain(..).for_each(Waker::wake);
                next_wake = now + GRAIN;
                t = lock(&self.timers);
                continue;
            }
            t = match t.heap.peek() {
                Some(Reverse(e)) => {
                    let wait = e.deadline.max(next_wake).saturating_duration_since(now);
                    self.changed
                        .wait_timeout(t, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.changed.wait(t).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

/// Ready once the wall clock reaches `deadline`.
struct PreciseSleep {
    clock: &'static Clock,
    deadline: Instant,
    /// The waker the clock will wake.
    registered: Option<Waker>,
}

impl Future for PreciseSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // At the first poll the deadline was just set, a latency ahead: no need to read the clock
        // (were it passed, the clock thread would wake the task at once).
        if self.registered.is_some() && Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            self.clock.register(self.deadline, cx.waker().clone());
            self.registered = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lasts_at_least_the_latency_on_the_wall_clock() {
        let start = Instant::now();
        latency(Duration::from_millis(3)).await;
        assert!(start.elapsed() >= Duration::from_millis(3));
    }

    #[tokio::test(start_paused = true)]
    async fn follows_tokio_paused_clock() {
        let start = tokio::time::Instant::now();
        latency(Duration::from_secs(3600)).await;
        assert!(start.elapsed() >= Duration::from_secs(3600));
    }
}
