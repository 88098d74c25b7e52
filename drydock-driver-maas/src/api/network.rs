//! Interfaces, fabrics, VLANs, subnets, IP ranges, static routes, domains.

use super::opt_params;
use crate::models::{Domain, Fabric, Interface, IpRange, LinkMode, StaticRoute, Subnet, Vlan};
use crate::{MaasClient, Params, Result};

/// Fields of `PUT nodes/{system_id}/interfaces/{id}/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceUpdate {
    /// Name.
    pub name: Option<String>,
    /// MAC address.
    pub mac_address: Option<String>,
    /// VLAN database id.
    pub vlan: Option<i64>,
    /// MTU.
    pub mtu: Option<u32>,
}

/// Parameters of `op=link_subnet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSubnetSpec {
    /// Mode.
    pub mode: LinkMode,
    /// Subnet id.
    pub subnet: i64,
    /// Static address (mode `static`).
    pub ip_address: Option<String>,
    /// Make this link the default gateway (only with `auto`/`static`).
    pub default_gateway: bool,
}

/// Parameters of `op=create_bond`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BondSpec {
    /// Bond name.
    pub name: String,
    /// Parent interface ids (repeated keys).
    pub parents: Vec<i64>,
    /// MAC address.
    pub mac_address: Option<String>,
    /// Tags (comma-joined by MAAS' form).
    pub tags: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// `balance-rr`, `active-backup`, `802.3ad`, …
    pub bond_mode: Option<String>,
    /// Link monitoring frequency (ms).
    pub bond_miimon: Option<u32>,
    /// Down delay (ms).
    pub bond_downdelay: Option<u32>,
    /// Up delay (ms).
    pub bond_updelay: Option<u32>,
    /// LACP rate (`fast`, `slow`).
    pub bond_lacp_rate: Option<String>,
    /// Transmit hash policy.
    pub bond_xmit_hash_policy: Option<String>,
}

/// View of `nodes/{system_id}/interfaces/`.
#[derive(Debug, Clone)]
pub struct Interfaces<'a> {
    client: &'a MaasClient,
    system_id: String,
}

impl Interfaces<'_> {
    fn coll(&self) -> String {
        format!("nodes/{}/interfaces/", self.system_id)
    }

    fn item(&self, id: i64) -> String {
        format!("nodes/{}/interfaces/{id}/", self.system_id)
    }

    /// `GET nodes/{system_id}/interfaces/`.
    pub async fn list(&self) -> Result<Vec<Interface>> {
        self.client.get(&self.coll(), None, &Params::new()).await
    }

    /// `GET nodes/{system_id}/interfaces/{id}/`.
    pub async fn get(&self, id: i64) -> Result<Interface> {
        self.client.get(&self.item(id), None, &Params::new()).await
    }

    /// `PUT nodes/{system_id}/interfaces/{id}/`.
    pub async fn update(&self, id: i64, update: &InterfaceUpdate) -> Result<Interface> {
        let p = opt_params(
            Params::new(),
            &[
                ("name", update.name.clone()),
                ("mac_address", update.mac_address.clone()),
                ("vlan", update.vlan.map(|v| v.to_string())),
                ("mtu", update.mtu.map(|v| v.to_string())),
            ],
        );
        self.client.put(&self.item(id), &p).await
    }

    /// `POST …/{id}/?op=disconnect`: no VLAN, no links.
    pub async fn disconnect(&self, id: i64) -> Result<Interface> {
        self.client
            .post(&self.item(id), Some("disconnect"), &Params::new())
            .await
    }

    /// `POST …/{id}/?op=link_subnet`.
    pub async fn link_subnet(&self, id: i64, spec: &LinkSubnetSpec) -> Result<Interface> {
        let mut p = Params::new()
            .with("mode", spec.mode.as_str())
            .with("subnet", spec.subnet)
            .with_opt("ip_address", spec.ip_address.as_deref());
        if spec.default_gateway {
            p.push("default_gateway", "true");
        }
        self.client
            .post(&self.item(id), Some("link_subnet"), &p)
            .await
    }

    /// `POST …/{id}/?op=unlink_subnet` with the link id.
    pub async fn unlink_subnet(&self, id: i64, link_id: i64) -> Result<Interface> {
        let p = Params::new().with("id", link_id);
        self.client
            .post(&self.item(id), Some("unlink_subnet"), &p)
            .await
    }

    /// `POST nodes/{system_id}/interfaces/?op=create_vlan`.
    pub async fn create_vlan(
        &self,
        parent: i64,
        vlan: i64,
        mtu: Option<u32>,
        tags: Option<&str>,
    ) -> Result<Interface> {
        let p = Params::new()
            .with("parent", parent)
            .with("vlan", vlan)
            .with_opt("mtu", mtu)
            .with_opt("tags", tags);
        self.client
            .post(&self.coll(), Some("create_vlan"), &p)
            .await
    }

    /// `POST nodes/{system_id}/interfaces/?op=create_bond` (parents as repeated keys).
    pub async fn create_bond(&self, spec: &BondSpec) -> Result<Interface> {
        let p = opt_params(
            Params::new()
                .with("name", &spec.name)
                .with_list("parents", &spec.parents),
            &[
                ("mac_address", spec.mac_address.clone()),
                ("tags", spec.tags.clone()),
                ("mtu", spec.mtu.map(|v| v.to_string())),
                ("bond_mode", spec.bond_mode.clone()),
                ("bond_miimon", spec.bond_miimon.map(|v| v.to_string())),
                ("bond_downdelay", spec.bond_downdelay.map(|v| v.to_string())),
                ("bond_updelay", spec.bond_updelay.map(|v| v.to_string())),
                ("bond_lacp_rate", spec.bond_lacp_rate.clone()),
                ("bond_xmit_hash_policy", spec.bond_xmit_hash_policy.clone()),
            ],
        );
        self.client
            .post(&self.coll(), Some("create_bond"), &p)
            .await
    }
}

