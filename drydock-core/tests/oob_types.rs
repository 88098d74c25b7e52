//! OOB types open to driver crates: a design may name a type core does not know (`amt`); a
//! driver that declares it serves its nodes, and a task that needs BMCs reports every node
//! whose type no registered driver serves, at its start and before any driver call.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use drydock_core::design::{OobType, Source};
use drydock_core::driver::{
    BootDevice, BootPersistence, Capabilities, DriverError, DriverErrorKind, OobDriver, OobFacts,
    OobTarget, Operation, PowerAction, PowerState,
};
use drydock_core::orchestrator::{Orchestrator, OrchestratorConfig};
use drydock_core::sim::{SimConfig, SimWorld};
use drydock_core::store::MemoryStore;
use drydock_core::task::{Action, ResultStatus};

/// A driver for Intel AMT, a type core does not know; it records the nodes it is asked about.
#[derive(Debug, Default)]
struct Amt {
    asked: Mutex<Vec<String>>,
}

#[async_trait]
impl OobDriver for Amt {
    fn name(&self) -> &'static str {
        "amt"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::oob(
            vec![OobType::Other("amt".into())],
            vec![BootDevice::Pxe],
            false,
        )
    }
    async fn validate_services(&self) -> Result<(), DriverError> {
        Ok(())
    }
    async fn configure_pxe(&self, _: &OobTarget) -> Result<(), DriverError> {
        Ok(())
    }
    async fn set_boot_device(
        &self,
        _: &OobTarget,
        _: BootDevice,
        _: BootPersistence,
    ) -> Result<(), DriverError> {
        Ok(())
    }
    async fn set_power(&self, t: &OobTarget, _: PowerAction) -> Result<(), DriverError> {
        Err(DriverError::new(
            DriverErrorKind::Unsupported,
            "amt",
            Operation::SetPower,
            "x",
        )
        .for_node(&t.node))
    }
    async fn power_state(&self, _: &OobTarget) -> Result<PowerState, DriverError> {
        Ok(PowerState::On)
    }
    async fn interrogate(&self, t: &OobTarget) -> Result<OobFacts, DriverError> {
        assert_eq!(t.kind.as_str(), "amt");
        self.asked.lock().unwrap().push(t.node.clone());
        Ok(OobFacts {
            power: Some(PowerState::On),
            ..OobFacts::default()
        })
    }
}

fn site() -> String {
    let mut s = String::from(
        "schema: drydock/Network/v1\nmetadata: {name: oob}\ndata: {cidr: 10.0.0.0/24}\n",
    );
    for (i, kind) in ["amt", "ipmi", "amt"].iter().enumerate() {
        s.push_str(&format!(
            "---\nschema: drydock/BaremetalNode/v1\nmetadata: {{name: n{i}}}\ndata:\n  \
             oob: {{type: {kind}, network: oob, account: admin, credential: pw}}\n  \
             addressing: [{{network: oob, address: 10.0.0.{}}}]\n",
            10 + i
        ));
    }
    s
}

async fn verify(orch: &Orchestrator) -> drydock_core::orchestrator::RunSummary {
    let design = orch
        .put_design(&[Source::new("site.yaml", site())])
        .await
        .unwrap();
    let task = orch
        .create_task(Action::VerifyNodes, &design, None, "test")
        .await
        .unwrap();
    orch.run(task.id).await.unwrap()
}

fn orchestrator(drivers: Vec<Arc<dyn OobDriver>>) -> Orchestrator {
    drivers
        .into_iter()
        .fold(Orchestrator::builder(), |b, d| b.oob_driver(d))
        .store(Arc::new(MemoryStore::new()))
        .config(OrchestratorConfig::default())
        .build()
        .unwrap()
}

#[tokio::test]
async fn unknown_types_are_kept_and_reported_all_at_once_before_any_call() {
    let world = SimWorld::new(SimConfig::default());
    let orch = orchestrator(vec![Arc::new(world.oob_driver())]);
    let done = verify(&orch).await;
    assert_eq!(done.task.result.status, ResultStatus::Failure);
    let errors: Vec<_> = done
        .task
        .result
        .messages
        .iter()
        .filter(|m| m.level == drydock_core::task::MessageLevel::Error)
        .map(|m| m.message.clone())
        .collect();
    assert_eq!(
        errors,
        ["No registered OOB driver serves the OOB type of node(s) n0 (amt), n2 (amt)."],
        "{:#?}",
        done.task.result.messages
    );
    assert!(
        world.calls().is_empty(),
        "no driver was called: {:?}",
        world.calls()
    );
}

