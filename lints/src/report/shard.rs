//! Reports of one shard of a `lint --fleet --shard K/N` run, and their merge.
//!
//! A run with a shard manifest ([`LintRun::shard`]) writes it into its report (JSON: the
//! top-level `shard` field; SARIF: `runs[0].properties.shard`; JUnit: `shard.*` properties of
//! the `edgefleet lint` suite) next to `shard_run` (`shard.run` in JUnit): the run's findings,
//! counts and files as data, without loss. The visible report of a shard is incomplete by
//! nature (a finding at 5,000 sites names the sites of one shard); [`merge`] rebuilds the run
//! of the whole fleet from the `shard_run`s, and the ordinary reporter writes it, so a merged
//! report is the report a single run writes.
//!
//! The manifest itself is opaque here: the caller decides what a complete set is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_inventory::SourceLocation;
use kube_basics::shard_report;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Format;
use crate::engine::{LintRun, RunProblem};
use crate::finding::{Finding, ObjectRef, Severity};

/// What a shard's report carries so that [`merge`] can rebuild the whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardRun {
    findings: Vec<ShardFinding>,
    problems: Vec<ShardProblem>,
    suppressed: usize,
    objects: usize,
    input_errors: usize,
    /// Every file linted.
    linted: Vec<String>,
    /// The files findings point at.
    sources: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ShardFinding {
    rule: String,
    severity: Severity,
    /// As reported, with the list of sites appended (`lint --fleet`).
    message: String,
    file: String,
    line: u32,
    column: u32,
    offset: usize,
    len: usize,
    object: Option<ObjectRef>,
    help: Option<String>,
    sites: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ShardProblem {
    file: Option<String>,
    message: String,
}

fn path_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The `shard_run` of a run.
pub fn shard_run(run: &LintRun) -> Value {
    let data = ShardRun {
        findings: run
            .findings
            .iter()
            .map(|f| ShardFinding {
                rule: f.rule.to_owned(),
                severity: f.severity,
                message: f.message.clone(),
                file: path_text(&f.location.file),
                line: f.location.line,
                column: f.location.column,
                offset: f.location.offset,
                len: f.location.len,
                object: f.object.clone(),
                help: f.help.clone(),
                sites: f.sites.iter().map(|s| s.to_string()).collect(),
            })
            .collect(),
        problems: run
            .problems
            .iter()
            .map(|p| ShardProblem {
                file: p.file.as_deref().map(path_text),
                message: p.message.clone(),
            })
            .collect(),
        suppressed: run.suppressed,
        objects: run.objects,
        input_errors: run.input_errors,
        linted: run.linted.iter().map(|p| path_text(p)).collect(),
        sources: run.sources.keys().map(|p| path_text(p)).collect(),
    };
    serde_json::to_value(data).unwrap_or_default()
}

/// One shard's report read back: its format, its manifest (as written) and its run.
pub struct ShardReport {
    pub format: Format,
    pub manifest: Value,
    pub run: ShardRun,
}

/// Reads a lint report written with a shard manifest. `Ok(None)`: the text is not a lint
/// report (JSON, SARIF or JUnit) at all; an error: it is one, but not of a sharded run, or it
/// is damaged.
pub fn read(text: &str) -> Result<Option<ShardReport>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        return read_junit(text).map(Some);
    }
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return Ok(None);
    };
    let (format, holder) = if doc.get("runs").is_some() && doc.get("$schema").is_some() {
        (Format::Sarif, &doc["runs"][0]["properties"])
    } else if doc.get("findings").is_some() && doc.get("summary").is_some() {
        (Format::Json, &doc)
    } else {
        return Ok(None);
    };
    let (Some(manifest), Some(run)) = (holder.get("shard"), holder.get("shard_run")) else {
        return Err(shard_report::without_manifest("lint"));
    };
    let run = serde_json::from_value(run.clone())
        .map_err(|e| format!("damaged shard data (shard_run): {e}"))?;
    Ok(Some(ShardReport {
        format,
        manifest: manifest.clone(),
        run,
    }))
}

