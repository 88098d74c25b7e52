//! Simulated drivers (feature `sim`): a fleet of BMCs and a provisioner sharing one simulated
//! world, for tests, examples and benchmarks.
//!
//! Machines appear when first addressed. A machine unknown to the provisioner enlists when it is
//! power-cycled (or powered on) with PXE as its boot device, as real nodes do; it then goes
//! through the provisioner's lifecycle: `New` → (commission) `Ready` → (deploy) `Deployed`.
//! Every call waits the configured latency (on the wall clock as precisely as the OS allows, and
//! on tokio's clock, so paused-time tests run at once), can be made to fail (transient at a seeded rate, permanently for chosen nodes and operations)
//! or to hang, and is written to a call log. With [`SimWorld::persistent`] the world is kept in
//! a file, so a restarted process finds the machines as they were left.

mod clock;
mod world;

pub use world::{
    Call, MachineState, MachineStatus, SimBootAction, SimConfig, SimNodeAgent, SimNodeDriver,
    SimOobDriver, SimWorld,
};
