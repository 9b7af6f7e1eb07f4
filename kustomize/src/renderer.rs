//! The pipeline: [`Renderer`] walks a kustomization as `kustomize build` does (its
//! `accumulateTarget`: resources, components, generators, then transformers, patches and
//! replacements in kustomize's fixed order), then gives generated names their content hash, fixes
//! name references and sorts the output. Its cache holds what does not depend on the overlay
//! being built, so a whole fleet shares bases.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::kustomization::{Kind, Kustomization};
use crate::load::Entry;
use crate::provenance;
use crate::{
    Origin, RenderError, Resource, emit, fs, generate, load, order, patch, replace, transform,
};

/// How deep bases and components may nest. Far above real trees (and a 50-level chain), far
/// below what would exhaust a thread's stack.
pub const MAX_DEPTH: usize = 100;

/// Renders kustomizations, caching what does not depend on the overlay being built: parsed
/// kustomization files, parsed resource files, patch texts, resolved paths, the complete build
/// of every base folder (bases are built once, then cloned into each overlay that uses them),
/// and the state after `resources` + `components` shared by overlays that list the same ones
/// (components transform the overlay's own resources, so they are cached per combination).
///
/// `Send + Sync`: share one `Renderer` across rayon workers to render a whole fleet. The cache
/// assumes files do not change during its lifetime; make a new `Renderer` to see edits.
///
/// With [provenance](crate::provenance) on ([`Renderer::with_provenance`]), every resource also
/// lists the fields patches, transformers and generators set ([`Resource::edits`]); off (the
/// default), nothing is recorded and nothing is paid.
pub struct Renderer {
    fs: Arc<dyn fs::FileSystem>,
    provenance: bool,
    /// Patch files as provenance sources (their positions are read once, on first use).
    sources: RwLock<HashMap<PathBuf, Arc<provenance::Source>>>,
    kustomizations: RwLock<HashMap<PathBuf, Arc<Kustomization>>>,
    documents: RwLock<HashMap<PathBuf, Arc<Vec<Resource>>>>,
    texts: RwLock<HashMap<PathBuf, Arc<str>>>,
    bases: RwLock<HashMap<PathBuf, Arc<Vec<Resource>>>>,
    paths: RwLock<HashMap<PathBuf, (PathBuf, bool)>>,
    /// Resources after `resources` and `components` of an overlay without generators, keyed by
    /// the canonical paths of both lists.
    shared: RwLock<HashMap<PathBuf, Arc<Vec<Resource>>>>,
}

/// Builds the kustomization in `dir` as `kubectl kustomize dir` does (objects in output order).
pub fn build(dir: &Path) -> Result<Vec<Resource>, RenderError> {
    Renderer::new().build(dir)
}

/// Builds the kustomization in `dir` and formats it as `kubectl kustomize dir` prints it.
pub fn build_yaml(dir: &Path) -> Result<String, RenderError> {
    Renderer::new().build_yaml(dir)
}

/// The YAML stream of rendered objects, formatted as `kubectl kustomize` prints them.
pub fn to_yaml(resources: &[Resource]) -> String {
    let values: Vec<Value> = resources.iter().map(|r| r.value.clone()).collect();
    emit::emit_stream(&values)
}

fn cached<T: Clone>(map: &RwLock<HashMap<PathBuf, T>>, key: &Path) -> Option<T> {
    map.read().ok().and_then(|m| m.get(key).cloned())
}

fn remember<T>(map: &RwLock<HashMap<PathBuf, T>>, key: &Path, value: T) {
    if let Ok(mut m) = map.write() {
        m.insert(key.to_path_buf(), value);
    }
}

impl Default for Renderer {
    fn default() -> Self {
        Self::with_fs(fs::DiskFs)
    }
}

impl Renderer {
    /// A renderer that reads the disk.
    pub fn new() -> Self {
        Self::default()
    }

    /// A renderer that reads through `fs` (a tree in memory, a git revision, ...).
    pub fn with_fs(fs: impl fs::FileSystem + 'static) -> Self {
        Self::with_shared_fs(Arc::new(fs))
    }

    /// A renderer that reads through a filesystem shared with its caller.
    pub fn with_shared_fs(fs: Arc<dyn fs::FileSystem>) -> Self {
        Self {
            fs,
            provenance: false,
            sources: RwLock::default(),
            kustomizations: RwLock::default(),
            documents: RwLock::default(),
            texts: RwLock::default(),
            bases: RwLock::default(),
            paths: RwLock::default(),
            shared: RwLock::default(),
        }
    }

    /// The same renderer with provenance on or off (see [`crate::provenance`]).
    #[must_use]
    pub fn with_provenance(mut self, on: bool) -> Self {
        self.set_provenance(on);
        self
    }

