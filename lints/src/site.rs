//! What the linter knows about the site an object lands on (`edgefleet lint --fleet`).

use std::collections::BTreeMap;
use std::sync::Arc;

use edgefleet_inventory::{BackhaulProfile, HardwareProfile, PlatformProfile, Region, Residency};

/// A site and its profiles, from the inventory: the context fleet-aware rules judge objects in.
#[derive(Debug, Clone)]
pub struct SiteContext {
    /// The site id (`rig-nsea-042`).
    pub id: String,
    pub region: Region,
    pub hardware: HardwareProfile,
    pub backhaul: BackhaulProfile,
    /// The site's platform (distribution, RuntimeClasses, identity); `None` when the inventory
    /// declares none, and the `platform/*` rules do not judge the site.
    pub platform: Option<PlatformProfile>,
    /// The rollout wave the site is in (`canary`, `main`, ...).
    pub wave: String,
    /// The site's labels from the inventory.
    pub labels: BTreeMap<String, String>,
    /// The fleet's residency zones, endpoint catalogue and data-class policy.
    pub residency: Arc<Residency>,
    /// Overlay folder of the site (a workload, `telemetry-collector`) → the ApplicationSets of
    /// the generated tree that target it at this site (`appsets/telemetry-collector-eu-north.yaml`).
    pub applicationsets: BTreeMap<String, Vec<String>>,
}
