//! Host profile inheritance: how a child's fields combine with its parent's effective fields.
//!
//! The rules are the reference's intended ones (`drydock.md` §1.5), applied uniformly:
//! * a field absent in the child inherits; `'!'` clears it; any other value replaces it;
//! * mappings merge key by key; a child key `!k` removes the parent's `k`;
//! * lists keep the child's items, then the parent's items the child neither repeats nor removes
//!   with `!item`;
//! * named items (interfaces, devices, partitions, volume groups, logical volumes) merge by name:
//!   the parent's order first, then the child's new items; `!name` removes one; items present in
//!   both merge field by field (SR-IOV settings included).
//!
//! The result never holds a `'!'` marker, so merging with an empty parent normalises a spec.

use indexmap::IndexMap;

use super::model::common::{Setting, inherit};
use super::model::host::{
    DeviceSpec, FilesystemSpec, HostSpec, InterfaceSpec, LogicalVolumeSpec, OobParameters,
    PartitionSpec, VolumeGroupSpec,
};

/// Merges mappings: the parent's entries not removed by a child `!key`, overridden in place by the
/// child's, then the child's new entries.
pub fn merge_dicts<V: Clone>(
    child: &IndexMap<String, V>,
    parent: &IndexMap<String, V>,
) -> IndexMap<String, V> {
    if child.is_empty() {
        return parent.clone();
    }
    // Linear: the removals are looked up in a set, not searched for each parent key.
    let removals: std::collections::HashSet<&str> =
        child.keys().filter_map(|k| k.strip_prefix('!')).collect();
    let mut out: IndexMap<String, V> = IndexMap::with_capacity(parent.len() + child.len());
    for (k, v) in parent {
        let removed = !removals.is_empty() && removals.contains(k.as_str());
        if !removed {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in child {
        if !k.starts_with('!') {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Merges lists: the child's items (order and repeats kept), then the parent's items that the
/// child neither has nor removes with `!item`.
///
/// ```
/// use drydock_core::design::inherit::merge_lists;
/// let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
/// assert_eq!(merge_lists(&s(&["a", "!b", "c"]), &s(&["b", "d", "a", "d"])), s(&["a", "c", "d", "d"]));
/// ```
pub fn merge_lists(child: &[String], parent: &[String]) -> Vec<String> {
    let mut out: Vec<String> = child
        .iter()
        .filter(|c| !c.starts_with('!'))
        .cloned()
        .collect();
    if child.len() <= 16 {
        let kept = out.len();
        for p in parent {
            let removed = child
                .iter()
                .any(|c| c.strip_prefix('!') == Some(p.as_str()));
            if !removed && !out[..kept].contains(p) {
                out.push(p.clone());
            }
        }
        return out;
    }
    // Long lists: sets instead of searches, so that the merge stays linear.
    let removals: std::collections::HashSet<&str> =
        child.iter().filter_map(|c| c.strip_prefix('!')).collect();
    let own: std::collections::HashSet<&str> = out.iter().map(String::as_str).collect();
    let extra: Vec<String> = parent
        .iter()
        .filter(|p| !removals.contains(p.as_str()) && !own.contains(p.as_str()))
        .cloned()
        .collect();
    out.extend(extra);
    out
}

/// Something merged by name.
pub(crate) trait Named: Clone {
    fn name(&self) -> &str;
    /// Merges `self` (the child's item) with the parent's item of the same name.
    fn merge(&self, parent: &Self) -> Self;
    /// The item with every `'!'` marker of its own resolved away (for items without a parent).
    fn normalized(&self) -> Self;
}

/// Merges named items: see the module documentation. `parent` must be effective (merged all the
/// way up, or normalised), as every parent in a profile chain is.
pub(crate) fn merge_named<T: Named>(child: &[T], parent: &[T]) -> Vec<T> {
    for_each_merged(child, parent, |t, _| t.clone())
}

impl Named for InterfaceSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn merge(&self, p: &Self) -> Self {
        InterfaceSpec {
            name: self.name.clone(),
            device_link: inherit(&self.device_link, &p.device_link),
            slaves: merge_lists(&self.slaves, &p.slaves),
            networks: merge_lists(&self.networks, &p.networks),
            sriov: self.sriov.clone().or_else(|| p.sriov.clone()),
            labels: merge_dicts(&self.labels, &p.labels),
            extra: merge_dicts(&self.extra, &p.extra),
        }
    }
    fn normalized(&self) -> Self {
        self.merge(&InterfaceSpec {
            name: self.name.clone(),
            ..Default::default()
        })
    }
}

fn merge_fs(c: &FilesystemSpec, p: &FilesystemSpec) -> FilesystemSpec {
    FilesystemSpec {
        mountpoint: inherit(&c.mountpoint, &p.mountpoint),
        fstype: inherit(&c.fstype, &p.fstype),
        mount_options: inherit(&c.mount_options, &p.mount_options),
        fs_uuid: inherit(&c.fs_uuid, &p.fs_uuid),
        fs_label: inherit(&c.fs_label, &p.fs_label),
        extra: merge_dicts(&c.extra, &p.extra),
    }
}

impl Named for PartitionSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn merge(&self, p: &Self) -> Self {
        PartitionSpec {
            name: self.name.clone(),
            size: inherit(&self.size, &p.size),
            part_uuid: inherit(&self.part_uuid, &p.part_uuid),
            volume_group: inherit(&self.volume_group, &p.volume_group),
            bootable: self.bootable.or(p.bootable),
            labels: merge_dicts(&self.labels, &p.labels),
            filesystem: merge_fs(&self.filesystem, &p.filesystem),
        }
    }
    fn normalized(&self) -> Self {
        self.merge(&PartitionSpec {
            name: self.name.clone(),
            ..Default::default()
        })
    }
}

impl Named for DeviceSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn merge(&self, p: &Self) -> Self {
        DeviceSpec {
            name: self.name.clone(),
            volume_group: inherit(&self.volume_group, &p.volume_group),
            labels: merge_dicts(&self.labels, &p.labels),
            partitions: merge_named(&self.partitions, &p.partitions),
            extra: merge_dicts(&self.extra, &p.extra),
        }
    }
    fn normalized(&self) -> Self {
        self.merge(&DeviceSpec {
            name: self.name.clone(),
            ..Default::default()
        })
    }
}

impl Named for LogicalVolumeSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn merge(&self, p: &Self) -> Self {
        LogicalVolumeSpec {
            name: self.name.clone(),
            size: inherit(&self.size, &p.size),
            lv_uuid: inherit(&self.lv_uuid, &p.lv_uuid),
            filesystem: merge_fs(&self.filesystem, &p.filesystem),
            extra: merge_dicts(&self.extra, &p.extra),
        }
    }
    fn normalized(&self) -> Self {
        self.merge(&LogicalVolumeSpec {
            name: self.name.clone(),
            ..Default::default()
        })
    }
}

impl Named for VolumeGroupSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn merge(&self, p: &Self) -> Self {
        VolumeGroupSpec {
            name: self.name.clone(),
            vg_uuid: inherit(&self.vg_uuid, &p.vg_uuid),
            logical_volumes: merge_named(&self.logical_volumes, &p.logical_volumes),
            extra: merge_dicts(&self.extra, &p.extra),
        }
    }
    fn normalized(&self) -> Self {
        self.merge(&VolumeGroupSpec {
            name: self.name.clone(),
            ..Default::default()
        })
    }
}

