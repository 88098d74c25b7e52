//! Session sequence numbers: the outbound counter and the inbound replay window (§6.12.13).

use crate::error::ProtocolError;

/// How far the inbound window reaches behind and ahead of the highest number accepted.
pub const WINDOW: u32 = 16;

/// Outbound session sequence numbers: start at 1, never 0, never wrap.
#[derive(Debug, Clone)]
pub struct OutboundSequence {
    next: u32,
}

impl Default for OutboundSequence {
    fn default() -> Self {
        OutboundSequence { next: 1 }
    }
}

impl OutboundSequence {
    /// The next number to send, or `None` once the session has used up all numbers.
    pub fn next_number(&mut self) -> Option<u32> {
        let n = self.next;
        if n == 0 {
            return None;
        }
        self.next = n.wrapping_add(1);
        Some(n)
    }
}

/// Inbound replay window: rejects 0, duplicates, and numbers more than [`WINDOW`] away from
/// the highest number accepted so far (the first number accepted may be anything but 0).
///
/// ```
/// use drydock_driver_ipmi::seq::ReplayWindow;
/// let mut w = ReplayWindow::default();
/// assert!(w.accept(1).is_ok());
/// assert!(w.accept(3).is_ok());
/// assert!(w.accept(2).is_ok());  // late but inside the window
/// assert!(w.accept(2).is_err()); // replay
/// assert!(w.accept(0).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReplayWindow {
    /// Highest number accepted (0 before the first).
    highest: u32,
    /// Bit `i` set: `highest - i` was accepted.
    seen: u64,
}

impl ReplayWindow {
    /// Checks `seq` and records it when accepted.
    pub fn accept(&mut self, seq: u32) -> Result<(), ProtocolError> {
        if seq == 0 {
            return Err(ProtocolError::Replay(seq));
        }
        if self.highest == 0 {
            // The first authenticated number sets the window, whatever the BMC starts from.
            self.highest = seq;
            self.seen = 1;
            return Ok(());
        }
        if seq > self.highest {
            let ahead = seq - self.highest;
            if ahead > WINDOW {
                return Err(ProtocolError::Replay(seq));
            }
            self.seen = self.seen.checked_shl(ahead).unwrap_or(0) | 1;
            self.highest = seq;
            return Ok(());
        }
        let behind = self.highest - seq;
        if behind >= WINDOW || self.seen & (1 << behind) != 0 {
            return Err(ProtocolError::Replay(seq));
        }
        self.seen |= 1 << behind;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn outbound_stops_before_wrapping() {
        let mut s = OutboundSequence { next: u32::MAX };
        assert_eq!(s.next_number(), Some(u32::MAX));
        assert_eq!(s.next_number(), None);
        assert_eq!(OutboundSequence::default().next_number(), Some(1));
    }

    #[test]
    fn window_bounds() {
        let mut w = ReplayWindow::default();
        w.accept(1).unwrap();
        assert!(w.accept(1 + WINDOW + 1).is_err());
        w.accept(1 + WINDOW).unwrap();
        assert!(w.accept(1).is_err()); // now too old
    }

    proptest! {
        #[test]
        fn never_accepts_twice(seqs in proptest::collection::vec(0u32..64, 0..100)) {
            let mut w = ReplayWindow::default();
            let mut accepted = std::collections::HashSet::new();
            for s in seqs {
                if w.accept(s).is_ok() {
                    prop_assert!(accepted.insert(s), "accepted {} twice", s);
                }
            }
        }

        #[test]
        fn in_order_stream_is_accepted(start in 1u32..16, n in 0u32..200) {
            let mut w = ReplayWindow::default();
            for s in start..start + n {
                prop_assert!(w.accept(s).is_ok());
            }
        }
    }
}
