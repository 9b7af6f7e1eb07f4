//! The edgefleet lint engine.
//!
//! Every manifest that will reach an edge site goes through this crate before it is merged:
//! structural validation against embedded, offline schemas ([`schema`]: Kubernetes 1.35 built-in
//! kinds, Argo CD CRDs, SARIF for our own reports), then the fleet-aware edge rules and the
//! reporters. Nothing here talks to a cluster or the network.

pub mod schema;
