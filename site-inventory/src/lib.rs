//! The edgefleet site inventory: sites, hardware and backhaul profiles, regions and rollout waves,
//! loaded from a folder of YAML and CSV files and validated with every error located at
//! file:line:col.

pub mod csv_sites;
pub mod diagnostic;
pub mod limits;
pub mod load;
pub mod model;
pub mod platform;
mod platform_load;
pub mod residency;
mod residency_load;
pub use kube_basics::scalar;
pub mod schema;
pub mod sizing;
pub mod source;
pub mod synth;
pub mod units;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use load::{load_inventory, load_sources};
pub use model::*;
pub use platform::{Distribution, KubeMinor, PlatformProfile, RuntimeClass, RuntimeKind, Tee};
pub use residency::Residency;
pub use sizing::{OutageBuffer, UpstreamDemand};
pub use source::SourceLocation;
