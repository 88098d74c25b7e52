//! Power and boot control of one BMC over Redfish, through the `RedfishDriver`.
//!
//! ```text
//! BMC_PASSWORD=secret cargo run --release --example redfish_power -- \
//!     --url https://10.0.0.5 --user admin --password-env BMC_PASSWORD [--system ID] \
//!     [--ca-file F | --fingerprint SHA256 | --insecure] status|on|off|cycle|pxe|disk|inventory
//! ```
//!
//! Prints `{"power":"on"|"off","boot":"pxe"|"hdd"|...}` on success (with `"facts":{...}` for
//! `inventory`); on failure prints the error on stderr and exits with status 1 (2 for usage
//! errors). Against sushy-tools' emulator: `--url http://127.0.0.1:8000`.
//!
//! Set `RUST_LOG` (e.g. `RUST_LOG=debug`) for the libraries' logs on stderr.

#[path = "support/logging.rs"]
mod logging;

use std::net::ToSocketAddrs;
use std::process::ExitCode;

use drydock::core::design::{OobParameters, OobType, Secret};
use drydock::core::driver::{
    BootDevice, BootPersistence, DriverError, OobDriver, OobTarget, PowerAction,
};
use drydock::redfish::{RedfishDriver, RedfishDriverConfig};

const USAGE: &str = "usage: redfish_power --url URL --user U --password-env VAR [--system ID] \
                     [--ca-file F | --fingerprint SHA256 | --insecure] \
                     status|on|off|cycle|pxe|disk|inventory";

#[derive(Debug, Clone, Copy)]
enum Action {
    Status,
    Inventory,
    Power(PowerAction),
    Boot(BootDevice),
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<(OobTarget, Action), String> {
    let (mut url, mut user, mut password_env, mut action) = (None, None, None, None);
    let mut parameters = OobParameters::default();
    while let Some(arg) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or(format!("{name} needs a value"));
        let mut param = |k: &str, v: String| {
            parameters.0.insert(k.to_owned(), v);
        };
        match arg.as_str() {
            "--url" => url = Some(value("--url")?),
            "--user" => user = Some(value("--user")?),
            "--password-env" => password_env = Some(value("--password-env")?),
            "--system" => param("system", value("--system")?),
            "--ca-file" => param("tls_ca_file", value("--ca-file")?),
            "--fingerprint" => param("tls_fingerprint", value("--fingerprint")?),
            "--insecure" => param("tls_insecure", "true".into()),
            "-h" | "--help" => return Err(USAGE.into()),
            "status" => action = Some(Action::Status),
            "inventory" => action = Some(Action::Inventory),
            "on" => action = Some(Action::Power(PowerAction::On)),
            "off" => action = Some(Action::Power(PowerAction::Off)),
            "cycle" => action = Some(Action::Power(PowerAction::Cycle)),
            "pxe" => action = Some(Action::Boot(BootDevice::Pxe)),
            "disk" => action = Some(Action::Boot(BootDevice::Disk)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let url = url.ok_or("--url is required")?;
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("--url must start with https:// or http://")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let default_port = if scheme == "http" { 80 } else { 443 };
    let has_port = if authority.starts_with('[') {
        authority.contains("]:")
    } else {
        authority.contains(':')
    };
    let with_port = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:{default_port}")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("--url {url}: {e}"))?
        .next()
        .ok_or(format!("--url {url}: no address"))?;
    parameters.0.insert("scheme".into(), scheme.to_owned());
    let var = password_env.ok_or("--password-env is required")?;
    let password =
        std::env::var(&var).map_err(|_| format!("environment variable {var} is not set"))?;
    let target = OobTarget {
        node: "bmc".into(),
        kind: OobType::Redfish,
        address: Some(addr.ip()),
        port: Some(addr.port()),
        account: Some(user.ok_or("--user is required")?),
        credential: Some(Secret::new(password)),
        parameters,
        boot_mode: None,
    };
    Ok((target, action.ok_or("no command given")?))
}

async fn act(driver: &RedfishDriver, t: &OobTarget, action: Action) -> Result<String, DriverError> {
    match action {
        Action::Status | Action::Inventory => {}
        Action::Power(p) => driver.set_power(t, p).await?,
        Action::Boot(d) => {
            driver
                .set_boot_device(t, d, BootPersistence::OneTime)
                .await?
        }
    }
    let facts = driver.interrogate(t).await?;
    let power = match facts.power {
        Some(drydock::core::driver::PowerState::On) => "on",
        _ => "off",
    };
    let boot = facts
        .facts
        .get("boot_override_target")
        .map_or("none".to_owned(), |b| b.to_ascii_lowercase());
    // Power first, then boot, as `ipmi_power` prints them.
    let mut out = format!(
        r#"{{"power":"{power}","boot":{}"#,
        serde_json::Value::from(boot)
    );
    if matches!(action, Action::Inventory) {
        let facts = serde_json::to_string(&facts.facts).unwrap_or_default();
        out.push_str(&format!(r#","facts":{facts}"#));
    }
    out.push('}');
    Ok(out)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    logging::init();
    let (target, action) = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let driver = RedfishDriver::new(RedfishDriverConfig::default());
    let result = act(&driver, &target, action).await;
    driver.close().await;
    match result {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("redfish_power: {e}");
            ExitCode::FAILURE
        }
    }
}
