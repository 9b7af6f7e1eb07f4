//! `edgefleet.toml`: project defaults, found by walking up from the working directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_lints::policy::PolicySet;
use edgefleet_lints::signature::TrustStore;

use serde::Deserialize;

pub const CONFIG_FILE: &str = "edgefleet.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub paths: Paths,
    #[serde(default)]
    pub argocd: Argocd,
    #[serde(default)]
    pub generate: Generate,
    /// `[lint]`: rule levels, allowed registries, excludes, fail level.
    #[serde(default)]
    pub lint: edgefleet_lints::LintConfig,
    /// `[policies]`: the team's Rego and ValidatingAdmissionPolicy files.
    #[serde(default)]
    pub policies: edgefleet_lints::policy::PoliciesConfig,
    /// `[signatures]`: the trust store for `images/signature` and `edgefleet sign verify`.
    pub signatures: Option<edgefleet_lints::signature::SignaturesConfig>,
    /// `[drift]`: the context template, GitOps and controller field managers, and differences
    /// to ignore (Argo CD `ignoreDifferences` style).
    #[serde(default)]
    pub drift: edgefleet_drift::DriftConfig,
    /// Folder of the config file; relative paths in it are relative to this folder.
    #[serde(skip)]
    pub base: PathBuf,
    #[serde(skip)]
    pub file: Option<PathBuf>,
    /// The config file's text, to turn byte spans into line:col.
    #[serde(skip)]
    text: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    pub inventory: Option<PathBuf>,
    pub templates: Option<PathBuf>,
    pub out: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argocd {
    pub repo_url: Option<String>,
    pub revision: Option<String>,
    pub project: Option<String>,
    pub namespace: Option<String>,
    pub path_prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    pub shard_size: Option<usize>,
}

/// A config file that cannot be read or parsed, at its line and column when known.
#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    pub at: Option<(u32, u32)>,
    pub message: String,
}

impl ConfigError {
    pub fn print(&self) {
        crate::output::Message {
            severity: "error",
            message: &self.message,
            file: Some(&self.file),
            line: self.at.map(|a| a.0),
            column: self.at.map(|a| a.1),
            help: None,
        }
        .print();
    }
}