    /// Turns provenance on or off. The cache is emptied when the setting changes (cached
    /// objects were built with the other setting).
    pub fn set_provenance(&mut self, on: bool) {
        if self.provenance == on {
            return;
        }
        self.provenance = on;
        let fs = self.fs.clone();
        *self = Self::with_shared_fs(fs);
        self.provenance = on;
    }

    /// Whether builds record provenance.
    pub fn provenance(&self) -> bool {
        self.provenance
    }

    /// The filesystem this renderer reads.
    pub fn fs(&self) -> &dyn fs::FileSystem {
        &*self.fs
    }

    /// Builds the kustomization in `dir` (objects in output order).
    pub fn build(&self, dir: &Path) -> Result<Vec<Resource>, RenderError> {
        let root = self
            .fs
            .canonicalize(dir)
            .map_err(|source| RenderError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        if !self.fs.is_dir(&root) {
            return Err(RenderError::Build {
                path: dir.to_path_buf(),
                message: "must be a folder holding a kustomization".into(),
            });
        }
        // The overlay's own kustomization is read once: not cached (a fleet has thousands).
        let k = Arc::new(Kustomization::load(&*self.fs, &root)?);
        let mut stack = vec![root.clone()];
        let mut resources = self.accumulate_with(
            k.clone(),
            &root,
            Vec::new(),
            &mut stack,
            Kind::Kustomization,
        )?;
        // Done once, at the top: generated names get their content hash, then every reference
        // to a renamed object follows it.
        for r in resources.iter_mut().filter(|r| r.needs_hash) {
            let hash = generate::hash_suffix(&r.value);
            let name = format!("{}-{hash}", r.name());
            if let Some(Value::Object(md)) = r.value.get_mut("metadata") {
                md.insert("name".into(), Value::String(name));
            }
        }
        transform::fix_name_references(&mut resources);
        transform::stringify_annotations(&mut resources);
        order::sort(&mut resources, k.sort_options.as_ref());
        if self.provenance {
            provenance::finish(&mut resources);
        }
        Ok(resources)
    }

    /// Builds the kustomization in `dir` and formats it as `kubectl kustomize` prints it.
    pub fn build_yaml(&self, dir: &Path) -> Result<String, RenderError> {
        Ok(to_yaml(&self.build(dir)?))
    }

    /// Canonical path of `entry` under the canonical folder `root` (and whether it is a
    /// folder), cached.
    ///
    /// When the entry's `..` segments all come first (`../../bases/x`), dropping them lexically
    /// is exact (a canonical root has no symlinks), and the shorter key is shared by every
    /// overlay that names the same base.
    fn resolve(&self, root: &Path, entry: &str) -> std::io::Result<(PathBuf, bool)> {
        let joined = root.join(entry);
        let key = if leading_parent_dirs_only(Path::new(entry)) {
            load::normalize(&joined)
        } else {
            joined
        };
        if let Some(r) = cached(&self.paths, &key) {
            return Ok(r);
        }
        let real = self.fs.canonicalize(&key)?;
        let is_dir = self.fs.is_dir(&real);
        let r = (real, is_dir);
        remember(&self.paths, &key, r.clone());
        Ok(r)
    }

    fn kustomization(&self, dir: &Path) -> Result<Arc<Kustomization>, RenderError> {
        if let Some(k) = cached(&self.kustomizations, dir) {
            return Ok(k);
        }
        let k = Arc::new(Kustomization::load(&*self.fs, dir)?);
        remember(&self.kustomizations, dir, k.clone());
        Ok(k)
    }

    fn text(&self, file: &Path) -> Result<Arc<str>, RenderError> {
        if let Some(t) = cached(&self.texts, file) {
            return Ok(t);
        }
        let t: Arc<str> = Arc::from(load::read_text(&*self.fs, file)?);
        remember(&self.texts, file, t.clone());
        Ok(t)
    }

    /// A patch file as a provenance source, cached.
    fn source(&self, file: &Path) -> Result<Arc<provenance::Source>, RenderError> {
        if let Some(s) = cached(&self.sources, file) {
            return Ok(s);
        }
        let s = provenance::Source::of_file(Arc::from(file), self.text(file)?);
        remember(&self.sources, file, s.clone());
        Ok(s)
    }

    fn documents(&self, file: &Path) -> Result<Arc<Vec<Resource>>, RenderError> {
        if let Some(d) = cached(&self.documents, file) {
            return Ok(d);
        }
        let text = load::read_text(&*self.fs, file)?;
        let docs = load::parse_documents(file, &text)?;
        let origin: Arc<Path> = Arc::from(file);
        let d = Arc::new(load::resources_of(&origin, &docs)?);
        remember(&self.documents, file, d.clone());
        Ok(d)
    }

    /// The build of a base folder (cached), before the top-level hash and name-reference steps.
    fn base(
        &self,
        dir: &Path,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Arc<Vec<Resource>>, RenderError> {
        if let Some(b) = cached(&self.bases, dir) {
            return Ok(b);
        }
        enter(stack, dir)?;
        let built = self.accumulate(dir, Vec::new(), stack, Kind::Kustomization);
        stack.pop();
        let b = Arc::new(built?);
        remember(&self.bases, dir, b.clone());
        Ok(b)
    }

    /// Kustomize's `accumulateTarget`: resources, generators, components, then the transformers
    /// of the kustomization in `dir`, applied to `ra` (empty for a kustomization, the parent's
    /// resources for a component).
    fn accumulate(
        &self,
        dir: &Path,
        ra: Vec<Resource>,
        stack: &mut Vec<PathBuf>,
        expect: Kind,
    ) -> Result<Vec<Resource>, RenderError> {
        let k = self.kustomization(dir)?;
        self.accumulate_with(k, dir, ra, stack, expect)
    }

    /// [`Self::accumulate`] with the kustomization of `dir` already read.
    fn accumulate_with(
        &self,
        k: Arc<Kustomization>,
        dir: &Path,
        mut ra: Vec<Resource>,
        stack: &mut Vec<PathBuf>,
        expect: Kind,
    ) -> Result<Vec<Resource>, RenderError> {
        if k.kind != expect {
            return Err(RenderError::Build {
                path: k.file.clone(),
                message: match expect {
                    Kind::Kustomization => "is a Component: list it under `components`, not `resources`".into(),
                    Kind::Component => "is a Kustomization, not a Component (kind: Component): list it under `resources`".into(),
                },
            });
        }
        let kfile = k.file.as_path();

        // Sites that share a base and the same components (same hardware, backhaul, region)
        // reach the same state before their own transformers: build it once.
        let shared_key = if ra.is_empty()
            && expect == Kind::Kustomization
            && !k.components.is_empty()
            && k.config_map_generator.is_empty()
            && k.secret_generator.is_empty()
        {
            let mut key = String::new();
            for entry in &k.resources {
                let (Entry::File(p) | Entry::Dir(p)) = load::resolve_resource(
                    &|root, entry| self.resolve(root, entry),
                    kfile,
                    dir,
                    entry,
                )?;
                key.push_str(&p.to_string_lossy());
                key.push('\0');
            }
            key.push('\n');
            for entry in &k.components {
                let p = load::resolve_dir(
                    &|root, entry| self.resolve(root, entry),
                    kfile,
                    dir,
                    entry,
                    "components",
                )?;
                key.push_str(&p.to_string_lossy());
                key.push('\0');
            }
            let key = PathBuf::from(key);
            if let Some(shared) = cached(&self.shared, &key) {
                let mut ra = (*shared).clone();
                self.transform(&k, &mut ra)?;
                return Ok(ra);
            }
            Some(key)
        } else {
            None
        };

        for entry in &k.resources {
            match load::resolve_resource(
                &|root, entry| self.resolve(root, entry),
                kfile,
                dir,
                entry,
            )? {
                Entry::File(file) => {
                    for r in self.documents(&file)?.iter() {
                        add(&mut ra, r.clone(), kfile)?;
                    }
                }
                Entry::Dir(sub) => {
                    for r in self.base(&sub, stack)?.iter() {
                        add(&mut ra, r.clone(), kfile)?;
                    }
                }
            }
        }

        let read = |entry: &str| -> Result<Vec<u8>, RenderError> {
            let file = load::resolve_file(
                &|root, entry| self.resolve(root, entry),
                kfile,
                dir,
                entry,
                "generator",
            )?;
            self.fs
                .read(&file)
                .map_err(|source| RenderError::Io { path: file, source })
        };
        let origin = Origin {
            file: Arc::from(kfile),
            document: 0,
        };
        for (generated, field, list) in [
            (true, "configMapGenerator", &k.config_map_generator),
            (false, "secretGenerator", &k.secret_generator),
        ] {
            for (i, args) in list.iter().enumerate() {
                let mut r = if generated {
                    generate::config_map(args, k.generator_options.as_ref(), &read)
                } else {
                    generate::secret(args, k.generator_options.as_ref(), &read)
                }
                .map_err(|e| generate::with_path(e, kfile))?;
                r.origin = origin.clone();
                if self.provenance {
                    let own = k.sources.own(kfile, &k.text);
                    provenance::record_generated(&mut r, &own, field, i, args);
                }
                add_generated(&mut ra, r, args, kfile)?;
            }
        }

        for entry in &k.components {
            let sub = load::resolve_dir(
                &|root, entry| self.resolve(root, entry),
                kfile,
                dir,
                entry,
                "components",
            )?;
            enter(stack, &sub)?;
            let result = self.accumulate(&sub, ra, stack, Kind::Component);
            stack.pop();
            ra = result?;
        }
        if let Some(key) = shared_key {
            remember(&self.shared, &key, Arc::new(ra.clone()));
        }

        self.transform(&k, &mut ra)?;
        Ok(ra)
    }

    /// The built-in transformers of `k`, in kustomize's order (with provenance on, each records
    /// the fields it set).
    fn transform(&self, k: &Kustomization, ra: &mut Vec<Resource>) -> Result<(), RenderError> {
        let kfile = k.file.as_path();
        let dir = k.dir.as_path();
        let prov = self.provenance;
        let field_err = |field: &str, message: String| RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.to_owned(),
            message,
        };
        // Provenance: the kustomization itself, and an inline patch in it.
        let own = || k.sources.own(kfile, &k.text);
        let inline = |pointer: &str| k.sources.inline(kfile, &k.text, pointer);

        // patchesStrategicMerge: each entry a file or an inline patch
        for (i, entry) in k.patches_strategic_merge.iter().enumerate() {
            // The documents, and where they are written (for provenance).
            let (docs, source, prefix) = match entry {
                Value::String(s) if !s.contains('\n') && !s.trim_start().starts_with('{') => {
                    let file = load::resolve_file(
                        &|root, entry| self.resolve(root, entry),
                        kfile,
                        dir,
                        s,
                        "patchesStrategicMerge",
                    )?;
                    let docs = load::parse_documents(&file, &self.text(&file)?)?;
                    let source = prov.then(|| self.source(&file)).transpose()?;
                    (docs, source, String::new())
                }
                Value::String(s) => (
                    load::parse_documents(kfile, s.trim())?,
                    prov.then(|| inline(&format!("/patchesStrategicMerge/{i}"))),
                    String::new(),
                ),
                other => (
                    vec![other.clone()],
                    prov.then(own),
                    format!("/patchesStrategicMerge/{i}"),
                ),
            };
            for (document, patch) in docs.iter().enumerate() {
                let at = source.as_ref().map(|source| provenance::PatchAt {
                    source,
                    document,
                    prefix: &prefix,
                });
                apply_smp_by_id(ra, patch, kfile, "patchesStrategicMerge", at.as_ref())?;
            }
        }

        // patches: strategic merge or JSON 6902, with an optional target
        for (i, entry) in k.patches.iter().enumerate() {
            let field = format!("patches[{i}]");
            let m = entry.as_object().ok_or_else(|| {
                field_err(&field, "must be a mapping with `path` or `patch`".into())
            })?;
            for key in m.keys() {
                if !["path", "patch", "target", "options"].contains(&key.as_str()) {
                    return Err(field_err(&field, format!("unknown field {key:?}")));
                }
            }
            let (text, source): (Arc<str>, _) = match (m.get("path"), m.get("patch")) {
                (Some(Value::String(p)), None) => {
                    let file = load::resolve_file(
                        &|root, entry| self.resolve(root, entry),
                        kfile,
                        dir,
                        p,
                        "patches",
                    )?;
                    let source = prov.then(|| self.source(&file)).transpose()?;
                    (self.text(&file)?, source)
                }
                // kustomize trims an inline patch: a literal block that ends it loses its
                // final newline (`|` prints as `|-`), measured with v5.8.1
                (None, Some(Value::String(p))) => (
                    Arc::from(p.trim()),
                    prov.then(|| inline(&format!("/patches/{i}/patch"))),
                ),
                (Some(_), Some(_)) => {
                    return Err(field_err(
                        &field,
                        "has both `path` and `patch`; give one".into(),
                    ));
                }
                _ => {
                    return Err(field_err(
                        &field,
                        "needs `path` or `patch` (a string)".into(),
                    ));
                }
            };
            let docs = load::parse_documents(kfile, &text)?;
            let at = |document: usize| {
                source.as_ref().map(|source| provenance::PatchAt {
                    source,
                    document,
                    prefix: "",
                })
            };
            let target = match m.get("target") {
                Some(t) if !t.is_null() => {
                    Some(patch::Selector::from_value(t).map_err(|e| field_err(&field, e))?)
                }
                _ => None,
            };
            let is_json6902 = matches!(docs.as_slice(), [Value::Array(_)]);
            if is_json6902 {
                let Some(sel) = &target else {
                    return Err(field_err(
                        &field,
                        "a JSON 6902 patch needs a `target`".into(),
                    ));
                };
                let at = at(0);
                for r in ra.iter_mut().filter(|r| sel.matches(r)) {
                    patch::json6902(&mut r.value, &docs[0])
                        .map_err(|e| field_err(&field, format!("{}: {e}", r.id())))?;
                    if let Some(at) = &at {
                        provenance::record_ops(r, &docs[0], at);
                    }
                }
                continue;
            }
            for (document, p) in docs.iter().enumerate() {
                let at = at(document);
                match &target {
                    None => apply_smp_by_id(ra, p, kfile, &field, at.as_ref())?,
                    Some(sel) => {
                        let mut i = 0;
                        while i < ra.len() {
                            if !sel.matches(&ra[i]) {
                                i += 1;
                                continue;
                            }
                            // The patch is aimed at each selected object: its own id is ignored.
                            let mut p = p.clone();
                            if let Some(Value::Object(md)) = p.get_mut("metadata") {
                                md.insert("name".into(), Value::String(ra[i].name().to_owned()));
                                if let Some(ns) = ra[i].namespace() {
                                    md.insert("namespace".into(), Value::String(ns.to_owned()));
                                }
                            }
                            if smp(&mut ra[i], &p, kfile, &field, at.as_ref())? {
                                ra.remove(i);
                            } else {
                                i += 1;
                            }
                        }
                    }
                }
            }
        }

        if let Some(ns) = &k.namespace {
            transform::namespace(ra, ns).map_err(|e| field_err("namespace", e))?;
            if prov {
                provenance::record_namespace(ra, &own());
            }
        }
        let (prefix, suffix) = (
            k.name_prefix.as_deref().unwrap_or(""),
            k.name_suffix.as_deref().unwrap_or(""),
        );
        transform::prefix_suffix(ra, prefix, suffix);
        if prov && (!prefix.is_empty() || !suffix.is_empty()) {
            provenance::record_name(ra, &own(), !prefix.is_empty(), !suffix.is_empty());
        }
        transform::labels(ra, &k.labels, &k.common_labels).map_err(|e| field_err("labels", e))?;
        transform::annotations(ra, &k.common_annotations);
        if prov {
            record_labels_and_annotations(k, ra, &own()).map_err(|e| field_err("labels", e))?;
        }

        // patchesJson6902: exact target ids
        for (i, entry) in k.patches_json6902.iter().enumerate() {
            let field = format!("patchesJson6902[{i}]");
            let m = entry.as_object().ok_or_else(|| {
                field_err(
                    &field,
                    "must be a mapping with `target` and `path` or `patch`".into(),
                )
            })?;
            let (text, source): (Arc<str>, _) = match (m.get("path"), m.get("patch")) {
                (Some(Value::String(p)), None) => {
                    let file = load::resolve_file(
                        &|root, entry| self.resolve(root, entry),
                        kfile,
                        dir,
                        p,
                        "patchesJson6902",
                    )?;
                    let source = prov.then(|| self.source(&file)).transpose()?;
                    (self.text(&file)?, source)
                }
                (None, Some(Value::String(p))) => (
                    Arc::from(p.as_str()),
                    prov.then(|| inline(&format!("/patchesJson6902/{i}/patch"))),
                ),
                _ => {
                    return Err(field_err(
                        &field,
                        "needs one of `path` or `patch` (a string)".into(),
                    ));
                }
            };
            let at = source.as_ref().map(|source| provenance::PatchAt {
                source,
                document: 0,
                prefix: "",
            });
            let ops = load::parse_documents(kfile, &text)?
                .into_iter()
                .next()
                .unwrap_or(Value::Array(Vec::new()));
            let t = m
                .get("target")
                .and_then(Value::as_object)
                .ok_or_else(|| field_err(&field, "needs a `target`".into()))?;
            let want = |key: &str| t.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
            let mut matched = 0;
            for r in ra.iter_mut() {
                let (g, v) = r.group_version();
                let ok = want("group").is_none_or(|x| x == g)
                    && want("version").is_none_or(|x| x == v)
                    && want("kind").is_none_or(|x| x == r.kind())
                    && want("name").is_none_or(|x| x == r.name() || x == r.original_name)
                    && want("namespace").is_none_or(|x| Some(x) == r.namespace());
                if ok {
                    matched += 1;
                    patch::json6902(&mut r.value, &ops)
                        .map_err(|e| field_err(&field, format!("{}: {e}", r.id())))?;
                    if let Some(at) = &at {
                        provenance::record_ops(r, &ops, at);
                    }
                }
            }
            if matched == 0 {
                return Err(field_err(&field, "the target matches no resource".into()));
            }
        }

        transform::replicas(ra, &k.replicas);
        if prov && !k.replicas.is_empty() {
            let names: Vec<&str> = k.replicas.iter().map(|r| r.name.as_str()).collect();
            provenance::record_replicas(ra, &own(), &names);
        }
        if prov && !k.images.is_empty() {
            // Each entry traced to the key that sets the new reference.
            let entries: Vec<(&str, Arc<str>)> = k
                .images
                .iter()
                .enumerate()
                .map(|(j, spec)| {
                    let key = if spec.digest.is_some() {
                        "digest"
                    } else if spec.new_tag.is_some() {
                        "newTag"
                    } else if spec.new_name.is_some() {
                        "newName"
                    } else {
                        "name"
                    };
                    (spec.name.as_str(), Arc::from(format!("/images/{j}/{key}")))
                })
                .collect();
            provenance::record_images(ra, &own(), &|image| {
                let (name, _, _) = transform::split_image(image);
                entries
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, at)| at.clone())
            });
        }
        transform::images(ra, &k.images);

