//! [`MaasDriver`]: drydock's `NodeDriver` on top of [`MaasClient`].
//!
//! # Behaviour
//!
//! * **Idempotent.** Every operation reads MAAS' state first and writes only what differs from
//!   the design: a node already in the target state is a success without a single write, so a
//!   resumed task is safe.
//! * **Retries: one policy, the orchestrator's.** The client retries only what MAAS itself asks
//!   to retry (503/409 with `Retry-After`, capped at [`MaasDriverConfig::max_retry_wait`], and
//!   502–504 answers to GETs), within [`MaasDriverConfig::retry_budget`]; refused connections
//!   and timeouts come back at once. The driver classifies ([`classify`]) and returns: by default
//!   ([`MaasDriverConfig::retries`] = 0) it does not re-run operations itself, because the
//!   orchestrator already retries transient failures with backoff within each step's timeout,
//!   and a second loop here would multiply its attempts. Re-running is sound when enabled: every
//!   operation starts by reading the state, so an ambiguous write
//!   ([`MaasError::outcome_unknown`], e.g. a 504 after MAAS applied it) is seen before anything
//!   is written again.
//! * **Bounds.** Every request has connect, header and body timeouts
//!   ([`MaasDriverConfig::connect_timeout`], [`MaasDriverConfig::header_timeout`],
//!   [`MaasDriverConfig::body_timeout`]), bodies are capped
//!   ([`MaasDriverConfig::max_body_bytes`]) and redirects are not followed, so a dead or hostile
//!   MAAS costs a step at most about connect + header + body timeout (or the retry budget), and
//!   the error names the MAAS (`host:port`) and the reason. Lifecycle writes (commission, allocate, deploy,
//!   release) are additionally checked in place: after an ambiguous answer the machine is re-read
//!   and the write is not repeated when MAAS already moved it.
//! * **Waits** poll `machines/{system_id}/` every [`MaasDriverConfig::poll_interval`] until the
//!   status settles ([`MachineStatus::is_settled`]): the target status is a success, a failed
//!   status a [`DriverErrorKind::Permanent`] error carrying MAAS' status message, and the
//!   per-operation deadline (a fallback: the orchestrator's step timeout normally cancels first)
//!   a [`DriverErrorKind::TimedOut`] error. A wait holds no state between polls, so dropping its
//!   future (the orchestrator's cancellation) is safe.
//! * **Errors** of the client are classified in one place ([`classify`]).
//! * **Secrets.** The API key is a [`MaasApiKey`], whose `Debug`/`Display` print `***`; the driver
//!   never logs it. A node's boot action key travels only in its deployment's `user_data` (see
//!   [`userdata`]); it is in no tag, log line, error or `Debug` output.
//!
//! # What each operation does
//!
//! See the submodules: [`network`] (network template), [`node`] (identify, commission,
//! interrogate, deploy, destroy), [`config`] (interfaces, platform), [`storage`] (disks),
//! [`alias`] (hardware-profile aliases), [`userdata`] (what a deployment ships to the node) and
//! [`site`] (service checks, images, SSH keys, repositories).

pub mod alias;
pub mod config;
pub mod network;
pub mod node;
pub mod site;
pub mod storage;
pub mod userdata;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use drydock_core::bootaction::{BootActions, DEFAULT_REPORT_URL, LocationResolver};
use drydock_core::driver::{
    BuildData, Capabilities, DriverError, DriverErrorKind, Identification, NodeDriver, NodeJob,
    Operation, PlatformCatalog, SiteJob,
};

use crate::{MaasApiKey, MaasClient, MaasError, Machine, MachineStatus};

/// The driver's name in errors and logs.
pub const DRIVER_NAME: &str = "maas";

