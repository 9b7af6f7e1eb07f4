//! What the linter knows about the site an object lands on (`edgefleet lint --fleet`).

use edgefleet_inventory::{BackhaulProfile, HardwareProfile, Region};

/// A site and its profiles, from the inventory: the context fleet-aware rules judge objects in.
#[derive(Debug, Clone)]
pub struct SiteContext {
    /// The site id (`rig-nsea-042`).
    pub id: String,
    pub region: Region,
    pub hardware: HardwareProfile,
    pub backhaul: BackhaulProfile,
}