        if !k.replacements.is_empty() {
            let read = |entry: &str| -> Result<String, RenderError> {
                let file = load::resolve_file(
                    &|root, entry| self.resolve(root, entry),
                    kfile,
                    dir,
                    entry,
                    "replacements",
                )?;
                Ok(self.text(&file)?.to_string())
            };
            replace::apply(ra, &k.replacements, &read)
                .map_err(|e| generate::with_path(e, kfile))?;
        }
        Ok(())
    }
}

/// `true` when the relative path `entry` has `..` segments only at its start (and no `.`).
fn leading_parent_dirs_only(entry: &Path) -> bool {
    use std::path::Component;
    let mut forward = false;
    for c in entry.components() {
        match c {
            Component::ParentDir if forward => return false,
            Component::ParentDir => {}
            Component::Normal(_) => forward = true,
            _ => return false,
        }
    }
    true
}

/// Pushes `dir` on the chain of kustomizations being built, refusing cycles and runaway depth.
fn enter(stack: &mut Vec<PathBuf>, dir: &Path) -> Result<(), RenderError> {
    if let Some(pos) = stack.iter().position(|d| d == dir) {
        let mut chain = stack[pos..].to_vec();
        chain.push(dir.to_path_buf());
        return Err(RenderError::Cycle { chain });
    }
    if stack.len() >= MAX_DEPTH {
        return Err(RenderError::Build {
            path: dir.to_path_buf(),
            message: format!("bases and components nest more than {MAX_DEPTH} levels deep"),
        });
    }
    stack.push(dir.to_path_buf());
    Ok(())
}

