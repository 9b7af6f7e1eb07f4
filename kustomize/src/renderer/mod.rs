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

use crate::config::Config;
use crate::kustomization::{Kind, Kustomization};
use crate::load::Entry;
use crate::provenance;
use crate::{
    Origin, RenderError, Resource, emit, fs, generate, load, order, patch, replace, transform,
};

mod plugins;
mod steps;
#[cfg(test)]
mod tests;

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
    /// Reuse the reading of a kustomization or inline patch text this thread read recently.
    recent_parses: bool,
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
    /// The custom transformer configuration (`configurations`, `crds`) a cached base or shared
    /// state carries up to the overlay; absent when there is none (the usual case).
    configs: RwLock<HashMap<PathBuf, Arc<Config>>>,
    /// Record `buildMetadata` notes (set for a build whose kustomization asks for them; such a
    /// build uses its own renderer, so cached bases never carry notes into other builds).
    build_metadata: bool,
}

/// The accumulated custom transformer configuration of a build step (`None`: built-in tables
/// only).
pub(crate) type Cfg = Option<Arc<Config>>;

/// Merges `more` into `cfg`.
fn merge_cfg(cfg: &mut Cfg, more: &Config) -> Result<(), String> {
    if more.is_empty() {
        return Ok(());
    }
    let mut c = cfg.as_deref().cloned().unwrap_or_default();
    c.merge(more)?;
    *cfg = Some(Arc::new(c));
    Ok(())
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
            recent_parses: false,
            sources: RwLock::default(),
            kustomizations: RwLock::default(),
            documents: RwLock::default(),
            texts: RwLock::default(),
            bases: RwLock::default(),
            paths: RwLock::default(),
            shared: RwLock::default(),
            configs: RwLock::default(),
            build_metadata: false,
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

    /// The same renderer, reusing the reading of texts it met recently on the same thread
    /// (overlays' kustomizations and inline patches; files are cached anyway). For callers that
    /// render the same overlay twice in a row, as `diff` does for two revisions; output is the
    /// same either way.
    pub fn with_recent_parses(mut self, on: bool) -> Self {
        self.set_recent_parses(on);
        self
    }

    /// Turns the reuse of [`Renderer::with_recent_parses`] on or off.
    pub fn set_recent_parses(&mut self, on: bool) {
        self.recent_parses = on;
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
        let k = Arc::new(Kustomization::load_with(
            &*self.fs,
            &root,
            self.recent_parses,
        )?);
        if !k.extras.build_metadata.is_empty() && !self.build_metadata {
            let mut r = Self::with_shared_fs(self.fs.clone());
            r.provenance = self.provenance;
            r.recent_parses = self.recent_parses;
            r.build_metadata = true;
            return r.build(dir);
        }
        // A schema from `openapi` holds for this build only (see `patch::custom_table`).
        struct ClearSchema;
        impl Drop for ClearSchema {
            fn drop(&mut self) {
                patch::set_custom_schema(None);
            }
        }
        patch::set_custom_schema(None);
        let _clear = ClearSchema;
        let mut stack = vec![root.clone()];
        let mut cfg: Cfg = None;
        let mut resources = self.accumulate_with(
            k.clone(),
            &root,
            Vec::new(),
            &mut stack,
            Kind::Kustomization,
            &mut cfg,
        )?;
        // Done once, at the top: generated names get their content hash, then every reference
        // to a renamed object follows it.
        for r in resources.iter_mut().filter(|r| r.needs_hash) {
            let hash = generate::hash_suffix(&r.value);
            let name = format!("{}-{hash}", r.name());
            r.store_previous_id();
            if let Some(Value::Object(md)) = r.value.get_mut("metadata") {
                md.insert("name".into(), Value::String(name));
            }
        }
        transform::fix_name_references(&mut resources, cfg.as_deref()).map_err(|message| {
            RenderError::Build {
                path: k.file.clone(),
                message,
            }
        })?;
        let extra_vars = cfg.as_deref().map_or(&[][..], |c| &c.var_reference[..]);
        crate::vars::resolve(&mut resources, extra_vars).map_err(|message| RenderError::Field {
            path: k.file.clone(),
            field: "vars".into(),
            message,
        })?;
        transform::stringify_annotations(&mut resources);
        order::sort(&mut resources, k.sort_options.as_ref());
        if self.build_metadata {
            crate::build_metadata::finish(&mut resources, &root, &k.extras.build_metadata);
        }
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
    ) -> Result<(Arc<Vec<Resource>>, Cfg), RenderError> {
        if let Some(b) = cached(&self.bases, dir) {
            return Ok((b, cached(&self.configs, dir)));
        }
        enter(stack, dir)?;
        let mut cfg = None;
        let built = self.accumulate(dir, Vec::new(), stack, Kind::Kustomization, &mut cfg);
        stack.pop();
        let b = Arc::new(built?);
        if let Some(c) = &cfg {
            remember(&self.configs, dir, c.clone());
        }
        remember(&self.bases, dir, b.clone());
        Ok((b, cfg))
    }

    /// Makes the first `openapi` schema of the build the schema of its patches (kustomize sets
    /// a global when it meets one; later ones do not replace it).
    fn use_openapi(&self, cfg: Option<&Config>) -> Result<(), RenderError> {
        if patch::custom_schema().is_some() {
            return Ok(());
        }
        if let Some(text) = cfg.and_then(|c| c.openapi.as_deref()) {
            let t = patch::custom_table(text).map_err(|message| RenderError::Build {
                path: PathBuf::from("openapi"),
                message: format!("custom OpenAPI schema: {message}"),
            })?;
            patch::set_custom_schema(Some(t));
        }
        Ok(())
    }

    /// Merges the `configurations` and `crds` of `k` into `cfg` (kustomize merges them after
    /// the resources, before generators and components).
    fn merge_own_config(&self, k: &Kustomization, cfg: &mut Cfg) -> Result<(), RenderError> {
        let kfile = k.file.as_path();
        let dir = k.dir.as_path();
        for (field, list) in [
            ("configurations", &k.extras.configurations),
            ("crds", &k.extras.crds),
        ] {
            // Every entry is a path (v5.8.1 reads an inline text as a file name too).
            for entry in list {
                let file = load::resolve_file(
                    &|root, entry| self.resolve(root, entry),
                    kfile,
                    dir,
                    entry,
                    field,
                )?;
                let text = self.text(&file)?;
                let parsed = if field == "crds" {
                    Config::from_crd_definitions(&text)
                } else {
                    Config::parse(&file, &text)
                };
                let c = parsed.map_err(|message| RenderError::Field {
                    path: file.clone(),
                    field: field.to_owned(),
                    message,
                })?;
                merge_cfg(cfg, &c).map_err(|message| RenderError::Field {
                    path: kfile.to_path_buf(),
                    field: field.to_owned(),
                    message,
                })?;
            }
        }
        Ok(())
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
        cfg: &mut Cfg,
    ) -> Result<Vec<Resource>, RenderError> {
        let k = self.kustomization(dir)?;
        self.accumulate_with(k, dir, ra, stack, expect, cfg)
    }

    /// [`Self::accumulate`] with the kustomization of `dir` already read.
    fn accumulate_with(
        &self,
        k: Arc<Kustomization>,
        dir: &Path,
        mut ra: Vec<Resource>,
        stack: &mut Vec<PathBuf>,
        expect: Kind,
        cfg: &mut Cfg,
    ) -> Result<Vec<Resource>, RenderError> {
        if let Some(path) = &k.extras.openapi {
            let file = load::resolve_file(
                &|root, entry| self.resolve(root, entry),
                &k.file,
                dir,
                path,
                "openapi",
            )?;
            let text = self.text(&file)?;
            patch::custom_table(&text).map_err(|message| RenderError::Field {
                path: file.clone(),
                field: "openapi".into(),
                message,
            })?;
            let more = Config {
                openapi: Some(text),
                ..Config::default()
            };
            merge_cfg(cfg, &more).map_err(|message| RenderError::Field {
                path: k.file.clone(),
                field: "openapi".into(),
                message,
            })?;
            self.use_openapi(cfg.as_deref())?;
        }
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
            && k.generators.is_empty()
            && k.extras.configurations.is_empty()
            && k.extras.crds.is_empty()
            && k.extras.openapi.is_none()
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
                if let Some(c) = cached(&self.configs, &key) {
                    merge_cfg(cfg, &c).map_err(|message| RenderError::Field {
                        path: kfile.to_path_buf(),
                        field: "configurations".into(),
                        message,
                    })?;
                }
                self.use_openapi(cfg.as_deref())?;
                self.transform(&k, &mut ra, cfg.as_deref())?;
                self.run_transformers(&k, &mut ra, stack)?;
                self.run_validators(&k, &mut ra, stack)?;
                attach_vars(&k, &mut ra)?;
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
                    let (base, base_cfg) = self.base(&sub, stack)?;
                    for r in base.iter() {
                        add(&mut ra, r.clone(), kfile)?;
                    }
                    if let Some(c) = base_cfg {
                        merge_cfg(cfg, &c).map_err(|message| RenderError::Field {
                            path: kfile.to_path_buf(),
                            field: "resources".into(),
                            message,
                        })?;
                        self.use_openapi(cfg.as_deref())?;
                    }
                }
            }
        }
        if !k.extras.configurations.is_empty() || !k.extras.crds.is_empty() {
            self.merge_own_config(&k, cfg)?;
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
                if self.build_metadata {
                    r.generated_by = Some(if generated {
                        "ConfigMapGenerator"
                    } else {
                        "SecretGenerator"
                    });
                }
                if self.provenance {
                    let own = k.sources.own(kfile, &k.text);
                    let entry = format!("/{field}/{i}");
                    let name_at = format!("{entry}/name");
                    provenance::record_generated(&mut r, &own, 0, &entry, &name_at, args);
                }
                add_generated(&mut ra, r, args, kfile)?;
            }
        }
        self.run_generators(&k, &mut ra, stack)?;

        for entry in &k.components {
            let sub = load::resolve_dir(
                &|root, entry| self.resolve(root, entry),
                kfile,
                dir,
                entry,
                "components",
            )?;
            enter(stack, &sub)?;
            let result = self.accumulate(&sub, ra, stack, Kind::Component, cfg);
            stack.pop();
            ra = result?;
        }
        if let Some(key) = shared_key {
            if let Some(c) = cfg.as_ref() {
                remember(&self.configs, &key, c.clone());
            }
            remember(&self.shared, &key, Arc::new(ra.clone()));
        }

        self.transform(&k, &mut ra, cfg.as_deref())?;
        self.run_transformers(&k, &mut ra, stack)?;
        self.run_validators(&k, &mut ra, stack)?;
        attach_vars(&k, &mut ra)?;
        Ok(ra)
    }
}

