//! Design validation: the reference's 18 rules with their intended meaning, the checks its
//! orchestrator readme promised, and a report in the reference's shape.
//!
//! A [`Validator`] runs every [`Rule`] on a [`CompiledDesign`] and returns a
//! [`ValidationReport`]. Each rule is isolated: a rule never aborts the others, and a rule that
//! panicked (a bug) becomes one internal-error finding instead of taking the report down.
//!
//! ```
//! use drydock_core::design::ingest_str;
//! use drydock_core::validation::{RuleId, ValidationContext, Validator};
//!
//! let site = drydock_core::design::compile(ingest_str(
//!     "schema: drydock/Network/v1\nmetadata: {name: oob}\ndata: {cidr: 172.16.100.1/24}\n",
//! ).unwrap()).unwrap();
//! let report = Validator::new().validate(&site, &ValidationContext::default());
//! assert!(!report.is_valid());
//! let cidr = report.errors().next().unwrap();
//! assert_eq!(cidr.rule, RuleId::CidrValidity);
//! assert_eq!(cidr.message, "CIDR Validity: The provided CIDR 172.16.100.1/24 has host bits set");
//! ```

mod finding;
mod report;
mod rule_id;
pub mod rules;
pub mod testing;

use std::panic::{AssertUnwindSafe, catch_unwind};

pub use finding::Finding;
pub use report::{ValidationReport, ValidationStatus};
pub use rule_id::RuleId;

use crate::design::{CompiledDesign, Severity};

/// The images and kernels a provisioner offers (image → kernels), for the platform selection
/// rule; node drivers report it (`NodeDriver::available_platforms`, also at
/// `drydock_core::driver::PlatformCatalog`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlatformCatalog {
    /// Kernels by image.
    pub images: std::collections::BTreeMap<String, Vec<String>>,
}

/// What validation knows besides the design.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationContext {
    /// The images and kernels of the enabled node driver; `None` when no node driver is enabled
    /// (platform selection then only warns, as the reference does).
    pub platform: Option<PlatformCatalog>,
}

impl ValidationContext {
    /// A context with the catalog of a node driver.
    pub fn with_platform(platform: PlatformCatalog) -> Self {
        ValidationContext {
            platform: Some(platform),
        }
    }
}

/// One validation rule.
///
/// Implementations must not panic: a finding is the way to report anything, including a design
/// the rule cannot make sense of. The [`Validator`] still guards against panics.
pub trait Rule: Send + Sync + std::fmt::Debug {
    /// The rule's identity.
    fn id(&self) -> RuleId;

    /// Checks the design; returns errors, warnings and infos, but not the
    /// "Validation successful." info (the [`Validator`] adds it).
    fn check(&self, design: &CompiledDesign, cx: &ValidationContext) -> Vec<Finding>;
}

/// Runs rules on a design.
#[derive(Debug)]
pub struct Validator {
    rules: Vec<Box<dyn Rule>>,
    /// Whether every rule is a built-in one (then rules that go node by node run together).
    builtin: bool,
}

impl Default for Validator {
    fn default() -> Self {
        Self::new()
    }
}

impl Validator {
    /// A validator with every rule: the reference's 18 in its order, then drydock's own.
    pub fn new() -> Self {
        Validator {
            rules: rules::all(),
            builtin: true,
        }
    }

    /// A validator with the given rules only.
    pub fn with_rules(rules: Vec<Box<dyn Rule>>) -> Self {
        Validator {
            rules,
            builtin: false,
        }
    }

    /// A validator with the rules of the given ids only (in the order given).
    pub fn only(ids: &[RuleId]) -> Self {
        let mut all = rules::all();
        let rules = ids
            .iter()
            .filter_map(|id| {
                let at = all.iter().position(|r| r.id() == *id)?;
                Some(all.remove(at))
            })
            .collect();
        Validator {
            rules,
            builtin: true,
        }
    }

    /// The rules, in the order they run.
    pub fn rules(&self) -> impl Iterator<Item = &dyn Rule> {
        self.rules.iter().map(|r| r.as_ref())
    }

    /// Runs every rule and gathers their findings.
    ///
    /// The built-in rules that check nodes one by one run together, node by node, so that each
    /// node is read from memory once rather than once per rule; the findings are the same, in
    /// the same order. (Should a rule panic there, every rule is run again on its own.)
    pub fn validate(&self, design: &CompiledDesign, cx: &ValidationContext) -> ValidationReport {
        if self.builtin
            && let Ok(per_rule) = catch_unwind(AssertUnwindSafe(|| self.run_by_node(design, cx)))
        {
            let findings = self
                .rules
                .iter()
                .zip(per_rule)
                .flat_map(|(rule, f)| with_success(rule.id(), f))
                .collect();
            return ValidationReport::new(findings);
        }
        let mut findings = Vec::new();
        for rule in &self.rules {
            findings.extend(run_rule(rule.as_ref(), design, cx));
        }
        ValidationReport::new(findings)
    }

    /// The findings of each rule (without the success info), node checks run node by node.
    fn run_by_node(&self, design: &CompiledDesign, cx: &ValidationContext) -> Vec<Vec<Finding>> {
        let mut per_rule: Vec<Vec<Finding>> = Vec::with_capacity(self.rules.len());
        let mut by_node = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            match rules::node_checks(rule.id(), design, cx) {
                Some(mut checks) => {
                    per_rule.push(checks.begin());
                    by_node.push((i, checks));
                }
                None => per_rule.push(rule.check(design, cx)),
            }
        }
        for node in design.nodes.values() {
            for (i, checks) in &mut by_node {
                checks.node(node, &mut per_rule[*i]);
            }
        }
        per_rule
    }
}

/// Runs one rule, isolated: a panic becomes an internal-error finding, and a rule without errors
/// gets the reference's "Validation successful." info.
pub fn run_rule(rule: &dyn Rule, design: &CompiledDesign, cx: &ValidationContext) -> Vec<Finding> {
    let id = rule.id();
    let findings = match catch_unwind(AssertUnwindSafe(|| rule.check(design, cx))) {
        Ok(f) => f,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            vec![Finding::new(
                id,
                Severity::Error,
                format!("internal error in this rule, its checks were not completed: {what}"),
                "This is a bug in drydock; please report it with the design.",
            )]
        }
    };
    with_success(id, findings)
}

/// Adds the reference's "Validation successful." info to the findings of a rule without errors.
fn with_success(id: RuleId, mut findings: Vec<Finding>) -> Vec<Finding> {
    if !findings.iter().any(Finding::is_error) {
        findings.push(Finding::new(
            id,
            Severity::Info,
            "Validation successful.",
            "",
        ));
    }
    findings
}

/// Validates a design with every rule (shorthand for [`Validator::new`] then
/// [`Validator::validate`]).
pub fn validate(design: &CompiledDesign, cx: &ValidationContext) -> ValidationReport {
    Validator::new().validate(design, cx)
}
