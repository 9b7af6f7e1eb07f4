//! The workload catalogue: one folder per workload with `workload.yaml` and minijinja templates
//! that render Kustomize bases and strategic-merge patches (the contract is `docs/templates.md`).
//!
//! Every template is compiled once when the catalogue is loaded; rendering reuses the compiled
//! templates, so the ~40,000 site patches of a 10,000-site fleet cost a few milliseconds each at
//! most. A [`Catalogue`] is `Send + Sync` and is meant to be shared by the planner's threads.
//!
//! Safety of the output rests on one rule: every `{{ expression }}` is serialised as JSON, which is
//! also a valid YAML flow scalar. An inventory string can therefore never become YAML syntax (a
//! newline and `---` in a site label stays inside one quoted scalar). The `safe` filter and
//! `{% autoescape %}` blocks, the only ways to print raw text, are refused when the catalogue is
//! loaded.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Kwargs, Serde};
use minijinja::{AutoEscape, Environment, ErrorKind, Output, State, UndefinedBehavior, Value};
use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

mod error;
mod meta;
mod template;

pub use error::CatalogueError;
use error::layout;
pub use meta::{PinnedImage, WorkloadMeta, is_dns1123_label};
use meta::{check_document, json_kind, offset_of, parse_meta, yaml_message};
use template::{find_escape_bypass, new_environment, template_error};

use crate::yaml::{block_stream_to_yaml, to_yaml};

/// The default catalogue, embedded at build time (`build.rs` rebuilds when it changes).
static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../templates");

/// How the embedded catalogue's files are named in messages: the repository path.
const BUILTIN_ROOT: &str = "templates";

/// The metadata file of every workload folder.
pub const WORKLOAD_FILE: &str = "workload.yaml";

// ---------------------------------------------------------------------------------------------
// Parts
// ---------------------------------------------------------------------------------------------

/// One template of a workload, i.e. one place the generator puts its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// `base.yaml.j2`: the workload's objects (`bases/<workload>/`).
    Base,
    /// `hardware.yaml.j2`: patches per hardware profile.
    Hardware,
    /// `backhaul.yaml.j2`: patches per backhaul profile.
    Backhaul,
    /// `region.yaml.j2`: patches per region.
    Region,
    /// `site.yaml.j2`: patches per site.
    Site,
}

impl Part {
    /// Every part, in the order the generator layers them.
    pub const ALL: [Part; 5] = [
        Part::Base,
        Part::Hardware,
        Part::Backhaul,
        Part::Region,
        Part::Site,
    ];

    /// The template file name in a workload folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Part::Base => "base.yaml.j2",
            Part::Hardware => "hardware.yaml.j2",
            Part::Backhaul => "backhaul.yaml.j2",
            Part::Region => "region.yaml.j2",
            Part::Site => "site.yaml.j2",
        }
    }

    /// The part a template file name stands for.
    pub fn from_file_name(name: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.file_name() == name)
    }

    /// The context variables this part's template sees (besides `workload`, which every template
    /// sees). Other keys of the render context are not passed, so a base cannot depend on a site
    /// by accident.
    pub fn variables(self) -> &'static [&'static str] {
        match self {
            Part::Base => &[],
            Part::Hardware => &["hardware"],
            Part::Backhaul => &["backhaul"],
            Part::Region => &["region"],
            Part::Site => &[
                "site", "hardware", "backhaul", "region", "platform", "buffer",
            ],
        }
    }

    /// Lower-case name (`base`, `hardware`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Base => "base",
            Part::Hardware => "hardware",
            Part::Backhaul => "backhaul",
            Part::Region => "region",
            Part::Site => "site",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct Workload {
    meta: WorkloadMeta,
    /// `meta.raw` converted once, as every render passes it.
    value: Value,
    /// Template names in the environment, by [`Part::index`].
    templates: [Option<String>; 5],
}

/// A loaded workload catalogue with every template compiled.
#[derive(Clone)]
pub struct Catalogue {
    root: PathBuf,
    env: Environment<'static>,
    workloads: BTreeMap<String, Workload>,
    /// See [`Catalogue::site_fingerprint`].
    site_fingerprint: [u8; 32],
}

