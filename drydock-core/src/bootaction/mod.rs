//! Boot actions (`drydock.md` §6): files, systemd units and package lists shipped to freshly
//! deployed nodes, and the status reports DeployNodes waits for.
//!
//! # Expected flow
//! 1. Before a node is deployed, the orchestrator creates one [`BootActionRecord`] per boot
//!    action applying to the node ([`BootActions::create_for_node`]): an [`ActionId`] (ULID)
//!    each, and one random [`IdentityKey`] for the node and deployment. A node driver ships the
//!    key to the node (the reference uses a MAAS tag) and the package lists
//!    ([`node_package_list`]) with the deployment.
//! 2. The node fetches its units and files from the embedder's HTTP service, which calls
//!    [`Orchestrator::bootaction_tarball`](crate::orchestrator::Orchestrator::bootaction_tarball)
//!    (key check, rendering with [`render_action`], [`build_tarball`]).
//! 3. The node reports `running`, then `success` or `failure`, through the embedder's service,
//!    which calls [`BootActions::report`]. A final status is final.
//! 4. The DeployNodes step `BootactionReport` waits until every signalling action of the node
//!    is final, or `timeouts.bootaction_final_status` passed.
//!
//! # Guarantees
//! * The identity key is never in `Debug` output, messages or logs; keys are compared in
//!   constant time.
//! * Records are created once per task and node, so a resumed deployment reuses its ids and key.
//! * The final-is-final rule is enforced by the store in one atomic step.

mod record;
mod render;
mod report;
mod tarball;

pub use record::{
    ActionId, BootActionDetail, BootActionRecord, BootActionStatus, IDENTITY_KEY_LEN, IdentityKey,
};
pub use render::{
    ActionContext, DEFAULT_REPORT_URL, LocationResolver, MAX_RENDERED_BYTES, RenderContext,
    RenderError, RenderErrorKind, RenderedAsset, RenderedContent, TEMPLATE_FUEL, actions_for_node,
    node_package_list, render_action, render_asset, template_context,
};
pub use report::{BootActionError, BootActions, ReportStatus, node_assets};
pub use tarball::build_tarball;
