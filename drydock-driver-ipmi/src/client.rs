//! The public async client: [`IpmiClient`].

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Mutex;

use crate::commands::{
    BootFlags, ChassisStatus, Command, DeviceId, PowerAction, PowerState, SelInfo,
};
use crate::config::IpmiConfig;
use crate::error::{Error, Result};
use crate::rmcp::{AsfPing, AsfPong};
use crate::session::Session;
use crate::transport::Transport;

/// A client holding one authenticated RMCP+ session with a BMC.
///
/// Methods take `&self` (requests on one session are serialized), so the client can be
/// shared behind an `Arc`. Call [`IpmiClient::close`] when done; dropping the client without
/// it sends a best-effort Close Session datagram.
#[derive(Debug)]
pub struct IpmiClient {
    session: Mutex<Session>,
    suite: u8,
    answered: AtomicU64,
}

impl IpmiClient {
    /// Opens a session: Get Channel Authentication Capabilities, Open Session, RAKP 1-4,
    /// then Set Session Privilege Level to the configured privilege.
    pub async fn connect(config: &IpmiConfig) -> Result<IpmiClient> {
        let session = Session::open(config).await?;
        let suite = session.suite().id;
        Ok(IpmiClient {
            session: Mutex::new(session),
            suite,
            answered: AtomicU64::new(0),
        })
    }

    /// Sends an ASF presence ping (no session, no credentials) and returns the pong.
    ///
    /// A quick reachability probe: [`Error::Timeout`](crate::Error::Timeout) when nothing answers.
    pub async fn ping(config: &IpmiConfig) -> Result<AsfPong> {
        let transport =
            Transport::connect(&config.host, config.port, config.timeout, config.retries).await?;
        let tag = rand::random::<u8>() & 0xFE;
        let ping = AsfPing { tag }.encode();
        transport
            .exchange(
                "ASF presence ping",
                || Ok(ping.clone()),
                |bytes| {
                    let pong = AsfPong::decode(bytes)?;
                    Ok((pong.tag == tag).then_some(pong))
                },
            )
            .await
    }

    /// The negotiated cipher suite ID.
    pub fn cipher_suite(&self) -> u8 {
        self.suite
    }

    /// Sends a raw command (`netfn` is the request network function); returns the response
    /// data after the completion code, which is checked.
    pub async fn raw(&self, netfn: u8, cmd: u8, data: &[u8]) -> Result<Vec<u8>> {
        let command = Command {
            name: "raw command",
            netfn,
            cmd,
            data: data.to_vec(),
        };
        self.run(command).await
    }

    async fn run(&self, command: Command) -> Result<Vec<u8>> {
        let result = self.session.lock().await.request(&command).await;
        match &result {
            Ok(_) => {}
            Err(e @ Error::CompletionCode { .. }) if !e.is_session_lost() => {}
            Err(_) => return result.map(|rs| rs.data),
        }
        self.answered.fetch_add(1, Ordering::Relaxed);
        result.map(|rs| rs.data)
    }

    /// How many requests of this session the BMC answered (with any completion code but
    /// those meaning the session is gone, see [`Error::is_session_lost`]).
    ///
    /// A session that answered nothing since some point may have been dropped by the BMC.
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }

    /// Get Device ID.
    pub async fn device_id(&self) -> Result<DeviceId> {
        Ok(DeviceId::decode(
            &self.run(Command::get_device_id()).await?,
        )?)
    }

    /// Get Chassis Status.
    pub async fn chassis_status(&self) -> Result<ChassisStatus> {
        Ok(ChassisStatus::decode(
            &self.run(Command::get_chassis_status()).await?,
        )?)
    }

    /// The chassis power state (from Get Chassis Status).
    pub async fn power_state(&self) -> Result<PowerState> {
        Ok(self.chassis_status().await?.power)
    }

    /// Chassis Control: power on, off, cycle, hard reset, soft off, diagnostic interrupt.
    ///
    /// The BMC acts asynchronously: poll [`IpmiClient::power_state`] to see the change.
    pub async fn power(&self, action: PowerAction) -> Result<()> {
        self.run(Command::chassis_control(action)).await.map(drop)
    }

    /// Set System Boot Options, boot flags: device, one-time or persistent, legacy or EFI.
    pub async fn set_boot_flags(&self, flags: BootFlags) -> Result<()> {
        self.run(Command::set_boot_flags(flags)).await.map(drop)
    }

    /// Get System Boot Options, boot flags.
    pub async fn boot_flags(&self) -> Result<BootFlags> {
        Ok(BootFlags::decode_response(
            &self.run(Command::get_boot_flags()).await?,
        )?)
    }

    /// Get SEL Info; fails with a completion code error when the BMC has no SEL.
    pub async fn sel_info(&self) -> Result<SelInfo> {
        Ok(SelInfo::decode(&self.run(Command::get_sel_info()).await?)?)
    }

    /// Closes the session (Close Session, waiting for the answer).
    pub async fn close(self) -> Result<()> {
        self.session.into_inner().close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn client_and_its_futures_are_send() {
        let config = IpmiConfig::new("127.0.0.1", "admin", "pw");
        assert_send(&IpmiClient::connect(&config));
        assert_send(&IpmiClient::ping(&config));
        fn with(client: &IpmiClient) {
            assert_send_sync(client);
            assert_send(&client.power_state());
            assert_send(&client.power(PowerAction::On));
        }
        let _ = with;
    }
}
