//! Running the rules over a set of inputs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_inventory::SourceLocation;
use edgefleet_inventory::source::{self, MAX_FILE_BYTES, YamlNode};
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;

use crate::config::LintConfig;
use crate::finding::{Finding, Level, Severity};
use crate::manifest::Manifest;
use crate::policy::PolicySet;
use crate::rule::{Check, Rule, RuleOptions, Violation};
use crate::rules::{self, RULES};
use crate::site::SiteContext;

/// Annotation listing the rules suppressed on one object (`rule-a,rule-b`).
pub const IGNORE_ANNOTATION: &str = "edgefleet.io/ignore";
/// Annotation that must explain a suppression.
pub const IGNORE_REASON_ANNOTATION: &str = "edgefleet.io/ignore-reason";
/// Name under which standard input is reported.
pub const STDIN_NAME: &str = "<stdin>";

/// A configuration the engine cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("[lint.rules]: unknown rule `{id}`{hint}; `edgefleet explain --list` lists them", id = .0, hint = did_you_mean(.0))]
    UnknownRule(String),
    #[error("[lint] exclude: invalid glob `{0}`: {1}")]
    BadGlob(String, String),
}

/// ` (did you mean `x`?)` when a known rule id is close to `id`.
pub fn did_you_mean(id: &str) -> String {
    rules::suggest(id)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// A path given on the command line that does not exist or cannot be listed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct InputError {
    pub path: PathBuf,
    pub message: String,
}

/// One input: a name (for locations) and its text, or why it could not be read.
pub struct Source {
    pub path: PathBuf,
    pub text: Result<String, edgefleet_inventory::Diagnostic>,
}

impl Source {
    pub fn from_file(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            text: source::read_source(path),
        }
    }

    /// Standard input, refused past the same size limit as files.
    pub fn from_reader(name: &str, reader: impl Read) -> Self {
        let path = PathBuf::from(name);
        let file: Arc<Path> = Arc::from(path.as_path());
        let mut bytes = Vec::new();
        let read = reader.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes);
        let fail = |message: String| {
            Err(edgefleet_inventory::Diagnostic::new(
                SourceLocation::start_of(&file),
                message,
            ))
        };
        let text = match read {
            Err(e) => fail(format!("cannot read: {e}")),
            Ok(_) if bytes.len() as u64 > MAX_FILE_BYTES => fail(format!(
                "input is larger than the {} MiB edgefleet reads",
                MAX_FILE_BYTES / (1024 * 1024)
            )),
            Ok(_) => String::from_utf8(bytes).or_else(|_| fail("input is not valid UTF-8".into())),
        };
        Self { path, text }
    }
}

/// A problem that stopped part of a run without being any rule's finding: a site missing from
/// the inventory, an unreadable `site.json`, an overlay that does not render. Every report
/// carries it (the run is incomplete) and the run exits 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunProblem {
    /// The file the problem is about, when there is one.
    pub file: Option<PathBuf>,
    pub message: String,
}

impl RunProblem {
    pub fn new(file: Option<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            file,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for RunProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}: {}", file.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Everything one lint run found.
#[derive(Debug, Default)]
pub struct LintRun {
    /// Sorted by file, position and rule.
    pub findings: Vec<Finding>,
    /// Findings hidden by a valid `edgefleet.io/ignore` annotation.
    pub suppressed: usize,
    pub files: usize,
    pub objects: usize,
    /// Files that could not be read or parsed (also reported as findings).
    pub input_errors: usize,
    /// The text of every file read, for source snippets.
    pub sources: BTreeMap<Arc<Path>, Arc<str>>,
    /// Every file the run linted (read or not), for violations that list clean files too.
    pub linted: BTreeSet<Arc<Path>>,
    /// Problems that stopped part of the run (see [`RunProblem`]).
    pub problems: Vec<RunProblem>,
    /// The manifest of a sharded run (`--shard K/N`), opaque to the linter: when set, every
    /// machine-readable report carries it and the data `merge` needs (see
    /// [`report::shard`](crate::report::shard)).
    pub shard: Option<serde_json::Value>,
}

impl LintRun {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Inputs that could not be read or parsed plus problems that stopped part of the run.
    pub fn incomplete(&self) -> usize {
        self.input_errors + self.problems.len()
    }