/// Visits the items [`merge_named`] would produce, in its order, without building the merged
/// list: `f` gets each merged item, and `Some(i)` when it is the parent's item `i` itself,
/// untouched by the child (an item of an effective parent is already normalised, so merging it
/// with nothing would give an equal item; a caller may reuse what it made of it before).
pub(crate) fn for_each_merged<T: Named, R>(
    child: &[T],
    parent: &[T],
    mut f: impl FnMut(&T, Option<usize>) -> R,
) -> Vec<R> {
    let mut out = Vec::with_capacity(parent.len() + child.len());
    for (i, p) in parent.iter().enumerate() {
        let name = p.name();
        if child
            .iter()
            .any(|c| c.name().strip_prefix('!') == Some(name))
        {
            continue;
        }
        match child.iter().find(|c| c.name() == name) {
            Some(c) => out.push(f(&c.merge(p), None)),
            None => out.push(f(p, Some(i))),
        }
    }
    for c in child {
        if !c.name().starts_with('!') && !parent.iter().any(|p| p.name() == c.name()) {
            out.push(f(&c.normalized(), None));
        }
    }
    out
}

/// The effective value of an inheritable field, borrowed from the child or the parent.
pub(crate) fn inherited<'a, T>(
    child: &'a Option<Setting<T>>,
    parent: &'a Option<Setting<T>>,
) -> Option<&'a T> {
    match child {
        None => parent.as_ref().and_then(Setting::value),
        Some(s) => s.value(),
    }
}