impl fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalogue")
            .field("root", &self.root)
            .field("workloads", &self.workloads.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// [`Catalogue::site_fingerprint`] of the catalogue's files (folders and files sorted).
fn site_fingerprint(dirs: &[SourceDir]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let other_parts: Vec<&str> = Part::ALL
        .into_iter()
        .filter(|p| *p != Part::Site)
        .map(Part::file_name)
        .collect();
    let all = || {
        dirs.iter()
            .flat_map(|d| d.files.iter().map(move |(f, t)| (d, f, t)))
    };
    let literal_loads = all().all(|(_, _, text)| loads_by_literal_names(text));
    // A part's entry templates can be left out when every load names its file literally and
    // no file that stays in names it.
    let mut left_out: Vec<&str> = if literal_loads {
        other_parts.clone()
    } else {
        Vec::new()
    };
    // Until nothing moves: a left-out name that a kept file names is kept (with its files).
    while let Some(i) = left_out.iter().position(|part| {
        all().any(|(_, f, t)| f != part && !left_out.contains(&f.as_str()) && t.contains(part))
    }) {
        left_out.remove(i);
    }
    let mut h = Sha256::new();
    for (dir, file, text) in all() {
        if left_out.contains(&file.as_str()) {
            continue;
        }
        for part in [dir.name.as_bytes(), file.as_bytes(), text.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finalize().into()
}

/// Whether every `import`, `from`, `include` and `extends` tag of a template names its template
/// with a string literal (the names a file's text can be searched for).
fn loads_by_literal_names(text: &str) -> bool {
    text.match_indices("{%").all(|(at, _)| {
        let rest = text[at + 2..].trim_start_matches(['-', '+']).trim_start();
        let Some(word) = ["import", "from", "include", "extends"]
            .into_iter()
            .find(|w| {
                rest.strip_prefix(w)
                    .is_some_and(|r| r.starts_with(|c: char| c.is_whitespace()))
            })
        else {
            return true;
        };
        let arg = rest[word.len()..].trim_start();
        arg.starts_with('"') || arg.starts_with('\'')
    })
}

/// A workload folder read into memory: its name and its files (name, text), sorted.
struct SourceDir {
    name: String,
    files: Vec<(String, String)>,
}

impl Catalogue {
    /// Loads a catalogue from a folder: one sub-folder per workload. Hidden entries and files at
    /// the top level (a README) are ignored.
    pub fn load(dir: &Path) -> Result<Catalogue, CatalogueError> {
        let mut dirs = Vec::new();
        for (name, paths) in Catalogue::source_files(dir)? {
            let mut files = Vec::new();
            for file_path in paths {
                let bytes = fs::read(&file_path).map_err(|source| CatalogueError::Io {
                    path: file_path.clone(),
                    source,
                })?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| layout(file_path.clone(), "is not UTF-8 text"))?;
                let file_name = file_path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push((file_name, text));
            }
            dirs.push(SourceDir { name, files });
        }
        Catalogue::build(dir.to_path_buf(), dirs)
    }

    /// What [`Catalogue::load`] reads from `dir`: each workload folder's name (a folder, or a
    /// link to one, not hidden) with its catalogue files, both sorted. `generate` fingerprints
    /// exactly these (with the folders: an empty workload folder is a workload too).
    pub fn source_files(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, CatalogueError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CatalogueError::Io { path, source }
        };
        let mut dirs = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !path.is_dir() {
                continue;
            }
            let mut files = Vec::new();
            for file in fs::read_dir(&path).map_err(io(&path))? {
                let file = file.map_err(io(&path))?;
                let file_name = file.file_name().to_string_lossy().into_owned();
                if file_name.starts_with('.') || !is_catalogue_file(&file_name) {
                    continue;
                }
                files.push(file.path());
            }
            files.sort();
            dirs.push((name, files));
        }
        dirs.sort();
        Ok(dirs)
    }

    /// A catalogue from files already read (a git revision, for `diff`): `files` are paths
    /// relative to `root` with their bytes, exactly the files [`Catalogue::load`] would read
    /// from a folder; everything else (top-level files, deeper folders, hidden entries, other
    /// names) is ignored as `load` ignores it.
    pub fn from_files(
        root: PathBuf,
        files: Vec<(PathBuf, Vec<u8>)>,
    ) -> Result<Catalogue, CatalogueError> {
        let mut dirs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (path, bytes) in files {
            let parts: Vec<String> = path
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let [dir, file] = parts.as_slice() else {
                // Top-level files (a README) are not read by `load`; a deeper folder's files
                // are not either, but its folder is a workload folder there.
                if let [dir, _, _, ..] = parts.as_slice() {
                    dirs.entry(dir.clone()).or_default();
                }
                continue;
            };
            let files = dirs.entry(dir.clone()).or_default();
            if dir.starts_with('.') || file.starts_with('.') || !is_catalogue_file(file) {
                continue;
            }
            let text = String::from_utf8(bytes)
                .map_err(|_| layout(root.join(&path), "is not UTF-8 text"))?;
            files.push((file.clone(), text));
        }
        let dirs = dirs
            .into_iter()
            .filter(|(name, _)| !name.starts_with('.'))
            .map(|(name, files)| SourceDir { name, files })
            .collect();
        Catalogue::build(root, dirs)
    }

    /// The default catalogue of this repository's `templates/` folder, embedded in the binary.
    pub fn builtin() -> Catalogue {
        let dirs = BUILTIN
            .dirs()
            .map(|d| SourceDir {
                name: file_name_of(d.path()),
                files: d
                    .files()
                    .filter_map(|f| {
                        let name = file_name_of(f.path());
                        let text = f.contents_utf8()?;
                        is_catalogue_file(&name).then(|| (name, text.to_owned()))
                    })
                    .collect(),
            })
            .filter(|d| !d.name.starts_with('.'))
            .collect();
        match Catalogue::build(PathBuf::from(BUILTIN_ROOT), dirs) {
            Ok(catalogue) => catalogue,
            // The embedded catalogue is checked by this crate's tests; reaching this is a bug.
            Err(err) => panic!("the built-in workload catalogue is invalid: {err}"),
        }
    }

    fn build(root: PathBuf, mut dirs: Vec<SourceDir>) -> Result<Catalogue, CatalogueError> {
        dirs.sort_by(|a, b| a.name.cmp(&b.name));
        for dir in &mut dirs {
            dir.files.sort();
        }
        let site_fingerprint = site_fingerprint(&dirs);
        let mut env = new_environment();
        let mut workloads = BTreeMap::new();
        for mut dir in dirs {
            let dir_path = root.join(&dir.name);
            if !is_dns1123_label(&dir.name) {
                return Err(layout(
                    dir_path,
                    "a workload folder name must be a DNS-1123 label \
                     (lower-case letters, digits and '-', at most 63 characters)",
                ));
            }
            dir.files.sort();
            let Some((_, meta_text)) = dir.files.iter().find(|(n, _)| n == WORKLOAD_FILE) else {
                return Err(layout(dir_path, format!("missing {WORKLOAD_FILE}")));
            };
            let mut meta = parse_meta(&dir_path.join(WORKLOAD_FILE), &dir.name, meta_text)?;
            let mut templates: [Option<String>; 5] = Default::default();
            for (file, text) in &dir.files {
                if !file.ends_with(".j2") {
                    continue;
                }
                let path = dir_path.join(file);
                let part = Part::from_file_name(file);
                if part.is_none() && !file.starts_with('_') {
                    return Err(layout(
                        path,
                        format!(
                            "unknown template; a workload has {}, and helpers named _*.j2",
                            Part::ALL.map(Part::file_name).join(", ")
                        ),
                    ));
                }
                if let Some((line, what)) = find_escape_bypass(text) {
                    return Err(CatalogueError::Template {
                        path,
                        line: Some(line),
                        message: format!(
                            "{what} is not allowed: it would print raw text past the JSON \
                             escaping that keeps inventory values from becoming YAML"
                        ),
                    });
                }
                let name = format!("{}/{}", dir.name, file);
                env.add_template_owned(name.clone(), text.clone())
                    .map_err(|e| template_error(&root, &env, &e))?;
                if let Some(part) = part {
                    meta.parts.insert(part);
                    templates[part.index()] = Some(name);
                }
            }
            if templates[Part::Base.index()].is_none() {
                return Err(layout(
                    dir_path.join(Part::Base.file_name()),
                    "missing: every workload needs a base template",
                ));
            }
            let value = Value::from(Serde(&meta.raw));
            workloads.insert(
                dir.name.clone(),
                Workload {
                    meta,
                    value,
                    templates,
                },
            );
        }
        if workloads.is_empty() {
            return Err(layout(
                root,
                "the catalogue has no workload (expected one folder per workload, each with \
                 workload.yaml and base.yaml.j2)",
            ));
        }
        Ok(Catalogue {
            root,
            env,
            workloads,
            site_fingerprint,
        })
    }

    /// A digest of every file a site template can read: all the catalogue's files except the
    /// base and component templates (`base.yaml.j2`, `hardware.yaml.j2`, …) that no other file
    /// names. Two catalogues with the same digest render every site template alike for the same
    /// context, so a plan of another revision can reuse a site's overlay (see
    /// [`crate::plan::plan_reusing`]). When some template loads another by a computed name, no
    /// file is left out.
    pub fn site_fingerprint(&self) -> [u8; 32] {
        self.site_fingerprint
    }

    /// The folder the catalogue was loaded from (`templates` for the built-in one).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The workloads, in name order.
    pub fn workloads(&self) -> impl ExactSizeIterator<Item = &WorkloadMeta> + '_ {
        self.workloads.values().map(|w| &w.meta)
    }

    /// One workload by name.
    pub fn get(&self, name: &str) -> Option<&WorkloadMeta> {
        self.workloads.get(name).map(|w| &w.meta)
    }

    /// The file a workload's part is rendered from (whether or not it exists).
    pub fn template_path(&self, workload: &str, part: Part) -> PathBuf {
        self.root.join(workload).join(part.file_name())
    }

    /// Renders one part of a workload and parses it: the YAML documents, empty ones dropped.
    ///
    /// `ctx` is an object holding the variables of `docs/templates.md` (`site`, `hardware`,
    /// `backhaul`, `region`, `buffer`); only those the part may see are passed, and `workload`
    /// always comes from the catalogue. A workload without this part renders to nothing.
    pub fn render(
        &self,
        workload: &str,
        part: Part,
        ctx: &serde_json::Value,
    ) -> Result<Vec<serde_json::Value>, CatalogueError> {
        self.render_vars(workload, part, &RenderVars::from_json(ctx))
    }

    /// [`Catalogue::render`] with the context already converted (see [`RenderVars`]).
    pub fn render_vars(
        &self,
        workload: &str,
        part: Part,
        ctx: &RenderVars,
    ) -> Result<Vec<serde_json::Value>, CatalogueError> {
        let Some(text) = self.render_text_vars(workload, part, ctx)? else {
            return Ok(Vec::new());
        };
        self.documents(workload, part, ctx, &text)
    }

    /// [`Catalogue::render_vars`] with each document written as YAML ([`to_yaml`]): the
    /// same text, but rendered text the fast reader's first tier takes whole is written as
    /// it is read, without building its values (most site patches).
    pub fn render_vars_yaml(
        &self,
        workload: &str,
        part: Part,
        ctx: &RenderVars,
    ) -> Result<Vec<String>, CatalogueError> {
        let Some(text) = self.render_text_vars(workload, part, ctx)? else {
            return Ok(Vec::new());
        };
        if let Some(docs) = block_stream_to_yaml(&text)
            && docs.iter().all(|(_, head)| check_document(head).is_ok())
        {
            return Ok(docs.into_iter().map(|(yaml, _)| yaml).collect());
        }
        // Anything else (and every error, worded as `render_vars` words it) the usual way.
        let docs = self.documents(workload, part, ctx, &text)?;
        Ok(docs.iter().map(to_yaml).collect())
    }

    /// The documents of `text`, rendered from `workload`'s `part` with `ctx`.
    fn documents(
        &self,
        workload: &str,
        part: Part,
        ctx: &RenderVars,
        text: &str,
    ) -> Result<Vec<serde_json::Value>, CatalogueError> {
        let docs = match kube_basics::fastyaml::parse_stream(text) {
            Some(docs) => docs,
            None => parse_rendered(text).map_err(|err| {
                let path = self.template_path(workload, part);
                self.yaml_error(workload, part, ctx, path, text, &err)
            })?,
        };
        for (i, doc) in docs.iter().enumerate() {
            check_document(doc).map_err(|message| CatalogueError::Document {
                path: self.template_path(workload, part),
                document: i + 1,
                message,
            })?;
        }
        Ok(docs)
    }

    /// Renders one part to text without parsing it; `None` when the workload lacks the part.
    pub fn render_text(
        &self,
        workload: &str,
        part: Part,
        ctx: &serde_json::Value,
    ) -> Result<Option<String>, CatalogueError> {
        self.render_text_vars(workload, part, &RenderVars::from_json(ctx))
    }

    fn render_text_vars(
        &self,
        workload: &str,
        part: Part,
        ctx: &RenderVars,
    ) -> Result<Option<String>, CatalogueError> {
        let (tmpl_name, vars) = self.prepare(workload, part, ctx)?;
        let Some(tmpl_name) = tmpl_name else {
            return Ok(None);
        };
        let tmpl = self
            .env
            .get_template(tmpl_name)
            .map_err(|e| template_error(&self.root, &self.env, &e))?;
        tmpl.render(vars).map(Some).map_err(|e| {
            let mut err = template_error(&self.root, &self.env, &e);
            // An error inside an imported helper: say which template called it.
            if let CatalogueError::Template { message, .. } = &mut err
                && e.name() != Some(tmpl_name)
            {
                let caller = self.root.join(tmpl_name);
                message.push_str(&format!(" (rendering {})", caller.display()));
            }
            err
        })
    }

    fn prepare<'a>(
        &'a self,
        workload: &str,
        part: Part,
        ctx: &RenderVars,
    ) -> Result<(Option<&'a str>, Value), CatalogueError> {
        let Some(w) = self.workloads.get(workload) else {
            return Err(CatalogueError::UnknownWorkload {
                name: workload.to_owned(),
                known: self
                    .workloads
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        if let Some(kind) = ctx.not_object {
            return Err(CatalogueError::Context(kind));
        }
        let Some(name) = w.templates[part.index()].as_deref() else {
            return Ok((None, Value::UNDEFINED));
        };
        // Static names: the map is the render's root object as it is (a map of other keys
        // would be copied into one of shared strings first).
        let mut vars: BTreeMap<&'static str, Value> = BTreeMap::new();
        vars.insert("workload", w.value.clone());
        for &var in part.variables() {
            if let Some(v) = ctx.vars.get(var) {
                vars.insert(var, v.clone());
            }
        }
        Ok((Some(name), Value::from_object(vars)))
    }

    /// Turns a YAML error in rendered text into one that points at the template line that
    /// produced the offending text (found by rendering again with output spans; errors are rare,
    /// so the normal path does not pay for span tracking).
    fn yaml_error(
        &self,
        workload: &str,
        part: Part,
        ctx: &RenderVars,
        path: PathBuf,
        text: &str,
        err: &serde_saphyr::Error,
    ) -> CatalogueError {
        let (output_line, column) = err
            .location()
            .map(|l| (l.line() as usize, l.column() as usize))
            .unwrap_or((0, 0));
        let message = yaml_message(err);
        let mut line = None;
        if output_line > 0
            && let Ok((Some(name), vars)) = self.prepare(workload, part, ctx)
            && let Ok(tmpl) = self.env.get_template(name)
            && let Ok((out, spans)) = tmpl.render_with_spans(vars)
            && out == text
        {
            let offset = offset_of(text, output_line, column);
            line = spans
                .iter()
                .find(|s| s.output_range().contains(&offset) && s.name() == name)
                .or_else(|| {
                    spans
                        .iter()
                        .rev()
                        .find(|s| s.output_range().start <= offset)
                })
                .map(|s| match s.kind() {
                    minijinja::OutputSpanKind::Raw => {
                        let start = s.output_range().start.min(offset);
                        s.line() + text[start..offset].matches('\n').count()
                    }
                    _ => s.line(),
                });
        }
        let snippet = text
            .lines()
            .nth(output_line.saturating_sub(1))
            .map(|l| format!("\n  rendered: {}", l.trim_end()))
            .unwrap_or_default();
        CatalogueError::RenderedYaml {
            path,
            line,
            output_line,
            column,
            message: format!("{message}{snippet}"),
        }
    }
}

/// The variables of a render converted to template values once: a site's overlays share all
/// of them but `buffer`, which [`RenderVars::set`] replaces per workload.
#[derive(Clone, Default)]
pub struct RenderVars {
    vars: BTreeMap<String, Value>,
    /// What the context was when it was not an object (an error of every render).
    not_object: Option<&'static str>,
}

impl RenderVars {
    /// The variables of a JSON object (`docs/templates.md`); any other JSON value makes every
    /// render fail with [`CatalogueError::Context`].
    pub fn from_json(ctx: &serde_json::Value) -> RenderVars {
        match ctx.as_object() {
            Some(map) => RenderVars {
                vars: map
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(Serde(v))))
                    .collect(),
                not_object: None,
            },
            None => RenderVars {
                vars: BTreeMap::new(),
                not_object: Some(json_kind(ctx)),
            },
        }
    }

    /// Sets (or replaces) one variable.
    pub fn set(&mut self, name: &str, value: &serde_json::Value) {
        self.vars.insert(name.to_owned(), Value::from(Serde(value)));
    }

    /// Sets (or replaces) one variable with a value converted before ([`RenderVars::value`]):
    /// what many renders share (a profile's context) is converted once.
    pub fn set_value(&mut self, name: &str, value: TemplateValue) {
        self.vars.insert(name.to_owned(), value.0);
    }

    /// A JSON value converted for the templates, as [`RenderVars::set`] converts it.
    pub fn value(value: &serde_json::Value) -> TemplateValue {
        TemplateValue(Value::from(Serde(value)))
    }
}