    /// The process exit code: 2 when an input could not be read or part of the run was
    /// stopped, 1 when a finding is at or above `fail_level`, 0 otherwise.
    pub fn exit_code(&self, fail_level: Severity) -> u8 {
        if self.incomplete() > 0 {
            2
        } else if self.findings.iter().any(|f| f.severity >= fail_level) {
            1
        } else {
            0
        }
    }
}

/// The rules, configured.
pub struct Linter {
    levels: HashMap<&'static str, Severity>,
    /// The team's own policies (`[policies]`), compiled once, and their configured levels.
    policies: Option<Arc<PolicySet>>,
    policy_levels: Vec<Option<Level>>,
    options: RuleOptions,
    exclude: GlobSet,
    base: PathBuf,
}

impl Linter {
    /// A linter with every rule at its configured (or default) level. `base` is the folder the
    /// `exclude` globs are relative to.
    pub fn new(config: &LintConfig, base: &Path) -> Result<Self, ConfigError> {
        for id in config.rules.keys() {
            // Policy rule ids are checked when the policies are loaded (`with_policies`).
            if rules::find(id).is_none() && !is_policy_id(id) {
                return Err(ConfigError::UnknownRule(id.clone()));
            }
        }
        let mut levels = HashMap::new();
        for &rule in RULES {
            let level = config
                .rules
                .get(rule.id)
                .copied()
                .unwrap_or(rule.default_level);
            if let Some(s) = level.severity() {
                levels.insert(rule.id, s);
            }
        }
        let mut globs = GlobSetBuilder::new();
        for pattern in &config.exclude {
            let glob = Glob::new(pattern)
                .map_err(|e| ConfigError::BadGlob(pattern.clone(), e.to_string()))?;
            globs.add(glob);
        }
        let exclude = globs
            .build()
            .map_err(|e| ConfigError::BadGlob(config.exclude.join(", "), e.to_string()))?;
        Ok(Self {
            levels,
            policies: None,
            policy_levels: Vec::new(),
            options: RuleOptions {
                allowed_registries: config.allowed_registries.clone(),
                signatures: None,
                duplicate_scope: config.duplicate_scope,
            },
            exclude,
            base: base.to_path_buf(),
        })
    }

    /// The linter with another scope for `schema/duplicate-object` than its config's
    /// (`lint --duplicate-scope`).
    pub fn with_duplicate_scope(mut self, scope: crate::config::DuplicateScope) -> Self {
        self.options.duplicate_scope = scope;
        self
    }

    /// The linter with a trust store: `images/signature` verifies every image against it.
    pub fn with_signatures(mut self, store: Arc<crate::signature::TrustStore>) -> Self {
        self.options.signatures = Some(store);
        self
    }

    /// The linter with the team's policies: their rules run after the built-in ones, at the
    /// levels `[lint.rules]` sets (which must name rules the policies define).
    pub fn with_policies(
        mut self,
        policies: Arc<PolicySet>,
        config: &LintConfig,
    ) -> Result<Self, ConfigError> {
        for id in config.rules.keys() {
            if is_policy_id(id) && policies.find(id).is_none() {
                return Err(ConfigError::UnknownRule(id.clone()));
            }
        }
        self.policy_levels = crate::policy::levels(&policies, &config.rules);
        self.policies = Some(policies);
        Ok(self)
    }

    /// The policies, if any are configured.
    pub fn policies(&self) -> Option<&Arc<PolicySet>> {
        self.policies.as_ref()
    }

    /// `true` for a built-in rule or a rule of the configured policies.
    fn knows(&self, id: &str) -> bool {
        rules::find(id).is_some() || self.policies.as_ref().is_some_and(|p| p.find(id).is_some())
    }

