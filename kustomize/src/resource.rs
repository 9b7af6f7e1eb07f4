//! The rendered object and its identity: [`Resource`] (an object plus the file and document it
//! came from), [`Origin`] and [`ResId`], Kustomize's `resid.ResId` (group, version, kind,
//! namespace, name) by which resources are matched, deduplicated and patched.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

/// Where an object came from: the file (and document in it) that defined it, so the linter can
/// point at the source line, not at a temporary render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<Path>,
    /// 0-based index of the YAML document in `file`.
    pub document: usize,
}

/// Kubernetes identity of an object, as kustomize matches them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResId {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gv = if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        };
        match &self.namespace {
            Some(ns) => write!(f, "{gv} {} {ns}/{}", self.kind, self.name),
            None => write!(f, "{gv} {} {}", self.kind, self.name),
        }
    }
}

/// An id an object had before a rename (its group and version are the object's current ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrevId {
    pub kind: String,
    pub name: String,
    /// The effective namespace: `default` for a namespaced object without one, and
    /// [`CLUSTER_SCOPE`] for a cluster-scoped object.
    pub namespace: String,
}

/// The namespace kustomize gives cluster-scoped objects in ids.
pub const CLUSTER_SCOPE: &str = "_non_namespaceable_";

/// One object of a render.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The object; a JSON object whose key order is the source order.
    pub value: Value,
    pub origin: Origin,
    /// Name and namespace before prefixes, suffixes and hashes: name references in other
    /// objects are written against these.
    pub original_name: String,
    pub original_namespace: Option<String>,
    /// Generated ConfigMaps and Secrets get a content-hash suffix (unless disabled).
    pub needs_hash: bool,
    /// Ids the object had before it was renamed, moved to a namespace or given another kind,
    /// oldest first (kustomize's "previous ids", kept in its build annotations): name
    /// references are followed through them. Empty until the first rename.
    pub prev_ids: Vec<PrevId>,
    /// The non-empty `namePrefix`es and `nameSuffix`es applied to the object, innermost first:
    /// among several objects a reference could mean, the one renamed like the referrer wins.
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    /// The `vars` attached to this object (the object their `objref` names).
    pub vars: Vec<std::sync::Arc<crate::vars::Var>>,
    /// Provenance (empty unless the renderer records it): the fields patches, transformers and
    /// generators set, in the order they were applied (the last edit of a field is the one
    /// whose value the output shows). Not part of the output.
    pub edits: Vec<crate::provenance::Edit>,
    /// `buildMetadata` (recorded only for builds that ask for it): the generator that made the
    /// object, and the transformers that ran on it.
    pub(crate) generated_by: Option<&'static str>,
    pub(crate) transformations: Vec<crate::build_metadata::Note>,
}

impl Resource {
    /// The last edit that set the field at `pointer` (a JSON pointer of the object), if a patch,
    /// transformer or generator set it (and provenance was on); otherwise the field is as
    /// [`Self::origin`] wrote it, or was set by a step provenance does not record.
    pub fn set_by(&self, pointer: &str) -> Option<&crate::provenance::Edit> {
        self.edits.iter().rev().find(|e| &**e.field() == pointer)
    }

    pub fn new(value: Value, origin: Origin) -> Self {
        let original_name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let original_namespace = value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Self {
            value,
            origin,
            original_name,
            original_namespace,
            needs_hash: false,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            vars: Vec::new(),
            edits: Vec::new(),
            generated_by: None,
            transformations: Vec::new(),
        }
    }

    /// Remembers the current id among the previous ones (before a step renames the object,
    /// moves it to a namespace or changes its kind), as kustomize's `StorePreviousId`.
    pub fn store_previous_id(&mut self) {
        let namespace = self.effective_namespace().to_owned();
        self.prev_ids.push(PrevId {
            kind: self.kind().to_owned(),
            name: self.name().to_owned(),
            namespace,
        });
    }

    /// Every id the object has had, as (kind, name, namespace as written or stored): the
    /// original one, the previous ones (namespaces stored effective, cluster scope as none)
    /// and the current one. Ids may repeat.
    pub fn ids(&self) -> impl Iterator<Item = (&str, &str, Option<&str>)> {
        let original = (
            self.original_kind(),
            self.original_name.as_str(),
            self.original_namespace.as_deref(),
        );
        let previous = self.prev_ids.iter().map(|p| {
            let namespace = (p.namespace != CLUSTER_SCOPE).then_some(p.namespace.as_str());
            (p.kind.as_str(), p.name.as_str(), namespace)
        });
        std::iter::once(original)
            .chain(previous)
            .chain(std::iter::once((
                self.kind(),
                self.name(),
                self.namespace(),
            )))
    }

    /// `namespace`, or `default` for a namespaced object without one, or [`CLUSTER_SCOPE`].
    pub fn effective_namespace(&self) -> &str {
        if self.is_cluster_scoped() {
            CLUSTER_SCOPE
        } else {
            self.namespace().unwrap_or("default")
        }
    }

    /// The kind the object was loaded with (before any patch changed it).
    pub fn original_kind(&self) -> &str {
        self.prev_ids
            .first()
            .map_or_else(|| self.kind(), |p| &p.kind)
    }

    pub fn api_version(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn kind(&self) -> &str {
        self.value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
    }

    /// Whether Kustomize treats the object as cluster-scoped (by `apiVersion` and kind, as its
    /// built-in schema does: see [`kube_basics::kinds`]).
    pub fn is_cluster_scoped(&self) -> bool {
        kube_basics::kinds::kustomize_cluster_scoped(self.api_version(), self.kind())
    }

    /// `(group, version)` of `apiVersion` (`"apps/v1"` → `("apps", "v1")`, `"v1"` → `("", "v1")`).
    pub fn group_version(&self) -> (&str, &str) {
        let av = self.api_version();
        av.split_once('/').unwrap_or(("", av))
    }

    pub fn id(&self) -> ResId {
        let (group, version) = self.group_version();
        ResId {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: self.kind().to_owned(),
            namespace: self.namespace().map(str::to_owned),
            name: self.name().to_owned(),
        }
    }
}