/// View of `fabrics/`.
#[derive(Debug, Clone, Copy)]
pub struct Fabrics<'a> {
    client: &'a MaasClient,
}

impl Fabrics<'_> {
    /// `GET fabrics/`.
    pub async fn list(&self) -> Result<Vec<Fabric>> {
        self.client.get("fabrics/", None, &Params::new()).await
    }

    /// `GET fabrics/{id}/`.
    pub async fn get(&self, id: i64) -> Result<Fabric> {
        self.client
            .get(&format!("fabrics/{id}/"), None, &Params::new())
            .await
    }

    /// `POST fabrics/` (MAAS adds the untagged VLAN).
    pub async fn create(&self, name: &str, description: Option<&str>) -> Result<Fabric> {
        let p = Params::new()
            .with("name", name)
            .with_opt("description", description);
        self.client.post("fabrics/", None, &p).await
    }

    /// `PUT fabrics/{id}/`.
    pub async fn update(
        &self,
        id: i64,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Fabric> {
        let p = Params::new()
            .with_opt("name", name)
            .with_opt("description", description);
        self.client.put(&format!("fabrics/{id}/"), &p).await
    }

    /// `DELETE fabrics/{id}/`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client
            .delete(&format!("fabrics/{id}/"), &Params::new())
            .await
    }
}

/// Fields of a VLAN create/update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VlanSpec {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Serve DHCP (needs a primary rack and a dynamic range).
    pub dhcp_on: Option<bool>,
    /// Primary rack system id.
    pub primary_rack: Option<String>,
    /// Secondary rack system id.
    pub secondary_rack: Option<String>,
    /// Relay VLAN id.
    pub relay_vlan: Option<i64>,
}

impl VlanSpec {
    fn params(&self) -> Params {
        opt_params(
            Params::new(),
            &[
                ("name", self.name.clone()),
                ("description", self.description.clone()),
                ("mtu", self.mtu.map(|v| v.to_string())),
                ("dhcp_on", self.dhcp_on.map(|v| v.to_string())),
                ("primary_rack", self.primary_rack.clone()),
                ("secondary_rack", self.secondary_rack.clone()),
                ("relay_vlan", self.relay_vlan.map(|v| v.to_string())),
            ],
        )
    }
}

