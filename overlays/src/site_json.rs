//! `sites/<region>/<site>/site.json`: a site's parameters for the ApplicationSet git-files
//! generator. One type, written by the planner and read by every command that reads a tree.
//!
//! Every value is a top-level string (ArgoCD's post-selectors see only those): the site's ids,
//! its platform and distribution (when the inventory declares one), its rollout step, its shard
//! (as text) and `workload-<name>: enabled|disabled` for every workload of the catalogue. The keys are written in a fixed order, so the file is
//! byte-identical from run to run.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use edgefleet_inventory::Distribution;

/// The prefix of the per-workload keys (`workload-telemetry-collector`).
pub const WORKLOAD_PREFIX: &str = "workload-";

/// The key of a workload's switch.
pub fn workload_key(workload: &str) -> String {
    format!("{WORKLOAD_PREFIX}{workload}")
}

/// A site's `site.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SiteJson {
    pub site: String,
    pub region: String,
    pub jurisdiction: String,
    pub zone: String,
    pub cluster: String,
    pub hardware: String,
    pub backhaul: String,
    /// The site's platform profile (`platform`), when the inventory declares one.
    pub platform: Option<String>,
    /// The platform's distribution (`distribution`: `k3s`, `kubeedge`, …), with the platform.
    pub distribution: Option<Distribution>,
    pub wave: String,
    /// `rolloutStep`: the RollingSync step the site's Applications are in.
    pub rollout_step: String,
    /// The site's shard within its region (written as text: selectors compare strings).
    pub shard: usize,
    /// Every workload of the catalogue, in catalogue order, and whether the site runs it.
    pub workloads: Vec<(String, bool)>,
    /// Keys edgefleet does not write (kept, in order, so post-selectors still see them).
    pub extra: Vec<(String, String)>,
}

/// The optional platform keys, written after `backhaul` when the site has a platform.
const PLATFORM: &str = "platform";
const DISTRIBUTION: &str = "distribution";

/// The fixed keys, in the order they are written (the platform keys go after `backhaul`).
const KEYS: [&str; 10] = [
    "site",
    "region",
    "jurisdiction",
    "zone",
    "cluster",
    "hardware",
    "backhaul",
    "wave",
    "rolloutStep",
    "shard",
];

impl SiteJson {
    /// The file as the planner writes it: pretty JSON and a final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a `site.json` text; `path` names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<SiteJson, SiteJsonError> {
        serde_json::from_str(text).map_err(|e| SiteJsonError {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })
    }

    /// Whether the site runs `workload` (false for a workload the file does not name).
    pub fn runs(&self, workload: &str) -> bool {
        self.workloads.iter().any(|(w, on)| w == workload && *on)
    }

    /// The value of a top-level key, as ArgoCD's generator parameters see it.
    pub fn param(&self, key: &str) -> Option<String> {
        self.params().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Every parameter, in file order: what post-selectors and templates see.
    pub fn params(&self) -> impl Iterator<Item = (String, String)> + '_ {
        let fixed = [
            &self.site,
            &self.region,
            &self.jurisdiction,
            &self.zone,
            &self.cluster,
            &self.hardware,
            &self.backhaul,
            &self.wave,
            &self.rollout_step,
        ];
        let platform = self
            .platform
            .iter()
            .map(|p| (PLATFORM.to_owned(), p.clone()))
            .chain(
                self.distribution
                    .iter()
                    .map(|d| (DISTRIBUTION.to_owned(), d.as_str().to_owned())),
            );
        let pair = |(k, v): (&&str, &String)| ((*k).to_owned(), v.clone());
        // site … backhaul, then the platform keys, then wave and rolloutStep.
        KEYS.iter()
            .zip(fixed)
            .take(7)
            .map(pair)
            .chain(platform)
            .chain(KEYS.iter().zip(fixed).skip(7).map(pair))
            .chain(std::iter::once((
                "shard".to_owned(),
                self.shard.to_string(),
            )))
            .chain(
                self.workloads
                    .iter()
                    .map(|(w, on)| (workload_key(w), switch(*on).to_owned())),
            )
            .chain(self.extra.iter().cloned())
    }
}

fn switch(on: bool) -> &'static str {
    if on { "enabled" } else { "disabled" }
}

/// serde_json appends " at line L column C"; the error carries them as fields.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

impl Serialize for SiteJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.params() {
            m.serialize_entry(&k, &v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for SiteJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SiteJsonVisitor)
    }
}

struct SiteJsonVisitor;

