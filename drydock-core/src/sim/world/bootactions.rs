//! Boot action reports of simulated nodes, after their deployment.

use super::*;

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
        *lock(&self.inner.bootactions) = Some(actions);
    }

    /// Sets what `node` reports for its boot actions (instead of
    /// [`SimConfig::bootaction_outcome`]).
    pub fn set_bootaction_outcome(&self, node: &str, outcome: SimBootAction) {
        lock(&self.inner.bootaction_outcomes).insert(node.to_owned(), outcome);
    }

    /// Reports `node`'s pending signalling boot actions as configured (after a deploy), with
    /// the key its deploy job carried.
    pub(super) async fn run_bootactions(&self, node: &str, given: Option<DeployBootActions<'_>>) {
        let Some(actions) = lock(&self.inner.bootactions).clone() else {
            return;
        };
        let outcome = lock(&self.inner.bootaction_outcomes)
            .get(node)
            .copied()
            .unwrap_or(self.inner.config.bootaction_outcome);
        let last = match outcome {
            SimBootAction::Silent => return,
            SimBootAction::Success => (ReportStatus::Success, "Bootaction completed.", false),
            SimBootAction::Failure => (
                ReportStatus::Failure,
                "Bootaction failed (simulated).",
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
        for r in records
            .iter()
            .filter(|r| r.signaling && !r.status.is_final())
        {
            // Only what the provisioner handed over: the records of this deployment.
            let key = given
                .and_then(|g| g.records.iter().find(|g| g.action_id == r.action_id))
                .map(|g| g.identity_key.to_hex());
            let reports = [
                (
                    ReportStatus::Running,
                    "Bootaction starting execution.",
                    false,
                ),
                last,
            ];
            for (status, text, error) in reports {
                if let Err(e) = actions
                    .report(
                        r.action_id,
                        key.as_deref(),
                        status,
                        &[(text.to_owned(), error)],
                    )
                    .await
                {
                    tracing::warn!(node, action = %r.action_name, error = %e, "sim: report refused");
                }
            }
        }
    }
}
