//! ApplicationSets of a generated tree: which sites each one targets, and the Applications it
//! expands to, offline. One implementation for `lint --fleet` (which ApplicationSets deploy a
//! site's overlay) and `appset preview` (what the controller would generate).
//!
//! Supported: the git files generator (its `files` globs, as the controller's globbing reads
//! them: `*`, `?`, `[..]` and `{a,b}` stay within a path segment, `**` spans segments) with a
//! post-selector (`matchLabels` and `matchExpressions` over the top-level string parameters of
//! `site.json`), and goTemplate `{{.a.b}}` lookups with `missingkey=error`. Anything else is
//! refused by [`AppSet::expand`] rather than guessed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use edgefleet_overlays::layout;
use edgefleet_overlays::site_json::SiteJson;
use kube_basics::selector::LabelSelector;
use kustomize::fs::FileSystem;
use serde_json::{Map, Value, json};

use crate::tree::TreeError;

/// One git files generator: the globs it reads and its post-selector.
#[derive(Debug, Clone)]
pub struct GitFiles {
    /// The `files[].path` globs, as written (repository paths).
    pub patterns: Vec<String>,
    matchers: Vec<globset::GlobMatcher>,
    pub selector: LabelSelector,
}

impl GitFiles {
    /// Whether the generator produces parameters from the file at `repo_path` holding `params`.
    pub fn selects(&self, repo_path: &str, params: &SiteJson) -> bool {
        self.matchers.iter().any(|m| m.is_match(repo_path))
            && selector_selects(&self.selector, params)
    }
}

/// A generator as read: the git files generator, or one this module does not expand.
#[derive(Debug, Clone)]
pub enum Generator {
    GitFiles(GitFiles),
    /// Another generator (list, clusters, matrix...) or a git directories generator: named, so
    /// the preview can refuse it; it targets no site.
    Unsupported(String),
}

/// An ApplicationSet as edgefleet reads it.
#[derive(Debug, Clone)]
pub struct AppSet {
    pub name: String,
    pub namespace: Option<String>,
    pub go_template: bool,
    pub generators: Vec<Generator>,
    /// `spec.template` as written.
    pub template: Value,
}

impl AppSet {
    /// Reads an ApplicationSet object (already parsed from YAML).
    pub fn from_value(v: &Value) -> Result<AppSet, String> {
        if v.get("kind").and_then(Value::as_str) != Some("ApplicationSet") {
            return Err("not an ApplicationSet (`kind` is not `ApplicationSet`)".into());
        }
        let spec = v.get("spec").ok_or("ApplicationSet has no spec")?;
        let template = spec
            .get("template")
            .cloned()
            .ok_or("ApplicationSet has no template")?;
        let list = spec
            .get("generators")
            .and_then(Value::as_array)
            .ok_or("ApplicationSet has no generators")?;
        let mut generators = Vec::new();
        for (i, g) in list.iter().enumerate() {
            generators.push(generator(g).map_err(|e| format!("spec.generators[{i}]: {e}"))?);
        }
        let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
        Ok(AppSet {
            name: text("/metadata/name").unwrap_or_default(),
            namespace: text("/metadata/namespace"),
            go_template: spec.get("goTemplate") == Some(&Value::Bool(true)),
            generators,
            template,
        })
    }

    /// The overlay folder its Applications deploy: the last segment of the template's source
    /// path when it is literal (`{{.path.path}}/telemetry-collector`).
    pub fn overlay(&self) -> Option<&str> {
        self.template
            .pointer("/spec/source/path")
            .and_then(Value::as_str)?
            .rsplit('/')
            .next()
            .filter(|o| !o.is_empty() && !o.contains("{{"))
    }

    /// Whether one of its git files generators picks the `site.json` at `repo_path` (a path in
    /// the repository, under the tree's prefix).
    pub fn targets(&self, repo_path: &str, params: &SiteJson) -> bool {
        self.generators.iter().any(|g| match g {
            Generator::GitFiles(f) => f.selects(repo_path, params),
            Generator::Unsupported(_) => false,
        })
    }

