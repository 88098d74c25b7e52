//! [`BmcClient`]: HTTP with one Redfish service: authentication (sessions, else basic),
//! bounded bodies, `503` retries, `202` task monitors.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use drydock_core::design::Secret;
use drydock_core::driver::deadline_after;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::{Mutex, OnceCell, Semaphore};
use tokio::time::Instant;
use url::Url;
use zeroize::Zeroizing;

use crate::config::{BmcSettings, RedfishDriverConfig};
use crate::error::{Error, Result, from_reqwest};
use crate::model::{self, ServiceRoot, TaskProgress};

/// The service root's path.
pub(crate) const ROOT: &str = "/redfish/v1/";

/// A session token: zeroized on drop, never printed.
#[derive(Clone)]
struct Token(Arc<Zeroizing<String>>);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How requests are authenticated.
#[derive(Clone, Debug)]
enum Auth {
    /// Not logged in yet.
    Unknown,
    /// HTTP basic on every request.
    Basic,
    /// A Redfish session.
    Session {
        token: Token,
        /// The session resource, deleted on close.
        location: Option<String>,
    },
}

/// The credentials a request is sent with.
#[derive(Clone, Debug)]
enum Cred {
    None,
    Basic,
    Token(Token),
}

/// An answer.
#[derive(Debug)]
pub(crate) struct Reply {
    /// Whether the answer is the end of a task (a `202` followed to completion).
    pub tasked: bool,
    /// The `ETag` header, else the body's `@odata.etag`.
    pub etag: Option<String>,
    /// The body (`Null` when empty).
    pub body: Value,
}

struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Value,
    text: String,
}

/// Counters of one client's sessions.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub sessions_created: AtomicU64,
    pub sessions_deleted: AtomicU64,
    pub requests: AtomicU64,
}

/// The client of one BMC (one base URL, user, password and TLS policy).
pub(crate) struct BmcClient {
    pub settings: BmcSettings,
    base: Url,
    http: reqwest::Client,
    username: String,
    password: Secret,
    config: Arc<RedfishDriverConfig>,
    limit: Arc<Semaphore>,
    auth: Mutex<Auth>,
    root: OnceCell<ServiceRoot>,
    /// System selector → the system's path, once discovered.
    pub systems: std::sync::Mutex<std::collections::HashMap<Option<String>, String>>,
    pub counters: Counters,
}

impl fmt::Debug for BmcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BmcClient({}@{})", self.username, self.settings.base)
    }
}

impl BmcClient {
    pub(crate) fn new(
        settings: BmcSettings,
        http: reqwest::Client,
        username: String,
        password: Secret,
        config: Arc<RedfishDriverConfig>,
        limit: Arc<Semaphore>,
    ) -> Result<BmcClient> {
        let base = Url::parse(&settings.base)
            .map_err(|e| Error::Config(format!("BMC URL {}: {e}", settings.base)))?;
        Ok(BmcClient {
            settings,
            base,
            http,
            username,
            password,
            config,
            limit,
            auth: Mutex::new(Auth::Unknown),
            root: OnceCell::new(),
            systems: std::sync::Mutex::default(),
            counters: Counters::default(),
        })
    }

    /// The URL of `path` (an `@odata.id` or a `Location`), which must be on this service.
    fn url(&self, path: &str) -> Result<Url> {
        let url = self
            .base
            .join(path)
            .map_err(|e| Error::Protocol(format!("bad link `{path}`: {e}")))?;
        if url.origin() != self.base.origin() {
            return Err(Error::Protocol(format!(
                "link `{path}` leaves the service {}",
                self.settings.base
            )));
        }
        Ok(url)
    }

