//! `diff --shard K/N --format json`: the data a shard's report carries (`shard_run`) so that
//! `edgefleet merge` rebuilds the [`FleetDiff`] of the whole fleet, groups and counts included,
//! and writes it with the same reporter.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FleetDiff, SiteChange};

#[derive(Serialize, Deserialize)]
struct ShardRun {
    base: String,
    head: String,
    /// `--objects`: the report shows each object's diff.
    objects: bool,
    sites: Vec<SiteChange>,
    unchanged: usize,
    rendered: usize,
    overlays: usize,
}

/// The `shard_run` of one shard's diff.
pub fn shard_run(diff: &FleetDiff, objects: bool) -> Value {
    serde_json::to_value(ShardRun {
        base: diff.base.clone(),
        head: diff.head.clone(),
        objects,
        sites: diff.sites.clone(),
        unchanged: diff.unchanged,
        rendered: diff.rendered,
        overlays: diff.overlays,
    })
    .unwrap_or_default()
}

/// The diff of the whole fleet from the `shard_run`s of its shards, and whether the report
/// shows objects; an error names the part that is not a shard's data or that disagrees.
pub fn merge(parts: &[(String, Value)]) -> Result<(FleetDiff, bool), String> {
    let mut merged: Option<(FleetDiff, bool)> = None;
    for (name, value) in parts {
        let part: ShardRun = serde_json::from_value(value.clone())
            .map_err(|e| format!("{name}: damaged shard data (shard_run): {e}"))?;
        match &mut merged {
            None => {
                merged = Some((
                    FleetDiff {
                        base: part.base,
                        head: part.head,
                        sites: part.sites,
                        unchanged: part.unchanged,
                        rendered: part.rendered,
                        overlays: part.overlays,
                    },
                    part.objects,
                ))
            }
            Some((diff, objects)) => {
                if (&diff.base, &diff.head, *objects) != (&part.base, &part.head, part.objects) {
                    return Err(format!(
                        "{name} compares `{}`..`{}`{}, the other shards `{}`..`{}`{}",
                        part.base,
                        part.head,
                        if part.objects { " with --objects" } else { "" },
                        diff.base,
                        diff.head,
                        if *objects { " with --objects" } else { "" },
                    ));
                }
                diff.sites.extend(part.sites);
                diff.unchanged += part.unchanged;
                diff.rendered += part.rendered;
                diff.overlays += part.overlays;
            }
        }
    }
    let (mut diff, objects) = merged.ok_or("no shard reports given")?;
    diff.sites.sort_by(|a, b| a.site.cmp(&b.site));
    if let Some(w) = diff.sites.windows(2).find(|w| w[0].site == w[1].site) {
        return Err(format!("site {} is in two shards", w[0].site));
    }
    Ok((diff, objects))
}
