//! A fake MAAS (feature `fake`): an axum server at `/MAAS/api/2.0/` that behaves like MAAS.
//!
//! * OAuth checked as MAAS does (required parameters, PLAINTEXT signature, 300 s timestamp
//!   window, nonce replay ⇒ 401 with MAAS' body);
//!   `describe/` has MAAS's shape (what python-libmaas builds its client from), `openapi.yaml`
//!   lists the implemented operations; both are anonymous, like `version/`.
//! * `op=` dispatch like MAAS (unknown op ⇒ 400 `Unrecognised signature: method=… op=…`), also
//!   in MAAS 3.3's path form `…/op-<name>`; paths without their trailing slash ⇒ 404
//!   `Unknown API endpoint: ….`. What MAAS has and the fake does not implement ⇒ 501
//!   `Not implemented by the fake MAAS: …`.
//! * Bodies: urlencoded, or multipart decoded as Django decodes it (empty bodies and empty
//!   parts, base64 parts with line breaks).
//! * Machine statuses move only along MAAS' transition table (invalid ⇒ 409
//!   `Invalid transition: …`); commissioning, testing, deployment, release and disk erasing
//!   run on a clock the test drives with [`FakeMaas::tick`] / [`FakeMaas::advance`].
//! * Faults ([`Fault`]): 503/409 with `Retry-After`, 504 after an applied write, dropped
//!   connections, delays; scripted failures or hangs per machine ([`Script`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use drydock_driver_maas::{fake::FakeMaas, MachineStatus};
//! let fake = FakeMaas::builder().machines(1).start().await.unwrap();
//! let client = fake.client();
//! let sid = fake.machine_ids()[0].clone();
//! client.machines().commission(&sid, &Default::default()).await.unwrap();
//! fake.advance(10);
//! assert_eq!(client.machines().get(&sid).await.unwrap().status, MachineStatus::Ready);
//! # }
//! ```

mod auth;
mod describe;
mod dispatch;
mod faults;
mod fields;
mod h_machines;
mod h_misc;
mod h_network;
mod h_storage;
pub mod lifecycle;
mod multipart;
mod reply;
pub mod routes;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub use faults::{Fault, FaultAction};
pub use lifecycle::{Durations, Outcome, Script};

use crate::{MaasApiKey, MaasClient, MachineStatus};
use reply::{Form, Reply, text};
use routes::{ANONYMOUS, Handler, Routed};
use world::{API, World};

type Shared = Arc<Mutex<World>>;

/// BMC port of the first machine enlisted by [`FakeMaasBuilder::machines`] (`127.0.0.1:6230`,
/// ipmi_sim's); the next ones count up from it.
pub const FIRST_BMC_PORT: u16 = 6230;

/// The most machines [`FakeMaasBuilder::machines`] enlists: one per BMC port from
/// [`FIRST_BMC_PORT`] to 65535. [`FakeMaasBuilder::start`] refuses more.
pub const MAX_MACHINES: usize = (u16::MAX - FIRST_BMC_PORT) as usize + 1;

/// The BMC address of the `index`th machine enlisted without one, if its port exists.
pub(crate) fn default_bmc_address(index: u64) -> Option<String> {
    let port = u64::from(FIRST_BMC_PORT).checked_add(index)?;
    let port = u16::try_from(port).ok()?;
    Some(format!("127.0.0.1:{port}"))
}

/// Configuration of a [`FakeMaas`].
#[derive(Debug, Clone)]
pub struct FakeMaasBuilder {
    listen: SocketAddr,
    machines: usize,
    key: Option<MaasApiKey>,
    durations: Durations,
    auto_tick: Option<Duration>,
    nics: Vec<FakeNic>,
}

/// A NIC of a fake machine: its name (MAAS interface and lshw logical name) and PCI bus
/// address (lshw `businfo`, what hardware-profile aliases name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeNic {
    /// Interface name (`eth0`).
    pub name: String,
    /// PCI bus address (`0000:19:00.0`).
    pub bus_address: String,
}

