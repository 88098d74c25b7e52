//! [`BootActions`]: the embedder's API over the store: creating a node's records, checking its
//! key, recording the statuses it reports.

use std::sync::Arc;

use super::record::{ActionId, BootActionDetail, BootActionRecord, BootActionStatus, IdentityKey};
use super::render::{
    ActionContext, LocationResolver, RenderContext, RenderError, RenderedAsset, actions_for_node,
    render_action,
};
use crate::design::{AssetType, CompiledDesign};
use crate::store::{DesignId, Store, StoreError, StoreErrorKind};
use crate::task::{ContextType, MessageLevel, TaskId, TaskMessage};

/// A status a node reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// The action started (also what a report without a status means).
    Running,
    /// Final: the action succeeded.
    Success,
    /// Final: the action failed.
    Failure,
}

impl From<ReportStatus> for BootActionStatus {
    fn from(s: ReportStatus) -> Self {
        match s {
            ReportStatus::Running => BootActionStatus::Running,
            ReportStatus::Success => BootActionStatus::Success,
            ReportStatus::Failure => BootActionStatus::Failure,
        }
    }
}

/// Why a boot action call was refused or failed. [`BootActionError::http_status`] gives the
/// reference API's answer for each.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BootActionError {
    /// No boot action has this id.
    #[error("boot action {0} does not exist")]
    UnknownAction(ActionId),
    /// No boot action records exist for this node.
    #[error("no boot action context for node {0}")]
    UnknownNode(String),
    /// The caller sent no key.
    #[error("No X-Bootaction-Key")]
    MissingKey,
    /// The key is not the node's.
    #[error("Invalid X-Bootaction-Key")]
    InvalidKey,
    /// The action already has a final status.
    #[error("Action {0} status finalized, not available for update.")]
    Finalized(ActionId),
    /// An asset did not render.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The design of the node's deployment could not be loaded.
    #[error("cannot load the design: {0}")]
    Design(String),
    /// The tarball could not be written.
    #[error("cannot build the tarball: {0}")]
    Tarball(#[source] std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BootActionError {
    /// The HTTP status the reference API answers with: 404 unknown, 401 no key, 403 wrong key,
    /// 409 finalized, 500 otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            BootActionError::UnknownAction(_) | BootActionError::UnknownNode(_) => 404,
            BootActionError::MissingKey => 401,
            BootActionError::InvalidKey => 403,
            BootActionError::Finalized(_) => 409,
            _ => 500,
        }
    }
}

fn check_key(expected: &IdentityKey, given: Option<&str>) -> Result<(), BootActionError> {
    let given = given.ok_or(BootActionError::MissingKey)?;
    if expected.matches_hex(given) {
        Ok(())
    } else {
        Err(BootActionError::InvalidKey)
    }
}

/// Boot action records and status reports over a store. Cheap to clone.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use drydock_core::bootaction::{BootActionError, BootActions, ReportStatus};
/// use drydock_core::design::{Source, compile, ingest_sources};
/// use drydock_core::store::{DesignId, MemoryStore};
/// use drydock_core::task::TaskId;
///
/// let site = "schema: drydock/BaremetalNode/v1\nmetadata: {name: n1}\ndata:\n  addressing: [{network: pxe, address: dhcp}]\n---\nschema: drydock/BootAction/v1\nmetadata: {name: hello}\ndata:\n  assets: [{type: file, path: /etc/hello, data: hi}]\n";
/// let design = compile(ingest_sources(&[Source::new("site.yaml", site)]).unwrap()).unwrap();
/// let actions = BootActions::new(Arc::new(MemoryStore::new()));
/// let records = actions
///     .create_for_node(&design, &DesignId("d".into()), TaskId::new(), "n1")
///     .await
///     .unwrap();
/// let (id, key) = (records[0].action_id, records[0].identity_key.to_hex());
/// actions.report(id, Some(&key), ReportStatus::Success, &[]).await.unwrap();
/// let again = actions.report(id, Some(&key), ReportStatus::Failure, &[]).await;
/// assert!(matches!(again, Err(BootActionError::Finalized(_))));
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct BootActions {
    store: Arc<dyn Store>,
}