/// Configuration of a [`MaasDriver`].
///
/// `Debug` shows the key as `***`, and the URLs without password, query string or fragment.
///
/// ```
/// use drydock_driver_maas::{MaasApiKey, MaasDriverConfig};
/// let key: MaasApiKey = "ck:tk:very-secret".parse().unwrap();
/// let config = MaasDriverConfig::new("http://admin:hunter2@maas:5240/MAAS", key);
/// let shown = format!("{config:?}");
/// assert!(!shown.contains("very-secret") && !shown.contains("hunter2"));
/// assert!(shown.contains("http://admin:***@maas:5240/MAAS"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct MaasDriverConfig {
    /// MAAS URL (`http://host:5240/MAAS`, or `…/MAAS/api/2.0/`). It must have no query string
    /// and no fragment: [`MaasDriver::new`] refuses such a URL with a configuration error
    /// ([`MaasError::Config`], which does not repeat them). A password in it never appears in
    /// `Debug` output, errors or logs.
    pub url: String,
    /// API key (secret).
    pub api_key: MaasApiKey,
    /// Interval between two status polls of a wait (Drydock: 10 s).
    pub poll_interval: Duration,
    /// Fallback deadline of commissioning (Drydock: 30 min).
    pub commission_deadline: Duration,
    /// Fallback deadline of deployment (Drydock: 45 min).
    pub deploy_deadline: Duration,
    /// Fallback deadline of release before delete (Drydock: 30 min).
    pub destroy_deadline: Duration,
    /// Erase disks (quick erase) when destroying a node.
    pub erase_on_destroy: bool,
    /// Set MAAS' power parameters from the node's OOB settings when identifying it.
    pub use_node_oob_params: bool,
    /// Do not configure the BMC while commissioning (MAAS ≥ 2.7).
    pub skip_bmc_config: bool,
    /// How many times the driver itself re-runs an operation after a transient failure
    /// (default 0: the orchestrator's retry policy is the one that retries steps).
    pub retries: u32,
    /// Upper bound of the client's wait between retries (caps MAAS' `Retry-After`; default
    /// [`DEFAULT_MAX_RETRY_WAIT`](crate::DEFAULT_MAX_RETRY_WAIT)).
    pub max_retry_wait: Duration,
    /// Time within which the client's retries of one request may start (default
    /// [`DEFAULT_RETRY_BUDGET`](crate::DEFAULT_RETRY_BUDGET)).
    pub retry_budget: Duration,
    /// Connect timeout of each request (default
    /// [`DEFAULT_CONNECT_TIMEOUT`](crate::DEFAULT_CONNECT_TIMEOUT)).
    pub connect_timeout: Duration,
    /// Time for an answer's headers to arrive (default
    /// [`DEFAULT_HEADER_TIMEOUT`](crate::DEFAULT_HEADER_TIMEOUT)).
    pub header_timeout: Duration,
    /// Time for a whole body to arrive once the headers have (default
    /// [`DEFAULT_BODY_TIMEOUT`](crate::DEFAULT_BODY_TIMEOUT)).
    pub body_timeout: Duration,
    /// Largest response body accepted, in bytes (default
    /// [`DEFAULT_MAX_BODY_BYTES`](crate::DEFAULT_MAX_BODY_BYTES), 64 MiB).
    pub max_body_bytes: u64,
    /// The embedder's boot action API as deployed nodes reach it (Drydock's
    /// `bootactions.report_url`, default [`DEFAULT_REPORT_URL`]), for deploy jobs that do not
    /// carry it: the orchestrator's jobs carry its own `bootaction_report_url`, which wins.
    pub bootaction_report_url: String,
}

impl fmt::Debug for MaasDriverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::client::redacted_url_str;
        f.debug_struct("MaasDriverConfig")
            .field("url", &redacted_url_str(&self.url))
            .field("api_key", &self.api_key)
            .field("poll_interval", &self.poll_interval)
            .field("commission_deadline", &self.commission_deadline)
            .field("deploy_deadline", &self.deploy_deadline)
            .field("destroy_deadline", &self.destroy_deadline)
            .field("erase_on_destroy", &self.erase_on_destroy)
            .field("use_node_oob_params", &self.use_node_oob_params)
            .field("skip_bmc_config", &self.skip_bmc_config)
            .field("retries", &self.retries)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("retry_budget", &self.retry_budget)
            .field("connect_timeout", &self.connect_timeout)
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field(
                "bootaction_report_url",
                &redacted_url_str(&self.bootaction_report_url),
            )
            .finish()
    }
}

impl MaasDriverConfig {
    /// A configuration with Drydock's defaults.
    ///
    /// `url` is the MAAS URL, see [`MaasDriverConfig::url`]: one with a query string or a
    /// fragment is refused when the driver is built ([`MaasDriver::new`]).
    pub fn new(url: impl Into<String>, api_key: MaasApiKey) -> Self {
        MaasDriverConfig {
            url: url.into(),
            api_key,
            poll_interval: Duration::from_secs(10),
            commission_deadline: Duration::from_secs(30 * 60),
            deploy_deadline: Duration::from_secs(45 * 60),
            destroy_deadline: Duration::from_secs(30 * 60),
            erase_on_destroy: false,
            use_node_oob_params: false,
            skip_bmc_config: false,
            retries: 0,
            max_retry_wait: crate::DEFAULT_MAX_RETRY_WAIT,
            retry_budget: crate::DEFAULT_RETRY_BUDGET,
            connect_timeout: crate::DEFAULT_CONNECT_TIMEOUT,
            header_timeout: crate::DEFAULT_HEADER_TIMEOUT,
            body_timeout: crate::DEFAULT_BODY_TIMEOUT,
            max_body_bytes: crate::DEFAULT_MAX_BODY_BYTES,
            bootaction_report_url: DEFAULT_REPORT_URL.to_owned(),
        }
    }

