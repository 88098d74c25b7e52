//! The fake refuses a machine count whose BMC ports would pass 65535.
#![cfg(feature = "fake")]

use drydock_driver_maas::fake::{FIRST_BMC_PORT, FakeMaas, MAX_MACHINES};

#[test]
fn max_machines_ends_at_port_65535() {
    assert_eq!(FIRST_BMC_PORT, 6230);
    assert_eq!(MAX_MACHINES, 65535 - 6230 + 1);
}

#[tokio::test]
async fn too_many_machines_are_refused_before_anything_is_allocated() {
    for n in [MAX_MACHINES + 1, 60_000, 99_999_999_999, usize::MAX] {
        let err = FakeMaas::builder()
            .machines(n)
            .start()
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{n}");
        let text = err.to_string();
        assert!(
            text.contains(&n.to_string()) && text.contains(&MAX_MACHINES.to_string()),
            "{text}"
        );
    }
}

#[tokio::test]
async fn machines_get_consecutive_bmc_ports() {
    let fake = FakeMaas::builder().machines(3).start().await.expect("fake");
    let mut bmcs: Vec<String> = fake.machines().into_iter().map(|m| m.bmc_address).collect();
    bmcs.sort();
    assert_eq!(bmcs, ["127.0.0.1:6230", "127.0.0.1:6231", "127.0.0.1:6232"]);
}