    /// The Applications the controller would generate from `repo`, in generator order, then
    /// file path order (as the controller lists a repository).
    pub fn expand(&self, repo: &Repo<'_>) -> Result<Vec<Value>, String> {
        if !self.go_template {
            return Err("offline preview supports goTemplate: true only".into());
        }
        let mut apps = Vec::new();
        for g in &self.generators {
            let files = match g {
                Generator::GitFiles(f) => f,
                Generator::Unsupported(what) => {
                    return Err(format!(
                        "offline preview supports the git files generator only, not {what}"
                    ));
                }
            };
            for (path, params) in repo.matching(files).map_err(|e| e.to_string())? {
                let mut map: Map<String, Value> = params
                    .params()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                map.insert("path".into(), path_params(&path));
                let mut app = render_template(&self.template, &Value::Object(map))?;
                if let Value::Object(m) = &mut app {
                    let mut head = Map::new();
                    head.insert("apiVersion".into(), "argoproj.io/v1alpha1".into());
                    head.insert("kind".into(), "Application".into());
                    head.extend(std::mem::take(m));
                    *m = head;
                    if let Some(ns) = &self.namespace {
                        m["metadata"]["namespace"] = Value::String(ns.clone());
                    }
                }
                apps.push(app);
            }
        }
        Ok(apps)
    }
}

fn generator(g: &Value) -> Result<Generator, String> {
    let Some(git) = g.get("git") else {
        let kind = g
            .as_object()
            .and_then(|m| m.keys().find(|k| *k != "selector" && *k != "values"))
            .map_or("an empty generator".to_owned(), |k| {
                format!("the `{k}` generator")
            });
        return Ok(Generator::Unsupported(kind));
    };
    let Some(files) = git.get("files").and_then(Value::as_array) else {
        return Ok(Generator::Unsupported(
            "the git directories generator (no `files`)".into(),
        ));
    };
    let mut patterns = Vec::new();
    let mut matchers = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let pattern = f
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("git.files[{i}] has no path"))?;
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("git.files[{i}].path: {e}"))?;
        patterns.push(pattern.to_owned());
        matchers.push(glob.compile_matcher());
    }
    let selector = match g.get("selector") {
        Some(s) => LabelSelector::from_value(s).map_err(|e| format!("selector: {e}"))?,
        None => LabelSelector::default(),
    };
    Ok(Generator::GitFiles(GitFiles {
        patterns,
        matchers,
        selector,
    }))
}

/// Post-selectors see the top-level string parameters of the file.
fn selector_selects(selector: &LabelSelector, params: &SiteJson) -> bool {
    selector.matches_with(&|k| params.param(k))
}

/// Which ApplicationSets deploy each overlay of a site, answered without trying every
/// ApplicationSet on every site: a fleet has ApplicationSets in proportion to its sites (one per
/// workload, region and shard), so trying each one's globs per site made `lint --fleet`
/// quadratic in the number of sites. The globs of all git files generators are matched at once
/// (one set of distinct patterns), and a generator whose post-selector requires a label value
/// (`matchLabels`, or `In` in `matchExpressions`) is only tried on sites with that value.
pub struct Deployers<'a> {
    appsets: &'a [AppSet],
    /// Every distinct `files[].path` glob of every git files generator.
    globs: globset::GlobSet,
    /// One entry per git files generator: its ApplicationSet (index), its globs (indices into
    /// `globs`) and its post-selector.
    generators: Vec<(usize, Vec<usize>, &'a LabelSelector)>,
    /// Generators by the first `In` requirement of their selector: key → value → generators.
    by_label: BTreeMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    /// Generators whose selector requires no label value: tried on every site.
    everywhere: Vec<usize>,
}