    /// Sets [`MaasDriverConfig::poll_interval`].
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets the three wait deadlines at once.
    pub fn deadlines(mut self, deadline: Duration) -> Self {
        self.commission_deadline = deadline;
        self.deploy_deadline = deadline;
        self.destroy_deadline = deadline;
        self
    }

    /// Sets [`MaasDriverConfig::erase_on_destroy`].
    pub fn erase_on_destroy(mut self, erase: bool) -> Self {
        self.erase_on_destroy = erase;
        self
    }

    /// Sets [`MaasDriverConfig::use_node_oob_params`].
    pub fn use_node_oob_params(mut self, yes: bool) -> Self {
        self.use_node_oob_params = yes;
        self
    }

    /// Sets [`MaasDriverConfig::retries`].
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Sets [`MaasDriverConfig::max_retry_wait`].
    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.max_retry_wait = wait;
        self
    }

    /// Sets [`MaasDriverConfig::retry_budget`].
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.retry_budget = budget;
        self
    }

    /// Sets the connect, header and body timeouts of every request.
    pub fn timeouts(mut self, connect: Duration, header: Duration, body: Duration) -> Self {
        self.connect_timeout = connect;
        self.header_timeout = header;
        self.body_timeout = body;
        self
    }

    /// Sets [`MaasDriverConfig::max_body_bytes`].
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sets [`MaasDriverConfig::bootaction_report_url`].
    pub fn bootaction_report_url(mut self, url: impl Into<String>) -> Self {
        self.bootaction_report_url = url.into();
        self
    }
}

/// The MAAS node driver.
///
/// `Debug` shows neither the API key nor any boot action key.
pub struct MaasDriver {
    client: MaasClient,
    config: MaasDriverConfig,
    /// System ids of nodes already found, by node name (checked before use).
    known: Mutex<HashMap<String, String>>,
    /// Boot action records, for the key and action ids a deployment ships (see [`userdata`]).
    bootactions: Option<BootActions>,
    /// Fetches the `location` of `pkg_list` assets.
    resolver: Option<Arc<dyn LocationResolver>>,
}

impl fmt::Debug for MaasDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaasDriver")
            .field("client", &self.client)
            .field("config", &self.config)
            .field("bootactions", &self.bootactions.is_some())
            .field("resolver", &self.resolver.is_some())
            .finish_non_exhaustive()
    }
}

/// Classifies a client error: the one mapping of [`MaasError`] to [`DriverErrorKind`].
///
/// ```
/// use drydock_core::driver::DriverErrorKind as K;
/// use drydock_driver_maas::{MaasError, driver::classify};
/// let peer = || "maas:5240".to_owned();
/// assert_eq!(classify(&MaasError::Unauthorized { peer: peer(), body: String::new() }), K::Unauthorized);
/// assert_eq!(classify(&MaasError::Unavailable { peer: peer(), status: 503, body: String::new(), retry_after: None }), K::Transient);
/// assert_eq!(classify(&MaasError::InvalidTransition { peer: peer(), body: String::new() }), K::Permanent);
/// assert_eq!(classify(&MaasError::TooLarge { peer: peer(), limit: 1 }), K::Permanent);
/// ```
pub fn classify(e: &MaasError) -> DriverErrorKind {
    match e {
        MaasError::Unauthorized { .. } | MaasError::Forbidden { .. } => {
            DriverErrorKind::Unauthorized
        }
        MaasError::NotFound { .. } => DriverErrorKind::NotFound,
        MaasError::Timeout { .. } => DriverErrorKind::TimedOut,
        e if e.is_retryable() => DriverErrorKind::Transient,
        _ => DriverErrorKind::Permanent,
    }
}

/// The context of one operation: builds its errors.
#[derive(Debug, Clone)]
pub(crate) struct Cx {
    pub(crate) op: Operation,
    pub(crate) node: Option<String>,
}

impl Cx {
    pub(crate) fn site(op: Operation) -> Self {
        Cx { op, node: None }
    }

