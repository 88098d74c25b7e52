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
        Capabilities::oob(vec![OobType::Other("amt".into())], vec![BootDevice::Pxe], false)
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
        Err(DriverError::new(DriverErrorKind::Unsupported, "amt", Operation::SetPower, "x")
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
    assert!(world.calls().is_empty(), "no driver was called: {:?}", world.calls());
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
