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
//! Thousands of calls may wait at once, so both sides are kept cheap:
//! * a waiting call hands its deadline and waker over through a short-held mutex (a push onto a
//!   vector), and the thread takes the whole vector at once: the two never contend for long;
//! * the thread keeps deadlines in its own queue, a first-in first-out run while they come in
//!   order (calls of one latency do) and a heap for the others;
//! * it wakes at most once every [`GRAIN`], waking every call then due, and publishes the time
//!   it read before waking them: a woken call compares its deadline with that mark instead of
//!   reading the clock again.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
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
                // A latency past the clock's range waits for ever.
                deadline: Instant::now()
                    .checked_add(latency)
                    .map_or(Ticks::MAX, |at| clock.ticks(at)),
                registered: None,
            }
            .await
        }
        _ => tokio::time::sleep(latency).await,
    }
}

/// Nanoseconds since the clock's start: deadlines, and the mark of the last wake-up round.
type Ticks = u64;

/// What waiting calls hand over to the thread.
struct Incoming {
    entries: Vec<(Ticks, Waker)>,
    /// A call due before this wakes the thread: the thread sleeps until then. Zero while it is
    /// awake (it looks at `entries` before sleeping again), or when it will wake at its next
    /// allowed moment anyway.
    notify_before: Ticks,
}

/// The timer thread's queue and its mark.
struct Clock {
    start: Instant,
    incoming: Mutex<Incoming>,
    changed: Condvar,
    /// The clock reading of the latest wake-up round: every call due by then has been woken.
    fired: AtomicU64,
}

fn lock(m: &Mutex<Incoming>) -> std::sync::MutexGuard<'_, Incoming> {
    // A push or a swap of a vector: a panic cannot leave it half-way.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Clock {
    /// The process's timer thread, started on first use; `None` if it cannot be started.
    fn shared() -> Option<&'static Clock> {
        static CLOCK: OnceLock<Option<&'static Clock>> = OnceLock::new();
        *CLOCK.get_or_init(|| {
            let clock: &'static Clock = Box::leak(Box::new(Clock {
                start: Instant::now(),
                incoming: Mutex::new(Incoming {
                    entries: Vec::new(),
                    notify_before: 0,
                }),
                changed: Condvar::new(),
                fired: AtomicU64::new(0),
            }));
            std::thread::Builder::new()
                .name("drydock-sim-clock".into())
                .spawn(move || clock.run())
                .ok()
                .map(|_| clock)
        })
    }

    /// `at` in ticks; instants past about 584 years saturate.
    fn ticks(&self, at: Instant) -> Ticks {
        let nanos = at.saturating_duration_since(self.start).as_nanos();
        Ticks::try_from(nanos).unwrap_or(Ticks::MAX)
    }

    fn register(&self, deadline: Ticks, waker: Waker) {
        let mut incoming = lock(&self.incoming);
        incoming.entries.push((deadline, waker));
        if deadline < incoming.notify_before {
            incoming.notify_before = 0; // one notification is enough
            drop(incoming);
            self.changed.notify_one();
        }
    }

    fn run(&self) -> ! {
        let mut queue = Queue::<Waker>::default();
        let mut batch = Vec::new();
        let mut due = Vec::new();
        // The thread wakes callers no earlier than this.
        let mut next_round: Ticks = 0;
        loop {
            std::mem::swap(&mut lock(&self.incoming).entries, &mut batch);
            batch.drain(..).for_each(|(at, w)| queue.push(at, w));
            let now = self.ticks(Instant::now());
            if now >= next_round {
                queue.pop_due(now, &mut due);
            }
            if !due.is_empty() {
                // Published before the wakes, so that a woken call sees it.
                self.fired.store(now, Ordering::Release);
                due.drain(..).for_each(Waker::wake);
                next_round = now.saturating_add(GRAIN.as_nanos() as Ticks);
                continue;
            }
            let mut incoming = lock(&self.incoming);
            if !incoming.entries.is_empty() {
                continue;
            }
            let Some(earliest) = queue.earliest() else {
                incoming.notify_before = Ticks::MAX;
                drop(self.changed.wait(incoming));
                lock(&self.incoming).notify_before = 0;
                continue;
            };
            let target = earliest.max(next_round);
            // Nothing can be woken before `next_round`: a call due earlier need not wake the
            // thread when it would sleep until then anyway.
            incoming.notify_before = if target > next_round { target } else { 0 };
            let wait = Duration::from_nanos(target.saturating_sub(now));
            let (mut incoming, _) = self
                .changed
                .wait_timeout(incoming, wait)
                .unwrap_or_else(|e| e.into_inner());
            incoming.notify_before = 0;
        }
    }
}