    /// The trust store, if one is configured.
    pub fn signatures(&self) -> Option<&Arc<crate::signature::TrustStore>> {
        self.options.signatures.as_ref()
    }

    /// The configured severity of a rule, `None` when it is off.
    pub fn severity(&self, rule: &Rule) -> Option<Severity> {
        self.levels.get(rule.id).copied()
    }

    /// `true` when an `exclude` glob matches the path (relative to the config folder, or as
    /// given when it is outside it).
    pub fn is_excluded(&self, path: &Path) -> bool {
        let relative = path.strip_prefix(&self.base).unwrap_or(path);
        let relative = relative.strip_prefix("./").unwrap_or(relative);
        self.exclude.is_match(relative) || self.exclude.is_match(path)
    }

    /// The YAML files under the given paths (folders walked recursively, in name order;
    /// hidden folders skipped), minus excluded ones. A file named explicitly is linted
    /// whatever its extension.
    pub fn collect_files(&self, paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
        let mut files = BTreeSet::new();
        for path in paths {
            let meta = std::fs::metadata(path).map_err(|e| InputError {
                path: path.clone(),
                message: e.to_string(),
            })?;
            if meta.is_dir() {
                walk(path, &mut files)?;
            } else {
                files.insert(path.clone());
            }
        }
        Ok(files.into_iter().filter(|f| !self.is_excluded(f)).collect())
    }

    /// Lints files and folders.
    pub fn lint_paths(&self, paths: &[PathBuf]) -> Result<LintRun, InputError> {
        let files = self.collect_files(paths)?;
        let sources = files.par_iter().map(|f| Source::from_file(f)).collect();
        Ok(self.lint_sources(sources))
    }

    /// Lints sources already read. Every document is checked on its own (in parallel), then
    /// the set-wide rules run over all objects together.
    pub fn lint_sources(&self, sources: Vec<Source>) -> LintRun {
        self.lint_sources_at(sources, None)
    }

    /// [`lint_sources`](Self::lint_sources) for manifests known to land on one site: the
    /// fleet-aware rules run too, with that site's context.
    pub fn lint_sources_at(&self, sources: Vec<Source>, site: Option<&SiteContext>) -> LintRun {
        match worker_pool() {
            Some(pool) => pool.install(|| self.lint_sources_here(sources, site)),
            None => self.lint_sources_here(sources, site),
        }
    }

    fn lint_sources_here(&self, sources: Vec<Source>, site: Option<&SiteContext>) -> LintRun {
        let mut run = LintRun {
            files: sources.len(),
            ..LintRun::default()
        };
        let mut manifests: Vec<Manifest> = Vec::new();
        let mut findings: Vec<Finding> = Vec::new();
        let parsed: Vec<_> = sources
            .into_par_iter()
            .map(|s| {
                let file: Arc<Path> = Arc::from(s.path.as_path());
                match s.text {
                    Err(diagnostic) => (file, None, Err(diagnostic)),
                    Ok(text) => {
                        let docs = source::parse_yaml(&s.path, &text);
                        (file, Some(text), docs)
                    }
                }
            })
            .collect();
        for (file, text, docs) in parsed {
            run.linted.insert(file.clone());
            if let Some(text) = text {
                run.sources.insert(file.clone(), Arc::from(text));
            }
            match docs {
                Err(diagnostic) => {
                    run.input_errors += 1;
                    self.push_engine(
                        &mut findings,
                        &rules::input::invalid_yaml::RULE,
                        diagnostic.location,
                        tidy_parser_message(&diagnostic.message),
                        None,
                    );
                }
                Ok(docs) => {
                    for doc in docs {
                        if matches!(doc.root.value, YamlNode::Map(_)) {
                            manifests.push(Manifest::new(doc));
                        } else {
                            run.input_errors += 1;
                            self.push_engine(
                                &mut findings,
                                &rules::input::not_an_object::RULE,
                                doc.locate(""),
                                "YAML document is not a mapping (a Kubernetes object)".into(),
                                Some("every document of a manifest stream must be one object"),
                            );
                        }
                    }
                }
            }
        }
        run.objects = manifests.len();
        let (found, suppressed) = self.check_objects(&manifests, site);
        findings.extend(found);
        run.suppressed += suppressed;

        findings.sort_by(|a, b| {
            (&a.location.file, a.location.offset, a.rule, &a.message).cmp(&(
                &b.location.file,
                b.location.offset,
                b.rule,
                &b.message,
            ))
        });
        run.findings = findings;
        run
    }

