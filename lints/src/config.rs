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
}

impl LintConfig {
    pub fn fail_level(&self) -> Severity {
        self.fail_level.unwrap_or(Severity::Warning)
    }
}
