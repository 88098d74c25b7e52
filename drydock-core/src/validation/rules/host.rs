//! Per-node host rules: kernel parameters, platform, hostname and out-of-band access.

use super::{NodeChecks, by_node, impl_rule, node_fn};
use crate::design::locate::Seg::Key;
use crate::design::{CompiledDesign, CompiledNode, DocumentKind, KernelParam, OobType, Severity};
use crate::validation::{Finding, RuleId, ValidationContext};

const NODE: DocumentKind = DocumentKind::BaremetalNode;

/// DD1008: `hugepages` and `hugepagesz` are given together.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hugepages;
impl_rule!(Hugepages, Hugepages, hugepages);

by_node!(hugepages, hugepages_checks);

pub(super) fn hugepages_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let given = |n: &CompiledNode, k: &str| {
        n.platform
            .kernel_params
            .get(k)
            .is_some_and(|v| *v != KernelParam::Flag(false))
    };
    node_fn(Vec::new(), move |n, out| {
        if given(n, "hugepages") != given(n, "hugepagesz") {
            let which = if given(n, "hugepages") {
                "hugepages"
            } else {
                "hugepagesz"
            };
            out.push(
                Finding::new(
                    RuleId::Hugepages,
                    Severity::Error,
                    "Invalid hugepages kernel configuration",
                    "hugepages and hugepagesz must be specified together",
                )
                .document(d, NODE, &n.name)
                .at_node_field(
                    d,
                    n,
                    &[Key("platform"), Key("kernel_params"), Key(which)],
                ),
            );
        }
    })
}

/// DD3001: each node's image and kernel are offered by the node driver
/// ([`ValidationContext::platform`]); without a node driver, a warning. A node without an image
/// or kernel gets the driver's default and is not checked.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlatformSelection;
impl_rule!(PlatformSelection, PlatformSelection, platform_selection);

fn platform_selection(d: &CompiledDesign, cx: &ValidationContext) -> Vec<Finding> {
    let rule = RuleId::PlatformSelection;
    let Some(catalog) = &cx.platform else {
        return vec![Finding::new(
            rule,
            Severity::Warning,
            "Platform Validation: No enabled node driver, imageand kernel selections not validated.",
            "Cannot validate platform selection without accessing the node provisioner.",
        )];
    };
    let mut out = Vec::new();
    for n in d.nodes.values() {
        let Some(image) = n.platform.image.as_deref() else {
            continue;
        };
        if !catalog.images.contains_key(image) {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    format!("Platform Validation: invalid image {image}"),
                    format!(
                        "Select a valid image from: {}",
                        catalog
                            .images
                            .keys()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                )
                .document(d, NODE, &n.name)
                .at_node_field(d, n, &[Key("platform"), Key("image")]),
            );
            continue;
        }
        let Some(kernel) = n.platform.kernel.as_deref() else {
            continue;
        };
        let kernels = catalog.images.get(image).map_or(&[][..], Vec::as_slice);
        if !kernels.iter().any(|k| k == kernel) {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    format!("Platform Validation: invalid kernel {kernel}"),
                    format!("Select a valid kernel from: {}", kernels.join(",")),
                )
                .document(d, NODE, &n.name)
                .at_node_field(d, n, &[Key("platform"), Key("kernel")]),
            );
        }
    }
    out
}

/// DD3003: each node's FQDN is at most 255 characters of labels of 1 to 63 letters, digits and
/// hyphens.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostnameValidity;
impl_rule!(HostnameValidity, HostnameValidity, hostname_validity);

by_node!(hostname_validity, hostname_validity_checks);

pub(super) fn hostname_validity_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::HostnameValidity;
    let diag = "RFC 1035 requires each label in a DNS name to be <= 63 characters and contain only A-Z, a-z, 0-9, and hyphens.";
    let valid = |l: &str| {
        (1..=63).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    node_fn(Vec::new(), move |n, out| {
        // The FQDN is `name.domain`; it is only formatted for a finding.
        if n.name.len() + 1 + n.domain.len() > 255 {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    format!("FQDN {} is invalid, greater than 255 characters.", n.fqdn()),
                    diag,
                )
                .document(d, NODE, &n.name),
            );
        }
        let labels = n.name.split('.').chain(n.domain.split('.'));
        for label in labels.filter(|l| !valid(l)) {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    format!("FQDN {} is invalid - label '{label}' is invalid.", n.fqdn()),
                    diag,
                )
                .document(d, NODE, &n.name),
            );
        }
    })
}

/// DD4001: an IPMI node has an account, a credential and a network, and an address on that
/// network; each missing one is reported (the reference crashes on the first three).
#[derive(Clone, Copy, Debug, Default)]
pub struct IpmiValidity;
impl_rule!(IpmiValidity, IpmiValidity, ipmi_validity);

by_node!(ipmi_validity, ipmi_validity_checks);

pub(super) fn ipmi_validity_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::IpmiValidity;
    node_fn(Vec::new(), move |n, out| {
        if n.oob.kind != Some(OobType::Ipmi) {
            return;
        }
        let params = [
            ("account", n.oob.account.is_some()),
            ("credential", n.oob.credential.is_some()),
            ("network", n.oob.network.is_some()),
        ];
        for (param, _) in params.iter().filter(|(_, present)| !present) {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    format!("OOB parameter {param} missing for IPMI node {}.", n.name),
                    format!("Define oob.{param} on the node or one of its host profiles."),
                )
                .document(d, NODE, &n.name)
                .at_node_field(d, n, &[Key("oob")]),
            );
        }
        if n.oob.network.is_some() && n.oob_address().is_none() {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    format!("OOB address missing for IPMI node {}.", n.name),
                    "Give the node a static address on its OOB network.",
                )
                .document(d, NODE, &n.name)
                .at_node_field(d, n, &[Key("oob"), Key("network")]),
            );
        }
    })
}

/// DD4002: a libvirt node has a `qemu+ssh` URI and a boot MAC address.
#[derive(Clone, Copy, Debug, Default)]
pub struct LibvirtValidity;
impl_rule!(LibvirtValidity, LibvirtValidity, libvirt_validity);

by_node!(libvirt_validity, libvirt_validity_checks);

pub(super) fn libvirt_validity_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::LibvirtValidity;
    node_fn(Vec::new(), move |n, out| {
        if n.oob.kind != Some(OobType::Libvirt) {
            return;
        }
        match n.oob.libvirt_uri.as_deref() {
            None => out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    format!("OOB parameter libvirt_uri missing for node {}.", n.name),
                    "Specify a libvirt URI such as qemu+ssh://user@host/system in oob.libvirt_uri.",
                )
                .document(d, NODE, &n.name)
                .at_node_field(d, n, &[Key("oob")]),
            ),
            Some(uri) if !uri.starts_with("qemu+ssh") => out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    "OOB parameter libvirt_uri has invalid scheme.",
                    "Only scheme 'qemu+ssh' is supported.",
                )
                .document(d, NODE, &n.name)
                .at_node_field(d, n, &[Key("oob"), Key("libvirt_uri")]),
            ),
            Some(_) => {}
        }
        if n.boot_mac.is_none() {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    "libvirt-based node requries defined boot MAC address.",
                    "Specify the node's PXE MAC address in metadata.boot_mac",
                )
                .document(d, NODE, &n.name)
                .at_node_field(d, n, &[Key("metadata")]),
            );
        }
    })
}
