//! The generated tree of a fleet as a typed thing, shared by every command that reads one
//! (`render --site`, `lint --fleet`, `appset preview`, and later `diff` and `drift`).
//!
//! - [`site_json`]: the typed `site.json` (written by the planner, read here);
//! - [`layout`]: where bases, components, sites, overlays and ApplicationSets are;
//! - [`tree`]: discovery of sites and overlays through the renderer's
//!   [`FileSystem`](kustomize::fs::FileSystem) (disk, memory, and later a git revision), with
//!   located errors for a malformed tree, and parallel rendering with one shared cache;
//! - [`appset`]: ApplicationSets, which sites each targets, and their offline expansion;
//! - [`git`]: the repository helpers of `--changed-since`;
//! - [`revision`]: a project's files at a git revision (read from git objects) or in the
//!   working tree, and its inventory and catalogue read from them;
//! - [`diff`]: what a change does to every site (two planned trees rendered and compared);
//! - [`page`]: the fleet report page (HTML, self-contained);
//! - [`shard`]: `--shard K/N`, the partition of sites every sharded command uses, and the
//!   manifest `merge` checks.
//!
//! Depends on the planner, the renderer and the inventory; never on the linter or the CLI.

pub mod appset;
pub mod diff;
pub mod git;
pub mod page;
pub mod planned_fs;
pub mod revision;
pub mod shard;
pub mod tree;

/// The readers `diff` finds an overlay's folders with (every string of a kustomization that
/// could be a path), for edgefleet's fuzz targets and property tests. Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    /// Every string of a kustomization that could be a path.
    pub fn strings(bytes: &[u8]) -> Vec<String> {
        crate::diff::deps::strings(bytes)
    }

    /// The scalar values of plain block YAML, `None` when unsure.
    pub fn simple_scalars(text: &str) -> Option<Vec<String>> {
        crate::diff::deps::simple_scalars(text)
    }

    /// The text with its block scalars cut out, and their lines.
    pub fn cut_block_scalars(text: &str) -> (String, Vec<String>) {
        crate::diff::deps::cut_block_scalars(text)
    }
}

pub use edgefleet_overlays::layout;
pub use edgefleet_overlays::site_json;
pub use edgefleet_overlays::site_json::{SiteJson, SiteJsonError};
pub use tree::{Discovery, FleetTree, Overlay, RenderedSite, SiteDir, TreeError};

use std::path::Path;

use kustomize::fs::MemoryFs;

/// A planned tree (path → bytes) as an in-memory filesystem rooted at `root`: what `diff` and
/// the tests read without writing to disk.
pub fn memory_fs(tree: &edgefleet_overlays::tree::OutputTree, root: &Path) -> MemoryFs {
    let mut fs = MemoryFs::new();
    fs.add_dir(root);
    for (path, bytes) in tree.iter() {
        fs.add_file(root.join(path), bytes.to_vec());
    }
    fs
}

#[cfg(test)]
mod tests;
