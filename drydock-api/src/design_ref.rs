//! Design references (`drydock.md` §7.5): `file://` (a file, or a directory read recursively
//! for `*.yaml`/`*.yml`), `http(s)://` and `deckhand+http(s)://` fetched with timeouts,
//! bounded retries with backoff and a size limit, and kept in a short cache.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drydock_core::design::Source;

/// Settings of the design reference resolver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolverConfig {
    /// TCP connect timeout of one HTTP attempt (the reference: 16 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout of one HTTP attempt, body included.
    pub request_timeout: Duration,
    /// HTTP attempts in all (at least 1); transport errors, 5xx and 429 are retried.
    pub attempts: u32,
    /// Wait before the second attempt, doubled for each further one.
    pub backoff: Duration,
    /// Largest design accepted, in bytes (all files of a directory together).
    pub max_bytes: usize,
    /// How long a fetched design is reused for the same reference (the reference: 180 s).
    /// Zero disables the cache.
    pub cache_ttl: Duration,
    /// Whether `file://` references are allowed (they read the server's file system).
    pub allow_file: bool,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig {
            connect_timeout: Duration::from_secs(16),
            request_timeout: Duration::from_secs(60),
            attempts: 3,
            backoff: Duration::from_millis(500),
            max_bytes: 64 << 20,
            cache_ttl: Duration::from_secs(180),
            allow_file: true,
        }
    }
}