    /// Runs every enabled rule over a set of objects: per-object rules (in parallel), set-wide
    /// rules, and, when the objects are one site's, the fleet-aware rules with that site's
    /// context. Returns the findings and the number suppressed.
    pub(crate) fn check_objects(
        &self,
        manifests: &[Manifest],
        site: Option<&SiteContext>,
    ) -> (Vec<Finding>, usize) {
        let enabled = |rule: &'static Rule| {
            let severity = self.severity(rule)?;
            if site.is_some() && rules::superseded_at_site(rule.id) {
                return None;
            }
            Some(severity)
        };
        let suppressions: Vec<(BTreeSet<String>, Vec<Finding>)> =
            manifests.par_iter().map(|m| self.suppressions(m)).collect();
        let ignored: Vec<&BTreeSet<String>> = suppressions.iter().map(|(s, _)| s).collect();

        let per_object: Vec<(Vec<Finding>, usize)> = manifests
            .par_iter()
            .enumerate()
            .map(|(i, m)| {
                let mut violations = Vec::new();
                for &rule in RULES {
                    let (Check::Object(check), Some(severity)) = (rule.check, enabled(rule)) else {
                        continue;
                    };
                    let mut out = Vec::new();
                    check(&self.options, m, &mut out);
                    violations.extend(out.into_iter().map(|r| (i, rule.id, severity, r)));
                }
                finish(manifests, &ignored, violations)
            })
            .collect();
        let mut set_violations = Vec::new();
        for &rule in RULES {
            let Some(severity) = enabled(rule) else {
                continue;
            };
            let mut out = Vec::new();
            match (rule.check, site) {
                (Check::Set(check), _) => check(&self.options, manifests, &mut out),
                (Check::Site(check), Some(site)) => check(&self.options, site, manifests, &mut out),
                _ => continue,
            }
            set_violations.extend(out.into_iter().map(|(i, r)| (i, rule.id, severity, r)));
        }
        if let Some(policies) = &self.policies {
            for (i, r, verdict_severity, report) in policies.check(manifests, site) {
                let rule = &policies.rules()[r];
                let level = self.policy_levels.get(r).copied().flatten();
                let severity = match level {
                    Some(level) => level.severity(),
                    None => verdict_severity.or_else(|| rule.default_level.severity()),
                };
                if let Some(severity) = severity {
                    set_violations.push((i, rule.id, severity, report));
                }
            }
        }
        let set = finish(manifests, &ignored, set_violations);
        let mut findings = Vec::new();
        let mut suppressed = 0;
        for (f, s) in per_object.into_iter().chain([set]) {
            findings.extend(f);
            suppressed += s;
        }
        for (_, problems) in suppressions {
            findings.extend(problems);
        }
        (findings, suppressed)
    }

    fn push_engine(
        &self,
        findings: &mut Vec<Finding>,
        rule: &'static Rule,
        location: SourceLocation,
        message: String,
        help: Option<&str>,
    ) {
        findings.push(Finding {
            rule: rule.id,
            // Unreadable input is never silenced: the run exits 2 whatever the level.
            severity: self.severity(rule).unwrap_or(Severity::Error),
            message,
            location,
            object: None,
            help: help.map(str::to_owned),
            sites: Vec::new(),
        });
    }