/// Adds a resource, refusing a second object with the same id (as kustomize does).
fn add(ra: &mut Vec<Resource>, r: Resource, kfile: &Path) -> Result<(), RenderError> {
    let id = r.id();
    if ra.iter().any(|o| o.id() == id) {
        return Err(RenderError::Build {
            path: kfile.to_path_buf(),
            message: format!("may not add resource with an already registered id: {id}"),
        });
    }
    ra.push(r);
    Ok(())
}

/// Adds a generated ConfigMap or Secret honouring `behavior` (create, merge, replace).
fn add_generated(
    ra: &mut Vec<Resource>,
    mut r: Resource,
    args: &Value,
    kfile: &Path,
) -> Result<(), RenderError> {
    let behavior = args
        .get("behavior")
        .and_then(Value::as_str)
        .unwrap_or("create");
    let existing = ra.iter().position(|o| {
        o.kind() == r.kind()
            && (o.original_name == r.original_name || o.name() == r.name())
            && o.namespace() == r.namespace()
    });
    match (behavior, existing) {
        ("create" | "", _) => add(ra, r, kfile),
        ("merge" | "replace", Some(i)) => {
            // The generator's edits now describe the object it merged into.
            let edits = std::mem::take(&mut r.edits);
            generate::merge_into(&mut ra[i], r, behavior)
                .map_err(|e| generate::with_path(e, kfile))?;
            ra[i].edits.extend(edits);
            Ok(())
        }
        ("merge" | "replace", None) => Err(RenderError::Build {
            path: kfile.to_path_buf(),
            message: format!(
                "generator with behavior {behavior} for {}: no existing object to {behavior}",
                r.id()
            ),
        }),
        (other, _) => Err(RenderError::Field {
            path: kfile.to_path_buf(),
            field: "behavior".into(),
            message: format!("must be create, merge or replace, not {other:?}"),
        }),
    }
}

