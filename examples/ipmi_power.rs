//! Power and boot control of one BMC over IPMI v2.0 (RMCP+).
//!
//! ```text
//! IPMI_PASSWORD=password cargo run --release --example ipmi_power -- \
//!     --host 127.0.0.1 --port 16230 --user admin --password-env IPMI_PASSWORD \
//!     [--cipher-suite 3] status|on|off|cycle|reset|pxe|disk
//! ```
//!
//! Prints `{"power":"on"|"off","boot":"pxe"|"disk"|...}` on success; on failure prints the
//! error on stderr and exits with status 1 (2 for usage errors).
//!
//! Set `RUST_LOG` (e.g. `RUST_LOG=debug`) for the libraries' logs on stderr.

#[path = "support/logging.rs"]
mod logging;

use std::process::ExitCode;
use std::time::Duration;

use drydock::ipmi::{BootDevice, BootFlags, IpmiClient, IpmiConfig, PowerAction, PowerState};

const USAGE: &str = "usage: ipmi_power --host H [--port P] --user U --password-env VAR \
                     [--cipher-suite N] status|on|off|cycle|reset|pxe|disk";

/// What the user asked for.
#[derive(Debug, Clone, Copy)]
enum Action {
    Status,
    Power(PowerAction),
    Boot(BootDevice),
}

#[derive(Debug)]
struct Args {
    config: IpmiConfig,
    action: Action,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut host, mut port, mut user, mut password_env, mut suite, mut action) =
        (None, 623u16, None, None, None, None);
    while let Some(arg) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--host" => host = Some(value("--host")?),
            "--port" => {
                port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--user" => user = Some(value("--user")?),
            "--password-env" => password_env = Some(value("--password-env")?),
            "--cipher-suite" => {
                suite = Some(
                    value("--cipher-suite")?
                        .parse::<u8>()
                        .map_err(|e| format!("--cipher-suite: {e}"))?,
                )
            }
            "-h" | "--help" => return Err(String::new()),
            "status" => action = Some(Action::Status),
            "on" => action = Some(Action::Power(PowerAction::On)),
            "off" => action = Some(Action::Power(PowerAction::Off)),
            "cycle" => action = Some(Action::Power(PowerAction::Cycle)),
            "reset" => action = Some(Action::Power(PowerAction::HardReset)),
            "pxe" => action = Some(Action::Boot(BootDevice::Pxe)),
            "disk" => action = Some(Action::Boot(BootDevice::Disk)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let host = host.ok_or("--host is required")?;
    let user = user.ok_or("--user is required")?;
    let var = password_env.ok_or("--password-env is required")?;
    let password =
        std::env::var(&var).map_err(|_| format!("environment variable {var} is not set"))?;
    let mut config = IpmiConfig::new(host, user, password).with_port(port);
    if let Some(suite) = suite {
        config = config.with_cipher_suite(suite);
    }
    Ok(Args {
        config,
        action: action.ok_or("no command given")?,
    })
}

async fn run(args: Args) -> Result<String, drydock::ipmi::Error> {
    let client = IpmiClient::connect(&args.config).await?;
    let result = act(&client, args.action).await;
    let closed = client.close().await;
    let value = result?;
    closed?;
    Ok(value)
}

async fn act(client: &IpmiClient, action: Action) -> Result<String, drydock::ipmi::Error> {
    match action {
        Action::Status => {}
        Action::Power(power) => {
            client.power(power).await?;
            let want = match power {
                PowerAction::On => Some(PowerState::On),
                PowerAction::Off => Some(PowerState::Off),
                _ => None,
            };
            // The BMC acts asynchronously: wait (bounded) until the state shows the change.
            for _ in 0..50 {
                if want.is_none() || Some(client.power_state().await?) == want {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Action::Boot(device) => {
            client
                .set_boot_flags(BootFlags {
                    device,
                    persistent: false,
                    efi: false,
                })
                .await?;
        }
    }
    let power = client.power_state().await?;
    let boot = client.boot_flags().await?;
    // Both values are fixed lower-case words: no escaping needed, and the key order is kept.
    Ok(format!(
        r#"{{"power":"{}","boot":"{}"}}"#,
        power.as_str(),
        boot.device.as_str()
    ))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    logging::init();
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("{msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ipmi_power: {e}");
            ExitCode::FAILURE
        }
    }
}