    /// The rules an object suppresses by annotation, and findings about a malformed
    /// suppression. A suppression without a reason is not applied.
    fn suppressions(&self, m: &Manifest) -> (BTreeSet<String>, Vec<Finding>) {
        let mut ignored = BTreeSet::new();
        let mut problems = Vec::new();
        let Some(list) = m.annotation(IGNORE_ANNOTATION) else {
            return (ignored, problems);
        };
        let rule = &rules::suppression::missing_reason::RULE;
        let severity = self.severity(rule);
        let pointer = format!(
            "/metadata/annotations/{}",
            IGNORE_ANNOTATION.replace('/', "~1")
        );
        let mut problem = |message: String, help: &str| {
            if let Some(severity) = severity {
                problems.push(Finding {
                    rule: rule.id,
                    severity,
                    message,
                    location: m.locate(&pointer),
                    object: Some(m.object.clone()),
                    help: Some(help.to_owned()),
                    sites: Vec::new(),
                });
            }
        };
        let reason = m.annotation(IGNORE_REASON_ANNOTATION).unwrap_or("").trim();
        if reason.is_empty() {
            problem(
                format!(
                    "{IGNORE_ANNOTATION} without {IGNORE_REASON_ANNOTATION}: suppression not applied"
                ),
                "explain why the rule does not apply, in edgefleet.io/ignore-reason",
            );
            return (ignored, problems);
        }
        for id in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if self.knows(id) {
                ignored.insert(id.to_owned());
            } else {
                problem(
                    format!(
                        "{IGNORE_ANNOTATION} names unknown rule `{id}`{}",
                        did_you_mean(id)
                    ),
                    "see `edgefleet explain --list` for rule ids",
                );
            }
        }
        (ignored, problems)
    }
}

/// Ids of policy rules: `policy/<package>/<rule>` (Rego) and `admission/<policy>` (CEL).
pub fn is_policy_id(id: &str) -> bool {
    id.starts_with("policy/") || id.starts_with("admission/")
}

/// Turns violations into located findings, dropping (and counting) suppressed ones.
fn finish(
    manifests: &[Manifest],
    ignored: &[&BTreeSet<String>],
    violations: Vec<(usize, &'static str, Severity, Violation)>,
) -> (Vec<Finding>, usize) {
    let mut findings = Vec::new();
    let mut suppressed = 0;
    for (i, rule, severity, report) in violations {
        if ignored[i].contains(rule) {
            suppressed += 1;
            continue;
        }
        let m = &manifests[i];
        let located = m.locate_traced(&report.pointer);
        let message = match located.note {
            Some(note) => format!("{} ({note})", report.message),
            None => report.message,
        };
        findings.push(Finding {
            rule,
            severity,
            message,
            location: located.location,
            object: Some(m.object.clone()),
            help: report.help,
            sites: Vec::new(),
        });
    }
    (findings, suppressed)
}

/// Stack size of the threads that parse and lint. The YAML parser recurses once per nesting
/// level up to its depth budget; rayon's default 2 MiB stacks overflowed on a hostile file
/// (measured in a debug build), which aborts the process instead of reporting a finding.
const WORKER_STACK_BYTES: usize = 32 * 1024 * 1024;

/// A thread pool with large stacks, built once; `None` if the threads cannot be spawned (then
/// the caller's pool is used).
pub(crate) fn worker_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(WORKER_STACK_BYTES)
            .thread_name(|i| format!("edgefleet-lint-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// The parser's message without what only makes sense to a Rust caller, and without the
/// position (violations print their own).
fn tidy_parser_message(message: &str) -> String {
    if message.contains("budget breached: Depth") {
        return "invalid YAML: nested deeper than the parser allows".to_owned();
    }
    if message.contains("budget breached") {
        return "invalid YAML: aliases expand past the parser's budget (an alias bomb?)".to_owned();
    }
    let mut m = message
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .replace(
            "is it really an inventory file?",
            "is it really a manifest?",
        );
    if let Some(i) = m.rfind(" at line ")
        && m[i..].contains(", column ")
    {
        m.truncate(i);
    }
    m
}

fn walk(dir: &Path, files: &mut BTreeSet<PathBuf>) -> Result<(), InputError> {
    let entries = std::fs::read_dir(dir).map_err(|e| InputError {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') {
                walk(&path, files)?;
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            files.insert(path);
        }
    }
    Ok(())
}