    pub(crate) fn node(op: Operation, node: &str) -> Self {
        Cx {
            op,
            node: Some(node.to_owned()),
        }
    }

    pub(crate) fn error(&self, kind: DriverErrorKind, msg: impl Into<String>) -> DriverError {
        let e = DriverError::new(kind, DRIVER_NAME, self.op, msg);
        match &self.node {
            Some(n) => e.for_node(n.clone()),
            None => e,
        }
    }

    pub(crate) fn permanent(&self, msg: impl Into<String>) -> DriverError {
        self.error(DriverErrorKind::Permanent, msg)
    }

    /// Converts a client error, saying what was being done.
    pub(crate) fn maas(&self, doing: &str, e: MaasError) -> DriverError {
        let kind = classify(&e);
        self.error(kind, format!("{doing}: {e}")).with_source(e)
    }
}

/// `?`-friendly conversion of client results.
pub(crate) trait MaasResultExt<T> {
    /// Converts the error with [`Cx::maas`].
    fn cx(self, cx: &Cx, doing: &str) -> Result<T, DriverError>;
}

impl<T> MaasResultExt<T> for Result<T, MaasError> {
    fn cx(self, cx: &Cx, doing: &str) -> Result<T, DriverError> {
        self.map_err(|e| cx.maas(doing, e))
    }
}

/// What a wait accepts as its end.
pub(crate) enum Target {
    /// Exactly this status.
    Is(MachineStatus),
    /// Any of these statuses.
    AnyOf(&'static [MachineStatus]),
}

impl Target {
    fn accepts(&self, s: MachineStatus) -> bool {
        match self {
            Target::Is(t) => *t == s,
            Target::AnyOf(ts) => ts.contains(&s),
        }
    }
}

impl MaasDriver {
    /// Builds the driver and its client.
    ///
    /// Fails (a [`DriverErrorKind::Permanent`] error whose source is [`MaasError::Config`]) when
    /// the URL is invalid: unparseable, not `http`/`https`, or with a query string or fragment.
    pub fn new(config: MaasDriverConfig) -> Result<Self, DriverError> {
        let client = MaasClient::builder(config.url.clone(), config.api_key.clone())
            .max_retry_wait(config.max_retry_wait)
            .retry_budget(config.retry_budget)
            .connect_timeout(config.connect_timeout)
            .header_timeout(config.header_timeout)
            .body_timeout(config.body_timeout)
            .max_body_bytes(config.max_body_bytes)
            .build()
            .map_err(|e| {
                Cx::site(Operation::ValidateNodeServices).maas("building the MAAS client", e)
            })?;
        Ok(Self::with_client(client, config))
    }

    /// A driver using `client` (its URL and key take precedence over the configuration's).
    pub fn with_client(client: MaasClient, config: MaasDriverConfig) -> Self {
        MaasDriver {
            client,
            config,
            known: Mutex::new(HashMap::new()),
            bootactions: None,
            resolver: None,
        }
    }

    /// Where deployments find the node's boot action records when the deploy job does not
    /// carry them (the driver used without the orchestrator, whose Deploy jobs always carry
    /// them): the records of the node's latest deployment task in `actions`' store.
    ///
    /// Either way each node's boot action identity (key, action ids, API URL) is shipped as a
    /// root-only file written by cloud-init (see [`userdata`]); with neither, deployments carry
    /// the package lists only.
    pub fn with_bootactions(mut self, actions: BootActions) -> Self {
        self.bootactions = Some(actions);
        self
    }

