//! The HTTP side of drydock, on axum: what deployed nodes and Shipyard talk to.
//!
//! * **Boot actions** (`drydock.md` §6.2): `GET /api/v1.0/bootactions/nodes/{hostname}/units`
//!   and `.../files` answer a gzipped tarball of the node's rendered assets; `POST
//!   /api/v1.0/bootactions/{action_id}` records a status the node reports. Both are
//!   authenticated only by the node's identity key in `X-Bootaction-Key` (compared in constant
//!   time): missing 401, wrong 403, unknown 404, a final status changed 409.
//! * **The v1.0 API Shipyard drives** (§7): `/versions`, `/api/v1.0/health` (204/503) and
//!   `/health/extended`, `/api/v1.0/tasks` (create 201 with `Location`, list, purge with
//!   `?days=N`), `/api/v1.0/tasks/{id}` (`builddata`, `subtaskerrors`, `layers`) and its
//!   `/builddata`, `/api/v1.0/validatedesign`, `/api/v1.0/nodefilter`, `/api/v1.0/nodes` and
//!   `/api/v1.0/nodes/{hostname}/builddata`. Errors answer `{"type": "error", "message",
//!   "retry"}`; every response carries the request id in `X-Drydock-Req`; `X-Context-Marker`
//!   and `X-End-User` are read. Designs are given by reference ([`design_ref`]), read, and
//!   stored as a snapshot like `Orchestrator::put_design`. Differences from the Python
//!   Drydock are listed in `docs/compatibility.md`.
//!
//! Authentication is the [`auth::Auth`] the embedder chooses: none, a static bearer token, or the
//! headers a Keystone middleware in front sets, with the reference's policy names.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use drydock_api::{ApiConfig, auth::{Auth, Policy}};
//! use drydock_core::orchestrator::Orchestrator;
//! use drydock_core::store::MemoryStore;
//!
//! let orch = Orchestrator::builder().store(Arc::new(MemoryStore::new())).build().unwrap();
//! let config = ApiConfig {
//!     auth: Auth::KeystoneHeaders(Policy::default()),
//!     ..ApiConfig::default()
//! };
//! let app = drydock_api::router(orch, config); // an axum Router: mount it, or serve it
//! // `drydock_api::serve(listener, app, shutdown)` runs it in the foreground; here in the
//! // background, on a free port.
//! let server = drydock_api::spawn("127.0.0.1:0".parse().unwrap(), app).await.unwrap();
//! let resp = reqwest::get(format!("{}/api/v1.0/tasks", server.url())).await.unwrap();
//! assert_eq!(resp.status(), 401); // no Keystone identity headers
//! server.shutdown().await.unwrap();
//! # });
//! ```

pub mod auth;
mod body;
mod bootactions;
pub mod context;
pub mod design_ref;
mod error;
mod site;
mod tasks;

#[cfg(feature = "sim")]
pub mod sim;

pub use error::ApiError;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use drydock_core::orchestrator::Orchestrator;

use crate::auth::Auth;
use crate::design_ref::{DesignResolver, ResolverConfig};

/// Settings of the API.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// How callers are authenticated (boot action endpoints use the node key instead).
    pub auth: Auth,
    /// Largest request body of the API, in bytes (413 beyond). Default 1 MiB.
    pub max_body_bytes: usize,
    /// Largest boot action status report, in bytes. Default 64 KiB.
    pub bootaction_max_body_bytes: usize,
    /// How design references are read.
    pub resolver: ResolverConfig,
    /// Whether a task created through the API is started at once (`Orchestrator::spawn`).
    /// Off, the embedder runs queued tasks itself.
    pub run_tasks: bool,
    /// How long the health check waits for the store and the node driver.
    pub health_timeout: std::time::Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            auth: Auth::None,
            max_body_bytes: 1 << 20,
            bootaction_max_body_bytes: 64 << 10,
            resolver: ResolverConfig::default(),
            run_tasks: true,
            health_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// What every handler shares.
#[derive(Clone, Debug)]
pub(crate) struct AppState {
    pub(crate) orch: Orchestrator,
    pub(crate) resolver: DesignResolver,
    pub(crate) auth: Arc<Auth>,
    pub(crate) config: Arc<ApiConfig>,
}

/// The API's routes over `orch`, with the request context (request id, tracing span) and the
/// chosen authentication as layers. Mount it in a larger app or run it with [`serve`].
pub fn router(orch: Orchestrator, config: ApiConfig) -> Router {
    let auth = Arc::new(config.auth.clone());
    let state = AppState {
        orch,
        resolver: DesignResolver::new(config.resolver.clone()),
        auth: auth.clone(),
        config: Arc::new(config),
    };
    Router::new()
        .route("/versions", get(site::versions))
        .route("/api/v1.0/health", get(site::health))
        .route("/api/v1.0/health/extended", get(site::health_extended))
        .route(
            "/api/v1.0/tasks",
            get(tasks::list).post(tasks::create).delete(tasks::purge),
        )
        .route("/api/v1.0/tasks/{id}", get(tasks::show))
        .route("/api/v1.0/tasks/{id}/builddata", get(tasks::build_data))
        .route("/api/v1.0/validatedesign", post(site::validate_design))
        .route("/api/v1.0/nodefilter", post(site::node_filter))
        .route("/api/v1.0/nodes", get(site::nodes))
        .route(
            "/api/v1.0/nodes/{hostname}/builddata",
            get(site::node_build_data),
        )
        .merge(bootaction_routes())
        .fallback(site::not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(auth, auth::identify))
        .layer(axum::middleware::from_fn(context::context))
}

/// Only the boot action endpoints (for an embedder that serves nothing else, like the
/// `deploy_site` example), with the request context layer; `config.auth` is not used (the
/// node key is their authentication).
pub fn bootaction_router(orch: Orchestrator, config: ApiConfig) -> Router {
    let state = AppState {
        orch,
        resolver: DesignResolver::new(config.resolver.clone()),
        auth: Arc::new(Auth::None),
        config: Arc::new(config),
    };
    bootaction_routes()
        .fallback(site::not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(context::context))
}

/// The boot action endpoints, shared by [`router`] and [`bootaction_router`].
fn bootaction_routes() -> Router<AppState> {
    let report = post(bootactions::report);
    Router::new()
        .route(
            "/api/v1.0/bootactions/nodes/{hostname}/units",
            get(bootactions::units),
        )
        .route(
            "/api/v1.0/bootactions/nodes/{hostname}/files",
            get(bootactions::files),
        )
        .route("/api/v1.0/bootactions/{action_id}", report.clone())
        // The reference's node agent posts to `<report_url>/<action_id>/`.
        .route("/api/v1.0/bootactions/{action_id}/", report)
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting connections and
/// waits for the requests in flight (graceful shutdown).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A server running in the background ([`spawn`]). Dropping it shuts the server down.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts down gracefully and waits until the requests in flight are answered.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(t) => t.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds `addr` (port 0 picks a free port) and serves `app` in the background.
pub async fn spawn(addr: SocketAddr, app: Router) -> std::io::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, async move {
        let _ = stopped.await;
    }));
    Ok(RunningServer {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}
