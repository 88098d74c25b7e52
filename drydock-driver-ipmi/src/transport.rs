//! Request/response exchange over a connected UDP socket, with timeouts and retransmission.

use std::io::ErrorKind as IoKind;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::timeout_at;

use crate::error::{Error, ProtocolError, Result};

/// Largest datagram accepted.
const MAX_DATAGRAM: usize = 1024;
/// Datagrams examined per attempt before giving up on it (bounds the receive loop).
const MAX_DATAGRAMS_PER_ATTEMPT: usize = 64;

/// A UDP socket connected to one BMC.
#[derive(Debug)]
pub(crate) struct Transport {
    socket: UdpSocket,
    timeout: Duration,
    retries: u32,
}

impl Transport {
    /// Resolves `host:port`, binds an ephemeral local port and connects to the BMC.
    pub(crate) async fn connect(
        host: &str,
        port: u16,
        timeout: Duration,
        retries: u32,
    ) -> Result<Transport> {
        let addr: SocketAddr = tokio::net::lookup_host((host, port))
            .await?
            .next()
            .ok_or_else(|| Error::Config(format!("host {host:?} resolves to no address")))?;
        let local: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(addr).await?;
        Ok(Transport {
            socket,
            timeout,
            retries,
        })
    }

    /// The configured number of retransmissions.
    pub(crate) fn retries(&self) -> u32 {
        self.retries
    }

    /// Sends a datagram without waiting (best effort, usable outside a runtime).
    pub(crate) fn try_send(&self, bytes: &[u8]) -> bool {
        self.socket.try_send(bytes).is_ok()
    }

    /// Sends `build()` up to `1 + retries` times until `accept` returns `Some` for a datagram.
    ///
    /// `accept` returns `Ok(None)` to ignore a datagram (not for this exchange), an
    /// `Err(Error::Protocol)` for malformed input (remembered; waiting continues), any other
    /// error to abort. When every attempt times out, the result is the last protocol error if
    /// the BMC only sent garbage, else [`Error::Timeout`].
    pub(crate) async fn exchange<T>(
        &self,
        what: &'static str,
        build: impl FnMut() -> Result<Vec<u8>>,
        accept: impl FnMut(&[u8]) -> Result<Option<T>>,
    ) -> Result<T> {
        let attempts = self.retries.saturating_add(1);
        self.exchange_at_most(what, attempts, build, accept).await
    }

    /// Like [`Transport::exchange`], but sends the request at most `attempts` times (at least
    /// once), whatever the configured retries.
    pub(crate) async fn exchange_at_most<T>(
        &self,
        what: &'static str,
        attempts: u32,
        mut build: impl FnMut() -> Result<Vec<u8>>,
        mut accept: impl FnMut(&[u8]) -> Result<Option<T>>,
    ) -> Result<T> {
        let attempts = attempts.max(1);
        // One byte more than accepted: a longer datagram fills it and is refused, instead of
        // being cut silently to a prefix that may decode.
        let mut buf = vec![0u8; MAX_DATAGRAM + 1];
        let mut garbage: Option<ProtocolError> = None;
        for attempt in 1..=attempts {
            let packet = build()?;
            match self.socket.send(&packet).await {
                Ok(_) => {}
                // An ICMP port unreachable from an earlier send: the BMC is not there (yet).
                Err(e) if e.kind() == IoKind::ConnectionRefused => {}
                Err(e) => return Err(e.into()),
            }
            tracing::trace!(what, attempt, len = packet.len(), "sent");
            let deadline = drydock_core::driver::deadline_after(self.timeout);
            for _ in 0..MAX_DATAGRAMS_PER_ATTEMPT {
                let n = match timeout_at(deadline, self.socket.recv(&mut buf)).await {
                    Err(_) => break,
                    Ok(Err(e)) if e.kind() == IoKind::ConnectionRefused => {
                        // Wait out the attempt: an unreachable port must look like silence.
                        tokio::time::sleep_until(deadline).await;
                        break;
                    }
                    Ok(Err(e)) => return Err(e.into()),
                    Ok(Ok(n)) => n,
                };
                let verdict = if n > MAX_DATAGRAM {
                    Err(ProtocolError::Oversized { max: MAX_DATAGRAM }.into())
                } else {
                    accept(&buf[..n])
                };
                match verdict {
                    Ok(Some(v)) => return Ok(v),
                    Ok(None) => tracing::trace!(what, "ignored a datagram"),
                    Err(Error::Protocol(p)) => {
                        tracing::debug!(what, error = %p, "malformed datagram from the BMC");
                        garbage = Some(p);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Err(match garbage {
            Some(p) => Error::Protocol(p),
            None => Error::Timeout { what, attempts },
        })
    }
}
