//! The HTTP client: URL handling, OAuth per attempt, `op` dispatch, retries, error mapping.
//!
//! # Bounds
//!
//! Every request is bounded whatever the peer does: the connection must open within the
//! connect timeout, the status line and headers must arrive within the header timeout, and the
//! whole body within the body timeout (a peer trickling bytes is cut off); a success body
//! larger than [`MaasClientBuilder::max_body_bytes`] fails with [`MaasError::TooLarge`], and of
//! an error body only the first [`ERROR_BODY_BYTES`] are read. Redirects are not followed
//! ([`MaasError::Redirect`]). Retries are few and bounded too: the client retries only what MAAS
//! asks to retry (503 or 409 with `Retry-After`, whose wait is capped) and, for GETs, 502/503/504,
//! and never beyond the retry budget; everything else, refused connections and timeouts
//! included, is returned at once, classified, for the orchestrator's own retry policy to
//! handle. MAAS' text in errors is escaped and cut ([`MaasError`]'s bodies never hold terminal
//! escape sequences).

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{MaasError, Result, shown_text};
use crate::{MaasApiKey, Params, oauth};

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default read timeout (MAAS answers slowly while it talks to rack controllers).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time for the status line and headers of an answer to arrive, connecting included.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time for a whole response body to arrive once the headers have.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(120);
/// Default largest success body: 64 MiB (a machine listing of a few thousand machines).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// Bytes of an error body read (the rest is not read at all).
pub const ERROR_BODY_BYTES: usize = 64 * 1024;
/// Default number of retries after the first attempt (Juju's production value).
pub const DEFAULT_MAX_RETRIES: u32 = 4;
/// Default upper bound of one wait between attempts (caps `Retry-After`).
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(15);
/// Default time after a logical request's first attempt within which retries may start.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(60);

/// Builder of a [`MaasClient`]; [`MaasClientBuilder::build`] is the only fallible step.
///
/// `Debug` shows the URL without its password, query or fragment, and the key as `***`.
#[derive(Clone)]
pub struct MaasClientBuilder {
    url: String,
    key: MaasApiKey,
    ca_pem: Option<Vec<u8>>,
    insecure: bool,
    connect_timeout: Duration,
    read_timeout: Duration,
    limits: Limits,
}

/// Per-request bounds and the retry policy, shared by the builder and the client.
#[derive(Clone, Copy, Debug)]
struct Limits {
    header_timeout: Duration,
    body_timeout: Duration,
    max_body_bytes: u64,
    max_retries: u32,
    max_retry_wait: Duration,
    retry_budget: Duration,
}

impl fmt::Debug for MaasClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaasClientBuilder")
            .field("url", &redacted_url_str(&self.url))
            .field("key", &self.key)
            .field("ca_pem", &self.ca_pem.is_some())
            .field("insecure", &self.insecure)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("limits", &self.limits)
            .finish()
    }
}

impl MaasClientBuilder {
    /// Trusts this PEM CA certificate (bundle) in addition to the built-in roots.
    pub fn ca_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Accepts any TLS certificate. Dangerous; logs a warning when the client is built.
    pub fn danger_accept_invalid_certs(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Connect timeout of each attempt.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Read timeout of each attempt (time without receiving data).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Time for an answer's status line and headers to arrive, connecting included.
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_timeout = timeout;
        self
    }

    /// Time for a whole response body to arrive once the headers have.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.limits.body_timeout = timeout;
        self
    }

    /// Largest success body accepted, in bytes; a larger one fails with
    /// [`MaasError::TooLarge`] as soon as the limit is passed (or at once when the
    /// `Content-Length` says so).
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.limits.max_body_bytes = limit;
        self
    }

    /// Retries after the first attempt, for the cases where a retry is safe.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.limits.max_retries = retries;
        self
    }

    /// Upper bound of one wait between attempts (caps MAAS' `Retry-After`).
    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.limits.max_retry_wait = wait;
        self
    }

    /// Time after a logical request's first attempt within which a retry may start: a retry
    /// whose wait would end later is not made, and the last error is returned.
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.limits.retry_budget = budget;
        self
    }

    /// Builds the client.
    ///
    /// Fails with [`MaasError::Config`] when the URL does not parse, its scheme is not `http` or
    /// `https`, or it has a query string or a fragment (MAAS' API takes neither in its base URL;
    /// the error does not repeat them), or when the CA certificate is unusable.
    pub fn build(self) -> Result<MaasClient> {
        let base = normalize_base_url(&self.url)?;
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("drydock-driver-maas/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &self.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| MaasError::Config(format!("CA certificate: {e}")))?;
            if certs.is_empty() {
                return Err(MaasError::Config(
                    "CA certificate: no PEM certificate found".into(),
                ));
            }
            for cert in certs {
                http = http.add_root_certificate(cert);
            }
        }
        if self.insecure {
            tracing::warn!(
                url = %redacted_url(&base),
                "TLS certificate verification of MAAS is disabled (insecure mode)"
            );
            http = http.danger_accept_invalid_certs(true);
        }
        let http = http
            .build()
            .map_err(|e| MaasError::Config(format!("HTTP client: {e}")))?;
        Ok(MaasClient {
            http,
            base,
            key: self.key,
            limits: self.limits,
        })
    }
}