    /// The service root, read once (without credentials, or with basic ones when the service
    /// asks for them).
    pub(crate) async fn root(&self) -> Result<&ServiceRoot> {
        self.root
            .get_or_try_init(|| async {
                let mut raw = self
                    .exchange(Method::GET, ROOT, &Cred::None, None, None)
                    .await?;
                if raw.status == 401 {
                    raw = self
                        .exchange(Method::GET, ROOT, &Cred::Basic, None, None)
                        .await?;
                }
                if !(200..300).contains(&raw.status) {
                    return Err(http_error("GET", ROOT, &raw));
                }
                Ok(ServiceRoot::parse(&raw.body))
            })
            .await
    }

    /// The credentials to send, logging in first if needed.
    async fn credentials(&self) -> Result<Cred> {
        let mut auth = self.auth.lock().await;
        if matches!(*auth, Auth::Unknown) {
            *auth = self.login().await?;
        }
        Ok(match &*auth {
            Auth::Unknown | Auth::Basic => Cred::Basic,
            Auth::Session { token, .. } => Cred::Token(token.clone()),
        })
    }

    /// Creates a session when the service has them (and they are wanted), else basic.
    async fn login(&self) -> Result<Auth> {
        let root = self.root().await?.clone();
        if !self.config.use_sessions {
            return Ok(Auth::Basic);
        }
        let sessions = match (&root.sessions, &root.session_service) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(service)) => {
                let raw = self
                    .exchange(Method::GET, service, &Cred::Basic, None, None)
                    .await?;
                (200..300)
                    .contains(&raw.status)
                    .then(|| model::link(&raw.body, &["Sessions"]))
                    .flatten()
            }
            (None, None) => None,
        };
        let Some(sessions) = sessions else {
            tracing::debug!(bmc = %self.settings.base, "no session service: HTTP basic authentication");
            return Ok(Auth::Basic);
        };
        let body = json!({"UserName": self.username, "Password": self.password.expose()});
        let raw = self
            .exchange(Method::POST, &sessions, &Cred::None, Some(&body), None)
            .await?;
        match raw.status {
            200..=299 => {
                let token = raw
                    .headers
                    .get("x-auth-token")
                    .and_then(|v| v.to_str().ok())
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        Error::Protocol("a session was created without an X-Auth-Token".into())
                    })?;
                let location = header(&raw.headers, "location")
                    .or_else(|| model::text(&raw.body, &["@odata.id"]).map(str::to_owned));
                self.counters
                    .sessions_created
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(bmc = %self.settings.base, "Redfish session created");
                Ok(Auth::Session {
                    token: Token(Arc::new(Zeroizing::new(token.to_owned()))),
                    location,
                })
            }
            404 | 405 | 501 => {
                tracing::debug!(bmc = %self.settings.base, status = raw.status,
                    "sessions refused: HTTP basic authentication");
                Ok(Auth::Basic)
            }
            _ => Err(http_error("POST", &sessions, &raw)),
        }
    }

    /// Forgets the session `used` if it is still the current one (the service refused it).
    async fn forget(&self, used: &Cred) {
        let mut auth = self.auth.lock().await;
        if let (Auth::Session { token, .. }, Cred::Token(t)) = (&*auth, used)
            && Arc::ptr_eq(&token.0, &t.0)
        {
            *auth = Auth::Unknown;
        }
    }

    /// Deletes the session, if any; the next request logs in again.
    pub(crate) async fn logout(&self) -> bool {
        let old = std::mem::replace(&mut *self.auth.lock().await, Auth::Unknown);
        let Auth::Session { token, location } = old else {
            return false;
        };
        let Some(location) = location else {
            return false;
        };
        match self
            .exchange(Method::DELETE, &location, &Cred::Token(token), None, None)
            .await
        {
            Ok(raw) if (200..300).contains(&raw.status) || raw.status == 404 => {
                self.counters
                    .sessions_deleted
                    .fetch_add(1, Ordering::Relaxed);
                true
            }
            Ok(raw) => {
                tracing::debug!(bmc = %self.settings.base, status = raw.status, "session delete refused");
                false
            }
            Err(e) => {
                tracing::debug!(bmc = %self.settings.base, error = %e, "session delete failed");
                false
            }
        }
    }

    /// GET `path`.
    pub(crate) async fn get(&self, path: &str) -> Result<Reply> {
        self.request(Method::GET, path, None, None).await
    }

    /// PATCH `path` with `body`, `If-Match: etag` when given.
    pub(crate) async fn patch(
        &self,
        path: &str,
        body: &Value,
        etag: Option<&str>,
    ) -> Result<Reply> {
        self.request(Method::PATCH, path, Some(body), etag).await
    }

    /// POST `body` to `path` (an action).
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Result<Reply> {
        self.request(Method::POST, path, Some(body), None).await
    }

    /// A request with authentication (a refused session is re-created once), `503` retries,
    /// and `202` task monitors followed to the end.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<Reply> {
        let raw = self.authenticated(method.clone(), path, body, etag).await?;
        let name = method_name(&method);
        match raw.status {
            202 => self.follow_task(path, raw).await,
            200..=299 => Ok(reply(raw)),
            _ => Err(http_error(name, path, &raw)),
        }
    }

    /// One exchange, repeated once with a new session on `401`, and after a `503` (at most
    /// `unavailable_retries` times, waiting as `Retry-After` says, capped).
    async fn authenticated(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<Raw> {
        let mut renewed = false;
        let mut unavailable = 0;
        loop {
            let cred = self.credentials().await?;
            let raw = self
                .exchange(method.clone(), path, &cred, body, etag)
                .await?;
            match raw.status {
                401 if matches!(cred, Cred::Token(_)) && !renewed => {
                    tracing::debug!(bmc = %self.settings.base, "session refused: logging in again");
                    renewed = true;
                    self.forget(&cred).await;
                }
                503 if unavailable < self.config.unavailable_retries => {
                    unavailable += 1;
                    let wait = self.retry_after(&raw.headers, unavailable);
                    tracing::debug!(bmc = %self.settings.base, path, ?wait, "503: retrying");
                    tokio::time::sleep(wait).await;
                }
                _ => return Ok(raw),
            }
        }
    }

    /// How long to wait before asking again: `Retry-After` seconds, capped, or a backoff
    /// from the task poll interval.
    fn retry_after(&self, headers: &HeaderMap, attempt: u32) -> Duration {
        let cap = Duration::from_millis(self.config.retry_after_cap_ms);
        let asked = header(headers, "retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let backoff = Duration::from_millis(self.config.task_poll_interval_ms)
            .saturating_mul(1 << attempt.min(6));
        asked.unwrap_or(backoff).min(cap)
    }

    /// Polls the task monitor of a `202` answer until the task ends.
    async fn follow_task(&self, path: &str, accepted: Raw) -> Result<Reply> {
        let Some(monitor) = header(&accepted.headers, "location")
            .or_else(|| model::text(&accepted.body, &["@odata.id"]).map(str::to_owned))
        else {
            tracing::debug!(path, "202 without a task monitor: taken as done");
            return Ok(reply(accepted));
        };
        let deadline = deadline_after(Duration::from_millis(self.config.task_deadline_ms));
        let mut last = accepted;
        let mut attempt = 0;
        loop {
            if let TaskProgress::Failed(state, message) = model::task_progress(&last.body) {
                return Err(Error::TaskFailed {
                    monitor,
                    state,
                    message,
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    what: format!("task {monitor}"),
                });
            }
            attempt += 1;
            let wait = if header(&last.headers, "retry-after").is_some() {
                self.retry_after(&last.headers, attempt)
            } else {
                Duration::from_millis(self.config.task_poll_interval_ms)
            };
            tokio::time::sleep(wait.min(deadline - now)).await;
            let raw = self
                .authenticated(Method::GET, &monitor, None, None)
                .await?;
            match raw.status {
                202 => last = raw,
                404 | 410 => {
                    tracing::debug!(%monitor, "task monitor gone: taken as done");
                    return Ok(Reply {
                        tasked: true,
                        ..reply(raw)
                    });
                }
                200..=299 => match model::task_progress(&raw.body) {
                    TaskProgress::Running => last = raw,
                    TaskProgress::Failed(state, message) => {
                        return Err(Error::TaskFailed {
                            monitor,
                            state,
                            message,
                        });
                    }
                    TaskProgress::Completed | TaskProgress::NotATask => {
                        return Ok(Reply {
                            tasked: true,
                            ..reply(raw)
                        });
                    }
                },
                _ => return Err(http_error("GET", &monitor, &raw)),
            }
        }
    }

    /// One HTTP exchange under the global limit, its body read up to the size limit.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        cred: &Cred,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<Raw> {
        let url = self.url(path)?;
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .header("accept", "application/json")
            .header("odata-version", "4.0");
        match cred {
            Cred::None => {}
            Cred::Basic => req = req.basic_auth(&self.username, Some(self.password.expose())),
            Cred::Token(t) => {
                let mut value = HeaderValue::from_str(&t.0).map_err(|_| {
                    Error::Protocol("the session token is not a header value".into())
                })?;
                value.set_sensitive(true);
                req = req.header("x-auth-token", value);
            }
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        if let Some(etag) = etag {
            req = req.header("if-match", etag);
        }
        let _permit = self
            .limit
            .acquire()
            .await
            .map_err(|_| Error::Config("the driver is closed".into()))?;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let shown = url.as_str();
        let mut resp = req.send().await.map_err(|e| from_reqwest(&e, shown))?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let limit = self.config.max_body_bytes;
        let too_large = || Error::BodyTooLarge {
            path: path.to_owned(),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| from_reqwest(&e, shown))? {
            if bytes.len() + chunk.len() > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        tracing::debug!(method = %method, path, status, bytes = bytes.len(), "redfish");
        let (body, text) = if bytes.iter().all(u8::is_ascii_whitespace) {
            (Value::Null, String::new())
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => (v, String::new()),
                Err(e) if (200..300).contains(&status) && method == Method::GET => {
                    return Err(Error::Protocol(format!(
                        "{path}: the body is not JSON: {e}"
                    )));
                }
                Err(_) => (
                    Value::Null,
                    String::from_utf8_lossy(&bytes[..bytes.len().min(256)]).into_owned(),
                ),
            }
        };
        Ok(Raw {
            status,
            headers,
            body,
            text,
        })
    }
}

impl Drop for BmcClient {
    /// Deletes the session, if any, without waiting (when inside a tokio runtime).
    fn drop(&mut self) {
        let Auth::Session {
            token,
            location: Some(location),
        } = std::mem::replace(self.auth.get_mut(), Auth::Unknown)
        else {
            return;
        };
        let (Ok(handle), Ok(url)) = (tokio::runtime::Handle::try_current(), self.url(&location))
        else {
            return;
        };
        let Ok(mut value) = HeaderValue::from_str(&token.0) else {
            return;
        };
        value.set_sensitive(true);
        let req = self.http.delete(url).header("x-auth-token", value);
        handle.spawn(async move {
            let _ = req.send().await;
        });
    }
}

fn method_name(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        _ => "HTTP",
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn reply(raw: Raw) -> Reply {
    Reply {
        tasked: false,
        etag: header(&raw.headers, "etag")
            .or_else(|| model::text(&raw.body, &["@odata.etag"]).map(str::to_owned)),
        body: raw.body,
    }
}

fn http_error(method: &'static str, path: &str, raw: &Raw) -> Error {
    let message = model::error_message(&raw.body)
        .or_else(|| (!raw.text.trim().is_empty()).then(|| raw.text.trim().to_owned()))
        .unwrap_or_else(|| "no message".to_owned());
    Error::Http {
        method,
        path: path.to_owned(),
        status: raw.status,
        message,
    }
}