    /// Fetches the `location` of `pkg_list` assets with `resolver` (without one, a package
    /// list with a `location` fails the deployment, naming it).
    pub fn with_location_resolver(mut self, resolver: Arc<dyn LocationResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// The client.
    pub fn client(&self) -> &MaasClient {
        &self.client
    }

    /// The configuration.
    pub fn config(&self) -> &MaasDriverConfig {
        &self.config
    }

    /// Pause between two attempts of an operation after a transient failure.
    fn retry_pause(&self, e: &DriverError, attempt: u32) -> Option<Duration> {
        (e.kind == DriverErrorKind::Transient && attempt < self.config.retries).then(|| {
            tracing::warn!(error = %e, attempt, "retrying MAAS operation");
            self.config.poll_interval
        })
    }

    /// Polls the machine until its status settles; returns it when `target` accepts it.
    pub(crate) async fn wait_for(
        &self,
        cx: &Cx,
        system_id: &str,
        target: Target,
        deadline: Duration,
    ) -> Result<Machine, DriverError> {
        let end = drydock_core::driver::deadline_after(deadline);
        loop {
            let m = self
                .client
                .machines()
                .get(system_id)
                .await
                .cx(cx, "reading the machine")?;
            if target.accepts(m.status) {
                return Ok(m);
            }
            if m.status.is_settled() {
                return Err(cx.permanent(self.failure_reason(&m).await));
            }
            if tokio::time::Instant::now() >= end {
                return Err(cx.error(
                    DriverErrorKind::TimedOut,
                    format!(
                        "machine {system_id} still {} after {deadline:?}",
                        m.status.label()
                    ),
                ));
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    /// MAAS' account of why a machine ended where it did (status, message, failed scripts).
    pub(crate) async fn failure_reason(&self, m: &Machine) -> String {
        // MAAS' own text is escaped and cut: it reaches terminals and the journal.
        let shown = |t: &str| crate::error::shown_text(t.as_bytes());
        let mut msg = format!("machine {} is {}", shown(&m.system_id), m.status.label());
        for part in [&m.status_message, &m.error_description] {
            if !part.is_empty() {
                msg.push_str(": ");
                msg.push_str(&shown(part));
            }
        }
        if m.status.is_failed()
            && let Ok(results) = self.client.commissioning_results(&m.system_id, None).await
        {
            let failed: Vec<&str> = results
                .iter()
                .filter(|r| r.script_result != 0)
                .map(|r| r.name.as_str())
                .collect();
            if !failed.is_empty() {
                msg.push_str(&format!(" (failed scripts: {})", shown(&failed.join(", "))));
            }
        }
        msg
    }

    fn remember(&self, node: &str, system_id: &str) {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(node.to_owned(), system_id.to_owned());
    }

    fn forget(&self, node: &str) {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(node);
    }

    fn remembered(&self, node: &str) -> Option<String> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(node)
            .cloned()
    }

    /// The node's machine, or a `NotFound` error.
    pub(crate) async fn machine_of(
        &self,
        cx: &Cx,
        job: NodeJob<'_>,
    ) -> Result<Machine, DriverError> {
        self.find_machine(cx, job).await?.ok_or_else(|| {
            cx.error(
                DriverErrorKind::NotFound,
                format!("node {} not found in MAAS", job.node.name),
            )
        })
    }
}

/// Runs an operation again after a transient failure, at most [`MaasDriverConfig::retries`]
/// times. Sound because every operation re-reads MAAS' state before writing.
macro_rules! retrying {
    ($driver:expr, $op:expr) => {{
        let mut attempt = 0;
        loop {
            match $op.await {
                Err(e) => match $driver.retry_pause(&e, attempt) {
                    Some(pause) => {
                        attempt += 1;
                        tokio::time::sleep(pause).await;
                    }
                    None => break Err(e),
                },
                ok => break ok,
            }
        }
    }};
}

#[async_trait]
impl NodeDriver for MaasDriver {
    fn name(&self) -> &'static str {
        DRIVER_NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::node(true, true)
    }

    async fn validate_services(&self) -> Result<(), DriverError> {
        retrying!(self, self.do_validate_services())
    }

    async fn available_platforms(&self) -> Result<PlatformCatalog, DriverError> {
        retrying!(self, self.do_available_platforms())
    }

    async fn create_network_template(&self, job: SiteJob<'_>) -> Result<(), DriverError> {
        retrying!(self, self.do_network_template(job))
    }

    async fn configure_user_credentials(&self, job: SiteJob<'_>) -> Result<(), DriverError> {
        retrying!(self, self.do_user_credentials(job))
    }

    async fn configure_provisioner(&self, job: SiteJob<'_>) -> Result<(), DriverError> {
        retrying!(self, self.do_provisioner(job))
    }

    async fn identify_node(&self, job: NodeJob<'_>) -> Result<Identification, DriverError> {
        retrying!(self, self.do_identify(job))
    }

    async fn configure_hardware(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        retrying!(self, self.do_commission(job))
    }

    async fn interrogate_node(&self, job: NodeJob<'_>) -> Result<Vec<BuildData>, DriverError> {
        retrying!(self, self.do_interrogate(job))
    }

    async fn apply_networking(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        retrying!(self, self.do_networking(job))
    }

    async fn apply_storage(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        retrying!(self, self.do_storage(job))
    }

    async fn apply_platform(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        retrying!(self, self.do_platform(job))
    }

    async fn deploy(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        retrying!(self, self.do_deploy(job))
    }

    async fn destroy(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        retrying!(self, self.do_destroy(job))
    }
}