impl<'a> Deployers<'a> {
    pub fn new(appsets: &'a [AppSet]) -> Deployers<'a> {
        let mut patterns: HashMap<&str, usize> = HashMap::new();
        let mut builder = globset::GlobSetBuilder::new();
        let mut generators = Vec::new();
        let mut by_label: BTreeMap<&str, HashMap<&str, Vec<usize>>> = BTreeMap::new();
        let mut everywhere = Vec::new();
        for (a, appset) in appsets.iter().enumerate() {
            for g in &appset.generators {
                let Generator::GitFiles(files) = g else {
                    continue;
                };
                let mut globs = Vec::new();
                for (pattern, matcher) in files.patterns.iter().zip(&files.matchers) {
                    let next = patterns.len();
                    let i = *patterns.entry(pattern.as_str()).or_insert_with(|| {
                        builder.add(matcher.glob().clone());
                        next
                    });
                    globs.push(i);
                }
                let index = generators.len();
                generators.push((a, globs, &files.selector));
                let required = files.selector.requirements.iter().find_map(|r| match r {
                    kube_basics::selector::Requirement::In(k, vs) => Some((k, vs)),
                    _ => None,
                });
                match required {
                    Some((key, values)) => {
                        let by_value = by_label.entry(key.as_str()).or_default();
                        for v in values {
                            let list = by_value.entry(v.as_str()).or_default();
                            if list.last() != Some(&index) {
                                list.push(index);
                            }
                        }
                    }
                    None => everywhere.push(index),
                }
            }
        }
        // Every glob was built before (`generator`), so the set builds; an empty set matches
        // nothing, as no generator would.
        let globs = builder
            .build()
            .unwrap_or_else(|_| globset::GlobSet::empty());
        Deployers {
            appsets,
            globs,
            generators,
            by_label,
            everywhere,
        }
    }

    /// Overlay folder name → the names of the ApplicationSets whose generators select the
    /// site's `site.json` and whose template points at that overlay, in the order of the
    /// ApplicationSets given to [`Deployers::new`].
    pub fn deploying(
        &self,
        repo: &Repo<'_>,
        site: &crate::tree::SiteDir,
    ) -> BTreeMap<String, Vec<String>> {
        let site_json = repo.repo_path(&site.site_json_path());
        let matched = self.globs.matches(&site_json);
        let mut selected = BTreeSet::new();
        let mut try_generator = |g: usize| {
            let (a, globs, selector) = &self.generators[g];
            if !selected.contains(a)
                && globs.iter().any(|i| matched.contains(i))
                && selector_selects(selector, &site.site_json)
            {
                selected.insert(*a);
            }
        };
        if !matched.is_empty() {
            for &g in &self.everywhere {
                try_generator(g);
            }
            for (key, by_value) in &self.by_label {
                if let Some(list) = site
                    .site_json
                    .param(key)
                    .and_then(|v| by_value.get(v.as_str()))
                {
                    for &g in list {
                        try_generator(g);
                    }
                }
            }
        }
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for a in selected {
            let appset = &self.appsets[a];
            if let Some(overlay) = appset.overlay() {
                let names = out.entry(overlay.to_owned()).or_default();
                if !names.contains(&appset.name) {
                    names.push(appset.name.clone());
                }
            }
        }
        out
    }
}

/// The ApplicationSets of the tree (`appsets/*.yaml`, `*.yml`), by file name. A file that
/// cannot be read or parsed, or a document that is not a usable ApplicationSet, is a problem
/// of its own (the others are still returned); documents of other kinds are skipped.
pub fn read_appsets(fs: &dyn FileSystem, root: &Path) -> (Vec<(PathBuf, AppSet)>, Vec<TreeError>) {
    let dir = root.join(layout::APPSETS);
    let mut found = Vec::new();
    let mut problems = Vec::new();
    if !fs.is_dir(&dir) {
        return (found, problems);
    }
    let files = match fs.read_dir(&dir) {
        Ok(f) => f,
        Err(source) => {
            problems.push(TreeError::Io { path: dir, source });
            return (found, problems);
        }
    };
    for file in files {
        let yaml = file.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !yaml || !fs.is_file(&file) {
            continue;
        }
        match read_file(fs, &file) {
            Ok(docs) => {
                for doc in docs {
                    if doc.get("kind").and_then(Value::as_str) != Some("ApplicationSet") {
                        continue;
                    }
                    match AppSet::from_value(&doc) {
                        Ok(a) => found.push((file.clone(), a)),
                        Err(message) => problems.push(TreeError::AppSet {
                            path: file.clone(),
                            message,
                        }),
                    }
                }
            }
            Err(e) => problems.push(e),
        }
    }
    (found, problems)
}

/// The YAML documents of `file`; errors name the file, line and column.
pub fn read_file(fs: &dyn FileSystem, file: &Path) -> Result<Vec<Value>, TreeError> {
    let text = fs.read_to_string(file).map_err(|source| TreeError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let docs = edgefleet_inventory::source::parse_yaml(file, &text).map_err(TreeError::Yaml)?;
    Ok(docs.iter().map(|d| d.to_json()).collect())
}

/// A generated tree as its repository sees it: the files under `root` on `fs` have the
/// repository paths `prefix` + their path under `root` (`[argocd] path_prefix`).
pub struct Repo<'a> {
    pub fs: &'a dyn FileSystem,
    pub root: PathBuf,
    /// Empty, or the tree's folder in the repository ending with `/`.
    pub prefix: String,
}

impl<'a> Repo<'a> {
    pub fn new(fs: &'a dyn FileSystem, root: &Path, prefix: &str) -> Repo<'a> {
        Repo {
            fs,
            root: root.to_path_buf(),
            prefix: layout::repo_prefix(prefix),
        }
    }

    /// The repository path of a `/`-separated path relative to the tree's root.
    pub fn repo_path(&self, relative: &str) -> String {
        format!("{}{relative}", self.prefix)
    }

    /// The files the generator picks, with their parameters, sorted by repository path. Only
    /// the folders a glob can reach are listed. A picked file that is not a valid `site.json`
    /// is an error (the controller would fail the whole ApplicationSet).
    pub fn matching(&self, files: &GitFiles) -> Result<Vec<(String, SiteJson)>, TreeError> {
        let mut paths = Vec::new();
        for (pattern, matcher) in files.patterns.iter().zip(&files.matchers) {
            let Some((start, depth)) = self.walk_start(pattern) else {
                continue;
            };
            self.walk(&start, depth, &mut |rel| {
                let path = self.repo_path(rel);
                if matcher.is_match(&path) {
                    paths.push((path, rel.to_owned()));
                }
            });
        }
        paths.sort();
        paths.dedup();
        let mut out = Vec::new();
        for (path, rel) in paths {
            let file = rel.split('/').fold(self.root.clone(), |p, s| p.join(s));
            let text = self
                .fs
                .read_to_string(&file)
                .map_err(|source| TreeError::Io {
                    path: file.clone(),
                    source,
                })?;
            let params = SiteJson::parse(&file, &text)?;
            if selector_selects(&files.selector, &params) {
                out.push((path, params));
            }
        }
        Ok(out)
    }

    /// Where to start listing for `pattern` (its literal leading folders, relative to the
    /// root) and how many levels below the start a match can be (`None`: any, for `**`).
    fn walk_start(&self, pattern: &str) -> Option<(String, Option<usize>)> {
        let segments: Vec<&str> = pattern.split('/').collect();
        let literal = segments
            .iter()
            .take_while(|s| !s.contains(['*', '?', '[', '{']))
            .count()
            .min(segments.len().saturating_sub(1));
        let lead = segments[..literal].join("/");
        let lead = if lead.is_empty() {
            lead
        } else {
            format!("{lead}/")
        };
        let depth = (!pattern.contains("**")).then(|| segments.len() - literal);
        if let Some(rest) = lead.strip_prefix(&self.prefix) {
            Some((rest.trim_end_matches('/').to_owned(), depth))
        } else if self.prefix.starts_with(&lead) {
            // The glob's literal part stops inside the prefix: list the whole tree.
            let inside = self.prefix[lead.len()..].matches('/').count();
            Some((String::new(), depth.map(|d| d.saturating_sub(inside))))
        } else {
            None
        }
    }

    /// Calls `found` with every file under `start` (relative, `/`-separated), at most `depth`
    /// levels down; hidden entries are skipped, as they are in a generated tree.
    fn walk(&self, start: &str, depth: Option<usize>, found: &mut dyn FnMut(&str)) {
        if depth == Some(0) {
            return;
        }
        let dir = start
            .split('/')
            .filter(|s| !s.is_empty())
            .fold(self.root.clone(), |p, s| p.join(s));
        let Ok(entries) = self.fs.read_dir(&dir) else {
            return;
        };
        for e in entries {
            let Some(name) = e.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let rel = if start.is_empty() {
                name.to_owned()
            } else {
                format!("{start}/{name}")
            };
            if self.fs.is_dir(&e) {
                self.walk(&rel, depth.map(|d| d - 1), found);
            } else if self.fs.is_file(&e) {
                found(&rel);
            }
        }
    }
}

/// The `path` parameters of the git files generator for a repository file path.
fn path_params(path: &str) -> Value {
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    let filename = path.rsplit('/').next().unwrap_or(path);
    let basename = dir.rsplit('/').next().unwrap_or(dir);
    let normalize = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    json!({
        "path": dir,
        "basename": basename,
        "filename": filename,
        "basenameNormalized": normalize(basename),
        "filenameNormalized": normalize(filename),
        "segments": dir.split('/').collect::<Vec<_>>(),
    })
}

fn render_template(template: &Value, params: &Value) -> Result<Value, String> {
    Ok(match template {
        Value::String(s) => Value::String(render_string(s, params)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| render_template(v, params))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(render_string(k, params)?, render_template(v, params)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn render_string(s: &str, params: &Value) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed `{{{{` in {s:?}"))?;
        let expr = after[..end].trim();
        let path = expr
            .strip_prefix('.')
            .filter(|p| {
                !p.is_empty()
                    && p.split('.').all(|t| {
                        !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
            })
            .ok_or_else(|| {
                format!("offline preview supports only `{{{{.field.path}}}}`, not `{{{{{expr}}}}}`")
            })?;
        let mut v = params;
        for token in path.split('.') {
            v = v.get(token).ok_or_else(|| {
                format!("map has no entry for key \"{token}\" (missingkey=error) in {s:?}")
            })?;
        }
        match v {
            Value::String(x) => out.push_str(x),
            Value::Null => out.push_str("<no value>"),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
