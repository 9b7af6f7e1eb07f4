//! Fleet mode: every selected site read through a [`LiveSource`] by a bounded number of worker
//! threads, each site compared as soon as it is read. A site that cannot be read is
//! `unreachable` or `unauthorized` and never stops the others; a site whose source has not
//! answered within the per-site timeout is `unreachable`, whatever the source does (its reader
//! thread is left to finish on its own, its answer dropped). Results are in site order, so the
//! report is the same for any number of workers.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

use crate::compare::Verdict;
use crate::desired::DesiredSite;
use crate::report::{DriftReport, ObjectReport, ObjectStatus, SiteReport, SiteStatus};
use crate::rules::DriftRules;
use crate::{LiveSite, LiveSource, ObjectKey, SiteFailure};

/// How a fleet run goes.
pub struct RunOptions<'a> {
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// The most one site may take.
    pub timeout: Duration,
    /// Called after each site with (sites done, sites in all), from worker threads.
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
}

/// Reads and compares every site of `sites` (sorted by id) through `source`.
pub fn check_fleet(
    sites: &[DesiredSite],
    source: Arc<dyn LiveSource>,
    rules: &DriftRules,
    options: &RunOptions<'_>,
) -> DriftReport {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<SiteReport>>> = Mutex::new(vec![None; sites.len()]);
    let workers = options.jobs.clamp(1, sites.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(site) = sites.get(i) else { break };
                    let live = read_within(&source, site, options.timeout);
                    let report = compare_site(site, live, rules);
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(report);
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Some(p) = options.progress {
                        p(n, sites.len());
                    }
                }
            });
        }
    });
    let mut sites: Vec<SiteReport> = results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    sites.sort_by(|a, b| a.site.cmp(&b.site));
    DriftReport { sites }
}

/// The source's answer for a site, or `unreachable` once `timeout` has passed.
fn read_within(
    source: &Arc<dyn LiveSource>,
    site: &DesiredSite,
    timeout: Duration,
) -> Result<LiveSite, SiteFailure> {
    let (tx, rx) = mpsc::channel();
    let reader = source.clone();
    let id = site.id.clone();
    let keys = site.keys();
    let spawned = std::thread::Builder::new()
        .name(format!("drift {id}"))
        .spawn(move || {
            let _ = tx.send(reader.read_site(&id, &keys));
        });
    if let Err(e) = spawned {
        return Err(SiteFailure::Unreachable(format!(
            "cannot start a reader: {e}"
        )));
    }
    match rx.recv_timeout(timeout) {
        Ok(answer) => answer,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(SiteFailure::Unreachable(format!(
            "no answer within {} (--timeout)",
            seconds(timeout)
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(SiteFailure::Unreachable(
            "the reader of this site stopped without an answer".to_owned(),
        )),
    }
}

fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// One site's results: each desired object in sync, drifted or missing, and the live objects
/// carrying the site label that Git does not have (extra), unless another object owns them.
pub fn compare_site(
    site: &DesiredSite,
    live: Result<LiveSite, SiteFailure>,
    rules: &DriftRules,
) -> SiteReport {
    let mut report = SiteReport {
        site: site.id.clone(),
        region: site.region.clone(),
        wave: site.wave.clone(),
        status: SiteStatus::InSync,
        error: None,
        objects: Vec::new(),
        site_json: site.site_json.clone(),
    };
    let live = match live {
        Ok(l) => l,
        Err(failure) => {
            report.status = match failure {
                SiteFailure::Unreachable(_) => SiteStatus::Unreachable,
                SiteFailure::Unauthorized(_) => SiteStatus::Unauthorized,
            };
            report.error = Some(failure.to_string());
            return report;
        }
    };
    for d in &site.objects {
        let found = live.objects.get(&d.key).cloned().flatten().or_else(|| {
            // A source may have answered under the live key (`default` for no namespace).
            live.objects
                .iter()
                .find(|(k, _)| d.key.names(k))
                .and_then(|(_, v)| v.clone())
        });
        let (status, diff) = match found {
            None => (ObjectStatus::Missing, None),
            Some(l) => match rules.compare(&d.value, &l) {
                Verdict::InSync => (ObjectStatus::InSync, None),
                Verdict::Drifted(diff) => (ObjectStatus::Drifted, Some(diff)),
            },
        };
        report.objects.push(ObjectReport {
            key: d.key.clone(),
            status,
            diff,
            source: Some(d.source.clone()),
        });
    }
    let mut extra: BTreeSet<ObjectKey> = BTreeSet::new();
    for object in &live.labelled {
        let Some(key) = ObjectKey::of(object) else {
            continue;
        };
        if site.objects.iter().any(|d| d.key.names(&key)) || owned(object) {
            continue;
        }
        // The endpoints controller copies a Service's labels to its Endpoints, without an owner.
        if key.kind == "Endpoints"
            && key.api_version == "v1"
            && site.objects.iter().any(|d| {
                d.key.kind == "Service"
                    && d.key.name == key.name
                    && (d.key.namespace == key.namespace || d.key.names(&key_as_service(&key)))
            })
        {
            continue;
        }
        extra.insert(key);
    }
    report
        .objects
        .extend(extra.into_iter().map(|key| ObjectReport {
            key,
            status: ObjectStatus::Extra,
            diff: None,
            source: None,
        }));
    report.objects.sort_by(|a, b| a.key.cmp(&b.key));
    if report
        .objects
        .iter()
        .any(|o| o.status != ObjectStatus::InSync)
    {
        report.status = SiteStatus::Drifted;
    }
    report
}

fn key_as_service(endpoints: &ObjectKey) -> ObjectKey {
    ObjectKey {
        kind: "Service".to_owned(),
        ..endpoints.clone()
    }
}

/// Objects made by another object (Pods and ReplicaSets of a Deployment, Jobs of a CronJob,
/// EndpointSlices of a Service) inherit its labels; they are never extra.
fn owned(object: &Value) -> bool {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|o| !o.is_empty())
}
