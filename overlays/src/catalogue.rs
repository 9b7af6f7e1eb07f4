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
// Workload metadata
// ---------------------------------------------------------------------------------------------

/// A container image pinned by digest, as listed under `images:` in `workload.yaml` (its
/// [`reference`](Self::reference) parses as a [`kube_basics::image::ImageRef`] with a digest and
/// no tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedImage {
    /// Repository, e.g. `registry.example.com/otel/opentelemetry-collector-contrib`.
    pub name: String,
    /// `sha256:<64 hex>`.
    pub digest: String,
    /// The release the digest was taken from (informational).
    pub version: Option<String>,
}

impl PinnedImage {
    /// `name@digest`, the reference containers use.
    pub fn reference(&self) -> String {
        format!("{}@{}", self.name, self.digest)
    }
}

/// A workload's `workload.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadMeta {
    /// The folder name; a DNS-1123 label.
    pub name: String,
    pub description: String,
    /// Namespace the workload runs in (the Application's destination); a DNS-1123 label.
    pub namespace: String,
    /// Default upstream data rate while connected; `None` for a workload that sends nothing.
    pub upstream_kbps: Option<u64>,
    /// Share of the site's backhaul bandwidth the workload may use.
    pub link_share: Option<f64>,
    /// Share of the site's ephemeral storage its outage buffer may use.
    pub buffer_disk_share: Option<f64>,
    /// Smallest buffer worth having, in MiB.
    pub buffer_min_mib: Option<u64>,
    /// Images by role (`collector`, `broker`, ...), all pinned by digest.
    pub images: BTreeMap<String, PinnedImage>,
    /// The templates the workload has (always contains [`Part::Base`]).
    pub parts: BTreeSet<Part>,
    /// Runs only at sites that list it under `workloads:` (a workload that needs a Wasm runtime
    /// or a TEE), never at sites that take the whole catalogue.
    pub opt_in: bool,
    /// The whole mapping, including free-form keys: the `workload` variable of every template.
    pub raw: serde_json::Value,
}

impl WorkloadMeta {
    /// What the workload sends upstream, for [`edgefleet_inventory::OutageBuffer::compute`];
    /// `None` when it sends nothing (the buffer is then disabled).
    pub fn upstream_demand(&self) -> Option<edgefleet_inventory::UpstreamDemand> {
        Some(edgefleet_inventory::UpstreamDemand {
            upstream_kbps: self.upstream_kbps?,
            link_share: self.link_share?,
            buffer_disk_share: self.buffer_disk_share?,
            buffer_min_mib: self.buffer_min_mib?,
        })
    }

    /// Whether the workload has a template for `part`.
    pub fn has_part(&self, part: Part) -> bool {
        self.parts.contains(&part)
    }
}