/// Applies one strategic merge patch to `r`; `true` when the patch deletes the object. With
/// provenance, `at` says where the patch is written.
fn smp(
    r: &mut Resource,
    p: &Value,
    kfile: &Path,
    field: &str,
    at: Option<&provenance::PatchAt<'_>>,
) -> Result<bool, RenderError> {
    let id = r.id();
    patch::strategic_merge(&mut r.value, p).map_err(|message| RenderError::Field {
        path: kfile.to_path_buf(),
        field: field.to_owned(),
        message: format!("{id}: {message}"),
    })?;
    if r.value.is_null() {
        return Ok(true);
    }
    if let Some(at) = at {
        provenance::record_merge(r, p, at);
    }
    Ok(false)
}

/// Provenance of `labels`, `commonLabels` and `commonAnnotations` (after they were applied, with
/// the same field specs).
fn record_labels_and_annotations(
    k: &Kustomization,
    ra: &mut [Resource],
    own: &Arc<provenance::Source>,
) -> Result<(), String> {
    use provenance::{Pairs, Step};
    let entry = |field: &str, key: &str| -> Arc<str> {
        let mut at = field.to_owned();
        kube_basics::pointer::push(&mut at, key);
        Arc::from(at)
    };
    let mut labels = Vec::new();
    for (i, l) in k.labels.iter().enumerate() {
        let list = format!("/labels/{i}/pairs");
        labels.push(Pairs {
            specs: transform::label_specs(l)?,
            pairs: &l.pairs,
            ats: l.pairs.iter().map(|(key, _)| entry(&list, key)).collect(),
        });
    }
    if !k.common_labels.is_empty() {
        labels.push(Pairs {
            specs: Cow::Borrowed(transform::common_label_specs()),
            pairs: &k.common_labels,
            ats: k
                .common_labels
                .iter()
                .map(|(key, _)| entry("/commonLabels", key))
                .collect(),
        });
    }
    if !labels.is_empty() {
        provenance::record_pairs(ra, own, Step::Labels, &labels);
    }
    if !k.common_annotations.is_empty() {
        let annotations = Pairs {
            specs: Cow::Borrowed(transform::common_annotation_specs()),
            pairs: &k.common_annotations,
            ats: k
                .common_annotations
                .iter()
                .map(|(key, _)| entry("/commonAnnotations", key))
                .collect(),
        };
        provenance::record_pairs(ra, own, Step::Annotations, &[annotations]);
    }
    Ok(())
}

