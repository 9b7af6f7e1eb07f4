//! An in-process Kustomize renderer: `kustomize build` for the fields edgefleet's users need,
//! with output byte-identical to `kubectl kustomize` (proven against it in `tests/`).
//!
//! No maintained Rust crate builds kustomizations, and running `kubectl kustomize` costs about
//! 70 ms per overlay (12 minutes for 10,000 sites on one core), so edgefleet owns this renderer.
//! Anything it does not support (Helm charts, exec and container plugins, remote bases) is refused
//! with an error naming the field and the file, never ignored.
//!
//! The public surface is small: a [`Renderer`] (over a [`fs::FileSystem`]: [`fs::DiskFs`],
//! [`fs::MemoryFs`] or one of your own) builds a folder into [`Resource`]s (each object with its
//! [`Origin`] and [`ResId`]), or straight into the YAML `kubectl kustomize` prints ([`emit`]);
//! every failure is a [`RenderError`] naming the file. With provenance on
//! ([`Renderer::with_provenance`]), each resource also says which patches, transformers and
//! generators set which of its fields, with file and line ([`provenance`]).
//!
//! ```
//! use std::path::Path;
//! use kustomize::{Renderer, fs::MemoryFs};
//!
//! let mut fs = MemoryFs::new();
//! fs.add_file("/app/kustomization.yaml", b"namePrefix: edge-\nresources: [cm.yaml]\n".to_vec());
//! fs.add_file("/app/cm.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site\n".to_vec());
//! let yaml = Renderer::with_fs(fs).build_yaml(Path::new("/app")).unwrap();
//! assert_eq!(yaml, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: edge-site\n");
//! ```
//!
//! Inside (private): `kustomization` (the file format), `load` (resources, components, the load
//! restrictor, cycles), `transform` (namespace, prefixes, labels, images, replicas, name
//! references), `patch` (strategic merge and JSON 6902), `generate` (ConfigMap and Secret
//! generators, content hashes), `replace` (replacements), `vars`, `order` (output order) and `emit`
//! (kustomize's YAML formatting, public).

mod build_metadata;
mod config;
pub mod emit;
mod error;
pub mod fs;
mod generate;
mod kustomization;
mod load;
mod order;
mod patch;
pub mod provenance;
mod renderer;
mod replace;
mod resource;
mod transform;
mod vars;

/// Pipeline pieces that edgefleet's fuzz targets and property tests drive directly: the
/// patchers and the YAML options kustomization files are read with. Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::kustomization::parse_options;
    pub use crate::patch::{Schema, json6902, strategic_merge};
}

pub use emit::emit_stream;
pub use error::RenderError;
/// The YAML options kustomization files are read with (what `diff` reads them with too).
pub use kustomization::parse_options;
pub use renderer::{MAX_DEPTH, Renderer, build, build_yaml, to_yaml};
pub use resource::{Origin, PrevId, ResId, Resource};