/// `workload.yaml` as written, with positions for the checks serde cannot do.
#[derive(Deserialize)]
struct MetaFile {
    name: Spanned<String>,
    description: String,
    namespace: Spanned<String>,
    #[serde(default)]
    upstream_kbps: Option<Spanned<u64>>,
    #[serde(default)]
    link_share: Option<Spanned<f64>>,
    #[serde(default)]
    buffer_disk_share: Option<Spanned<f64>>,
    #[serde(default)]
    buffer_min_mib: Option<u64>,
    #[serde(default)]
    images: BTreeMap<String, ImageFile>,
    #[serde(default)]
    opt_in: bool,
    // Other keys are free-form data for the templates (they reach them through `workload`).
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageFile {
    name: Spanned<String>,
    digest: Spanned<String>,
    #[serde(default)]
    version: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

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

fn at(path: &Path, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", path.display()),
        (Some(l), None) => format!("{}:{l}", path.display()),
        _ => path.display().to_string(),
    }
}

fn layout(path: PathBuf, message: impl Into<String>) -> CatalogueError {
    CatalogueError::Layout {
        path,
        message: message.into(),
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
}

impl fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalogue")
            .field("root", &self.root)
            .field("workloads", &self.workloads.keys().collect::<Vec<_>>())
            .finish()
    }
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
                let file_path = file.path();
                let file_name = file.file_name().to_string_lossy().into_owned();
                if file_name.starts_with('.') || !is_catalogue_file(&file_name) {
                    continue;
                }
                let bytes = fs::read(&file_path).map_err(io(&file_path))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| layout(file_path.clone(), "is not UTF-8 text"))?;
                files.push((file_name, text));
            }
            dirs.push(SourceDir { name, files });
        }
        Catalogue::build(dir.to_path_buf(), dirs)
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
        })
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
        let Some(text) = self.render_text(workload, part, ctx)? else {
            return Ok(Vec::new());
        };
        let docs = match kube_basics::fastyaml::parse_stream(&text) {
            Some(docs) => docs,
            None => parse_rendered(&text).map_err(|err| {
                let path = self.template_path(workload, part);
                self.yaml_error(workload, part, ctx, path, &text, &err)
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
        ctx: &serde_json::Value,
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
        let Some(ctx) = ctx.as_object() else {
            return Err(CatalogueError::Context(json_kind(ctx)));
        };
        let Some(name) = w.templates[part.index()].as_deref() else {
            return Ok((None, Value::UNDEFINED));
        };
        let mut vars: BTreeMap<&str, Value> = BTreeMap::new();
        vars.insert("workload", w.value.clone());
        for var in part.variables() {
            if let Some(v) = ctx.get(*var) {
                vars.insert(var, Value::from(Serde(v)));
            }
        }
        Ok((Some(name), Value::from(vars)))
    }

    /// Turns a YAML error in rendered text into one that points at the template line that
    /// produced the offending text (found by rendering again with output spans; errors are rare,
    /// so the normal path does not pay for span tracking).
    fn yaml_error(
        &self,
        workload: &str,
        part: Part,
        ctx: &serde_json::Value,
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

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Files a workload folder may hold that the catalogue reads (others, like a README, are ignored).
fn is_catalogue_file(name: &str) -> bool {
    name == WORKLOAD_FILE || name.ends_with(".j2")
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a sequence",
        serde_json::Value::Object(_) => "a mapping",
    }
}

/// Byte offset of a 1-based line and column (in characters) in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let rest = &text[line_start..];
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

/// A serde-saphyr error's message without its location and snippet (we print our own).
fn yaml_message(err: &serde_saphyr::Error) -> String {
    let mut options = serde_saphyr::RenderOptions::default();
    options.snippets = serde_saphyr::SnippetMode::Off;
    let text = err.render_with_options(options);
    let first = text.lines().next().unwrap_or_default().trim();
    // "message at line L, column C" → "message"
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

/// A rendered document must be a mapping naming an object by apiVersion, kind and metadata.name
/// (a base object, or the target of a strategic-merge patch).
fn check_document(doc: &serde_json::Value) -> Result<(), String> {
    let Some(obj) = doc.as_object() else {
        return Err(format!(
            "is {}, not a mapping (a Kubernetes object or patch)",
            json_kind(doc)
        ));
    };
    for key in ["apiVersion", "kind"] {
        match obj.get(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err(format!("{key} must be a non-empty string")),
            None => return Err(format!("has no {key}")),
        }
    }
    match obj.get("metadata").and_then(|m| m.get("name")) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(()),
        Some(_) => Err("metadata.name must be a non-empty string".into()),
        None => Err("has no metadata.name".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// workload.yaml
// ---------------------------------------------------------------------------------------------

fn parse_meta(path: &Path, folder: &str, text: &str) -> Result<WorkloadMeta, CatalogueError> {
    let yaml_err = |err: serde_saphyr::Error| {
        let (line, column) = err
            .location()
            .map(|l| (l.line() as usize, l.column() as usize))
            .unwrap_or((1, 1));
        CatalogueError::Metadata {
            path: path.to_path_buf(),
            line,
            column,
            message: yaml_message(&err),
        }
    };
    let at = |loc: &serde_saphyr::Location, message: String| CatalogueError::Metadata {
        path: path.to_path_buf(),
        line: loc.line() as usize,
        column: loc.column() as usize,
        message,
    };
    let raw: serde_json::Value = serde_saphyr::from_str(text).map_err(yaml_err)?;
    if !raw.is_object() {
        return Err(CatalogueError::Metadata {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("must be a mapping, not {}", json_kind(&raw)),
        });
    }
    let file: MetaFile = serde_saphyr::from_str(text).map_err(yaml_err)?;
    if !is_dns1123_label(&file.name.value) {
        return Err(at(
            &file.name.referenced,
            format!("name {:?} is not a DNS-1123 label", file.name.value),
        ));
    }
    if file.name.value != folder {
        return Err(at(
            &file.name.referenced,
            format!(
                "name {:?} must equal the folder name {folder:?}",
                file.name.value
            ),
        ));
    }
    if !is_dns1123_label(&file.namespace.value) {
        return Err(at(
            &file.namespace.referenced,
            format!(
                "namespace {:?} is not a DNS-1123 label",
                file.namespace.value
            ),
        ));
    }
    for share in [&file.link_share, &file.buffer_disk_share]
        .into_iter()
        .flatten()
    {
        if !(share.value > 0.0 && share.value <= 1.0) {
            return Err(at(
                &share.referenced,
                format!("a share must be in (0, 1], got {}", share.value),
            ));
        }
    }
    if let Some(up) = &file.upstream_kbps
        && (file.link_share.is_none()
            || file.buffer_disk_share.is_none()
            || file.buffer_min_mib.is_none())
    {
        return Err(at(
            &up.referenced,
            "a workload that declares upstream_kbps also needs link_share, buffer_disk_share \
             and buffer_min_mib to size its outage buffer"
                .into(),
        ));
    }
    let mut images = BTreeMap::new();
    for (role, image) in file.images {
        if image.name.value.is_empty()
            || image.name.value.contains(['@', ' '])
            || kube_basics::image::ImageRef::parse(&image.name.value)
                .tag
                .is_some()
        {
            return Err(at(
                &image.name.referenced,
                format!(
                    "image {role}: name {:?} must be a repository without tag or digest",
                    image.name.value
                ),
            ));
        }
        if !is_sha256_digest(&image.digest.value) {
            return Err(at(
                &image.digest.referenced,
                format!(
                    "image {role}: digest {:?} must be sha256: followed by 64 lower-case hex digits",
                    image.digest.value
                ),
            ));
        }
        images.insert(
            role,
            PinnedImage {
                name: image.name.value,
                digest: image.digest.value,
                version: image.version,
            },
        );
    }
    Ok(WorkloadMeta {
        name: file.name.value,
        description: file.description,
        namespace: file.namespace.value,
        upstream_kbps: file.upstream_kbps.map(|s| s.value),
        link_share: file.link_share.map(|s| s.value),
        buffer_disk_share: file.buffer_disk_share.map(|s| s.value),
        buffer_min_mib: file.buffer_min_mib,
        images,
        parts: BTreeSet::new(),
        opt_in: file.opt_in,
        raw,
    })
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    })
}

// ---------------------------------------------------------------------------------------------
// The template environment
// ---------------------------------------------------------------------------------------------

fn new_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Every expression of every template is printed as JSON, whatever the file is called.
    env.set_auto_escape_callback(|_| AutoEscape::Json);
    env.set_formatter(format_value);
    // Block tags on lines of their own leave no blank lines or stray indentation in the YAML.
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are valid");
    env.set_syntax(syntax);
    // `{% import "_x.j2" %}` finds helpers next to the importing template.
    env.set_path_join_callback(|name, parent| match parent.rsplit_once('/') {
        Some((dir, _)) if !name.contains('/') => Cow::Owned(format!("{dir}/{name}")),
        _ => Cow::Borrowed(name),
    });
    env.add_filter("safe", forbidden_safe);
    env.add_filter("escape", escape_json);
    env.add_filter("e", escape_json);
    env.add_filter("tojson", tojson_yaml);
    env.add_filter("toyaml", toyaml);
    env.add_filter("sha256", sha256_hex);
    env.add_function("fail", fail);
    env
}

fn template_error(root: &Path, env: &Environment<'_>, err: &minijinja::Error) -> CatalogueError {
    let name = err.name().unwrap_or_default();
    let mut message = err.kind().to_string();
    if let Some(detail) = err.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    // Quote the failing expression unless the detail already does.
    if let (Some(range), Ok(tmpl)) = (err.range(), env.get_template(name))
        && let Some(expr) = tmpl.source().get(range).map(str::trim)
        && !expr.is_empty()
        && expr.len() <= 200
        && !message.contains(&format!("`{expr}`"))
    {
        message.push_str(&format!(" (in `{expr}`)"));
    }
    // An error inside an imported helper is reported where it happened; say who called it.
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        if let Some(inner) = inner.downcast_ref::<minijinja::Error>() {
            message.push_str(&format!("; caused by: {inner}"));
        }
        source = inner.source();
    }
    CatalogueError::Template {
        path: if name.is_empty() {
            root.to_path_buf()
        } else {
            root.join(name)
        },
        line: err.line(),
        message,
    }
}

/// Prints `{{ expression }}` values as YAML-safe JSON (see [`json_text`]). Safe strings (output
/// of macros, `tojson`, captured blocks) were escaped when they were built and pass unchanged.
fn format_value(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if value.is_safe() || !matches!(state.auto_escape(), AutoEscape::Json) {
        return minijinja::escape_formatter(out, state, value);
    }
    out.write_str(&json_text(value)?)
        .map_err(minijinja::Error::from)
}

/// A value as compact JSON that is also a valid YAML 1.2 flow scalar: JSON already escapes the
/// C0 controls, and we also escape the characters YAML forbids in a document or YAML 1.1 reads as
/// line breaks (DEL, C1 controls, U+2028/U+2029, BOM, U+FFFE/U+FFFF). Those only occur inside
/// string literals in JSON, where `\uXXXX` means the same character.
fn json_text(value: &Value) -> Result<String, minijinja::Error> {
    let text = serde_json::to_string(value).map_err(|e| {
        minijinja::Error::new(ErrorKind::BadSerialization, "cannot print value as JSON")
            .with_source(e)
    })?;
    Ok(yaml_safe(text))
}

fn yaml_safe(text: String) -> String {
    fn bad(c: char) -> bool {
        matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
    }
    if !text.bytes().any(|b| b >= 0x7f) || !text.contains(bad) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn forbidden_safe(_value: Value) -> Result<Value, minijinja::Error> {
    Err(minijinja::Error::new(
        ErrorKind::InvalidOperation,
        "the safe filter is not allowed: every value is printed as JSON so that it stays a value",
    ))
}

fn escape_json(value: &Value) -> Result<Value, minijinja::Error> {
    if value.is_safe() {
        return Ok(value.clone());
    }
    Ok(Value::from_safe_string(json_text(value)?))
}

fn tojson_yaml(
    value: &Value,
    indent: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, minijinja::Error> {
    let json = minijinja::filters::tojson(value, indent, kwargs)?;
    Ok(Value::from_safe_string(yaml_safe(
        json.as_str().unwrap_or_default().to_owned(),
    )))
}

/// `{{ config | toyaml }}`: a value serialised as a YAML document, returned as plain text so that
/// it is printed as one quoted string (the content of a config file in a ConfigMap).
fn toyaml(value: &Value) -> Result<String, minijinja::Error> {
    serde_saphyr::to_string(value).map_err(|e| {
        minijinja::Error::new(
            ErrorKind::BadSerialization,
            "cannot serialise value as YAML",
        )
        .with_source(e)
    })
}

/// `{{ x | sha256 }}`: lower-case hex SHA-256 of a string, or of another value's JSON. Used for
/// `checksum` annotations that restart pods when a mounted config file changes.
fn sha256_hex(value: &Value) -> Result<String, minijinja::Error> {
    let digest = match value.as_str() {
        Some(s) => Sha256::digest(s.as_bytes()),
        None => Sha256::digest(json_text(value)?.as_bytes()),
    };
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// `{{ fail("message") }}`: stops rendering with an error naming the template and line, for
/// input checks a template cannot express otherwise.
fn fail(message: String) -> Result<Value, minijinja::Error> {
    Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
}

// ---------------------------------------------------------------------------------------------
// Refusing raw output
// ---------------------------------------------------------------------------------------------

/// Finds the first construct that would print raw text past the JSON auto-escape: the `safe`
/// filter (`x | safe`, `{% filter safe %}`) or an `{% autoescape %}` block. Returns its 1-based
/// line and a description. String literals, comments and `{% raw %}` blocks are skipped.
fn find_escape_bypass(src: &str) -> Option<(usize, &'static str)> {
    let b = src.as_bytes();
    let line_of = |pos: usize| src[..pos].matches('\n').count() + 1;
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'{' {
            i += 1;
            continue;
        }
        match b[i + 1] {
            b'#' => {
                i = src[i + 2..].find("#}").map_or(b.len(), |j| i + 2 + j + 2);
            }
            b'{' | b'%' => {
                let block = b[i + 1] == b'%';
                let (end, tokens) = scan_code(src, i + 2, block);
                let mut words = tokens
                    .iter()
                    .skip_while(|t| matches!(t, Tok::Other(b'-' | b'+')));
                let first = words.next();
                if block && first == Some(&Tok::Ident("raw")) {
                    i = find_endraw(src, end);
                    continue;
                }
                if block && first == Some(&Tok::Ident("autoescape")) {
                    return Some((line_of(i), "an {% autoescape %} block"));
                }
                if block
                    && first == Some(&Tok::Ident("filter"))
                    && words.next() == Some(&Tok::Ident("safe"))
                {
                    return Some((line_of(i), "the safe filter"));
                }
                if tokens
                    .windows(2)
                    .any(|w| w[0] == Tok::Pipe && w[1] == Tok::Ident("safe"))
                {
                    return Some((line_of(i), "the safe filter"));
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    None
}

#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Ident(&'a str),
    Pipe,
    Other(u8),
}

/// Tokenises the code of a `{{ }}` (or `{% %}` when `block`) tag starting at `start`; returns
/// the offset just past the closing delimiter and the tokens (strings are dropped).
fn scan_code(src: &str, start: usize, block: bool) -> (usize, Vec<Tok<'_>>) {
    let b = src.as_bytes();
    let mut tokens = Vec::new();
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'%' if block && b.get(i + 1) == Some(&b'}') => return (i + 2, tokens),
            b'}' if !block && depth == 0 && b.get(i + 1) == Some(&b'}') => return (i + 2, tokens),
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b'|' => {
                tokens.push(Tok::Pipe);
                i += 1;
                continue;
            }
            _ => {}
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            tokens.push(Tok::Ident(&src[s..i]));
            continue;
        }
        if !c.is_ascii_whitespace() {
            tokens.push(Tok::Other(c));
        }
        i += 1;
    }
    (b.len(), tokens)
}

/// Offset just past the `{% endraw %}` tag after `from` (or the end of the text).
fn find_endraw(src: &str, from: usize) -> usize {
    let mut i = from;
    while let Some(j) = src[i..].find("{%") {
        let start = i + j;
        let (end, tokens) = scan_code(src, start + 2, true);
        let mut words = tokens
            .iter()
            .skip_while(|t| matches!(t, Tok::Other(b'-' | b'+')));
        if words.next() == Some(&Tok::Ident("endraw")) {
            return end;
        }
        i = start + 2;
    }
    src.len()
}

/// The reference reading of rendered text: YAML 1.2 booleans, as Kustomize reads the files the
/// generator writes (`on` stays a string).
pub fn parse_rendered(text: &str) -> Result<Vec<serde_json::Value>, serde_saphyr::Error> {
    serde_saphyr::from_multiple_with_options(text, serde_saphyr::options! { strict_booleans: true })
}

#[cfg(test)]
mod tests {
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