/// View of `fabrics/{fabric_id}/vlans/` (VLANs addressed by vid, the 802.1Q tag).
#[derive(Debug, Clone, Copy)]
pub struct Vlans<'a> {
    client: &'a MaasClient,
    fabric_id: i64,
}

impl Vlans<'_> {
    fn item(&self, vid: u16) -> String {
        format!("fabrics/{}/vlans/{vid}/", self.fabric_id)
    }

    /// `GET fabrics/{fabric_id}/vlans/`.
    pub async fn list(&self) -> Result<Vec<Vlan>> {
        let path = format!("fabrics/{}/vlans/", self.fabric_id);
        self.client.get(&path, None, &Params::new()).await
    }

    /// `GET fabrics/{fabric_id}/vlans/{vid}/`.
    pub async fn get(&self, vid: u16) -> Result<Vlan> {
        self.client.get(&self.item(vid), None, &Params::new()).await
    }

    /// `POST fabrics/{fabric_id}/vlans/` with `vid`.
    pub async fn create(&self, vid: u16, spec: &VlanSpec) -> Result<Vlan> {
        let mut p = spec.params();
        p.push("vid", vid);
        let path = format!("fabrics/{}/vlans/", self.fabric_id);
        self.client.post(&path, None, &p).await
    }

    /// `PUT fabrics/{fabric_id}/vlans/{vid}/`.
    pub async fn update(&self, vid: u16, spec: &VlanSpec) -> Result<Vlan> {
        self.client.put(&self.item(vid), &spec.params()).await
    }

    /// `DELETE fabrics/{fabric_id}/vlans/{vid}/`.
    pub async fn delete(&self, vid: u16) -> Result<()> {
        self.client.delete(&self.item(vid), &Params::new()).await
    }
}

/// Fields of a subnet create/update (`cidr` required on create).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubnetSpec {
    /// CIDR.
    pub cidr: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// VLAN database id.
    pub vlan: Option<i64>,
    /// Fabric id (with `vid`, instead of `vlan`).
    pub fabric: Option<i64>,
    /// VLAN tag (with `fabric`).
    pub vid: Option<u16>,
    /// Gateway.
    pub gateway_ip: Option<String>,
    /// DNS servers (repeated keys).
    pub dns_servers: Vec<String>,
    /// Reverse-DNS mode.
    pub rdns_mode: Option<i64>,
    /// Allow the MAAS proxy.
    pub allow_proxy: Option<bool>,
}

impl SubnetSpec {
    fn params(&self) -> Params {
        opt_params(
            Params::new(),
            &[
                ("cidr", self.cidr.clone()),
                ("name", self.name.clone()),
                ("description", self.description.clone()),
                ("vlan", self.vlan.map(|v| v.to_string())),
                ("fabric", self.fabric.map(|v| v.to_string())),
                ("vid", self.vid.map(|v| v.to_string())),
                ("gateway_ip", self.gateway_ip.clone()),
                ("rdns_mode", self.rdns_mode.map(|v| v.to_string())),
                (
                    "allow_proxy",
                    self.allow_proxy.map(|v| u8::from(v).to_string()),
                ),
            ],
        )
        .with_list("dns_servers", &self.dns_servers)
    }
}

/// View of `subnets/`.
#[derive(Debug, Clone, Copy)]
pub struct Subnets<'a> {
    client: &'a MaasClient,
}

impl Subnets<'_> {
    /// `GET subnets/`.
    pub async fn list(&self) -> Result<Vec<Subnet>> {
        self.client.get("subnets/", None, &Params::new()).await
    }

    /// `GET subnets/{id}/`.
    pub async fn get(&self, id: i64) -> Result<Subnet> {
        self.client
            .get(&format!("subnets/{id}/"), None, &Params::new())
            .await
    }

    /// `POST subnets/`.
    pub async fn create(&self, spec: &SubnetSpec) -> Result<Subnet> {
        self.client.post("subnets/", None, &spec.params()).await
    }

    /// `PUT subnets/{id}/`.
    pub async fn update(&self, id: i64, spec: &SubnetSpec) -> Result<Subnet> {
        self.client
            .put(&format!("subnets/{id}/"), &spec.params())
            .await
    }

    /// `DELETE subnets/{id}/`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client
            .delete(&format!("subnets/{id}/"), &Params::new())
            .await
    }
}