impl Config {
    /// The nearest `edgefleet.toml` at or above `start`, or defaults (relative to `start`).
    pub fn discover(start: &Path) -> Result<Config, ConfigError> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let candidate = d.join(CONFIG_FILE);
            if candidate.is_file() {
                return Self::load(&candidate);
            }
            dir = d.parent();
        }
        Ok(Config {
            base: start.to_path_buf(),
            ..Config::default()
        })
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            at: None,
            message: e.to_string(),
        })?;
        Self::parse(path, text)
    }

    /// A config file's text, read from `path` (on disk or at a git revision: `diff` reads each
    /// revision's own config).
    pub fn parse(path: &Path, text: String) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(&text).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            at: Some(
                e.span()
                    .map(|s| edgefleet_inventory::source::line_col(&text, s.start))
                    .unwrap_or((1, 1)),
            ),
            message: e.message().trim_end().to_owned(),
        })?;
        config.base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        config.file = Some(path.to_path_buf());
        config.text = text;
        Ok(config)
    }

    /// The trust store of `[signatures]`, loaded (keys parsed) once for the run; `None` when the
    /// section is absent. Errors name the config file, line and column.
    pub fn trust_store(&self) -> Result<Option<Arc<TrustStore>>, String> {
        let Some(section) = &self.signatures else {
            return Ok(None);
        };
        TrustStore::load(section, &self.base)
            .map(|s| Some(Arc::new(s)))
            .map_err(|e| {
                let file = self
                    .file
                    .as_deref()
                    .map_or_else(|| CONFIG_FILE.to_owned(), |f| f.display().to_string());
                match e.span {
                    Some(span) => {
                        let (line, col) =
                            edgefleet_inventory::source::line_col(&self.text, span.start);
                        format!("{file}:{line}:{col}: {}", e.message)
                    }
                    None => format!("{file}: {}", e.message),
                }
            })
    }

    /// The policies of `[policies]`, read and compiled once for the run; `None` when none are
    /// configured. Errors name the policy file, line and column.
    pub fn policies(&self) -> Result<Option<Arc<PolicySet>>, String> {
        let p = &self.policies;
        if p.rego.is_empty() && p.admission.is_empty() {
            return Ok(None);
        }
        PolicySet::load(p, &self.base)
            .map(|s| Some(Arc::new(s)))
            .map_err(|e| e.to_string())
    }

    /// Line and column of a rule id used as a key in the config file (`"a/b" = ...`).
    pub fn locate_rule(&self, id: &str) -> Option<(u32, u32)> {
        let quoted = format!("\"{id}\"");
        let at = self
            .text
            .match_indices(&quoted)
            .chain(self.text.match_indices(&format!("'{id}'")))
            .map(|(i, _)| i)
            .find(|&i| self.text[i + quoted.len()..].trim_start().starts_with('='))?;
        Some(edgefleet_inventory::source::line_col(&self.text, at))
    }

    /// Line and column of the first occurrence of a string value in the config file.
    pub fn locate(&self, value: &str) -> Option<(u32, u32)> {
        let at = self.text.find(value)?;
        Some(edgefleet_inventory::source::line_col(&self.text, at))
    }

    /// A path from the config file: relative to the config's folder, shown relative to the
    /// working directory when it is under it (as a path given on the command line would be).
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            return p.to_path_buf();
        }
        let joined = self.base.join(p);
        match std::env::current_dir() {
            Ok(cwd) if joined.is_absolute() => match joined.strip_prefix(&cwd) {
                Ok(rest) if rest.as_os_str().is_empty() => PathBuf::from("."),
                Ok(rest) => rest.to_path_buf(),
                Err(_) => joined,
            },
            _ => joined,
        }
    }

    /// Which config is in use, when that is worth saying: with no `edgefleet.toml` every path is
    /// a default relative to the working directory, and a user who expected their project's
    /// config should learn at once that it was not found.
    pub fn describe(&self) -> Option<String> {
        match &self.file {
            Some(_) => None,
            None => Some(format!(
                "note: no {CONFIG_FILE} found in this folder or above; using defaults (inventory `{}`, output `{}`)",
                self.inventory().display(),
                self.out().display()
            )),
        }
    }

    /// The config file as a user should see it (relative to the working directory when under it).
    pub fn file_display(&self) -> String {
        match &self.file {
            Some(f) => self.resolve_shown(f).display().to_string(),
            None => format!("no {CONFIG_FILE}"),
        }
    }

    /// Prints an error in this config file, at `place` (line, column) when known; the exit code
    /// of bad input.
    pub fn print_error(&self, message: &str, place: Option<(u32, u32)>) -> u8 {
        let file = self.file_display();
        crate::output::Message {
            severity: "error",
            message,
            file: Some(Path::new(&file)),
            line: place.map(|p| p.0),
            column: place.map(|p| p.1),
            help: None,
        }
        .print();
        crate::exit::INPUT
    }

    fn resolve_shown(&self, f: &Path) -> PathBuf {
        match std::env::current_dir() {
            Ok(cwd) if f.is_absolute() => f
                .strip_prefix(&cwd)
                .map_or_else(|_| f.to_path_buf(), Path::to_path_buf),
            _ => f.to_path_buf(),
        }
    }

    pub fn inventory(&self) -> PathBuf {
        self.resolve(
            self.paths
                .inventory
                .as_deref()
                .unwrap_or(Path::new("site-inventory")),
        )
    }

    pub fn out(&self) -> PathBuf {
        self.resolve(self.paths.out.as_deref().unwrap_or(Path::new("out")))
    }

    pub fn templates(&self) -> Option<PathBuf> {
        self.paths.templates.as_deref().map(|p| self.resolve(p))
    }

    pub fn plan_options(&self) -> edgefleet_overlays::plan::PlanOptions {
        let mut o = edgefleet_overlays::plan::PlanOptions::default();
        let a = &self.argocd;
        if let Some(v) = &a.repo_url {
            o.argocd.repo_url = v.clone();
        }
        if let Some(v) = &a.revision {
            o.argocd.revision = v.clone();
        }
        if let Some(v) = &a.project {
            o.argocd.project = v.clone();
        }
        if let Some(v) = &a.namespace {
            o.argocd.namespace = v.clone();
        }
        if let Some(v) = &a.path_prefix {
            o.argocd.path_prefix = v.clone();
        }
        if let Some(n) = self.generate.shard_size {
            o.shard_size = n.max(1);
        }
        o
    }
}
