//! What edgefleet reads at most, in one place (docs/limits.md). Hostile or mistaken input (a log
//! file, an alias bomb, a generated file gone wrong) gets a located error instead of eating memory
//! or stack. These are numbers only; the parsers that enforce them (the located reader in
//! `edgefleet-inventory`, the fast reader here, the renderer) use them.

/// Bytes in one input file (inventory, manifest, kustomization).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// YAML documents in one file.
pub const MAX_DOCUMENTS: usize = 10_000;
/// Nesting depth of collections (a mapping inside a sequence inside ... ).
pub const MAX_DEPTH: usize = 64;
/// Nodes (mappings, sequences and scalars, keys included) in one file.
pub const MAX_NODES: usize = 5_000_000;
/// Events replayed by aliases across one file: what `*alias` may expand to in total.
pub const MAX_ALIAS_EXPANSION: usize = 1_000_000;
/// Bytes of one scalar (a key or a value). Kubernetes refuses objects over ~1.5 MiB anyway.
pub const MAX_STRING_BYTES: usize = 1024 * 1024;
/// Sites in one inventory.
pub const MAX_SITES: usize = 100_000;
/// Objects one overlay renders to (one site's workload).
pub const MAX_OBJECTS_PER_SITE: usize = 10_000;
