//! Runs the fake MAAS standalone.
//!
//! ```text
//! cargo run --release --example fake_maas -- --listen 127.0.0.1:5240 --machines 3 \
//!     [--api-key-file key.txt] [--tick-ms 1000] [--bmc-addresses A,B,...]
//! ```
//!
//! The machines' BMC addresses are `127.0.0.1:6230`, `127.0.0.1:6231`, … (ipmi_sim's; hence at
//! most 59306 machines, up to port 65535: more is a usage error, exit status 2), unless
//! `--bmc-addresses` lists them: then there is one machine per address (and `--machines` is
//! ignored), so that a site's nodes are found by their OOB addresses, e.g. for the demo site
//! `--bmc-addresses 10.40.0.11,10.40.0.12,10.40.0.13,10.40.0.21,10.40.0.22,10.40.0.23`.
//!
//! Prints the API key and each machine's system id, host name and BMC address, then serves
//! `http://<listen>/MAAS/api/2.0/` until interrupted. With `--api-key-file`, an existing key in
//! the file is reused, otherwise the generated key is written there. The simulated clock
//! advances one tick every `--tick-ms` milliseconds.
//!
//! Set `RUST_LOG` (e.g. `RUST_LOG=debug`) for the libraries' logs on stderr.

#[path = "support/logging.rs"]
mod logging;

use std::net::SocketAddr;
use std::time::Duration;

use drydock::maas::MaasApiKey;
use drydock::maas::fake::{FIRST_BMC_PORT, FakeMaas, MAX_MACHINES};

struct Args {
    listen: SocketAddr,
    machines: usize,
    key_file: Option<String>,
    tick: Duration,
    bmc_addresses: Vec<String>,
}

const USAGE: &str = "usage: fake_maas --listen ADDR:PORT --machines N [--api-key-file FILE] \
[--tick-ms MS] [--bmc-addresses A,B,...]";

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 5240)),
        machines: 1,
        key_file: None,
        tick: Duration::from_secs(1),
        bmc_addresses: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--listen" => args.listen = value.parse().unwrap_or_else(|_| usage()),
            "--machines" => {
                args.machines = value.parse().unwrap_or_else(|_| usage());
                if args.machines > MAX_MACHINES {
                    eprintln!(
                        "fake_maas: --machines {}: at most {MAX_MACHINES} (one BMC port each, \
                         {FIRST_BMC_PORT} to 65535)",
                        args.machines
                    );
                    usage()
                }
            }
            "--api-key-file" => args.key_file = Some(value),
            "--tick-ms" => {
                args.tick = Duration::from_millis(value.parse().unwrap_or_else(|_| usage()))
            }
            "--bmc-addresses" => {
                args.bmc_addresses = value
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            _ => usage(),
        }
    }
    args
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init();
    let args = parse_args();
    let existing: Option<MaasApiKey> = args
        .key_file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|s| s.parse().ok());
    let machines = if args.bmc_addresses.is_empty() {
        args.machines
    } else {
        0
    };
    let mut builder = FakeMaas::builder().listen(args.listen).machines(machines);
    if let Some(key) = existing.clone() {
        builder = builder.api_key(key);
    }
    let fake = builder.start().await?;
    for (i, bmc) in args.bmc_addresses.iter().enumerate() {
        fake.add_machine(&format!("node{:02}", i + 1), bmc);
    }
    if let (Some(file), None) = (&args.key_file, &existing) {
        std::fs::write(file, fake.api_key().expose())?;
    }
    println!("MAAS URL: {}", fake.url());
    println!("API key: {}", fake.api_key().expose());
    for m in fake.machines() {
        println!(
            "machine {} {} bmc={}",
            m.system_id, m.hostname, m.bmc_address
        );
    }
    loop {
        tokio::time::sleep(args.tick).await;
        fake.tick();
    }
}
