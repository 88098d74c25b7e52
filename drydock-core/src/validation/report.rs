//! The validation report, in the reference's `Status` shape.

use std::fmt;

use serde::Serialize;
use serde::ser::SerializeMap;

use super::{Finding, RuleId};
use crate::design::Severity;

/// The verdict of a validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ValidationStatus {
    /// No error: the design may be deployed.
    Success,
    /// At least one error.
    Failure,
}

/// Every finding of every rule, in rule order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationReport {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl ValidationReport {
    /// A report of these findings.
    pub fn new(findings: Vec<Finding>) -> Self {
        ValidationReport { findings }
    }

    /// `Failure` when any finding is an error.
    pub fn status(&self) -> ValidationStatus {
        if self.is_valid() {
            ValidationStatus::Success
        } else {
            ValidationStatus::Failure
        }
    }

    /// Whether no finding is an error (warnings never fail a design).
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(Finding::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.errors().count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.level == Severity::Warning)
            .count()
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_error())
    }

    /// The findings of one rule (including its info).
    pub fn of_rule(&self, rule: RuleId) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.rule == rule)
    }

    /// The errors and warnings of one rule.
    pub fn problems_of(&self, rule: RuleId) -> impl Iterator<Item = &Finding> {
        self.of_rule(rule).filter(|f| f.level != Severity::Info)
    }

    /// The rules that reported an error or a warning.
    pub fn rules_with_problems(&self) -> Vec<RuleId> {
        let mut rules: Vec<RuleId> = self
            .findings
            .iter()
            .filter(|f| f.level != Severity::Info)
            .map(|f| f.rule)
            .collect();
        rules.sort();
        rules.dedup();
        rules
    }

    /// The reference's summary message.
    pub fn message(&self) -> &'static str {
        match self.status() {
            ValidationStatus::Success => "Site design passed validation",
            ValidationStatus::Failure => "Site design failed validation.",
        }
    }
}

/// Serialises as the reference's `Validation.to_dict()`:
/// `{kind: "Status", apiVersion: "v1.0", metadata: {}, message, reason, status,
/// details: {errorCount, messageList}}`.
impl Serialize for ValidationReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Details<'a> {
            error_count: usize,
            message_list: &'a [Finding],
        }
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("kind", "Status")?;
        m.serialize_entry("apiVersion", "v1.0")?;
        m.serialize_entry("metadata", &serde_json::Map::new())?;
        m.serialize_entry("message", self.message())?;
        let reason = match self.status() {
            ValidationStatus::Success => "",
            ValidationStatus::Failure => "See detail messages.",
        };
        m.serialize_entry("reason", reason)?;
        m.serialize_entry("status", &self.status())?;
        m.serialize_entry(
            "details",
            &Details {
                error_count: self.error_count(),
                message_list: &self.findings,
            },
        )?;
        m.end()
    }
}

/// Errors and warnings, one per paragraph, then a summary line (infos are left out).
impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in self.findings.iter().filter(|x| x.level != Severity::Info) {
            writeln!(f, "{finding}")?;
        }
        let verdict = match self.status() {
            ValidationStatus::Success => "valid",
            ValidationStatus::Failure => "INVALID",
        };
        writeln!(
            f,
            "{verdict}: {} errors, {} warnings",
            self.error_count(),
            self.warning_count()
        )
    }
}
