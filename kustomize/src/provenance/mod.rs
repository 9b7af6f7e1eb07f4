//! Provenance: for each rendered object, the file (and document) that defined it
//! ([`Origin`](crate::Origin)) and every field a patch, transformer or generator set ([`Edit`]),
//! with the file, line and column of the instruction that set it.
//!
//! Off by default: [`Renderer::with_provenance`](crate::Renderer::with_provenance) turns it on,
//! and [`Resource::edits`](crate::Resource::edits) then lists the edits in the order they were
//! applied (the last edit of a field is the one whose value the output shows). The output does
//! not change. Kustomize can write the same facts into the objects as annotations
//! (`buildMetadata: [originAnnotations, transformerAnnotations]`); here they are typed data.
//!
//! Edits are recorded as each step runs, from the step's own instructions (a patch's fields, the
//! pairs a label transformer wrote, the containers an `images` entry rewrote), never by
//! comparing whole objects. Recorded:
//!
//! - strategic-merge patches (`patches`, `patchesStrategicMerge`; from a file, inline text or
//!   an inline mapping): every value the patch writes;
//! - JSON 6902 patches (`patches` with operations, `patchesJson6902`): every value an `add`,
//!   `replace`, `copy` or `move` writes;
//! - `namespace`, `namePrefix` / `nameSuffix`, `labels` / `commonLabels`, `commonAnnotations`
//!   (every field the transformer's field specs reached), `replicas`, `images`;
//! - `configMapGenerator` / `secretGenerator`: the name and each data key, traced to the entry
//!   that supplied it.
//!
//! Not recorded: `replacements`, the name-reference fix-up (a reference that follows a renamed
//! object), content-hash suffixes, and values a step wrote without a recorded instruction; a
//! field they changed keeps its earlier edit, if any, or none.
//!
//! A field is named by its JSON pointer in the rendered object. Inside the pipeline a list item
//! is named by its identity (its `name`, `mountPath`, ... as a strategic merge matches it), so
//! that a later merge that reorders the list (kustomize puts a patch's items first) or an
//! operation that inserts an item does not make an edit point at another item; the pointers are
//! fixed at the end of the build, and an edit whose field no longer exists is dropped.
//!
//! Positions are computed on demand (only when asked, once per source text) by a YAML reader
//! that keeps them. An inline patch (`patch: |` in a kustomization) is located inside the
//! kustomization when it is a literal block whose lines are the patch's lines; otherwise
//! (a quoted or folded string) at its `patch:` key, marked as not [exact](Position::exact).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use kube_basics::pointer::push;
use serde_json::Value;

use crate::Resource;

mod naming;
mod position;
mod record;
#[cfg(test)]
mod tests;

pub(crate) use naming::finish;
use naming::*;
use position::*;
pub(crate) use record::*;

/// The build step that set a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// A strategic-merge patch (`patches`, `patchesStrategicMerge`).
    StrategicMerge,
    /// A JSON 6902 patch (`patches` holding a list of operations, `patchesJson6902`).
    Json6902,
    Namespace,
    /// `namePrefix` / `nameSuffix`.
    Name,
    /// `labels`, `commonLabels`.
    Labels,
    /// `commonAnnotations`.
    Annotations,
    Replicas,
    Images,
    /// `configMapGenerator`, `secretGenerator`.
    Generator,
}

impl Step {
    /// The kustomization field (or kind of patch) the step comes from.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StrategicMerge => "strategic merge patch",
            Self::Json6902 => "JSON 6902 patch",
            Self::Namespace => "namespace",
            Self::Name => "namePrefix/nameSuffix",
            Self::Labels => "labels",
            Self::Annotations => "commonAnnotations",
            Self::Replicas => "replicas",
            Self::Images => "images",
            Self::Generator => "generator",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Byte offset in the file.
    pub offset: usize,
    /// Length in bytes of what is pointed at (a key, or the first token of a list item).
    pub len: usize,
    /// `false` when the instruction is inside a string whose lines are not the file's (a quoted
    /// or folded inline patch): the position is then that string's key.
    pub exact: bool,
}

