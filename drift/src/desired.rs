//! What every selected site should run: its overlays rendered through the fleet library, with
//! its region and wave from `site.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edgefleet_fleet::{FleetTree, SiteDir};
use serde_json::Value;

use crate::ObjectKey;

/// Which sites to check: all when every list is empty; otherwise a site must be named by
/// `sites` (when given), be in one of `regions` and `waves` (when given), and in `shard` (when
/// given).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub sites: Vec<String>,
    pub regions: Vec<String>,
    pub waves: Vec<String>,
    /// Only the sites of this shard (`--shard K/N`), when given.
    pub shard: Option<edgefleet_fleet::shard::Shard>,
}

impl Selection {
    fn takes(&self, site: &SiteDir) -> bool {
        (self.sites.is_empty() || self.sites.contains(&site.id))
            && (self.regions.is_empty() || self.regions.contains(&site.region))
            && (self.waves.is_empty() || self.waves.contains(&site.site_json.wave))
            && self.shard.is_none_or(|s| s.contains(&site.id))
    }
}

/// One object a site should run.
#[derive(Debug, Clone)]
pub struct DesiredObject {
    pub key: ObjectKey,
    pub value: Value,
    /// The kustomization of the overlay that renders it (where a report points).
    pub source: PathBuf,
}

/// A site and what it should run, objects sorted by key.
#[derive(Debug, Clone)]
pub struct DesiredSite {
    pub id: String,
    pub region: String,
    pub wave: String,
    /// `sites/<region>/<site>/site.json` under the tree's root as the caller named it.
    pub site_json: PathBuf,
    pub objects: Vec<DesiredObject>,
}

impl DesiredSite {
    pub fn keys(&self) -> Vec<ObjectKey> {
        self.objects.iter().map(|o| o.key.clone()).collect()
    }
}

/// Bad input: the tree, a selection naming no site, an overlay that does not render. Every
/// problem found, each naming its file.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct DesiredError(pub Vec<String>);

/// The desired state of the selected sites of the generated tree at `out`, sorted by site id.
pub fn desired_state(out: &Path, selection: &Selection) -> Result<Vec<DesiredSite>, DesiredError> {
    let tree = FleetTree::on_disk(out).map_err(|e| DesiredError(vec![e.to_string()]))?;
    let found = tree.sites();
    let mut problems: Vec<String> = found.problems.iter().map(ToString::to_string).collect();
    for id in &selection.sites {
        if !found.sites.iter().any(|s| &s.id == id) {
            problems.push(format!(
                "--site {id}: no such site under {}",
                out.join(edgefleet_fleet::layout::SITES).display()
            ));
        }
    }
    let mut chosen: Vec<SiteDir> = found
        .sites
        .into_iter()
        .filter(|s| selection.takes(s))
        .collect();
    chosen.sort_by(|a, b| a.id.cmp(&b.id));
    let rendered = tree.render_sites(&chosen);
    let mut sites = Vec::with_capacity(chosen.len());
    for (dir, site) in chosen.iter().zip(rendered) {
        let mut objects: BTreeMap<ObjectKey, DesiredObject> = BTreeMap::new();
        for (overlay, result) in site.overlays {
            let source = overlay.dir.join("kustomization.yaml");
            let resources = match result {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("{}: cannot render: {e}", overlay.dir.display()));
                    continue;
                }
            };
            for r in resources {
                let Some(key) = ObjectKey::of(&r.value) else {
                    problems.push(format!(
                        "{}: renders an object without apiVersion, kind or metadata.name",
                        overlay.dir.display()
                    ));
                    continue;
                };
                if let Some(before) = objects.get(&key) {
                    if before.value != r.value {
                        problems.push(format!(
                            "{}: renders {key}, which {} renders differently",
                            overlay.dir.display(),
                            before.source.display()
                        ));
                    }
                    continue;
                }
                objects.insert(
                    key.clone(),
                    DesiredObject {
                        key,
                        value: r.value,
                        source: source.clone(),
                    },
                );
            }
        }
        sites.push(DesiredSite {
            id: dir.id.clone(),
            region: dir.region.clone(),
            wave: dir.site_json.wave.clone(),
            site_json: dir.dir.join(edgefleet_fleet::layout::SITE_JSON),
            objects: objects.into_values().collect(),
        });
    }
    if problems.is_empty() {
        Ok(sites)
    } else {
        Err(DesiredError(problems))
    }
}
