//! [`RenderError`]: everything that stops a render, each naming the file (and the field or the
//! line and column) at fault, as `kubectl kustomize` refuses the same inputs.

use std::path::PathBuf;

/// Everything that can stop a render. Each message names the file (and the field, where one is
/// at fault).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid YAML (or not the expected shape). Line and column are 1-based.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Yaml {
        path: PathBuf,
        line: u32,
        column: u32,
        message: String,
    },
    /// A kustomization field is invalid.
    #[error("{}: `{field}`: {message}", path.display())]
    Field {
        path: PathBuf,
        field: String,
        message: String,
    },
    /// A field edgefleet deliberately does not support (Helm, plugins, remote bases, vars).
    #[error("{}: `{field}` is not supported by edgefleet's renderer: {why}", path.display())]
    Unsupported {
        path: PathBuf,
        field: String,
        why: String,
    },
    /// A path outside the kustomization's root (kustomize's default load restrictor).
    #[error("{}: `{reference}` is outside the kustomization root {} (refused, as kustomize's load restrictor does)", path.display(), root.display())]
    OutsideRoot {
        path: PathBuf,
        reference: String,
        root: PathBuf,
    },
    /// A kustomization includes itself, directly or not.
    #[error("resource cycle: {}", chain.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" -> "))]
    Cycle { chain: Vec<PathBuf> },
    /// Any other failure while applying a kustomization (conflicting ids, a patch that matches
    /// nothing, ...).
    #[error("{}: {message}", path.display())]
    Build { path: PathBuf, message: String },
}