/// A YAML text instructions are written in: a patch file, a kustomization, or an inline patch
/// (a string of a kustomization). Shared by every edit that names it; its positions are read
/// once, on first use.
pub struct Source {
    file: Arc<Path>,
    text: Arc<str>,
    /// For an inline patch: the JSON pointer of the string in the kustomization.
    inline: Option<Arc<str>>,
    index: OnceLock<Option<Index>>,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("file", &self.file)
            .field("inline", &self.inline)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// The text of `file`.
    pub(crate) fn of_file(file: Arc<Path>, text: Arc<str>) -> Arc<Self> {
        Arc::new(Self {
            file,
            text,
            inline: None,
            index: OnceLock::new(),
        })
    }

    /// The YAML text held in the string at `pointer` of the first document of `file`.
    pub(crate) fn of_inline(file: Arc<Path>, text: Arc<str>, pointer: Arc<str>) -> Arc<Self> {
        Arc::new(Self {
            file,
            text,
            inline: Some(pointer),
            index: OnceLock::new(),
        })
    }

    /// The file the instructions are written in (as the renderer read it: canonical).
    pub fn path(&self) -> &Arc<Path> {
        &self.file
    }

    /// For an inline patch, the JSON pointer of its string in the kustomization.
    pub fn inline_pointer(&self) -> Option<&str> {
        self.inline.as_deref()
    }

    /// Where the value at `pointer` of `document` (0-based, empty documents not counted) is
    /// written: the key of a mapping entry, the start of a list item. `None` when the text does
    /// not hold it (or cannot be read with positions: aliases as keys, complex keys).
    pub fn position(&self, document: usize, pointer: &str) -> Option<Position> {
        let index = self
            .index
            .get_or_init(|| Index::build(&self.text, self.inline.as_deref()))
            .as_ref()?;
        index.position(&self.text, document, pointer)
    }
}

/// One field of an object set by one step.
#[derive(Debug, Clone)]
pub struct Edit {
    step: Step,
    field: Arc<str>,
    source: Arc<Source>,
    document: usize,
    at: Arc<str>,
}

impl Edit {
    pub fn step(&self) -> Step {
        self.step
    }

    /// JSON pointer of the field in the rendered object.
    pub fn field(&self) -> &Arc<str> {
        &self.field
    }

    /// The text the instruction is written in.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// The file the instruction is written in.
    pub fn file(&self) -> &Arc<Path> {
        &self.source.file
    }

    /// The document of the source (0-based, empty documents not counted).
    pub fn document(&self) -> usize {
        self.document
    }

    /// JSON pointer, in the source document, of the value (or entry) that set the field.
    pub fn at(&self) -> &Arc<str> {
        &self.at
    }

    /// Where the instruction is written (see [`Source::position`]).
    pub fn position(&self) -> Option<Position> {
        self.source.position(self.document, &self.at)
    }
}

// ---------------------------------------------------------------------------------------------
// Sources of a kustomization

/// The sources a kustomization's edits name, made on first use and kept as long as the
/// kustomization is (a base's or component's for the whole fleet, an overlay's for its build).
#[derive(Default)]
pub(crate) struct KustomizationSources {
    own: OnceLock<Arc<Source>>,
    inline: Mutex<Vec<(String, Arc<Source>)>>,
}

impl Clone for KustomizationSources {
    /// A cache: a copy starts empty.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl fmt::Debug for KustomizationSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KustomizationSources")
    }
}

impl KustomizationSources {
    /// The kustomization file itself.
    pub(crate) fn own(&self, file: &Path, text: &Arc<str>) -> Arc<Source> {
        self.own
            .get_or_init(|| Source::of_file(Arc::from(file), text.clone()))
            .clone()
    }

    /// The inline patch held in the string at `pointer`.
    pub(crate) fn inline(&self, file: &Path, text: &Arc<str>, pointer: &str) -> Arc<Source> {
        let Ok(mut list) = self.inline.lock() else {
            return Source::of_inline(Arc::from(file), text.clone(), Arc::from(pointer));
        };
        if let Some((_, s)) = list.iter().find(|(p, _)| p == pointer) {
            return s.clone();
        }
        let s = Source::of_inline(Arc::from(file), text.clone(), Arc::from(pointer));
        list.push((pointer.to_owned(), s.clone()));
        s
    }
}
