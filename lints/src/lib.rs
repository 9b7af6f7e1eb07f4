//! The edgefleet lint engine.
//!
//! Every manifest that will reach an edge site goes through this crate before it is merged:
//! structural validation against embedded, offline schemas ([`schema`]: Kubernetes 1.35 built-in
//! kinds, Argo CD CRDs, SARIF for our own reports), then the edge rules ([`rules`], one file per
//! rule) and the reporters ([`report`]). Nothing here talks to a cluster or the network.
//!
//! Each YAML file is parsed once into a tree that keeps the location of every key and value
//! (`edgefleet_inventory::source`); rules speak in JSON pointers into the object, and the engine
//! maps each pointer back to the file, line and column of the offending field.

pub mod finding;
pub mod manifest;
pub mod policy;
pub mod rule;
pub mod rules;
pub mod schema;
pub mod signature;
pub mod site;
pub mod trace;

pub use finding::{Finding, Level, ObjectRef, Severity};
pub use rule::{Rule, RuleOptions};

pub mod config;
pub mod engine;
pub mod fleet;
pub mod report;

pub use config::{DuplicateScope, LintConfig};
pub use engine::{LintRun, Linter, RunProblem, Source};
pub use site::SiteContext;
