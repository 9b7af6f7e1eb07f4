//! Kubernetes basics written once for the whole workspace, with no I/O and no knowledge of
//! edgefleet: how a plain YAML scalar is typed ([`scalar`]), a fast reader for plain YAML
//! ([`fastyaml`]), JSON pointer tokens ([`pointer`]), which kinds have no namespace ([`kinds`])
//! label selectors ([`selector`]), container image references ([`image`]) and the limits on
//! what edgefleet reads ([`limits`]). One piece is edgefleet's own, kept here because two
//! crates that may not depend on each other need it: how a shard's JUnit report carries its
//! shard manifest ([`shard_report`], the linter's and drift's reporters).

pub mod fastyaml;
pub mod image;
pub mod kinds;
pub mod limits;
pub mod pointer;
pub mod scalar;
pub mod selector;
pub mod shard_report;
