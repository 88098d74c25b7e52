//! Boot action rules.

use super::{NodeChecks, by_node, impl_rule, node_fn};
use crate::design::locate::Seg::{Index, Key};
use crate::design::{AssetData, AssetType, CompiledDesign, DocumentKind, Severity};
use crate::validation::{Finding, RuleId, ValidationContext};

/// DD4001 (warning): every node is targeted by at least one boot action.
#[derive(Clone, Copy, Debug, Default)]
pub struct BootactionCoverage;
impl_rule!(BootactionCoverage, BootactionCoverage, bootaction_coverage);

by_node!(bootaction_coverage, bootaction_coverage_checks);

pub(super) fn bootaction_coverage_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let targeted: rustc_hash::FxHashSet<&str> = d
        .bootaction_targets
        .values()
        .flatten()
        .map(String::as_str)
        .collect();
    node_fn(Vec::new(), move |n, out| {
        if !targeted.contains(n.name.as_str()) {
            out.push(
                Finding::new(
                    RuleId::BootactionCoverage,
                    Severity::Warning,
                    format!("Node {} is not in scope for any bootactions.", n.name),
                    "It is expected all nodes have at least one post-deploy action.",
                )
                .document(d, DocumentKind::BaremetalNode, &n.name),
            );
        }
    })
}

/// DD4002: a `pkg_list` asset has a location or packages, and every version specifier matches
/// `(\d+:)?([a-zA-Z0-9.+~-]+)(-[a-zA-Z0-9.+~]+)` (Debian `epoch:upstream-revision`).
#[derive(Clone, Copy, Debug, Default)]
pub struct BootactionPackageList;
impl_rule!(
    BootactionPackageList,
    BootactionPackageList,
    bootaction_package_list
);

fn bootaction_package_list(d: &CompiledDesign, _: &ValidationContext) -> Vec<Finding> {
    let rule = RuleId::BootactionPackageList;
    let mut out = Vec::new();
    for ba in d.site.bootactions.values() {
        let pkg_lists = ba.assets.iter().enumerate();
        for (i, asset) in pkg_lists.filter(|(_, a)| a.kind == AssetType::PkgList) {
            let packages = match &asset.data {
                Some(AssetData::Packages(p)) => Some(p),
                _ => None,
            };
            if asset.location.is_none() && packages.is_none_or(|p| p.is_empty()) {
                out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        "Bootaction has asset of type 'pkg_list' but no valid package data",
                        "pkg_list assets must specify a location or a list of packages.",
                    )
                    .document(d, DocumentKind::BootAction, &ba.name)
                    .at_field(
                        d,
                        DocumentKind::BootAction,
                        &ba.name,
                        &[Key("assets"), Index(i)],
                    ),
                );
                continue;
            }
            let versions = packages
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
                .filter(|(_, v)| !v.is_empty() && !is_version_specifier(v));
            for (pkg, v) in versions {
                out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        format!("Version specifier {v} is not a valid format."),
                        "pkg_list version specifications must be in a valid format.",
                    )
                    .document(d, DocumentKind::BootAction, &ba.name)
                    .at_field(
                        d,
                        DocumentKind::BootAction,
                        &ba.name,
                        &[Key("assets"), Index(i), Key("data"), Key(pkg)],
                    ),
                );
            }
        }
    }
    out
}

/// Whether `v` fully matches `(\d+:)?([a-zA-Z0-9.+~-]+)(-[a-zA-Z0-9.+~]+)`.
///
/// Neither the upstream part nor the revision may hold `:`, so a `:` can only end the epoch;
/// the revision holds no `-`, so it starts after the last `-`.
pub fn is_version_specifier(v: &str) -> bool {
    let rest = match v.split_once(':') {
        Some((epoch, rest)) => {
            if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            rest
        }
        None => v,
    };
    let Some((upstream, revision)) = rest.rsplit_once('-') else {
        return false;
    };
    let ok = |b: u8| b.is_ascii_alphanumeric() || b".+~".contains(&b);
    !upstream.is_empty()
        && !revision.is_empty()
        && upstream.bytes().all(|b| ok(b) || b == b'-')
        && revision.bytes().all(ok)
}

#[cfg(test)]
mod tests {
    use super::is_version_specifier as ok;

    #[test]
    fn version_specifiers_follow_the_reference_regex() {
        for good in [
            "1.0-1",
            "2:1.2.3-0ubuntu1",
            "1.0~rc1-1+deb9",
            "a-b-c",
            "0:x-y",
        ] {
            assert!(ok(good), "{good}");
        }
        for bad in [
            ":)", "1.0", "-1", "1.0-", "a:1.0-1", "1:2:3-4", ":1.0-1", "1.0-1-", "1 0-1",
        ] {
            assert!(!ok(bad), "{bad}");
        }
    }
}
