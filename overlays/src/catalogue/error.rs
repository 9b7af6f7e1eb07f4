//! What can go wrong loading or rendering a catalogue, each error naming its file and line.

use super::*;

/// Everything that can go wrong loading or rendering a catalogue. Each message starts with the
/// file (and line, when known) it is about.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// A file or folder could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The catalogue's layout breaks the contract (folder name, missing base, unknown template
    /// file, no workload at all).
    #[error("{}: {message}", path.display())]
    Layout { path: PathBuf, message: String },
    /// `workload.yaml` is invalid. Line and column are 1-based.
    #[error("{}: {message}", at(path, Some(*line), Some(*column)))]
    Metadata {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A template failed to compile or to render (syntax error, undefined variable, forbidden
    /// filter, `fail()`).
    #[error("{}: {message}", at(path, *line, None))]
    Template {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// A template rendered text that is not YAML. `output_line`/`column` are in the rendered
    /// text; `line` is the template line that produced it, when it could be traced.
    #[error(
        "{}: rendered output is not valid YAML (rendered line {output_line}, column {column}): {message}",
        at(path, *line, None)
    )]
    RenderedYaml {
        path: PathBuf,
        line: Option<usize>,
        output_line: usize,
        column: usize,
        message: String,
    },
    /// A rendered document is not a Kubernetes object or patch. `document` is 1-based among the
    /// non-empty documents of the stream.
    #[error("{}: document {document}: {message}", path.display())]
    Document {
        path: PathBuf,
        document: usize,
        message: String,
    },
    /// `render` was asked for a workload the catalogue does not have.
    #[error("unknown workload {name:?} (the catalogue has: {known})")]
    UnknownWorkload { name: String, known: String },
    /// The render context is not a JSON object.
    #[error("the render context must be an object of variables, not {0}")]
    Context(&'static str),
}

impl CatalogueError {
    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            CatalogueError::Io { path, .. }
            | CatalogueError::Layout { path, .. }
            | CatalogueError::Metadata { path, .. }
            | CatalogueError::Template { path, .. }
            | CatalogueError::RenderedYaml { path, .. }
            | CatalogueError::Document { path, .. } => Some(path),
            CatalogueError::UnknownWorkload { .. } | CatalogueError::Context(_) => None,
        }
    }

    /// The 1-based line in [`path`](Self::path), when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            CatalogueError::Metadata { line, .. } => Some(*line),
            CatalogueError::Template { line, .. } | CatalogueError::RenderedYaml { line, .. } => {
                *line
            }
            _ => None,
        }
    }
}

pub(super) fn at(path: &Path, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", path.display()),
        (Some(l), None) => format!("{}:{l}", path.display()),
        _ => path.display().to_string(),
    }
}

pub(super) fn layout(path: PathBuf, message: impl Into<String>) -> CatalogueError {
    CatalogueError::Layout {
        path,
        message: message.into(),
    }
}