/// Fields of `POST ipranges/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpRangeSpec {
    /// `dynamic` or `reserved`.
    pub kind: String,
    /// First address.
    pub start_ip: String,
    /// Last address.
    pub end_ip: String,
    /// Subnet id.
    pub subnet: i64,
    /// Comment.
    pub comment: Option<String>,
}

/// View of `ipranges/`.
#[derive(Debug, Clone, Copy)]
pub struct IpRanges<'a> {
    client: &'a MaasClient,
}

impl IpRanges<'_> {
    /// `GET ipranges/`.
    pub async fn list(&self) -> Result<Vec<IpRange>> {
        self.client.get("ipranges/", None, &Params::new()).await
    }

    /// `POST ipranges/`.
    pub async fn create(&self, spec: &IpRangeSpec) -> Result<IpRange> {
        let p = Params::new()
            .with("type", &spec.kind)
            .with("start_ip", &spec.start_ip)
            .with("end_ip", &spec.end_ip)
            .with("subnet", spec.subnet)
            .with_opt("comment", spec.comment.as_deref());
        self.client.post("ipranges/", None, &p).await
    }

    /// `DELETE ipranges/{id}/`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client
            .delete(&format!("ipranges/{id}/"), &Params::new())
            .await
    }
}

/// View of `static-routes/`.
#[derive(Debug, Clone, Copy)]
pub struct StaticRoutes<'a> {
    client: &'a MaasClient,
}

impl StaticRoutes<'_> {
    /// `GET static-routes/`.
    pub async fn list(&self) -> Result<Vec<StaticRoute>> {
        self.client
            .get("static-routes/", None, &Params::new())
            .await
    }

    /// `POST static-routes/` (subnet ids).
    pub async fn create(
        &self,
        source: i64,
        destination: i64,
        gateway_ip: &str,
        metric: Option<i64>,
    ) -> Result<StaticRoute> {
        let p = Params::new()
            .with("source", source)
            .with("destination", destination)
            .with("gateway_ip", gateway_ip)
            .with_opt("metric", metric);
        self.client.post("static-routes/", None, &p).await
    }

    /// `DELETE static-routes/{id}/`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client
            .delete(&format!("static-routes/{id}/"), &Params::new())
            .await
    }
}

/// View of `domains/`.
#[derive(Debug, Clone, Copy)]
pub struct Domains<'a> {
    client: &'a MaasClient,
}

impl Domains<'_> {
    /// `GET domains/`.
    pub async fn list(&self) -> Result<Vec<Domain>> {
        self.client.get("domains/", None, &Params::new()).await
    }

    /// `POST domains/`.
    pub async fn create(&self, name: &str, authoritative: bool) -> Result<Domain> {
        let p = Params::new()
            .with("name", name)
            .with_bool("authoritative", authoritative);
        self.client.post("domains/", None, &p).await
    }
}

impl MaasClient {
    /// View of `nodes/{system_id}/interfaces/`.
    pub fn interfaces(&self, system_id: &str) -> Interfaces<'_> {
        Interfaces {
            client: self,
            system_id: system_id.to_owned(),
        }
    }

    /// View of `fabrics/`.
    pub fn fabrics(&self) -> Fabrics<'_> {
        Fabrics { client: self }
    }

    /// View of `fabrics/{fabric_id}/vlans/`.
    pub fn vlans(&self, fabric_id: i64) -> Vlans<'_> {
        Vlans {
            client: self,
            fabric_id,
        }
    }

    /// View of `subnets/`.
    pub fn subnets(&self) -> Subnets<'_> {
        Subnets { client: self }
    }

    /// View of `ipranges/`.
    pub fn ip_ranges(&self) -> IpRanges<'_> {
        IpRanges { client: self }
    }

    /// View of `static-routes/`.
    pub fn static_routes(&self) -> StaticRoutes<'_> {
        StaticRoutes { client: self }
    }

    /// View of `domains/`.
    pub fn domains(&self) -> Domains<'_> {
        Domains { client: self }
    }
}
