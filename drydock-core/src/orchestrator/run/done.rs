//! The steps a task's journal says succeeded: skipped when the task runs again.

use rustc_hash::FxHashMap;

use crate::store::{JournalEntry, Step, StepOutcome};

/// Succeeded steps, site-wide and per node, looked up without allocating.
#[derive(Debug, Default)]
pub(super) struct Done {
    site: Vec<Step>,
    nodes: FxHashMap<String, Vec<Step>>,
    /// Distinct (node, step) pairs.
    node_steps: usize,
}

impl Done {
    /// The succeeded steps of a journal.
    pub(super) fn from_journal(journal: Vec<JournalEntry>) -> Self {
        let mut done = Done::default();
        for e in journal {
            if e.outcome != StepOutcome::Succeeded {
                continue;
            }
            match e.node {
                None if !done.site.contains(&e.step) => done.site.push(e.step),
                None => {}
                Some(node) => {
                    let steps = done.nodes.entry(node).or_default();
                    if !steps.contains(&e.step) {
                        steps.push(e.step);
                        done.node_steps += 1;
                    }
                }
            }
        }
        done
    }

    /// Whether `step` (of `node`, or site-wide) succeeded.
    pub(super) fn contains(&self, node: Option<&str>, step: Step) -> bool {
        match node {
            None => self.site.contains(&step),
            // An empty map answers without hashing the name: the common case of a new task.
            Some(_) if self.nodes.is_empty() => false,
            Some(n) => self.nodes.get(n).is_some_and(|s| s.contains(&step)),
        }
    }

    /// How many per-node steps succeeded.
    pub(super) fn node_steps(&self) -> usize {
        self.node_steps
    }
}