impl BootActions {
    /// Boot actions kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        BootActions { store }
    }

    /// Creates the records of every boot action applying to `node` for deployment `task`,
    /// with one new identity key; when the task already has records for the node, returns
    /// those instead (so a resumed task keeps its ids and key). No boot action: no records.
    pub async fn create_for_node(
        &self,
        design: &CompiledDesign,
        design_id: &DesignId,
        task: TaskId,
        node: &str,
    ) -> Result<Vec<BootActionRecord>, StoreError> {
        let actions = actions_for_node(design, node);
        if actions.is_empty() {
            return Ok(Vec::new());
        }
        let key = IdentityKey::generate();
        let records: Vec<BootActionRecord> = actions
            .iter()
            .map(|ba| {
                BootActionRecord::new(
                    &ba.name,
                    node,
                    task,
                    design_id.clone(),
                    key.clone(),
                    ba.signaling,
                )
            })
            .collect();
        self.store.put_bootactions(&records).await
    }

    /// Every record of `node`, of every task, oldest first. They hold the node's keys: what a
    /// simulated or test node reads, and what an embedder must not hand out.
    pub async fn records_for_node(&self, node: &str) -> Result<Vec<BootActionRecord>, StoreError> {
        self.store.bootactions_for_node(node).await
    }

    /// The records of `node`'s latest deployment, once `key` proved to be that deployment's
    /// key (the asset endpoint's check: missing ⇒ 401, wrong ⇒ 403, no records ⇒ 404).
    pub async fn authorize_node(
        &self,
        node: &str,
        key: Option<&str>,
    ) -> Result<Vec<BootActionRecord>, BootActionError> {
        let mut records = self.store.bootactions_for_node(node).await?;
        let latest = records
            .last()
            .map(|r| r.task)
            .ok_or_else(|| BootActionError::UnknownNode(node.to_owned()))?;
        records.retain(|r| r.task == latest);
        check_key(&records[0].identity_key, key)?;
        Ok(records)
    }

    /// Records a status reported for action `id` with the node's `key`; each detail also
    /// becomes a message of the deployment task (context: the action id). Returns the record
    /// as stored.
    ///
    /// Errors: unknown id, missing or wrong key, and a status already final
    /// ([`BootActionError::Finalized`], whatever the new status).
    pub async fn report(
        &self,
        id: ActionId,
        key: Option<&str>,
        status: ReportStatus,
        details: &[(String, bool)],
    ) -> Result<BootActionRecord, BootActionError> {
        let record = self
            .store
            .get_bootaction(id)
            .await?
            .ok_or(BootActionError::UnknownAction(id))?;
        check_key(&record.identity_key, key)?;
        if record.status.is_final() {
            return Err(BootActionError::Finalized(id));
        }
        let details: Vec<BootActionDetail> = details
            .iter()
            .map(|(m, e)| BootActionDetail::new(m.clone(), *e))
            .collect();
        let stored = match self
            .store
            .set_bootaction_status(id, status.into(), &details)
            .await
        {
            Ok(r) => r,
            Err(e) if e.kind == StoreErrorKind::Conflict => {
                return Err(BootActionError::Finalized(id));
            }
            Err(e) if e.kind == StoreErrorKind::NotFound => {
                return Err(BootActionError::UnknownAction(id));
            }
            Err(e) => return Err(e.into()),
        };
        for d in &details {
            let level = if d.error {
                MessageLevel::Error
            } else {
                MessageLevel::Info
            };
            let msg = TaskMessage::new(level, ContextType::Bootaction, id.to_string(), &d.message);
            match self.store.add_message(stored.task, &msg).await {
                // The task may have been deleted by retention meanwhile: the status stands.
                Err(e) if e.kind != StoreErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(stored)
    }
}

/// Renders the assets of `kind` of every boot action in `records` (one node's records of one
/// deployment, as [`BootActions::authorize_node`] returns them) with each record's id and key.
/// Boot actions no longer in the design are skipped.
pub fn node_assets(
    design: &CompiledDesign,
    records: &[BootActionRecord],
    kind: AssetType,
    report_url: &str,
    resolver: Option<&dyn LocationResolver>,
) -> Result<Vec<RenderedAsset>, BootActionError> {
    let mut out = Vec::new();
    for r in records {
        let (Some(node), Some(action)) = (
            design.node(&r.node),
            design.site.bootactions.get(&r.action_name),
        ) else {
            continue;
        };
        let cx = RenderContext {
            design,
            node,
            action: ActionContext {
                action_id: r.action_id,
                identity_key: &r.identity_key,
                design_ref: &r.design.0,
                report_url,
            },
            resolver,
        };
        out.extend(render_action(&cx, action, kind)?);
    }
    Ok(out)
}
