//! The results of a drift run and how they are shown: text for people, JSON (the contract CI
//! scripts and `edgefleet report --drift-json` read), SARIF and JUnit.
//!
//! Sites are sorted by id and objects by key, so every format is byte-identical whatever the
//! number of workers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};

use crate::ObjectKey;

/// The version of the JSON format (`"version"`).
pub const JSON_FORMAT_VERSION: u32 = 1;

/// Exit codes of `edgefleet drift`.
pub mod exit {
    /// Every selected site is in sync.
    pub const IN_SYNC: u8 = 0;
    /// Drift found: an object drifted, missing or extra (wins over unreachable sites).
    pub const DRIFT: u8 = 1;
    /// Bad input; nothing was compared.
    pub const INPUT: u8 = 2;
    /// Some site unreachable or unauthorized, and no drift anywhere.
    pub const UNREACHABLE: u8 = 3;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SiteStatus {
    InSync,
    Drifted,
    Unreachable,
    Unauthorized,
}

impl SiteStatus {
    pub const ALL: [SiteStatus; 4] = [
        SiteStatus::InSync,
        SiteStatus::Drifted,
        SiteStatus::Unreachable,
        SiteStatus::Unauthorized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteStatus::InSync => "in-sync",
            SiteStatus::Drifted => "drifted",
            SiteStatus::Unreachable => "unreachable",
            SiteStatus::Unauthorized => "unauthorized",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectStatus {
    InSync,
    Drifted,
    /// In Git, not live.
    Missing,
    /// Live with the site label, not in Git.
    Extra,
}

impl ObjectStatus {
    pub const ALL: [ObjectStatus; 4] = [
        ObjectStatus::InSync,
        ObjectStatus::Drifted,
        ObjectStatus::Missing,
        ObjectStatus::Extra,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectStatus::InSync => "in-sync",
            ObjectStatus::Drifted => "drifted",
            ObjectStatus::Missing => "missing",
            ObjectStatus::Extra => "extra",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ObjectReport {
    pub key: ObjectKey,
    pub status: ObjectStatus,
    /// For `drifted`: the unified diff, Git against live.
    pub diff: Option<String>,
    /// The kustomization that renders the object (none for extra objects).
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct SiteReport {
    pub site: String,
    pub region: String,
    pub wave: String,
    pub status: SiteStatus,
    /// Why the site could not be read.
    pub error: Option<String>,
    /// Sorted by key; empty when the site could not be read.
    pub objects: Vec<ObjectReport>,
    /// The site's `site.json` (where a report points for the site as a whole).
    pub site_json: PathBuf,
}

/// Every site checked, sorted by id.
#[derive(Debug, Clone, Default)]
pub struct DriftReport {
    pub sites: Vec<SiteReport>,
}

impl DriftReport {
    /// 0 all in sync; 1 drift anywhere; 3 some site unreachable or unauthorized and no drift.
    pub fn exit_code(&self) -> u8 {
        let count = |s| self.count(s);
        if count(SiteStatus::Drifted) > 0 {
            exit::DRIFT
        } else if count(SiteStatus::Unreachable) + count(SiteStatus::Unauthorized) > 0 {
            exit::UNREACHABLE
        } else {
            exit::IN_SYNC
        }
    }

    pub fn count(&self, status: SiteStatus) -> usize {
        self.sites.iter().filter(|s| s.status == status).count()
    }

    pub fn count_objects(&self, status: ObjectStatus) -> usize {
        self.sites
            .iter()
            .flat_map(|s| &s.objects)
            .filter(|o| o.status == status)
            .count()
    }

    /// `{"sites": N, "in-sync": …, "drifted": …, "unreachable": …, "unauthorized": …,
    /// "objects": {"in-sync": …, "drifted": …, "missing": …, "extra": …}}`
    pub fn summary_json(&self) -> Value {
        let mut summary = serde_json::Map::new();
        summary.insert("sites".to_owned(), json!(self.sites.len()));
        for s in SiteStatus::ALL {
            summary.insert(s.as_str().to_owned(), json!(self.count(s)));
        }
        let objects: serde_json::Map<String, Value> = ObjectStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), json!(self.count_objects(*s))))
            .collect();
        summary.insert("objects".to_owned(), Value::Object(objects));
        Value::Object(summary)
    }

    /// The JSON report (see docs/drift.md).
    pub fn to_json(&self) -> Value {
        let sites: Vec<Value> = self
            .sites
            .iter()
            .map(|s| {
                let mut site = json!({
                    "site": s.site,
                    "region": s.region,
                    "wave": s.wave,
                    "status": s.status.as_str(),
                });
                if let Some(e) = &s.error {
                    site["error"] = json!(e);
                }
                site["objects"] = s
                    .objects
                    .iter()
                    .map(|o| {
                        let mut object = json!({
                            "apiVersion": o.key.api_version,
                            "kind": o.key.kind,
                            "namespace": o.key.namespace,
                            "name": o.key.name,
                            "status": o.status.as_str(),
                        });
                        if let Some(d) = &o.diff {
                            object["diff"] = json!(d);
                        }
                        object
                    })
                    .collect();
                site
            })
            .collect();
        json!({
            "version": JSON_FORMAT_VERSION,
            "sites": sites,
            "summary": self.summary_json(),
        })
    }

    /// Text for people: every site not in sync with what differs, then (unless `summary` is
    /// off) a table by region and wave and the totals.
    pub fn human(&self, summary: bool) -> String {
        let mut out = String::new();
        for s in self.sites.iter().filter(|s| s.status != SiteStatus::InSync) {
            let _ = write!(
                out,
                "{} ({}, wave {}): {}",
                s.site,
                s.region,
                s.wave,
                s.status.as_str()
            );
            if let Some(e) = &s.error {
                let _ = write!(out, ": {e}");
            }
            out.push('\n');
            for o in s
                .objects
                .iter()
                .filter(|o| o.status != ObjectStatus::InSync)
            {
                let _ = writeln!(out, "  {:<8} {}", o.status.as_str(), o.key);
                if let Some(d) = &o.diff {
                    for line in d.lines() {
                        let _ = writeln!(out, "    {line}");
                    }
                }
            }
        }
        if !summary {
            return out;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let mut groups: BTreeMap<(&str, &str), [usize; 4]> = BTreeMap::new();
        for s in &self.sites {
            let row = groups.entry((&s.region, &s.wave)).or_default();
            row[SiteStatus::ALL
                .iter()
                .position(|x| *x == s.status)
                .unwrap_or(0)] += 1;
        }
        let region_w = groups.keys().map(|k| k.0.len()).max().unwrap_or(0).max(6);
        let wave_w = groups.keys().map(|k| k.1.len()).max().unwrap_or(0).max(4);
        let _ = writeln!(
            out,
            "{:<region_w$}  {:<wave_w$}  {:>5}  {:>7}  {:>7}  {:>11}  {:>12}",
            "region", "wave", "sites", "in-sync", "drifted", "unreachable", "unauthorized"
        );
        for ((region, wave), n) in &groups {
            let _ = writeln!(
                out,
                "{region:<region_w$}  {wave:<wave_w$}  {:>5}  {:>7}  {:>7}  {:>11}  {:>12}",
                n.iter().sum::<usize>(),
                n[0],
                n[1],
                n[2],
                n[3]
            );
        }
        let _ = writeln!(
            out,
            "{} sites: {} in sync, {} drifted, {} unreachable, {} unauthorized; objects: {} drifted, {} missing, {} extra",
            self.sites.len(),
            self.count(SiteStatus::InSync),
            self.count(SiteStatus::Drifted),
            self.count(SiteStatus::Unreachable),
            self.count(SiteStatus::Unauthorized),
            self.count_objects(ObjectStatus::Drifted),
            self.count_objects(ObjectStatus::Missing),
            self.count_objects(ObjectStatus::Extra),
        );
        out
    }

    /// SARIF 2.1.0: one result per object not in sync and per site not read, located at the
    /// overlay that renders the object (else the site's `site.json`); `artifact` turns a path
    /// into an `artifactLocation` (the linter's, so both reports resolve paths alike).
    pub fn to_sarif(&self, artifact: &dyn Fn(&Path) -> Value) -> Value {
        let rules = [
            (
                "drift/drifted",
                "A live object differs from what Git renders for the site.",
            ),
            (
                "drift/missing",
                "An object Git renders for the site is not live.",
            ),
            (
                "drift/extra",
                "A live object carries the site's label but Git no longer renders it.",
            ),
            (
                "drift/unreachable",
                "The site could not be read (connection, TLS, timeout, no snapshot).",
            ),
            (
                "drift/unauthorized",
                "The site refused the credentials (401 or 403).",
            ),
        ];
        let rule_index = |id: &str| rules.iter().position(|r| r.0 == id).unwrap_or(0);
        let mut results = Vec::new();
        for s in &self.sites {
            let mut result =
                |id: &str, level: &str, text: String, file: &Path, diff: Option<&str>| {
                    let mut r = json!({
                        "ruleId": id,
                        "ruleIndex": rule_index(id),
                        "level": level,
                        "message": { "text": text },
                        "locations": [{
                            "physicalLocation": {
                                "artifactLocation": artifact(file),
                                "region": { "startLine": 1, "startColumn": 1 },
                            },
                            "logicalLocations": [{ "name": s.site, "kind": "module" }],
                        }],
                        "properties": { "site": s.site, "region": s.region, "wave": s.wave },
                    });
                    if let Some(d) = diff {
                        r["properties"]["diff"] = json!(d);
                    }
                    results.push(r);
                };
            match s.status {
                SiteStatus::Unreachable | SiteStatus::Unauthorized => {
                    let id = format!("drift/{}", s.status.as_str());
                    let text = format!(
                        "{}: {}: {}",
                        s.site,
                        s.status.as_str(),
                        s.error.as_deref().unwrap_or("")
                    );
                    result(&id, "warning", text, &s.site_json, None);
                }
                _ => {
                    for o in s
                        .objects
                        .iter()
                        .filter(|o| o.status != ObjectStatus::InSync)
                    {
                        let id = format!("drift/{}", o.status.as_str());
                        let text = format!("{}: {} is {}", s.site, o.key, o.status.as_str());
                        let file = o.source.as_deref().unwrap_or(&s.site_json);
                        result(&id, "error", text, file, o.diff.as_deref());
                    }
                }
            }
        }
        json!({
            "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "edgefleet",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules.iter().map(|(id, text)| json!({
                        "id": id,
                        "name": id.trim_start_matches("drift/"),
                        "shortDescription": { "text": text },
                        "help": { "text": "See docs/drift.md." },
                    })).collect::<Vec<_>>(),
                }},
                "invocations": [{ "executionSuccessful": true }],
                "results": results,
                "properties": self.summary_json(),
            }],
        })
    }

    /// JUnit XML: one suite per site, one case per object (a failure when not in sync, the diff
    /// as its description); a site not read is one errored case.
    pub fn to_junit(&self) -> Result<String, quick_junit::SerializeError> {
        self.junit().to_string()
    }

    /// [`to_junit`](Self::to_junit) of one shard: a last suite ([`crate::shard::JUNIT_SUITE`],
    /// no test cases) holds the shard `manifest` (an object of strings, as `shard.<key>`
    /// properties) and the shard's data (`shard.run`) for `edgefleet merge`.
    pub fn to_junit_shard(&self, manifest: &Value) -> Result<String, quick_junit::SerializeError> {
        let mut report = self.junit();
        let mut suite = TestSuite::new(crate::shard::JUNIT_SUITE);
        let run = crate::shard::shard_run(self);
        for (name, value) in kube_basics::shard_report::junit_properties(manifest, &run) {
            suite.add_property(Property::new(name, value));
        }
        report.add_test_suite(suite);
        report.to_string()
    }

    fn junit(&self) -> Report {
        let mut report = Report::new("edgefleet drift");
        for s in &self.sites {
            let mut suite = TestSuite::new(s.site.clone());
            suite.add_property(Property::new("region", s.region.clone()));
            suite.add_property(Property::new("wave", s.wave.clone()));
            if let Some(e) = &s.error {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(e.clone()).set_type(s.status.as_str());
                let mut case = TestCase::new(s.site.clone(), status);
                case.set_classname(s.status.as_str());
                suite.add_test_case(case);
            }
            for o in &s.objects {
                let status = if o.status == ObjectStatus::InSync {
                    TestCaseStatus::success()
                } else {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_message(format!("{} is {}", o.key, o.status.as_str()))
                        .set_type(o.status.as_str());
                    if let Some(d) = &o.diff {
                        status.set_description(d.clone());
                    }
                    status
                };
                let mut case = TestCase::new(o.key.to_string(), status);
                case.set_classname(s.site.clone());
                suite.add_test_case(case);
            }
            report.add_test_suite(suite);
        }
        report
    }
}
