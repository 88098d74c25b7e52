//! MaasDriver site operations against the fake: network template, service checks, images,
//! SSH keys and repositories.
#![cfg(feature = "fake")]

mod common;

use common::{design, driver, fake, site};
use drydock_core::driver::{DriverErrorKind, NodeDriver};
use drydock_driver_maas::{MaasApiKey, MaasDriver};

#[tokio::test]
async fn network_template_builds_what_the_design_asks_and_a_second_run_writes_nothing() {
    let fake = fake(0).await;
    let d = driver(&fake);
    let design = design(1);
    d.create_network_template(site(&design)).await.unwrap();

    let c = fake.client();
    let fabrics = c.fabrics().list().await.unwrap();
    let names: Vec<&str> = fabrics.iter().map(|f| f.name.as_str()).collect();
    for link in ["oob", "pxe", "data"] {
        assert!(names.contains(&link), "fabric {link} in {names:?}");
    }
    assert!(!names.contains(&"ignored"), "noconfig link skipped");
    // The discovered 10.0.0.0/24 fabric was renamed rather than a new one made.
    assert_eq!(fabrics.len(), 3, "{names:?}");
    let data = fabrics.iter().find(|f| f.name == "data").unwrap();
    let vlan = |vid: u16| data.vlans.iter().find(|v| v.vid == vid).unwrap();
    assert_eq!(vlan(0).mtu, 9000);
    assert_eq!((vlan(110).name.as_str(), vlan(110).mtu), ("mgmt", 9000));
    assert_eq!((vlan(120).name.as_str(), vlan(120).mtu), ("storage", 9000));

    let subnets = c.subnets().list().await.unwrap();
    let subnet = |cidr: &str| subnets.iter().find(|s| s.cidr == cidr).unwrap();
    let mgmt = subnet("10.42.0.0/24");
    assert_eq!(mgmt.name, "mgmt");
    assert_eq!(mgmt.gateway_ip.as_deref(), Some("10.42.0.1"));
    assert_eq!(mgmt.dns_servers, ["10.42.0.2", "10.42.0.3"]);
    assert_eq!(mgmt.vlan.as_ref().unwrap().vid, 110);
    assert!(subnets.iter().all(|s| s.cidr != "10.99.0.0/24"));
    let pxe = subnet("10.0.0.0/24");
    assert_eq!(pxe.name, "pxe");

    let ranges = c.ip_ranges().list().await.unwrap();
    let mut got: Vec<(String, String, String)> = ranges
        .iter()
        .map(|r| (r.kind.clone(), r.start_ip.clone(), r.end_ip.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("dynamic".into(), "10.0.0.100".into(), "10.0.0.200".into()),
            ("reserved".into(), "10.0.0.1".into(), "10.0.0.9".into()),
            ("reserved".into(), "10.40.0.1".into(), "10.40.0.9".into()),
        ],
        "static ranges are not created"
    );
    let pxe_fabric = fabrics.iter().find(|f| f.name == "pxe").unwrap();
    let pxe_vlan = c.vlans(pxe_fabric.id).get(0).await.unwrap();
    assert!(pxe_vlan.dhcp_on);
    assert_eq!(pxe_vlan.primary_rack.as_deref(), Some("rack01"));

    let routes = c.static_routes().list().await.unwrap();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].source.cidr, "10.42.0.0/24");
    assert_eq!(routes[0].destination.cidr, "10.40.0.0/24");
    assert_eq!(
        (routes[0].gateway_ip.as_str(), routes[0].metric),
        ("10.42.0.1", 50)
    );
    let domains = c.domains().list().await.unwrap();
    assert!(domains.iter().any(|d| d.name == "mgmt.test"));

    let writes = fake.write_count();
    let subnet_lists = fake.op_requests("GET", "subnets/", "");
    d.create_network_template(site(&design)).await.unwrap();
    assert_eq!(fake.write_count(), writes, "second run made writes");
    assert_eq!(
        fake.op_requests("GET", "subnets/", "") - subnet_lists,
        1,
        "a template run lists the subnets once, whatever the number of networks"
    );
}

#[tokio::test]
async fn user_credentials_and_repositories_are_applied_once() {
    let fake = fake(0).await;
    let d = driver(&fake);
    let design = design(1);
    d.configure_user_credentials(site(&design)).await.unwrap();
    d.configure_provisioner(site(&design)).await.unwrap();
    let c = fake.client();
    assert_eq!(c.ssh_keys().list().await.unwrap().len(), 1);
    let repos = c.package_repositories().list().await.unwrap();
    let mirror = repos.iter().find(|r| r.name == "mirror").unwrap();
    assert_eq!(mirror.components, ["main", "universe"]);
    assert_eq!(mirror.disabled_pockets, ["updates", "backports"]);
    assert!(
        repos.iter().any(|r| r.name == "main_archive"),
        "defaults kept"
    );
    let writes = fake.write_count();
    d.configure_user_credentials(site(&design)).await.unwrap();
    d.configure_provisioner(site(&design)).await.unwrap();
    assert_eq!(fake.write_count(), writes);
}

#[tokio::test]
async fn validate_services_checks_key_racks_and_images() {
    let fake = fake(0).await;
    let d = driver(&fake);
    d.validate_services().await.unwrap();

    let wrong: MaasApiKey = "aaa:bbb:ccc".parse().unwrap();
    let bad = MaasDriver::new(common::config(fake.url(), wrong)).unwrap();
    let e = bad.validate_services().await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unauthorized, "{e}");

    fake.set_importing(true);
    let e = d.validate_services().await.unwrap_err();
    assert!(e.message.contains("importing"), "{e}");
    fake.set_importing(false);

    fake.set_rack_service("tftp", "dead");
    let e = d.validate_services().await.unwrap_err();
    assert!(
        e.message.contains("rack01") && e.message.contains("tftp dead"),
        "{e}"
    );
    fake.set_rack_service("tftp", "off");
    d.validate_services().await.unwrap();

    fake.clear_boot_resources();
    let e = d.validate_services().await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
}

#[tokio::test]
async fn available_platforms_lists_images_and_kernels() {
    let fake = fake(0).await;
    fake.add_boot_resource(
        "ubuntu/focal",
        "amd64/ga-20.04",
        "generic,ga-20.04,hwe-20.04",
    );
    let catalog = driver(&fake).available_platforms().await.unwrap();
    assert_eq!(catalog.images["jammy"], ["ga-22.04"]);
    assert_eq!(catalog.images["focal"], ["ga-20.04", "hwe-20.04"]);
    assert_eq!(catalog.images.len(), 2);
}

#[tokio::test]
async fn the_api_key_is_never_shown() {
    let fake = fake(0).await;
    let d = driver(&fake);
    let secret = fake.api_key().token_secret().to_owned();
    assert!(!format!("{d:?}").contains(&secret));
    assert!(!format!("{:?}", d.config()).contains(&secret));
}