/// Applies a strategic merge patch to the object it names (apiVersion, kind, name, namespace).
fn apply_smp_by_id(
    ra: &mut Vec<Resource>,
    p: &Value,
    kfile: &Path,
    field: &str,
    at: Option<&provenance::PatchAt<'_>>,
) -> Result<(), RenderError> {
    let s = |ptr: &str| p.pointer(ptr).and_then(Value::as_str).unwrap_or_default();
    let (api, kind, name, ns) = (
        s("/apiVersion"),
        s("/kind"),
        s("/metadata/name"),
        p.pointer("/metadata/namespace").and_then(Value::as_str),
    );
    if kind.is_empty() || name.is_empty() {
        return Err(RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.to_owned(),
            message: "a strategic merge patch without `target` needs kind and metadata.name".into(),
        });
    }
    let (group, _) = api.split_once('/').unwrap_or(("", api));
    let mut hits: Vec<usize> = ra
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.kind() == kind
                && r.group_version().0 == group
                && (r.name() == name || r.original_name == name)
                && ns.is_none_or(|ns| {
                    r.namespace() == Some(ns) || r.original_namespace.as_deref() == Some(ns)
                })
        })
        .map(|(i, _)| i)
        .collect();
    if hits.len() > 1 {
        let no_ns: Vec<usize> = hits
            .iter()
            .copied()
            .filter(|&i| ra[i].namespace().is_none())
            .collect();
        if no_ns.len() == 1 {
            hits = no_ns;
        }
    }
    let id = format!(
        "{kind} {}{name}",
        ns.map(|n| format!("{n}/")).unwrap_or_default()
    );
    match hits.as_slice() {
        [] => Err(RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.to_owned(),
            message: format!("no resource matches the patch for {id}"),
        }),
        [i] => {
            if smp(&mut ra[*i], p, kfile, field, at)? {
                ra.remove(*i);
            }
            Ok(())
        }
        _ => Err(RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.to_owned(),
            message: format!("the patch for {id} matches several resources; give a namespace"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn names(rs: &[Resource]) -> Vec<String> {
        rs.iter()
            .map(|r| format!("{}/{}", r.kind(), r.name()))
            .collect()
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx:1\n        envFrom:\n        - configMapRef:\n            name: cfg\n";

    #[test]
    fn renderer_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Renderer>();
    }

    #[test]
    fn overlay_with_base_components_and_transformers() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(
            r,
            "base/kustomization.yaml",
            "resources:\n- deploy.yaml\nconfigMapGenerator:\n- name: cfg\n  literals: [a=b]\n",
        );
        write(r, "base/deploy.yaml", DEPLOY);
        write(
            r,
            "comp/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      replicas: 2\n",
        );
        write(
            r,
            "site/kustomization.yaml",
            "resources:\n- ../base\ncomponents:\n- ../comp\nnamespace: edge\nnamePrefix: s-\nimages:\n- name: nginx\n  newTag: \"2\"\n",
        );
        let rs = build(&r.join("site")).unwrap();
        assert_eq!(names(&rs)[1], "Deployment/s-web");
        let cm = &rs[0];
        assert!(cm.name().starts_with("s-cfg-"), "{}", cm.name());
        let d = &rs[1].value;
        assert_eq!(d["spec"]["replicas"], 2);
        assert_eq!(d["metadata"]["namespace"], "edge");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "nginx:2");
        assert_eq!(c["envFrom"][0]["configMapRef"]["name"], cm.name());
        let yaml = build_yaml(&r.join("site")).unwrap();
        assert!(yaml.contains("---\n"), "{yaml}");
    }

    #[test]
    fn cached_bases_give_the_same_builds() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "base/kustomization.yaml", "resources:\n- deploy.yaml\n");
        write(r, "base/deploy.yaml", DEPLOY);
        for site in ["a", "b"] {
            write(
                r,
                &format!("{site}/kustomization.yaml"),
                &format!("resources:\n- ../base\nnameSuffix: -{site}\n"),
            );
        }
        let renderer = Renderer::new();
        for site in ["a", "b", "a"] {
            let cached = renderer.build_yaml(&r.join(site)).unwrap();
            assert_eq!(cached, build_yaml(&r.join(site)).unwrap());
            assert!(cached.contains(&format!("name: web-{site}")));
        }
    }

    #[test]
    fn component_and_kustomization_kinds_are_checked() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "base/kustomization.yaml", "resources: []\n");
        write(r, "site/kustomization.yaml", "components:\n- ../base\n");
        let e = build(&r.join("site")).unwrap_err().to_string();
        assert!(e.contains("not a Component"), "{e}");
    }

    #[test]
    fn cycles_are_reported_with_the_chain() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "a/kustomization.yaml", "resources:\n- ../b\n");
        write(r, "b/kustomization.yaml", "resources:\n- ../a\n");
        let e = build(&r.join("a")).unwrap_err();
        let RenderError::Cycle { chain } = &e else {
            panic!("{e}")
        };
        assert_eq!(chain.len(), 3);
        assert!(e.to_string().contains(" -> "), "{e}");
    }

    #[test]
    fn a_50_level_chain_builds_on_a_small_stack() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path().to_path_buf();
        write(&r, "l50/kustomization.yaml", "resources:\n- deploy.yaml\n");
        write(&r, "l50/deploy.yaml", DEPLOY);
        for i in 0..50 {
            write(
                &r,
                &format!("l{i}/kustomization.yaml"),
                &format!("resources:\n- ../l{}\nnamePrefix: p{i}-\n", i + 1),
            );
        }
        // rayon's worker threads have 2 MiB stacks: build on one that size
        let rs = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || build(&r.join("l0")))
            .unwrap()
            .join()
            .unwrap()
            .unwrap();
        assert!(rs[0].name().starts_with("p0-p1-"));
        assert!(rs[0].name().ends_with("p49-web"));
    }

    #[test]
    fn too_deep_chains_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        let n = MAX_DEPTH + 5;
        write(r, &format!("l{n}/kustomization.yaml"), "resources: []\n");
        for i in 0..n {
            write(
                r,
                &format!("l{i}/kustomization.yaml"),
                &format!("resources:\n- ../l{}\n", i + 1),
            );
        }
        let e = build(&r.join("l0")).unwrap_err().to_string();
        assert!(e.contains("levels deep"), "{e}");
    }

    #[test]
    fn files_outside_the_root_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "secret.yaml", DEPLOY);
        write(
            r,
            "site/kustomization.yaml",
            "resources:\n- ../secret.yaml\n",
        );
        let e = build(&r.join("site")).unwrap_err();
        assert!(matches!(e, RenderError::OutsideRoot { .. }), "{e}");
        write(
            r,
            "site/kustomization.yaml",
            "resources: []\npatches:\n- path: ../../../../../../etc/passwd\n",
        );
        let e = build(&r.join("site")).unwrap_err();
        assert!(
            matches!(
                e,
                RenderError::OutsideRoot { .. } | RenderError::Field { .. }
            ),
            "{e}"
        );
    }

    #[test]
    fn missing_paths_name_the_kustomization() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "site/kustomization.yaml", "resources:\n- nope.yaml\n");
        let e = build(&r.join("site")).unwrap_err().to_string();
        assert!(
            e.contains("kustomization.yaml") && e.contains("nope.yaml"),
            "{e}"
        );
        let e = build(&r.join("absent")).unwrap_err().to_string();
        assert!(e.contains("absent"), "{e}");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "site/a.yaml", DEPLOY);
        write(r, "site/b.yaml", DEPLOY);
        write(
            r,
            "site/kustomization.yaml",
            "resources:\n- a.yaml\n- b.yaml\n",
        );
        let e = build(&r.join("site")).unwrap_err().to_string();
        assert!(e.contains("already registered id"), "{e}");
    }
}
