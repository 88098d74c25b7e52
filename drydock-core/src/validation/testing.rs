//! Helpers for testing site designs in other projects' test suites.
//!
//! A positive test asserts that a site is valid; a negative test asserts that a deliberately
//! broken site is rejected by the intended rule, on the intended document. Failures panic with
//! every problem found, each with its document and source location.
//!
//! ```
//! use drydock_core::validation::RuleId;
//! use drydock_core::validation::testing::{assert_rule_fires, assert_site_valid};
//!
//! // A whole site directory (walked for *.yaml and *.yml).
//! let report = assert_site_valid(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sites/demo-site"));
//! assert_eq!(report.error_count(), 0);
//!
//! // A negative case: the `oob` network's CIDR has host bits set.
//! let broken = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/designs/broken/cidr-host-bits.yaml");
//! assert_rule_fires(broken, RuleId::CidrValidity, "oob");
//! ```

use std::path::Path;

use super::{Finding, RuleId, ValidationContext, ValidationReport, validate};
use crate::design::{self, Diagnostics, Severity};

/// Reads, compiles and validates the design at `path` (a file or a directory).
///
/// Fails with the ingestion or compile diagnostics when the design cannot be read.
pub fn validate_site(
    path: impl AsRef<Path>,
    cx: &ValidationContext,
) -> Result<ValidationReport, Diagnostics> {
    let design = design::load(&[path.as_ref()])?;
    Ok(validate(&design, cx))
}

#[track_caller]
fn load_or_panic(path: &Path, cx: &ValidationContext) -> ValidationReport {
    match validate_site(path, cx) {
        Ok(r) => r,
        Err(d) => panic!(
            "site design {} cannot be read ({} errors):\n{d}",
            path.display(),
            d.error_count()
        ),
    }
}

/// Asserts that the design at `path` reads, compiles and passes validation (no node driver:
/// images and kernels are not checked). Returns the report (warnings included).
///
/// # Panics
///
/// With every ingestion error, or every validation error with its documents and location.
#[track_caller]
pub fn assert_site_valid(path: impl AsRef<Path>) -> ValidationReport {
    assert_site_valid_with(path, &ValidationContext::default())
}

/// [`assert_site_valid`] with a context (e.g. the images and kernels of a node driver).
#[track_caller]
pub fn assert_site_valid_with(path: impl AsRef<Path>, cx: &ValidationContext) -> ValidationReport {
    let path = path.as_ref();
    let report = load_or_panic(path, cx);
    if !report.is_valid() {
        panic!(
            "site design {} is invalid ({} errors):\n{}",
            path.display(),
            report.error_count(),
            errors_listing(&report)
        );
    }
    report
}

/// Asserts that rule `rule` reports an error or a warning involving the document named
/// `document` in the design at `path`; returns those findings.
///
/// # Panics
///
/// When the design cannot be read, or the rule reports nothing on that document (the message
/// then lists what every rule did report).
#[track_caller]
pub fn assert_rule_fires(path: impl AsRef<Path>, rule: RuleId, document: &str) -> Vec<Finding> {
    let path = path.as_ref();
    let report = load_or_panic(path, &ValidationContext::default());
    report.assert_fires(rule, document)
}

fn errors_listing(report: &ValidationReport) -> String {
    let mut out = String::new();
    for f in report.errors() {
        out.push_str(&format!("  {f}\n"));
    }
    out
}

impl ValidationReport {
    /// Panics, listing every error with its documents and location, unless the report is valid.
    #[track_caller]
    pub fn assert_valid(&self) {
        if !self.is_valid() {
            panic!(
                "site design is invalid ({} errors):\n{}",
                self.error_count(),
                errors_listing(self)
            );
        }
    }

    /// Returns the errors and warnings of `rule` that involve the document named `document`;
    /// panics when there are none.
    #[track_caller]
    pub fn assert_fires(&self, rule: RuleId, document: &str) -> Vec<Finding> {
        let hits: Vec<Finding> = self
            .problems_of(rule)
            .filter(|f| f.involves(document))
            .cloned()
            .collect();
        if hits.is_empty() {
            let reported: String = self
                .findings
                .iter()
                .filter(|f| f.level != Severity::Info)
                .map(|f| format!("  {f}\n"))
                .collect();
            panic!(
                "rule {rule} ({}) reported nothing on document '{document}'; reported:\n{reported}",
                rule.long_name()
            );
        }
        hits
    }
}