/// A JSON value converted for the templates once ([`RenderVars::value`]); cloning it is cheap.
#[derive(Clone, Debug)]
pub struct TemplateValue(Value);

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Files a workload folder may hold that the catalogue reads (others, like a README, are ignored).
fn is_catalogue_file(name: &str) -> bool {
    name == WORKLOAD_FILE || name.ends_with(".j2")
}

/// The reference reading of rendered text: YAML 1.2 booleans, as Kustomize reads the files the
/// generator writes (`on` stays a string).
pub fn parse_rendered(text: &str) -> Result<Vec<serde_json::Value>, serde_saphyr::Error> {
    serde_saphyr::from_multiple_with_options(text, serde_saphyr::options! { strict_booleans: true })
}

#[cfg(test)]
mod tests {
    use super::template::json_text;
    use super::*;

    #[test]
    fn bypass_detection() {
        assert_eq!(
            find_escape_bypass("a: {{ x | safe }}"),
            Some((1, "the safe filter"))
        );
        assert_eq!(
            find_escape_bypass("a: 1\nb: {{ x|upper|safe }}"),
            Some((2, "the safe filter"))
        );
        assert_eq!(
            find_escape_bypass("{%- filter safe %}x{% endfilter %}"),
            Some((1, "the safe filter"))
        );
        assert_eq!(
            find_escape_bypass("\n\n{% autoescape false %}{{ x }}{% endautoescape %}"),
            Some((3, "an {% autoescape %} block"))
        );
        assert_eq!(
            find_escape_bypass("{% set y = x | safe %}"),
            Some((1, "the safe filter"))
        );
        // Not a use of the filter: strings, comments, raw blocks, names that merely contain it.
        assert_eq!(find_escape_bypass("a: {{ '| safe' }} {# x | safe #}"), None);
        assert_eq!(
            find_escape_bypass("{% raw %}{{ x | safe }}{% endraw %}{{ safe_mode }}"),
            None
        );
        assert_eq!(
            find_escape_bypass("{{ {'a': {'b': 1}} }} {{ x | safe_name }}"),
            None
        );
        assert_eq!(
            find_escape_bypass("{{ {'a': {'b': 1}} | safe }}"),
            Some((1, "the safe filter"))
        );
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns1123_label("telemetry-collector"));
        assert!(is_dns1123_label("a1"));
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad:?}");
        }
    }

    #[test]
    fn yaml_safe_escapes_what_yaml_rejects() {
        let v = Value::from("a\u{85}b\u{2028}c\u{7f}é😀");
        assert_eq!(json_text(&v).unwrap(), "\"a\\u0085b\\u2028c\\u007fé😀\"");
    }

    #[test]
    fn offsets() {
        let t = "ab\ncdé\nf";
        assert_eq!(offset_of(t, 1, 1), 0);
        assert_eq!(offset_of(t, 2, 3), 5);
        assert_eq!(offset_of(t, 3, 1), 8);
    }
}