/// The thread's deadlines: in arrival order while they arrive in order, in a heap otherwise.
struct Queue<T> {
    run: VecDeque<(Ticks, T)>,
    /// Deadlines that arrived out of order, with their arrival number as tie-break.
    heap: BinaryHeap<Reverse<Late<T>>>,
    arrivals: u64,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            run: VecDeque::new(),
            heap: BinaryHeap::new(),
            arrivals: 0,
        }
    }
}

/// An out-of-order deadline, ordered by deadline then arrival.
struct Late<T>(Ticks, u64, T);

impl<T> PartialEq for Late<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}

impl<T> Eq for Late<T> {}

impl<T> PartialOrd for Late<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Late<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

impl<T> Queue<T> {
    fn push(&mut self, at: Ticks, item: T) {
        if self.run.back().is_none_or(|(last, _)| *last <= at) {
            self.run.push_back((at, item));
        } else {
            self.arrivals += 1;
            self.heap.push(Reverse(Late(at, self.arrivals, item)));
        }
    }

    fn earliest(&self) -> Option<Ticks> {
        let run = self.run.front().map(|(at, _)| *at);
        let heap = self.heap.peek().map(|Reverse(l)| l.0);
        run.into_iter().chain(heap).min()
    }

    /// Moves the items due by `now` into `due`, earliest first.
    fn pop_due(&mut self, now: Ticks, due: &mut Vec<T>) {
        loop {
            let run = self.run.front().map(|(at, _)| *at).filter(|at| *at <= now);
            let heap = self
                .heap
                .peek()
                .map(|Reverse(l)| l.0)
                .filter(|at| *at <= now);
            match (run, heap) {
                (Some(r), Some(h)) if h < r => due.extend(self.heap.pop().map(|Reverse(l)| l.2)),
                (Some(_), _) => due.extend(self.run.pop_front().map(|(_, w)| w)),
                (None, Some(_)) => due.extend(self.heap.pop().map(|Reverse(l)| l.2)),
                (None, None) => return,
            }
        }
    }
}

/// Ready once the wall clock reaches `deadline`.
struct PreciseSleep {
    clock: &'static Clock,
    deadline: Ticks,
    /// The waker the clock will wake.
    registered: Option<Waker>,
}

impl Future for PreciseSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // At the first poll the deadline was just set, a latency ahead: it cannot have passed
        // (were it so, the thread would wake the task at once). Later, the thread's mark says
        // whether it did, without reading the clock.
        if self.registered.is_some() && self.clock.fired.load(Ordering::Acquire) >= self.deadline {
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

    #[tokio::test]
    async fn calls_of_mixed_latencies_each_last_their_own() {
        // Out-of-order deadlines go through the heap; each call still waits its own latency.
        let waits = [7u64, 1, 4, 2, 6, 3, 5].map(|ms| async move {
            let start = Instant::now();
            latency(Duration::from_millis(ms)).await;
            (ms, start.elapsed())
        });
        for (ms, took) in futures::future::join_all(waits).await {
            assert!(took >= Duration::from_millis(ms), "{ms} ms took {took:?}");
        }
    }

    #[test]
    fn queue_pops_in_deadline_order_across_run_and_heap() {
        let mut q = Queue::default();
        // (deadline, arrival): 15, 5 and the last 30 arrive out of order, into the heap.
        for (arrival, at) in [10, 20, 30, 15, 5, 30, 40, 30].into_iter().enumerate() {
            q.push(at, (at, arrival));
        }
        assert_eq!((q.run.len(), q.heap.len()), (5, 3));
        assert_eq!(q.earliest(), Some(5));
        let mut due = Vec::new();
        q.pop_due(20, &mut due);
        assert_eq!(due, [(5, 4), (10, 0), (15, 3), (20, 1)]);
        assert_eq!(q.earliest(), Some(30));
        due.clear();
        q.pop_due(Ticks::MAX, &mut due);
        // Equal deadlines leave in arrival order.
        assert_eq!(due, [(30, 2), (30, 5), (30, 7), (40, 6)]);
        assert_eq!(q.earliest(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn follows_tokio_paused_clock() {
        let start = tokio::time::Instant::now();
        latency(Duration::from_secs(3600)).await;
        assert!(start.elapsed() >= Duration::from_secs(3600));
    }
}
