//! Planning and writing the GitOps tree of a fleet: Kustomize bases, components and one overlay
//! per site and workload, plus sharded ArgoCD ApplicationSets. Planning is pure and in memory
//! (an [`tree::OutputTree`]), so `generate --check`, `diff` and the linter reuse it without disk.

pub mod appset;
pub mod cache;
pub mod catalogue;
pub mod inputs;
pub mod layout;
pub mod plan;
pub mod site_json;
pub mod tree;
pub mod write;
pub mod yaml;