impl FakeNic {
    /// A NIC named `name` at PCI address `bus_address`.
    pub fn new(name: impl Into<String>, bus_address: impl Into<String>) -> Self {
        FakeNic {
            name: name.into(),
            bus_address: bus_address.into(),
        }
    }

    /// The NICs a machine gets by default: `eth0` at `0000:19:00.0`, `eth1` at `0000:19:00.1`
    /// (two ports of one card) and `eth2` at `0000:3b:00.0`.
    pub fn defaults() -> Vec<FakeNic> {
        vec![
            FakeNic::new("eth0", "0000:19:00.0"),
            FakeNic::new("eth1", "0000:19:00.1"),
            FakeNic::new("eth2", "0000:3b:00.0"),
        ]
    }
}

fn nic_pairs(nics: &[FakeNic]) -> Vec<(String, String)> {
    nics.iter()
        .map(|n| (n.name.clone(), n.bus_address.clone()))
        .collect()
}

impl FakeMaasBuilder {
    /// NICs of every machine enlisted without its own list (default [`FakeNic::defaults`]).
    pub fn nics(mut self, nics: Vec<FakeNic>) -> Self {
        self.nics = nics;
        self
    }

    /// Address to bind (default `127.0.0.1:0`).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Number of machines to enlist (in `New`, power type `ipmi`), at most [`MAX_MACHINES`]:
    /// their BMC addresses are `127.0.0.1:6230`, `127.0.0.1:6231`, …
    pub fn machines(mut self, n: usize) -> Self {
        self.machines = n;
        self
    }

    /// The API key the fake accepts (default: a random one).
    pub fn api_key(mut self, key: MaasApiKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Simulated phase durations, in ticks.
    pub fn durations(mut self, d: Durations) -> Self {
        self.durations = d;
        self
    }

    /// Advances the simulated clock by one tick every `period` of real time (tokio time), so
    /// that code polling the fake sees phases finish without the test driving [`FakeMaas::tick`].
    pub fn auto_tick(mut self, period: Duration) -> Self {
        self.auto_tick = Some(period);
        self
    }

    /// Binds and starts serving.
    ///
    /// Fails with [`std::io::ErrorKind::InvalidInput`] when more than [`MAX_MACHINES`] machines
    /// are asked for (their BMC ports would pass 65535), before allocating anything.
    pub async fn start(self) -> std::io::Result<FakeMaas> {
        if self.machines > MAX_MACHINES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "fake MAAS: {} machines asked for, at most {MAX_MACHINES} (one per BMC port \
                     {FIRST_BMC_PORT}..=65535)",
                    self.machines
                ),
            ));
        }
        let key = self.key.unwrap_or_else(random_key);
        let mut w = World::new(key.clone(), self.durations);
        w.default_nics = nic_pairs(&self.nics);
        for _ in 0..self.machines {
            w.add_machine(None, None);
        }
        let state: Shared = Arc::new(Mutex::new(w));
        let listener = tokio::net::TcpListener::bind(self.listen).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let ticker_state = state.clone();
        let auto_tick = self.auto_tick;
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            match auto_tick {
                None => {
                    let _ = serve.await;
                }
                Some(period) => {
                    let ticker = async move {
                        let mut interval =
                            tokio::time::interval(period.max(Duration::from_millis(1)));
                        interval.tick().await;
                        loop {
                            interval.tick().await;
                            ticker_state
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .tick();
                        }
                    };
                    tokio::select! {
                        _ = serve => {}
                        () = ticker => {}
                    }
                }
            }
        });
        Ok(FakeMaas {
            addr,
            key,
            state,
            shutdown: Some(tx),
            task,
        })
    }
}

fn random_key() -> MaasApiKey {
    use rand::distr::{Alphanumeric, SampleString};
    let mut rng = rand::rng();
    let ck = Alphanumeric.sample_string(&mut rng, 18);
    let tk = Alphanumeric.sample_string(&mut rng, 18);
    let ts = Alphanumeric.sample_string(&mut rng, 32);
    MaasApiKey::new(ck, tk, ts).unwrap_or_else(|_| unreachable!("non-empty parts"))
}