/// Applies a parent's effective spec to a child's spec. The parent must itself be effective
/// (merged all the way up, or normalised against an empty spec).
pub fn apply_parent(child: &HostSpec, parent: &HostSpec) -> HostSpec {
    HostSpec {
        parent: child.parent.clone(),
        hardware_profile: inherit(&child.hardware_profile, &parent.hardware_profile),
        primary_network: inherit(&child.primary_network, &parent.primary_network),
        oob_type: inherit(&child.oob_type, &parent.oob_type),
        oob_parameters: OobParameters(merge_dicts(
            &child.oob_parameters.0,
            &parent.oob_parameters.0,
        )),
        interfaces: merge_named(&child.interfaces, &parent.interfaces),
        storage_devices: merge_named(&child.storage_devices, &parent.storage_devices),
        volume_groups: merge_named(&child.volume_groups, &parent.volume_groups),
        image: inherit(&child.image, &parent.image),
        kernel: inherit(&child.kernel, &parent.kernel),
        kernel_params: merge_dicts(&child.kernel_params, &parent.kernel_params),
        tags: merge_lists(&child.tags, &parent.tags),
        owner_data: merge_dicts(&child.owner_data, &parent.owner_data),
        rack: inherit(&child.rack, &parent.rack),
        storage_extra: merge_dicts(&child.storage_extra, &parent.storage_extra),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set-based merge of long lists gives what the search-based one gives.
    #[test]
    fn long_and_short_list_merges_agree() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let parent = s(&["a", "b", "c", "d", "e"]);
        let mut child = s(&["!b", "x", "a", "!zz"]);
        let short = merge_lists(&child, &parent);
        assert_eq!(short, s(&["x", "a", "c", "d", "e"]));
        // The same removals and additions, padded past the short path with new items.
        let padding: Vec<String> = (0..20).map(|i| format!("p{i}")).collect();
        child.extend(padding.iter().cloned());
        let long = merge_lists(&child, &parent);
        let mut expected = s(&["x", "a"]);
        expected.extend(padding);
        expected.extend(s(&["c", "d", "e"]));
        assert_eq!(long, expected);
    }

    #[test]
    fn dict_removals_are_applied() {
        let m = |v: &[(&str, &str)]| -> IndexMap<String, String> {
            v.iter()
                .map(|(k, x)| (k.to_string(), x.to_string()))
                .collect()
        };
        let parent = m(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let child = m(&[("!b", ""), ("c", "4"), ("d", "5")]);
        assert_eq!(
            merge_dicts(&child, &parent),
            m(&[("a", "1"), ("c", "4"), ("d", "5")])
        );
    }
}