#[tokio::test]
async fn a_driver_declaring_an_unknown_type_serves_its_nodes() {
    let world = SimWorld::new(SimConfig::default());
    let amt = Arc::new(Amt::default());
    let orch = orchestrator(vec![Arc::new(world.oob_driver()), amt.clone()]);
    let done = verify(&orch).await;
    assert_eq!(
        done.task.result.status,
        ResultStatus::Success,
        "{:#?}",
        done.task.result.messages
    );
    let mut asked = amt.asked.lock().unwrap().clone();
    asked.sort();
    assert_eq!(asked, ["n0", "n2"]);
}

/// A driver for `kind` that fails every power change with `fails` (or works), counting calls.
#[derive(Debug)]
struct Scripted {
    kind: OobType,
    fails: Option<DriverErrorKind>,
    calls: Mutex<Vec<(String, Option<u16>)>>,
}

impl Scripted {
    fn new(kind: OobType, fails: Option<DriverErrorKind>) -> Arc<Scripted> {
        Arc::new(Scripted {
            kind,
            fails,
            calls: Mutex::default(),
        })
    }
    fn calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

#[async_trait]
impl OobDriver for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::oob(vec![self.kind.clone()], vec![], false)
    }
    async fn validate_services(&self) -> Result<(), DriverError> {
        Ok(())
    }
    async fn configure_pxe(&self, _: &OobTarget) -> Result<(), DriverError> {
        Ok(())
    }
    async fn set_boot_device(
        &self,
        _: &OobTarget,
        _: BootDevice,
        _: BootPersistence,
    ) -> Result<(), DriverError> {
        Ok(())
    }
    async fn set_power(&self, t: &OobTarget, _: PowerAction) -> Result<(), DriverError> {
        assert_eq!(t.kind, self.kind);
        self.calls.lock().unwrap().push((t.node.clone(), t.port));
        match self.fails {
            None => Ok(()),
            Some(kind) => Err(DriverError::new(
                kind,
                "scripted",
                Operation::SetPower,
                format!("{} says no", self.kind),
            )),
        }
    }
    async fn power_state(&self, _: &OobTarget) -> Result<PowerState, DriverError> {
        Ok(PowerState::On)
    }
    async fn interrogate(&self, _: &OobTarget) -> Result<OobFacts, DriverError> {
        Ok(OobFacts::default())
    }
}

fn redfish_node(fallback: &str) -> OobTarget {
    let mut parameters = drydock_core::design::OobParameters::default();
    parameters.0.insert("fallback".into(), fallback.into());
    parameters.0.insert("ipmi_port".into(), "6230".into());
    OobTarget {
        node: "n1".into(),
        kind: OobType::Redfish,
        address: None,
        port: Some(8443),
        account: None,
        credential: None,
        parameters,
        boot_mode: None,
    }
}

#[tokio::test]
async fn fallback_follows_unsupported_and_unreachable_only_and_remembers() {
    use drydock_core::driver::FallbackOob;
    for (failure, falls_back) in [
        (DriverErrorKind::Unsupported, true),
        (DriverErrorKind::Unreachable, true),
        (DriverErrorKind::Unauthorized, false),
        (DriverErrorKind::Permanent, false),
        (DriverErrorKind::TimedOut, false),
        (DriverErrorKind::Transient, false),
    ] {
        let redfish = Scripted::new(OobType::Redfish, Some(failure));
        let ipmi = Scripted::new(OobType::Ipmi, None);
        let both = FallbackOob::new(vec![redfish.clone(), ipmi.clone()]);
        let result = both.set_power(&redfish_node("ipmi"), PowerAction::On).await;
        assert_eq!(result.is_ok(), falls_back, "{failure}: {result:?}");
        assert_eq!(ipmi.calls(), usize::from(falls_back), "{failure}");
        if falls_back {
            // The fallback's port is `ipmi_port`, not the Redfish port.
            assert_eq!(ipmi.calls.lock().unwrap()[0], ("n1".to_owned(), Some(6230)));
            assert_eq!(both.protocol("n1"), Some(OobType::Ipmi));
            // Remembered: IPMI first next time.
            both.set_power(&redfish_node("ipmi"), PowerAction::Off)
                .await
                .unwrap();
            assert_eq!((redfish.calls(), ipmi.calls()), (1, 2), "{failure}");
        } else {
            assert_eq!(result.unwrap_err().kind, failure);
        }
    }
    // Every protocol failing: the last kind, with every message.
    let both = FallbackOob::new(vec![
        Scripted::new(OobType::Redfish, Some(DriverErrorKind::Unreachable)),
        Scripted::new(OobType::Ipmi, Some(DriverErrorKind::Unreachable)),
    ]);
    let e = both
        .set_power(&redfish_node(" ipmi, amt "), PowerAction::On)
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unreachable);
    assert_eq!(e.message, "redfish: redfish says no; ipmi: ipmi says no");
    // No driver for any of the node's protocols.
    let none = FallbackOob::new(vec![Scripted::new(OobType::Manual, None)]);
    let e = none
        .set_power(&redfish_node("ipmi"), PowerAction::On)
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unsupported, "{e}");
}