/// A running fake MAAS. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeMaas {
    addr: SocketAddr,
    key: MaasApiKey,
    state: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeMaas {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// A machine as the fake's control API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeMachine {
    /// System id.
    pub system_id: String,
    /// Host name.
    pub hostname: String,
    /// Status.
    pub status: MachineStatus,
    /// BMC address (`power_address`).
    pub bmc_address: String,
}

impl FakeMaas {
    /// A builder with defaults: `127.0.0.1:0`, no machines, random key, default durations.
    pub fn builder() -> FakeMaasBuilder {
        FakeMaasBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            machines: 0,
            key: None,
            durations: Durations::default(),
            auto_tick: None,
            nics: FakeNic::defaults(),
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>/MAAS` (what a MAAS URL setting holds).
    pub fn url(&self) -> String {
        format!("http://{}/MAAS", self.addr)
    }

    /// The API key the fake accepts.
    pub fn api_key(&self) -> &MaasApiKey {
        &self.key
    }

    /// A client for this fake whose retries do not wait (`max_retry_wait` zero).
    pub fn client(&self) -> MaasClient {
        MaasClient::builder(self.url(), self.key.clone())
            .max_retry_wait(Duration::ZERO)
            .build()
            .unwrap_or_else(|e| unreachable!("fake URL is valid: {e}"))
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Advances the simulated clock by one tick.
    pub fn tick(&self) {
        self.world().tick();
    }

    /// Advances the simulated clock by `ticks` ticks.
    pub fn advance(&self, ticks: u32) {
        let mut w = self.world();
        for _ in 0..ticks {
            w.tick();
        }
    }

    /// Enlists a machine in `New` with the builder's NICs; returns its system id.
    pub fn add_machine(&self, hostname: &str, bmc_address: &str) -> String {
        self.world()
            .add_machine(Some(hostname.into()), Some(bmc_address.into()))
    }

    /// Enlists a machine in `New` with the given NICs; returns its system id.
    pub fn add_machine_with_nics(
        &self,
        hostname: &str,
        bmc_address: &str,
        nics: &[FakeNic],
    ) -> String {
        self.world().add_machine_with_nics(
            Some(hostname.into()),
            Some(bmc_address.into()),
            &nic_pairs(nics),
        )
    }

    /// System ids, sorted.
    pub fn machine_ids(&self) -> Vec<String> {
        self.world().machines.keys().cloned().collect()
    }

    /// The machines.
    pub fn machines(&self) -> Vec<FakeMachine> {
        self.world()
            .machines
            .values()
            .map(|m| FakeMachine {
                system_id: m.system_id.clone(),
                hostname: m.hostname.clone(),
                status: m.status,
                bmc_address: m
                    .power_params
                    .get("power_address")
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// A machine's status.
    pub fn machine_status(&self, system_id: &str) -> Option<MachineStatus> {
        self.world().machines.get(system_id).map(|m| m.status)
    }

    /// The cloud-init `user_data` a machine's current deployment was started with, base64 as
    /// received (`None`: none sent, or the machine was released since). MAAS hands it to the
    /// deployed machine and does not show it in the machine's API representation.
    pub fn machine_user_data(&self, system_id: &str) -> Option<String> {
        self.world()
            .machines
            .get(system_id)
            .and_then(|m| m.user_data.clone())
    }

    /// Scripts the outcome of a machine's next phases.
    pub fn script(&self, system_id: &str, script: Script) {
        if let Some(m) = self.world().machines.get_mut(system_id) {
            m.script = script;
        }
    }

    /// Sets the phase durations for phases started from now on.
    pub fn set_durations(&self, d: Durations) {
        self.world().durations = d;
    }

    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        self.world().faults.push(fault);
    }

    /// Shifts the fake's clock used for OAuth timestamp checks by `seconds`.
    pub fn set_clock_skew(&self, seconds: i64) {
        self.world().clock_skew = seconds;
    }

    /// How many HTTP requests the fake has received.
    pub fn request_count(&self) -> u64 {
        self.world().requests
    }

    /// How many writes (POST, PUT, DELETE) the fake has received, whatever their outcome.
    pub fn write_count(&self) -> u64 {
        self.world().writes
    }

    /// How many `method` requests the fake has received on `path` (relative to the API root,
    /// e.g. `machines/abc123/`) with `op` (`""` for none), whatever their outcome: e.g.
    /// `op_requests("POST", "machines/abc123/", "deploy")` counts one machine's deploy requests.
    pub fn op_requests(&self, method: &str, path: &str, op: &str) -> u64 {
        self.world()
            .requests_by_op
            .get(&(method.to_owned(), path.to_owned(), op.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Sets the status (`running`, `off`, `dead`, `degraded`, `unknown`) of service `service` on
    /// every rack controller.
    pub fn set_rack_service(&self, service: &str, status: &str) {
        for rack in &mut self.world().racks {
            if let Some(services) = rack["service_set"].as_array_mut() {
                for s in services.iter_mut().filter(|s| s["name"] == service) {
                    s["status"] = serde_json::json!(status);
                }
            }
        }
    }

    /// Adds a synced boot resource (`ubuntu/focal`, `amd64/ga-20.04`, `generic,ga-20.04,hwe-20.04`).
    pub fn add_boot_resource(&self, name: &str, architecture: &str, subarches: &str) {
        let mut w = self.world();
        let id = w.id();
        w.boot_resources
            .push(serde_json::json!({"id": id, "type": "Synced", "name": name,
            "architecture": architecture, "subarches": subarches, "last_deployed": null,
            "resource_uri": format!("{API}boot-resources/{id}/")}));
    }

    /// Removes every boot resource.
    pub fn clear_boot_resources(&self) {
        self.world().boot_resources.clear();
    }

    /// Sets what `boot-resources/?op=is_importing` answers.
    pub fn set_importing(&self, importing: bool) {
        self.world().importing = importing;
    }
}

fn parse_body(ctype: &str, body: &[u8], form: &mut Form) -> Result<(), Reply> {
    if ctype.starts_with("multipart/form-data") {
        form.0.extend(multipart::parse(ctype, body)?);
    } else if !body.is_empty() {
        form.parse_urlencoded(body);
    }
    Ok(())
}

/// Splits MAAS 3.3+'s path form of an operation, `<handler path>op-<name>`, into the handler's
/// path and the operation; `None` for any other path.
fn op_path(path: &str) -> Option<(String, String)> {
    let (base, last) = path.rsplit_once('/')?;
    let op = last.strip_prefix("op-").filter(|op| !op.is_empty())?;
    Some((format!("{base}/"), op.to_owned()))
}

fn dropped_connection() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("fake MAAS dropped the connection"))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn with_retry_after(reply: Reply, seconds: Option<u64>) -> Response {
    let mut resp = reply.into_response();
    if let Some(s) = seconds {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    resp
}

async fn handle(State(state): State<Shared>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    {
        let mut w = state.lock().unwrap_or_else(|p| p.into_inner());
        w.requests += 1;
        if matches!(method.as_str(), "POST" | "PUT" | "DELETE") {
            w.writes += 1;
        }
    }
    let full_path = req.uri().path().to_owned();
    let Some(path) = full_path.strip_prefix(API).map(str::to_owned) else {
        return text(404, format!("Unknown API endpoint: {full_path}.")).into_response();
    };
    let base = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|host| format!("http://{host}"))
        .unwrap_or_default();
    let mut form = Form::default();
    form.parse_urlencoded(req.uri().query().unwrap_or("").as_bytes());
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = match axum::body::to_bytes(req.into_body(), 16 << 20).await {
        Ok(b) => b,
        Err(e) => return text(400, e.to_string()).into_response(),
    };
    if (method == "POST" || method == "PUT")
        && let Err(r) = parse_body(&ctype, &body, &mut form)
    {
        return r.into_response();
    }
    if method == "GET" && path == "openapi.yaml" {
        return describe::openapi().into_response();
    }
    let mut op = form.get("op").unwrap_or("").to_owned();
    // MAAS 3.3+: `…/op-<name>`; an `op` parameter wins over the path.
    let path = match op_path(&path) {
        Some((handler_path, path_op)) if routes::is_served_path(&handler_path) => {
            if op.is_empty() {
                op = path_op;
            }
            handler_path
        }
        _ => path,
    };
    {
        let mut w = state.lock().unwrap_or_else(|p| p.into_inner());
        *w.requests_by_op
            .entry((method.clone(), path.clone(), op.clone()))
            .or_insert(0) += 1;
    }
    let (route, caps) = match routes::route(&method, &path, &op) {
        Routed::UnknownPath if describe::maas_resource(&path) => {
            return describe::not_implemented(&method, &path, &op).into_response();
        }
        Routed::UnknownPath => {
            return text(404, format!("Unknown API endpoint: {full_path}.")).into_response();
        }
        Routed::WrongSignature => {
            if !ANONYMOUS.contains(&path.as_str()) {
                let mut w = state.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(refusal) = auth::check(&mut w, auth.as_deref()) {
                    return unauthorized(refusal);
                }
            }
            if routes::served_template(&path)
                .is_some_and(|t| describe::op_unimplemented(&method, t, &op))
            {
                return describe::not_implemented(&method, &path, &op).into_response();
            }
            let msg = if op.is_empty() {
                return text(405, format!("Method Not Allowed: {method}")).into_response();
            } else {
                format!("Unrecognised signature: method={method} op={op}")
            };
            return text(400, msg).into_response();
        }
        Routed::Found(route, caps) => (route, caps),
    };
    let fault = {
        let mut w = state.lock().unwrap_or_else(|p| p.into_inner());
        if !ANONYMOUS.contains(&route.template)
            && let Err(refusal) = auth::check(&mut w, auth.as_deref())
        {
            return unauthorized(refusal);
        }
        Fault::take(&mut w.faults, &method, &path, &op)
    };
    match &fault {
        Some(FaultAction::Delay(d)) => tokio::time::sleep(*d).await,
        Some(FaultAction::Unavailable { retry_after }) => {
            let reply = text(
                503,
                "Unable to connect to any rack controller; no connections available.",
            );
            return with_retry_after(reply, *retry_after);
        }
        Some(FaultAction::TransientConflict { retry_after }) => {
            let html = "<html><head><title>409 Conflict</title></head><body><h1>Conflict</h1><p>The request conflicted with another request; please retry.</p></body></html>";
            let mut resp = with_retry_after(Reply::Text(409, html.into()), Some(*retry_after));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return resp;
        }
        Some(FaultAction::DropConnection) => return dropped_connection(),
        _ => {}
    }
    if route.handler == Handler::Describe {
        return describe::describe(&base).into_response();
    }
    let reply = {
        let mut w = state.lock().unwrap_or_else(|p| p.into_inner());
        match dispatch::dispatch(&mut w, route.handler, &caps, &form) {
            Ok(r) | Err(r) => r,
        }
    };
    match fault {
        Some(FaultAction::GatewayTimeoutAfterWrite) => text(504, "Gateway Timeout").into_response(),
        Some(FaultAction::DropAfterWrite) => dropped_connection(),
        _ => reply.into_response(),
    }
}

fn unauthorized((status, body): auth::Refusal) -> Response {
    let mut resp = text(status, body).into_response();
    if status == 401 {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("OAuth realm=\"OAuth\""),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bmc_addresses_stop_at_port_65535() {
        assert_eq!(default_bmc_address(0).as_deref(), Some("127.0.0.1:6230"));
        let last = (MAX_MACHINES - 1) as u64;
        assert_eq!(
            default_bmc_address(last).as_deref(),
            Some("127.0.0.1:65535")
        );
        assert_eq!(default_bmc_address(last + 1), None);
        assert_eq!(default_bmc_address(u64::MAX), None);
    }
}
