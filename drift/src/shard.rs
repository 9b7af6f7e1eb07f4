//! Reports of one shard of `edgefleet drift --shard K/N`, and their merge.
//!
//! A shard's report (JSON, SARIF or JUnit) carries the shard manifest (written by the caller,
//! opaque here) and `shard_run`: every checked site as data, the paths SARIF points at
//! included, so that [`merge`] rebuilds the [`DriftReport`] one run over every site would have
//! made, and the ordinary writers print it. Sites are independent in drift (nothing is merged
//! across sites), so a shard's visible report is already complete for its sites; the data
//! only keeps what the visible formats leave out (the overlay of each object, `site.json`).
//!
//! Where the data goes: JSON, the top-level `shard` and `shard_run`; SARIF,
//! `runs[0].properties.shard` and `.shard_run`; JUnit, the properties `shard.<key>` and
//! `shard.run` of a suite named [`JUNIT_SUITE`] with no test cases.

use std::path::PathBuf;

use kube_basics::shard_report;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ObjectKey;
use crate::report::{DriftReport, ObjectReport, ObjectStatus, SiteReport, SiteStatus};

/// The JUnit suite that holds a shard's manifest and data (as
/// [`kube_basics::shard_report`] writes and reads them).
pub const JUNIT_SUITE: &str = "edgefleet drift shard";

#[derive(Serialize, Deserialize)]
struct RunData {
    sites: Vec<SiteData>,
}

#[derive(Serialize, Deserialize)]
struct SiteData {
    site: String,
    region: String,
    wave: String,
    status: String,
    error: Option<String>,
    site_json: PathBuf,
    objects: Vec<ObjectData>,
}

#[derive(Serialize, Deserialize)]
struct ObjectData {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    status: String,
    diff: Option<String>,
    source: Option<PathBuf>,
}

/// The `shard_run` of a report: every site as data.
pub fn shard_run(report: &DriftReport) -> Value {
    let data = RunData {
        sites: report
            .sites
            .iter()
            .map(|s| SiteData {
                site: s.site.clone(),
                region: s.region.clone(),
                wave: s.wave.clone(),
                status: s.status.as_str().to_owned(),
                error: s.error.clone(),
                site_json: s.site_json.clone(),
                objects: s
                    .objects
                    .iter()
                    .map(|o| ObjectData {
                        api_version: o.key.api_version.clone(),
                        kind: o.key.kind.clone(),
                        namespace: o.key.namespace.clone(),
                        name: o.key.name.clone(),
                        status: o.status.as_str().to_owned(),
                        diff: o.diff.clone(),
                        source: o.source.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_value(data).unwrap_or_default()
}

/// The report a `shard_run` holds; an error names what is damaged.
pub fn read_run(run: &Value) -> Result<DriftReport, String> {
    let data: RunData = serde_json::from_value(run.clone())
        .map_err(|e| format!("damaged shard data (shard_run): {e}"))?;
    let mut sites = Vec::with_capacity(data.sites.len());
    for s in data.sites {
        let status = SiteStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s.status)
            .ok_or_else(|| format!("damaged shard data: site status `{}`", s.status))?;
        let mut objects = Vec::with_capacity(s.objects.len());
        for o in s.objects {
            let status = ObjectStatus::ALL
                .into_iter()
                .find(|x| x.as_str() == o.status)
                .ok_or_else(|| format!("damaged shard data: object status `{}`", o.status))?;
            objects.push(ObjectReport {
                key: ObjectKey {
                    api_version: o.api_version,
                    kind: o.kind,
                    namespace: o.namespace,
                    name: o.name,
                },
                status,
                diff: o.diff,
                source: o.source,
            });
        }
        sites.push(SiteReport {
            site: s.site,
            region: s.region,
            wave: s.wave,
            status,
            error: s.error,
            objects,
            site_json: s.site_json,
        });
    }
    Ok(DriftReport { sites })
}

/// The report of the whole run from its shards' reports (each named, for errors): every site
/// once, sorted by id as one run sorts them. A site in two reports is an error (the reports
/// are not shards of one partition).
pub fn merge(parts: Vec<(String, DriftReport)>) -> Result<DriftReport, String> {
    let mut sites: Vec<(SiteReport, String)> = parts
        .into_iter()
        .flat_map(|(name, r)| r.sites.into_iter().map(move |s| (s, name.clone())))
        .collect();
    sites.sort_by(|a, b| a.0.site.cmp(&b.0.site));
    for pair in sites.windows(2) {
        if pair[0].0.site == pair[1].0.site {
            return Err(format!(
                "site {} is in two shards' reports: {} and {}",
                pair[0].0.site, pair[0].1, pair[1].1
            ));
        }
    }
    Ok(DriftReport {
        sites: sites.into_iter().map(|(s, _)| s).collect(),
    })
}

/// A drift report with a shard manifest read back: its format (`json`, `sarif`, `junit`), its
/// manifest (as written) and its report. `Ok(None)`: not a drift report; an error: a drift
/// report without a manifest, or damaged.
pub fn read(text: &str) -> Result<Option<(&'static str, Value, DriftReport)>, String> {
    let no_manifest = || shard_report::without_manifest("drift");
    if text.trim_start().starts_with('<') {
        let Ok(report) = quick_junit::Report::deserialize_from_str(text) else {
            return Ok(None);
        };
        if report.name.as_ref().map(|n| n.as_str()) != Some("edgefleet drift") {
            return Ok(None);
        }
        let suite = report
            .test_suites
            .iter()
            .find(|s| s.name.as_str() == JUNIT_SUITE)
            .ok_or_else(no_manifest)?;
        let properties = suite.properties.iter();
        let (manifest, run): (_, Value) = shard_report::read_junit(
            "drift",
            properties.map(|p| (p.name.as_str(), p.value.as_str())),
        )?;
        return Ok(Some(("junit", Value::Object(manifest), read_run(&run)?)));
    }
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return Ok(None);
    };
    let (format, holder) = if doc.get("runs").is_some() && doc.get("$schema").is_some() {
        let drift = doc
            .pointer("/runs/0/tool/driver/rules/0/id")
            .and_then(Value::as_str)
            .is_some_and(|id| id.starts_with("drift/"));
        if !drift {
            return Ok(None);
        }
        ("sarif", &doc["runs"][0]["properties"])
    } else if doc.get("sites").is_some()
        && doc.get("summary").is_some()
        && doc.get("findings").is_none()
        && doc.get("groups").is_none()
    {
        ("json", &doc)
    } else {
        return Ok(None);
    };
    let (Some(manifest), Some(run)) = (holder.get("shard"), holder.get("shard_run")) else {
        return Err(no_manifest());
    };
    Ok(Some((format, manifest.clone(), read_run(run)?)))
}
