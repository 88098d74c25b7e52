//! Boot action reports of simulated nodes, after their deployment.

use super::*;
use crate::bootaction::ActionId;

/// How a simulated node reaches drydock once deployed: fetching its boot action assets and
/// reporting their statuses. [`BootActions`] does it in process (no assets to fetch); an HTTP
/// agent (the `drydock-api` crate has one) does it over the API, as real nodes do.
#[async_trait]
pub trait SimNodeAgent: Send + Sync + std::fmt::Debug {
    /// Fetches `node`'s boot action assets with its key `key` (hex), before running them.
    /// An error is reported as the actions' failure.
    async fn fetch_assets(&self, node: &str, key: &str) -> Result<(), String>;

    /// Reports `status` for action `action` with the node's key.
    async fn report(
        &self,
        action: ActionId,
        key: Option<&str>,
        status: ReportStatus,
        details: &[(String, bool)],
    ) -> Result<(), String>;
}

#[async_trait]
impl SimNodeAgent for BootActions {
    async fn fetch_assets(&self, _node: &str, _key: &str) -> Result<(), String> {
        Ok(())
    }

    async fn report(
        &self,
        action: ActionId,
        key: Option<&str>,
        status: ReportStatus,
        details: &[(String, bool)],
    ) -> Result<(), String> {
        BootActions::report(self, action, key, status, details)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

impl SimWorld {
    /// Lets deployed nodes report their boot actions through `actions` (normally
    /// [`Orchestrator::bootactions`](crate::orchestrator::Orchestrator::bootactions) over the
    /// orchestrator's store), as real nodes do through the embedder's report endpoint.
    ///
    /// After each successful `deploy`, the node reports its boot action records that are not
    /// final yet as its outcome says, with the key the deploy job carried (as a real node learns
    /// it from the provisioner: a job without records leaves the node without a key, and its
    /// reports are refused). Without this call nodes report nothing.
    pub fn report_bootactions(&self, actions: BootActions) {
        let agent: Arc<dyn SimNodeAgent> = Arc::new(actions.clone());
        *lock(&self.inner.bootactions) = Some((actions, agent));
    }

    /// Like [`SimWorld::report_bootactions`], but nodes fetch their assets and report through
    /// `agent` (e.g. over HTTP); `actions` only tells a node which boot actions it has, as
    /// its deployment's configuration would.
    pub fn report_bootactions_via(&self, actions: BootActions, agent: Arc<dyn SimNodeAgent>) {
        *lock(&self.inner.bootactions) = Some((actions, agent));
    }

    /// Sets what `node` reports for its boot actions (instead of
    /// [`SimConfig::bootaction_outcome`]).
    pub fn set_bootaction_outcome(&self, node: &str, outcome: SimBootAction) {
        lock(&self.inner.bootaction_outcomes).insert(node.to_owned(), outcome);
    }

    /// Reports `node`'s pending signalling boot actions as configured (after a deploy), with
    /// the key its deploy job carried.
    pub(super) async fn run_bootactions(&self, node: &str, given: Option<DeployBootActions<'_>>) {
        let Some((actions, agent)) = lock(&self.inner.bootactions).clone() else {
            return;
        };
        let outcome = lock(&self.inner.bootaction_outcomes)
            .get(node)
            .copied()
            .unwrap_or(self.inner.config.bootaction_outcome);
        let mut last = match outcome {
            SimBootAction::Silent => return,
            SimBootAction::Success => (
                ReportStatus::Success,
                "Bootaction completed.".to_owned(),
                false,
            ),
            SimBootAction::Failure => (
                ReportStatus::Failure,
                "Bootaction failed (simulated).".to_owned(),
                true,
            ),
        };
        let records = match actions.records_for_node(node).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(node, error = %e, "sim: cannot read boot actions");
                return;
            }
        };
        let pending: Vec<_> = records
            .iter()
            .filter(|r| r.signaling && !r.status.is_final())
            .collect();
        // Only what the provisioner handed over: the records of this deployment.
        let key_of = |id: ActionId| {
            given
                .and_then(|g| g.records.iter().find(|g| g.action_id == id))
                .map(|g| g.identity_key.to_hex())
        };
        if let Some(key) = pending.first().and_then(|r| key_of(r.action_id))
            && let Err(e) = agent.fetch_assets(node, &key).await
        {
            tracing::warn!(node, error = %e, "sim: cannot fetch boot action assets");
            last = (
                ReportStatus::Failure,
                format!("Cannot fetch boot action assets: {e}"),
                true,
            );
        }
        for r in pending {
            let key = key_of(r.action_id);
            let reports = [
                (
                    ReportStatus::Running,
                    "Bootaction starting execution.".to_owned(),
                    false,
                ),
                last.clone(),
            ];
            for (status, text, error) in reports {
                if let Err(e) = agent
                    .report(r.action_id, key.as_deref(), status, &[(text, error)])
                    .await
                {
                    tracing::warn!(node, action = %r.action_name, error = %e, "sim: report refused");
                }
            }
        }
    }
}