/// Why a design reference could not be read. Every message names the reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// Not a URL, or a scheme without a handler.
    #[error("design reference {reference}: {reason}")]
    Invalid {
        /// The reference.
        reference: String,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read.
    #[error("design reference {reference}: cannot read {path}: {reason}")]
    Io {
        /// The reference.
        reference: String,
        /// The file or directory.
        path: String,
        /// The error.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("design reference {reference}: the server answered HTTP {status}")]
    Status {
        /// The reference.
        reference: String,
        /// The status.
        status: u16,
    },
    /// No answer (connection, timeout) after every attempt.
    #[error("design reference {reference}: {reason} (after {attempts} attempts)")]
    Transport {
        /// The reference.
        reference: String,
        /// The last error.
        reason: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The design is larger than the limit.
    #[error("design reference {reference}: larger than {limit} bytes")]
    TooLarge {
        /// The reference.
        reference: String,
        /// The limit.
        limit: usize,
    },
    /// The design is not UTF-8 text.
    #[error("design reference {reference}: {name} is not UTF-8 text")]
    NotText {
        /// The reference.
        reference: String,
        /// The file or URL.
        name: String,
    },
}

impl ResolveError {
    /// Whether the same reference may read later (a server error or no answer).
    pub fn is_retryable(&self) -> bool {
        match self {
            ResolveError::Transport { .. } => true,
            ResolveError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// `reference` as it may be shown: a password in the URL is replaced by `***`.
///
/// ```
/// use drydock_api::design_ref::redact;
/// assert_eq!(redact("http://u:secret@h/site.yaml"), "http://u:***@h/site.yaml");
/// assert_eq!(redact("file:///srv/site"), "file:///srv/site");
/// ```
pub fn redact(reference: &str) -> String {
    match url::Url::parse(reference) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => reference.to_owned(),
    }
}

type Cached = (Instant, Arc<Vec<Source>>);

/// Reads design references into [`Source`]s. Cheap to clone; clones share the cache.
#[derive(Clone, Debug)]
pub struct DesignResolver {
    config: ResolverConfig,
    client: reqwest::Client,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

impl DesignResolver {
    /// A resolver with `config`.
    pub fn new(config: ResolverConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap_or_default();
        DesignResolver {
            config,
            client,
            cache: Arc::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ResolverConfig {
        &self.config
    }

    /// The documents `reference` points at.
    pub async fn resolve(&self, reference: &str) -> Result<Arc<Vec<Source>>, ResolveError> {
        if !self.config.cache_ttl.is_zero() {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, sources)) = cache.get(reference)
                && at.elapsed() < self.config.cache_ttl
            {
                return Ok(sources.clone());
            }
        }
        let shown = redact(reference);
        let invalid = |reason: String| ResolveError::Invalid {
            reference: shown.clone(),
            reason,
        };
        let url = url::Url::parse(reference).map_err(|e| invalid(format!("not a URL ({e})")))?;
        let sources = match url.scheme() {
            "file" => {
                if !self.config.allow_file {
                    return Err(invalid("file:// references are disabled".into()));
                }
                let path = url
                    .to_file_path()
                    .map_err(|()| invalid("not a local absolute path".into()))?;
                let limit = self.config.max_bytes;
                let shown = shown.clone();
                tokio::task::spawn_blocking(move || read_path(&shown, &path, limit))
                    .await
                    .map_err(|e| invalid(format!("reader failed: {e}")))??
            }
            "http" | "https" => self.fetch(&shown, reference).await?,
            "deckhand+http" | "deckhand+https" => {
                let plain = &reference["deckhand+".len()..];
                self.fetch(&shown, plain).await?
            }
            other => {
                return Err(invalid(format!(
                    "invalid reference scheme {other}: no handler"
                )));
            }
        };
        let sources = Arc::new(sources);
        if !self.config.cache_ttl.is_zero() {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.retain(|_, (at, _)| at.elapsed() < self.config.cache_ttl);
            cache.insert(reference.to_owned(), (Instant::now(), sources.clone()));
        }
        Ok(sources)
    }

    /// Fetches `url`; errors name `reference` (already redacted).
    async fn fetch(&self, reference: &str, url: &str) -> Result<Vec<Source>, ResolveError> {
        let attempts = self.config.attempts.max(1);
        let mut delay = self.config.backoff;
        let mut last = None;
        for attempt in 1..=attempts {
            if attempt > 1 {
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
            }
            match self.fetch_once(reference, url).await {
                Ok(text) => return Ok(vec![Source::new(redact(url), text)]),
                Err(e) if e.is_retryable() => {
                    tracing::debug!(reference, attempt, error = %e, "design reference attempt failed");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(match last {
            Some(ResolveError::Transport { reason, .. }) => ResolveError::Transport {
                reference: reference.to_owned(),
                reason,
                attempts,
            },
            Some(e) => e,
            None => ResolveError::Transport {
                reference: reference.to_owned(),
                reason: "no attempt made".into(),
                attempts,
            },
        })
    }

    async fn fetch_once(&self, reference: &str, url: &str) -> Result<String, ResolveError> {
        let transport = |e: reqwest::Error| ResolveError::Transport {
            reference: reference.to_owned(),
            reason: transport_reason(&e.without_url()),
            attempts: 1,
        };
        let too_large = || ResolveError::TooLarge {
            reference: reference.to_owned(),
            limit: self.config.max_bytes,
        };
        let mut resp = self.client.get(url).send().await.map_err(transport)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(ResolveError::Status {
                reference: reference.to_owned(),
                status: status.as_u16(),
            });
        }
        if resp
            .content_length()
            .is_some_and(|n| n > self.config.max_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > self.config.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| ResolveError::NotText {
            reference: reference.to_owned(),
            name: redact(url),
        })
    }
}

/// The innermost cause of a transport error, which says what happened (refused, timed out).
fn transport_reason(e: &reqwest::Error) -> String {
    let mut reason = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.to_string()
    };
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if s.source().is_none() {
            reason = format!("{reason}: {s}");
        }
        src = s.source();
    }
    reason
}

/// Reads a file, or the `*.yaml`/`*.yml` files under a directory (recursively, in name order;
/// links followed, each directory and file once).
fn read_path(reference: &str, path: &Path, limit: usize) -> Result<Vec<Source>, ResolveError> {
    let io = |p: &Path, e: std::io::Error| ResolveError::Io {
        reference: reference.to_owned(),
        path: p.display().to_string(),
        reason: e.to_string(),
    };
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    collect(path, &mut files, &mut seen).map_err(|(p, e)| io(&p, e))?;
    if files.is_empty() {
        return Err(ResolveError::Io {
            reference: reference.to_owned(),
            path: path.display().to_string(),
            reason: "no *.yaml or *.yml file".into(),
        });
    }
    let mut total = 0usize;
    let mut sources = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| io(&f, e))?;
        total += bytes.len();
        if total > limit {
            return Err(ResolveError::TooLarge {
                reference: reference.to_owned(),
                limit,
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| ResolveError::NotText {
            reference: reference.to_owned(),
            name: f.display().to_string(),
        })?;
        sources.push(Source::new(f.display().to_string(), text));
    }
    Ok(sources)
}

fn collect(
    path: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut HashSet<PathBuf>,
) -> Result<(), (PathBuf, std::io::Error)> {
    let canonical = std::fs::canonicalize(path).map_err(|e| (path.to_path_buf(), e))?;
    if !seen.insert(canonical) {
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|e| (path.to_path_buf(), e))?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| (path.to_path_buf(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        let yaml = e.extension().is_some_and(|x| x == "yaml" || x == "yml");
        if e.is_dir() || yaml {
            collect(&e, out, seen)?;
        }
    }
    Ok(())
}