/// Accepts `http://host:5240/MAAS`, `…/MAAS/` or `…/MAAS/api/2.0/`; returns `…/MAAS/api/2.0/`.
///
/// A URL with a query string or a fragment is refused. Errors never repeat the password, the
/// query or the fragment.
fn normalize_base_url(url: &str) -> Result<Url> {
    let mut parsed = Url::parse(url.trim())
        .map_err(|e| MaasError::Config(format!("MAAS URL is not a valid URL: {e}")))?;
    let shown = redacted_url(&parsed);
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(MaasError::Config(format!(
            "MAAS URL {shown}: scheme must be http or https"
        )));
    }
    if parsed.query().is_some() {
        return Err(MaasError::Config(format!(
            "MAAS URL {shown}: a query string (`?…`) is not allowed"
        )));
    }
    if parsed.fragment().is_some() {
        return Err(MaasError::Config(format!(
            "MAAS URL {shown}: a fragment (`#…`) is not allowed"
        )));
    }
    let path = parsed.path().trim_end_matches('/');
    let path = if path.ends_with("/api/2.0") {
        format!("{path}/")
    } else {
        format!("{path}/api/2.0/")
    };
    parsed.set_path(&path);
    Ok(parsed)
}

/// `url` as it may be shown in `Debug` output, errors and logs: any password replaced by `***`,
/// without query string or fragment.
pub(crate) fn redacted_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() && shown.set_password(Some("***")).is_err() {
        return "<URL>".to_owned();
    }
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// [`redacted_url`] of a URL given as text; text that does not parse is not shown at all.
pub(crate) fn redacted_url_str(url: &str) -> String {
    Url::parse(url.trim())
        .map(|u| redacted_url(&u))
        .unwrap_or_else(|_| "<invalid URL>".to_owned())
}

/// A raw MAAS answer with a success status.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// What a response body read gave.
struct Body {
    bytes: Vec<u8>,
}

impl RawResponse {
    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| MaasError::Decode {
            message: crate::error::escape(&e.to_string()),
            body: shown_text(&self.body),
        })
    }
}

/// Client of the MAAS REST API 2.0.
///
/// Cheap to clone (the connection pool is shared). Typed calls live on the resource views
/// ([`MaasClient::machines`], [`MaasClient::fabrics`], …); [`MaasClient::get`] and friends are
/// the untyped layer underneath.
///
/// ```no_run
/// # async fn demo() -> Result<(), drydock_driver_maas::MaasError> {
/// use drydock_driver_maas::{MaasClient, MaasApiKey};
/// let key: MaasApiKey = "ck:tk:ts".parse().expect("valid key");
/// let client = MaasClient::builder("http://maas.example:5240/MAAS", key).build()?;
/// for m in client.machines().list(&Default::default()).await? {
///     println!("{} {}", m.system_id, m.status);
/// }
/// # Ok(()) }
/// ```
///
/// `Debug` shows the base URL without its password and the key as `***`.
#[derive(Clone)]
pub struct MaasClient {
    http: reqwest::Client,
    base: Url,
    key: MaasApiKey,
    limits: Limits,
}