fn read_junit(text: &str) -> Result<ShardReport, String> {
    let report = quick_junit::Report::deserialize_from_str(text)
        .map_err(|e| format!("not a readable JUnit report: {e}"))?;
    let suite = report
        .test_suites
        .iter()
        .find(|s| s.name.as_str() == super::junit::RUN_SUITE)
        .ok_or("a JUnit report without the `edgefleet lint` suite")?;
    let properties = suite.properties.iter();
    let (manifest, run) = shard_report::read_junit(
        "lint",
        properties.map(|p| (p.name.as_str(), p.value.as_str())),
    )?;
    Ok(ShardReport {
        format: Format::Junit,
        manifest: Value::Object(manifest),
        run,
    })
}

/// The rule id as the engine holds it: the built-in rule's, else the text kept for the run.
fn rule_id(id: &str, known: &mut BTreeMap<String, &'static str>) -> &'static str {
    if let Some(rule) = crate::rules::find(id) {
        return rule.id;
    }
    known
        .entry(id.to_owned())
        .or_insert_with(|| Box::leak(id.to_owned().into_boxed_str()))
}

/// The run of the whole fleet from the runs of its shards: findings that are the same at sites
/// of several shards become one finding naming every site (as one `lint --fleet` run merges
/// them), counts add up, files are counted once.
pub fn merge(parts: Vec<ShardRun>) -> LintRun {
    let mut run = LintRun::default();
    let mut known = BTreeMap::new();
    let mut paths: BTreeMap<String, Arc<Path>> = BTreeMap::new();
    let mut path = |s: &str| -> Arc<Path> {
        paths
            .entry(s.to_owned())
            .or_insert_with(|| Arc::from(PathBuf::from(s)))
            .clone()
    };
    type Key = (Arc<Path>, usize, &'static str, String, String);
    let mut merged: BTreeMap<Key, (Finding, String)> = BTreeMap::new();
    let mut linted = BTreeSet::new();
    for part in parts {
        run.suppressed += part.suppressed;
        run.objects += part.objects;
        run.input_errors += part.input_errors;
        for p in part.problems {
            run.problems
                .push(RunProblem::new(p.file.map(PathBuf::from), p.message));
        }
        for f in &part.linted {
            linted.insert(path(f));
        }
        for f in &part.sources {
            run.sources.insert(path(f), Arc::from(""));
        }
        for f in part.findings {
            let sites: Vec<Arc<str>> = f.sites.iter().map(|s| Arc::from(s.as_str())).collect();
            let base = if sites.is_empty() {
                f.message.clone()
            } else {
                let suffix = format!(" [{}]", crate::fleet::site_list(&sites));
                f.message
                    .strip_suffix(&suffix)
                    .unwrap_or(&f.message)
                    .to_owned()
            };
            let rule = rule_id(&f.rule, &mut known);
            let file = path(&f.file);
            let key = (
                file.clone(),
                f.offset,
                rule,
                base.clone(),
                f.object.as_ref().map(|o| o.to_string()).unwrap_or_default(),
            );
            match merged.get_mut(&key) {
                Some((existing, _)) => existing.sites.extend(sites),
                None => {
                    let finding = Finding {
                        rule,
                        severity: f.severity,
                        message: f.message,
                        location: SourceLocation {
                            file,
                            line: f.line,
                            column: f.column,
                            offset: f.offset,
                            len: f.len,
                        },
                        object: f.object,
                        help: f.help,
                        sites,
                    };
                    merged.insert(key, (finding, base));
                }
            }
        }
    }
    let mut findings: Vec<Finding> = merged
        .into_values()
        .map(|(mut f, base)| {
            if !f.sites.is_empty() {
                f.sites.sort();
                f.sites.dedup();
                f.message = format!("{base} [{}]", crate::fleet::site_list(&f.sites));
            }
            f
        })
        .collect();
    findings.sort_by(|a, b| {
        (&a.location.file, a.location.offset, a.rule, &a.message).cmp(&(
            &b.location.file,
            b.location.offset,
            b.rule,
            &b.message,
        ))
    });
    run.findings = findings;
    run.problems
        .sort_by(|a, b| (&a.file, &a.message).cmp(&(&b.file, &b.message)));
    run.files = linted.len();
    run.linted = linted;
    run
}
