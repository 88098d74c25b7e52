//! Authentication and authorization: who the caller is (a tower layer the embedder chooses with
//! [`Auth`]) and what the reference's policy lets them do.
//!
//! | [`Auth`] | a caller is authenticated when | and may do |
//! |---|---|---|
//! | `None` | always | everything (tests, or behind a trusted proxy) |
//! | `BearerToken` | `Authorization: Bearer <token>` or `X-Auth-Token: <token>` is the token (constant-time compare) | everything |
//! | `KeystoneHeaders` | a Keystone middleware in front set `X-Identity-Status: Confirmed` (or `X-Service-Identity-Status`) | what [`Policy`] allows its `X-Roles` (or `X-Service-Roles`) |
//!
//! A refused call is 401 when the caller is not authenticated and 403 when it is, as in the
//! reference. Boot action endpoints (the node key is their proof), `/versions` and
//! `/api/v1.0/health` need no authentication.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::ApiError;

/// The reference's policy names (`physical_provisioner:<name>`).
pub mod policy {
    /// Read a task.
    pub const READ_TASK: &str = "physical_provisioner:read_task";
    /// Create a task (checked with the action's own policy).
    pub const CREATE_TASK: &str = "physical_provisioner:create_task";
    /// Validate a design.
    pub const VALIDATE_DESIGN: &str = "physical_provisioner:validate_design";
    /// Create a `verify_site` task.
    pub const VERIFY_SITE: &str = "physical_provisioner:verify_site";
    /// Create a `prepare_site` task.
    pub const PREPARE_SITE: &str = "physical_provisioner:prepare_site";
    /// Create a `verify_nodes` task.
    pub const VERIFY_NODES: &str = "physical_provisioner:verify_nodes";
    /// Create a `prepare_nodes` task.
    pub const PREPARE_NODES: &str = "physical_provisioner:prepare_nodes";
    /// Create a `deploy_nodes` task.
    pub const DEPLOY_NODES: &str = "physical_provisioner:deploy_nodes";
    /// Create a `destroy_nodes` task.
    pub const DESTROY_NODES: &str = "physical_provisioner:destroy_nodes";
    /// Purge old tasks.
    pub const DELETE_TASKS: &str = "physical_provisioner:delete_tasks";
    /// Create a `relabel_nodes` task.
    pub const RELABEL_NODES: &str = "physical_provisioner:relabel_nodes";
    /// Read build data.
    pub const READ_BUILD_DATA: &str = "physical_provisioner:read_build_data";
    /// Read nodes and node filters.
    pub const READ_DATA: &str = "physical_provisioner:read_data";
    /// Ingest design data.
    pub const INGEST_DATA: &str = "physical_provisioner:ingest_data";
    /// The extended health check.
    pub const HEALTH_DATA: &str = "physical_provisioner:health_data";
    /// Validate a site design (the `/validatedesign` endpoint).
    pub const VALIDATE_SITE_DESIGN: &str = "physical_provisioner:validate_site_design";
}

/// Which roles may do what. The reference's default rule for every policy is
/// `rule:admin_required`: the `admin` role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Roles allowed where no rule names the policy (default: `admin`).
    pub default_roles: Vec<String>,
    /// Roles allowed per policy name (any of them suffices).
    pub rules: HashMap<String, Vec<String>>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            default_roles: vec!["admin".to_owned()],
            rules: HashMap::new(),
        }
    }
}

impl Policy {
    /// Whether a caller with `roles` may do `name`.
    ///
    /// ```
    /// use drydock_api::auth::{Policy, policy};
    /// let mut p = Policy::default();
    /// assert!(p.allows(policy::READ_TASK, &["admin".into()]));
    /// assert!(!p.allows(policy::READ_TASK, &["member".into()]));
    /// p.rules.insert(policy::READ_TASK.into(), vec!["reader".into()]);
    /// assert!(p.allows(policy::READ_TASK, &["reader".into()]));
    /// ```
    pub fn allows(&self, name: &str, roles: &[String]) -> bool {
        let allowed = self.rules.get(name).unwrap_or(&self.default_roles);
        roles.iter().any(|r| allowed.iter().any(|a| a == r))
    }
}

/// A static bearer token. `Debug` does not show it; it is wiped from memory when dropped.
#[derive(Clone)]
pub struct Token(Arc<Zeroizing<String>>);

impl Token {
    /// A token. An empty token is refused (it would let any caller without one in).
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let t = token.into();
        (!t.is_empty()).then(|| Token(Arc::new(Zeroizing::new(t))))
    }

    fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// How callers are authenticated; see the module docs.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    /// Everyone may do everything.
    #[default]
    None,
    /// Callers present this token.
    BearerToken(Token),
    /// A Keystone middleware in front sets the identity headers; `Policy` decides.
    KeystoneHeaders(Policy),
}

/// Who is calling, as the auth layer found out (a request extension).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Whether the caller proved who it is.
    pub authenticated: bool,
    /// The user name, when known.
    pub user: Option<String>,
    /// The roles (Keystone).
    pub roles: Vec<String>,
    /// Whether every policy allows this caller (no auth, or a valid bearer token).
    pub all_access: bool,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl Auth {
    /// Who the caller of a request with `headers` is.
    pub fn identify(&self, headers: &HeaderMap) -> Identity {
        match self {
            Auth::None => Identity {
                authenticated: true,
                all_access: true,
                ..Identity::default()
            },
            Auth::BearerToken(token) => {
                let given = header(headers, "authorization")
                    .and_then(|v| {
                        v.strip_prefix("Bearer ")
                            .or_else(|| v.strip_prefix("bearer "))
                    })
                    .or_else(|| header(headers, "x-auth-token"));
                let ok = given.is_some_and(|g| token.matches(g.trim()));
                Identity {
                    authenticated: ok,
                    all_access: ok,
                    ..Identity::default()
                }
            }
            Auth::KeystoneHeaders(_) => {
                // A service token's identity takes precedence, as in the reference.
                let (status, prefix) = match header(headers, "x-service-identity-status") {
                    Some(s) => (Some(s), "x-service-"),
                    None => (header(headers, "x-identity-status"), "x-"),
                };
                if status != Some("Confirmed") {
                    return Identity::default();
                }
                let roles = header(headers, &format!("{prefix}roles"))
                    .map(|r| {
                        r.split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                Identity {
                    authenticated: true,
                    user: header(headers, &format!("{prefix}user-name")).map(str::to_owned),
                    roles,
                    all_access: false,
                }
            }
        }
    }

    /// Whether `who` may do policy `name`: `Ok`, or 401 (not authenticated) / 403.
    pub fn authorize(&self, who: &Identity, name: &str) -> Result<(), ApiError> {
        let allowed = who.all_access
            || match self {
                Auth::KeystoneHeaders(p) => who.authenticated && p.allows(name, &who.roles),
                _ => false,
            };
        if allowed {
            Ok(())
        } else if who.authenticated {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("Forbidden: {name} is not allowed"),
            ))
        } else {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthenticated: credentials are missing or invalid",
            ))
        }
    }
}

/// The auth layer's middleware: records the caller's [`Identity`] in the request's extensions.
/// It refuses nothing; each endpoint checks its policy.
pub(crate) async fn identify(
    State(auth): State<Arc<Auth>>,
    mut req: Request,
    next: Next,
) -> Response {
    let who = auth.identify(req.headers());
    if let Some(user) = &who.user {
        tracing::Span::current().record("user", user.as_str());
    }
    req.extensions_mut().insert(who);
    next.run(req).await
}