impl fmt::Debug for MaasClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaasClient")
            .field("base", &redacted_url(&self.base))
            .field("key", &self.key)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl MaasClient {
    /// Starts a builder for the MAAS at `url` (`…/MAAS` or `…/MAAS/api/2.0/`, without query
    /// string or fragment: [`MaasClientBuilder::build`] refuses those).
    pub fn builder(url: impl Into<String>, key: MaasApiKey) -> MaasClientBuilder {
        MaasClientBuilder {
            url: url.into(),
            key,
            ca_pem: None,
            insecure: false,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            limits: Limits {
                header_timeout: DEFAULT_HEADER_TIMEOUT,
                body_timeout: DEFAULT_BODY_TIMEOUT,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                max_retries: DEFAULT_MAX_RETRIES,
                max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
                retry_budget: DEFAULT_RETRY_BUDGET,
            },
        }
    }

    /// A client with default settings.
    pub fn new(url: impl Into<String>, key: MaasApiKey) -> Result<Self> {
        Self::builder(url, key).build()
    }

    /// The API base URL, ending in `/MAAS/api/2.0/` (as configured: with any password).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// GET `path` (relative to the base URL) with optional `op`; decodes JSON.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        op: Option<&str>,
        params: &Params,
    ) -> Result<T> {
        self.request(Method::GET, path, op, params).await?.json()
    }

    /// POST `path` with optional `op` and a form body; decodes JSON.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        op: Option<&str>,
        params: &Params,
    ) -> Result<T> {
        self.request(Method::POST, path, op, params).await?.json()
    }

    /// POST whose answer body is not needed (e.g. 204 answers).
    pub async fn post_no_content(
        &self,
        path: &str,
        op: Option<&str>,
        params: &Params,
    ) -> Result<()> {
        self.request(Method::POST, path, op, params).await.map(drop)
    }

    /// PUT `path` with a form body; decodes JSON.
    pub async fn put<T: DeserializeOwned>(&self, path: &str, params: &Params) -> Result<T> {
        self.request(Method::PUT, path, None, params).await?.json()
    }

    /// DELETE `path` (MAAS answers 204).
    pub async fn delete(&self, path: &str, params: &Params) -> Result<()> {
        self.request(Method::DELETE, path, None, params)
            .await
            .map(drop)
    }

    /// Sends one logical request: signs every attempt afresh and retries only where MAAS says
    /// a retry is safe (503 or 409 carrying `Retry-After`, for any verb; 502/503/504 for GET
    /// only), at most `max_retries` times and only while the retry budget lasts. Transport
    /// failures and timeouts are returned at once: the orchestrator retries steps.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        op: Option<&str>,
        params: &Params,
    ) -> Result<RawResponse> {
        let url = self.url_for(&method, path, op, params)?;
        let peer = peer_of(&url);
        let idempotent = method == Method::GET;
        let budget_end = Instant::now() + self.limits.retry_budget;
        let mut attempt: u32 = 0;
        loop {
            let last = attempt >= self.limits.max_retries;
            let sent = self.send_once(&method, &url, &peer, params).await;
            let (status, resp, retry_after) = match sent {
                // A GET whose connection broke after it was made changed nothing: it is tried
                // again like a 502, within the same budget. A refused connection is not.
                Err(
                    e @ MaasError::Transport {
                        maybe_sent: true, ..
                    },
                ) if idempotent && !last => {
                    let wait = self.backoff(attempt).min(self.limits.max_retry_wait);
                    if Instant::now() + wait > budget_end {
                        return Err(e);
                    }
                    tracing::warn!(%method, path, op, peer, attempt, ?wait, error = %e, "retrying MAAS request");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
                other => other?,
            };
            if (200..300).contains(&status) {
                return Ok(resp);
            }
            let wait = match (status, retry_after) {
                (503 | 409, Some(ra)) => Some(ra),
                (502..=504, None) if idempotent => Some(self.backoff(attempt)),
                _ => None,
            };
            let outcome = MaasError::from_status(status, peer.clone(), &resp.body, retry_after);
            match wait.map(|w| w.min(self.limits.max_retry_wait)) {
                Some(wait) if !last && Instant::now() + wait <= budget_end => {
                    tracing::warn!(%method, path, op, peer, attempt, ?wait, error = %outcome, "retrying MAAS request");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return Err(outcome),
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        Duration::from_secs(1u64 << attempt.min(5))
    }

    fn url_for(
        &self,
        method: &Method,
        path: &str,
        op: Option<&str>,
        params: &Params,
    ) -> Result<Url> {
        let mut url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| MaasError::Config(format!("path {path:?}: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(op) = op {
                q.append_pair("op", op);
            }
            if *method == Method::GET || *method == Method::DELETE {
                for (k, v) in params.pairs() {
                    q.append_pair(k, v);
                }
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        peer: &str,
        params: &Params,
    ) -> Result<(u16, RawResponse, Option<Duration>)> {
        tracing::debug!(%method, path = url.path(), query = url.query(), "MAAS request");
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::AUTHORIZATION, oauth::sign_now(&self.key));
        if *method == Method::POST || *method == Method::PUT {
            req = req
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(params.encode());
        }
        let header_timeout = self.limits.header_timeout;
        let resp = match tokio::time::timeout(header_timeout, req.send()).await {
            Ok(sent) => sent.map_err(|e| map_transport(e, false))?,
            Err(_) => {
                return Err(MaasError::Timeout {
                    message: format!("no answer from {peer} within {header_timeout:?}"),
                });
            }
        };
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| shown_text(v.as_bytes()))
                .unwrap_or_else(|| "nowhere".to_owned());
            return Err(MaasError::Redirect {
                peer: peer.to_owned(),
                status: status.as_u16(),
                location,
            });
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = self.read_body(resp, status.is_success(), peer).await?;
        tracing::debug!(status = status.as_u16(), "MAAS answer");
        Ok((
            status.as_u16(),
            RawResponse {
                status: status.as_u16(),
                content_type,
                body: body.bytes,
            },
            retry_after.filter(|_| status != StatusCode::OK),
        ))
    }
}

impl MaasClient {
    /// Reads a body within the body timeout: a success body up to the size limit (more fails),
    /// an error body up to [`ERROR_BODY_BYTES`] (the rest is left unread).
    async fn read_body(
        &self,
        mut resp: reqwest::Response,
        success: bool,
        peer: &str,
    ) -> Result<Body> {
        let limit = self.limits.max_body_bytes;
        let too_large = || MaasError::TooLarge {
            peer: peer.to_owned(),
            limit,
        };
        if success && resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let timeout = self.limits.body_timeout;
        let end = Instant::now() + timeout;
        let mut bytes = Vec::new();
        loop {
            let chunk = match tokio::time::timeout_at(end, resp.chunk()).await {
                Err(_) => {
                    return Err(MaasError::Timeout {
                        message: format!(
                            "the body from {peer} did not arrive within {timeout:?} ({} bytes \
                             received)",
                            bytes.len()
                        ),
                    });
                }
                Ok(chunk) => chunk.map_err(|e| map_transport(e, true))?,
            };
            let Some(chunk) = chunk else {
                return Ok(Body { bytes });
            };
            if success {
                if (bytes.len() + chunk.len()) as u64 > limit {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            } else {
                let room = ERROR_BODY_BYTES - bytes.len();
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if bytes.len() == ERROR_BODY_BYTES {
                    // Enough to explain the error; the connection is dropped with the rest.
                    return Ok(Body { bytes });
                }
            }
        }
    }
}

/// Maps a transport failure: the message names the peer (`host:port`, never the full URL nor
/// its credentials) and ends with the innermost cause (e.g. `Connection refused`), which
/// reqwest's own message leaves out.
fn map_transport(e: reqwest::Error, after_headers: bool) -> MaasError {
    let (timeout, connect) = (e.is_timeout(), e.is_connect());
    let peer = e.url().map(peer_of);
    let e = e.without_url();
    let top = crate::error::escape(&e.to_string());
    let mut innermost = None;
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        innermost = Some(crate::error::escape(&cause.to_string()));
        source = cause.source();
    }
    let mut message = top;
    if let Some(peer) = peer {
        message = format!("{message} ({peer})");
    }
    if let Some(cause) = innermost.filter(|c| !c.is_empty() && !message.contains(c.as_str())) {
        message = format!("{message}: {cause}");
    }
    if timeout {
        MaasError::Timeout { message }
    } else {
        let maybe_sent = after_headers || !connect;
        MaasError::Transport {
            message,
            maybe_sent,
        }
    }
}

/// `host:port` of `url`.
fn peer_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_is_normalized() {
        for input in [
            "http://m:5240/MAAS",
            "http://m:5240/MAAS/",
            "http://m:5240/MAAS/api/2.0",
            "http://m:5240/MAAS/api/2.0/",
        ] {
            assert_eq!(
                normalize_base_url(input).unwrap().as_str(),
                "http://m:5240/MAAS/api/2.0/"
            );
        }
        assert!(normalize_base_url("ftp://m/MAAS").is_err());
        assert!(normalize_base_url("not a url").is_err());
    }

    #[test]
    fn op_and_get_params_go_in_the_query_post_params_do_not() {
        let key = "a:b:c".parse().unwrap();
        let c = MaasClient::new("http://127.0.0.1:1/MAAS", key).unwrap();
        let p = Params::new().with_list("id", ["x", "y"]);
        let u = c
            .url_for(&Method::GET, "machines/", Some("power_parameters"), &p)
            .unwrap();
        assert_eq!(u.path(), "/MAAS/api/2.0/machines/");
        assert_eq!(u.query(), Some("op=power_parameters&id=x&id=y"));
        let u = c
            .url_for(&Method::POST, "machines/abc/", Some("deploy"), &p)
            .unwrap();
        assert_eq!(u.query(), Some("op=deploy"));
        let u = c.url_for(&Method::PUT, "machines/abc/", None, &p).unwrap();
        assert_eq!(u.query(), None);
    }
}