/// Kustomize's `MergeVars`, at the end of a kustomization: its `vars` attached to the objects
/// they name, and no two vars of one name (also checked where several bases or components
/// meet).
fn attach_vars(k: &Kustomization, ra: &mut [Resource]) -> Result<(), RenderError> {
    if k.vars.is_empty() && k.resources.len() + k.components.len() < 2 {
        return Ok(());
    }
    crate::vars::attach(ra, &k.vars).map_err(|message| RenderError::Field {
        path: k.file.clone(),
        field: "vars".into(),
        message,
    })
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
    // kustomize's `appendReplaceOrMerge`: the objects whose current or any previous id is the
    // generated one (a base's generator is found by its name before the base's prefix, suffix
    // and namespace).
    let (group, version) = r.group_version();
    let (group, version, kind, name) = (
        group.to_owned(),
        version.to_owned(),
        r.kind().to_owned(),
        r.name().to_owned(),
    );
    let effective = r.effective_namespace().to_owned();
    let matches: Vec<usize> = ra
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.group_version() == (group.as_str(), version.as_str())
                && (o.kind() == kind && o.name() == name && o.effective_namespace() == effective
                    || o.prev_ids
                        .iter()
                        .any(|id| id.kind == kind && id.name == name && id.namespace == effective))
        })
        .map(|(i, _)| i)
        .collect();
    let existing = match matches.as_slice() {
        [] => None,
        [i] => Some(*i),
        _ => {
            return Err(RenderError::Build {
                path: kfile.to_path_buf(),
                message: format!(
                    "found several objects that could accept the merge of generator {}",
                    r.id()
                ),
            });
        }
    };
    match (behavior, existing) {
        ("create" | "", Some(_)) => Err(RenderError::Build {
            path: kfile.to_path_buf(),
            message: format!(
                "may not add resource with an already registered id: {} (a generator of that \
                 name exists; use behavior merge or replace)",
                r.id()
            ),
        }),
        ("create" | "", None) => add(ra, r, kfile),
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
