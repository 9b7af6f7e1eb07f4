pub mod identical_liveness_readiness;
pub mod missing_liveness;
pub mod missing_readiness;
pub mod slow_start_without_startup;
pub mod undeclared_port;

use crate::manifest::{Container, Manifest};
use crate::rule::Violation;

/// The containers that must carry probes: regular containers of long-running workloads.
fn probed(m: &Manifest) -> Vec<Container<'_>> {
    if !m.is_long_running() {
        return Vec::new();
    }
    m.containers().into_iter().filter(|c| !c.init).collect()
}

fn missing(m: &Manifest, probe: &str, help: &str, out: &mut Vec<Violation>) {
    for c in probed(m) {
        if c.get(&[probe]).is_none() {
            out.push(
                Violation::at(c.pointer.clone(), format!("{} has no {probe}", c.label()))
                    .help(help.to_owned()),
            );
        }
    }
}
