pub mod latest_tag;
pub mod not_pinned_by_digest;
pub mod provenance;
pub mod pull_always;
pub mod pull_always_on_outage_link;
pub mod registry_not_allowed;
pub mod sbom;
pub mod signature;

/// Image references are parsed once for the workspace, in [`kube_basics::image`].
pub use kube_basics::image::ImageRef;
