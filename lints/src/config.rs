//! `[lint]` in `edgefleet.toml`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::finding::{Level, Severity};

/// The `[lint]` section of `edgefleet.toml`.
///
/// ```toml
/// [lint]
/// fail_level = "warning"                       # exit 1 on findings at or above this
/// allowed_registries = ["registry.example.com"]
/// exclude = ["vendor/**", "**/*.generated.yaml"]
/// duplicate_scope = "file"                     # or "folder", "run" (schema/duplicate-object)
///
/// [lint.rules]
/// "resources/missing-cpu-limit" = "warning"    # off by default
/// "security/host-path" = "off"
/// ```
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintConfig {
    /// Per-rule level (`off`, `note`, `warning`, `error`), by rule id.
    #[serde(default)]
    pub rules: BTreeMap<String, Level>,
    /// Registries (or registry/path prefixes) images may come from; empty allows any.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Glob patterns of files not to lint, relative to the config file's folder.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The lowest severity that makes `edgefleet lint` exit 1 (default `warning`).
    pub fail_level: Option<Severity>,
    /// Which objects `schema/duplicate-object` compares (default `file`).
    #[serde(default)]
    pub duplicate_scope: DuplicateScope,
}

/// What `schema/duplicate-object` treats as applied together when linting files: two objects
/// with one identity are a conflict only inside one scope. With `lint --fleet` the scope is
/// always one site (every overlay of the site), whatever this says.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuplicateScope {
    /// One file or stream: a rendered build, a `kubectl apply -f FILE`, standard input.
    #[default]
    File,
    /// The files of one folder (not its subfolders), as `kubectl apply -f DIR` applies them.
    Folder,
    /// Everything linted in one run.
    Run,
}

impl LintConfig {
    pub fn fail_level(&self) -> Severity {
        self.fail_level.unwrap_or(Severity::Warning)
    }
}