impl<'de> Visitor<'de> for SiteJsonVisitor {
    type Value = SiteJson;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of string parameters, as `edgefleet generate` writes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SiteJson, A::Error> {
        let mut out = SiteJson::default();
        let mut seen = [false; KEYS.len()];
        while let Some(key) = map.next_key::<String>()? {
            let value: String = map.next_value().map_err(|e| {
                de::Error::custom(format_args!(
                    "`{key}`: {} (every value is a string)",
                    strip_position(&e.to_string())
                ))
            })?;
            if let Some(i) = KEYS.iter().position(|k| *k == key) {
                if std::mem::replace(&mut seen[i], true) {
                    return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                }
                match i {
                    0 => out.site = value,
                    1 => out.region = value,
                    2 => out.jurisdiction = value,
                    3 => out.zone = value,
                    4 => out.cluster = value,
                    5 => out.hardware = value,
                    6 => out.backhaul = value,
                    7 => out.wave = value,
                    8 => out.rollout_step = value,
                    _ => {
                        out.shard = value.parse().map_err(|_| {
                            de::Error::custom(format_args!(
                                "`shard`: expected a number as text, found {value:?}"
                            ))
                        })?
                    }
                }
            } else if key == PLATFORM {
                if out.platform.replace(value).is_some() {
                    return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                }
            } else if key == DISTRIBUTION {
                let d = Distribution::parse(&value).ok_or_else(|| {
                    de::Error::custom(format_args!(
                        "`distribution`: unknown distribution {value:?} (one of {})",
                        Distribution::ALL.map(Distribution::as_str).join(", ")
                    ))
                })?;
                if out.distribution.replace(d).is_some() {
                    return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                }
            } else if let Some(w) = key.strip_prefix(WORKLOAD_PREFIX) {
                let on = match value.as_str() {
                    "enabled" => true,
                    "disabled" => false,
                    other => {
                        return Err(de::Error::custom(format_args!(
                            "`{key}`: expected \"enabled\" or \"disabled\", found {other:?}"
                        )));
                    }
                };
                if out.workloads.iter().any(|(x, _)| x == w) {
                    return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                }
                out.workloads.push((w.to_owned(), on));
            } else {
                out.extra.push((key, value));
            }
        }
        if let Some(i) = seen.iter().position(|s| !s) {
            return Err(de::Error::custom(format_args!(
                "missing key `{}` (a tree from another edgefleet version? run `edgefleet generate`)",
                KEYS[i]
            )));
        }
        Ok(out)
    }
}

/// A `site.json` that cannot be read, with the place of the fault (1-based line and column;
/// 0 when the file ended early or could not be read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct SiteJsonError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SiteJson {
        SiteJson {
            site: "rig-1".into(),
            region: "eu-north".into(),
            jurisdiction: "NO".into(),
            zone: "EEA".into(),
            cluster: "rig-1".into(),
            hardware: "jetson".into(),
            backhaul: "vsat".into(),
            platform: Some("k3s-jetson".into()),
            distribution: Some(Distribution::K3s),
            wave: "canary".into(),
            rollout_step: "canary".into(),
            shard: 2,
            workloads: vec![("a".into(), true), ("b".into(), false)],
            extra: vec![],
        }
    }

    #[test]
    fn round_trips_in_written_order() {
        let text = sample().to_text();
        assert!(
            text.starts_with("{\n  \"site\": \"rig-1\",\n  \"region\""),
            "{text}"
        );
        assert!(text.contains("\"shard\": \"2\",\n  \"workload-a\": \"enabled\",\n  \"workload-b\": \"disabled\"\n}\n"), "{text}");
        let back = SiteJson::parse(Path::new("s.json"), &text).unwrap();
        assert_eq!(back, sample());
        assert!(back.runs("a") && !back.runs("b") && !back.runs("c"));
        assert_eq!(back.param("rolloutStep").as_deref(), Some("canary"));
        assert!(
            text.contains("\"backhaul\": \"vsat\",\n  \"platform\": \"k3s-jetson\",\n  \"distribution\": \"k3s\",\n  \"wave\""),
            "{text}"
        );
        let bare = SiteJson {
            platform: None,
            distribution: None,
            ..sample()
        };
        let text = bare.to_text();
        assert!(
            !text.contains("platform") && !text.contains("distribution"),
            "{text}"
        );
        assert_eq!(SiteJson::parse(Path::new("s.json"), &text).unwrap(), bare);
        assert_eq!(back.param("workload-b").as_deref(), Some("disabled"));
    }

    #[test]
    fn faults_are_located() {
        let text = sample()
            .to_text()
            .replace("\"shard\": \"2\"", "\"shard\": 2");
        let e = SiteJson::parse(Path::new("sites/eu/rig-1/site.json"), &text).unwrap_err();
        let line = text.lines().position(|l| l.contains("\"shard\"")).unwrap() + 1;
        assert_eq!(e.line, line, "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("sites/eu/rig-1/site.json:{line}:")),
            "{e}"
        );
        assert!(e.message.contains("`shard`"), "{e}");

        let e = SiteJson::parse(
            Path::new("s.json"),
            "{\"site\": \"a\",\n  \"workload-x\": \"on\"}",
        )
        .unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("enabled"), "{e}");

        let e = SiteJson::parse(
            Path::new("s.json"),
            &sample().to_text().replace("\"k3s\"", "\"k4s\""),
        )
        .unwrap_err();
        assert!(e.message.contains("unknown distribution \"k4s\""), "{e}");

        let e = SiteJson::parse(Path::new("s.json"), "{\"site\": \"a\"}").unwrap_err();
        assert!(e.message.contains("missing key `region`"), "{e}");

        let e = SiteJson::parse(Path::new("s.json"), "{\"site\": \"a\",,}").unwrap_err();
        assert_eq!((e.line, e.column), (1, 14), "{e}");
    }
}
