//! Logging set-up shared by the examples (included with `#[path]`, not an example itself).

/// Logs to stderr as `RUST_LOG` says (`RUST_LOG=drydock_core=debug`); only errors when it is
/// unset or not understood. A second call does nothing.
pub(crate) fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
