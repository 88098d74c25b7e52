//! The synthetic site of the orchestrator benches: `n` nodes of one host profile, each with an
//! IPMI BMC on the `oob` network.

/// A valid site of `n` nodes (node actions refuse an invalid design).
pub(crate) fn site(n: usize) -> String {
    let mut s = String::from(
        "schema: drydock/Network/v1\nmetadata: {name: oob}\ndata: {cidr: 10.0.0.0/8}\n---\n\
         schema: drydock/HostProfile/v1\nmetadata: {name: base}\ndata:\n  \
         oob: {type: ipmi, network: oob, account: admin, credential: pw}\n  \
         storage: {physical_devices: {sda: {partitions: [{name: root, size: 30g, filesystem: {mountpoint: /}}]}}}\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "---\nschema: drydock/BaremetalNode/v1\nmetadata: {{name: node{i:05}}}\ndata:\n  host_profile: base\n  addressing: [{{network: oob, address: 10.{}.{}.{}}}]\n",
            i >> 16,
            (i >> 8) & 255,
            i & 255
        ));
    }
    s
}
