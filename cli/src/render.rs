//! `edgefleet render`: the in-process Kustomize build of overlays, printed as
//! `kubectl kustomize` prints it.
//!
//! Several folders (or a site with several workloads) print one stream: the builds in the
//! order given (a site's overlays sorted by folder name), joined by `---` lines, so that the
//! output is still one valid multi-document YAML stream, as `kubectl apply -f -` reads it.

use std::io::Write;
use std::path::{Path, PathBuf};

use edgefleet_fleet::FleetTree;
use kustomize::Renderer;
use rayon::prelude::*;

use crate::config::Config;
use crate::exit;

#[derive(clap::Args)]
pub struct RenderArgs {
    /// Folders holding a kustomization (e.g. out/sites/eu-north/rig-nsea-042/telemetry-collector).
    #[arg(
        value_name = "DIR",
        required_unless_present_any = ["site", "fleet"],
        conflicts_with_all = ["site", "fleet"]
    )]
    dirs: Vec<PathBuf>,
    /// Render every overlay of this site (out/sites/<region>/<ID>/*).
    #[arg(long, value_name = "ID", conflicts_with = "fleet")]
    site: Option<String>,
    /// Render every overlay of every site of this generated tree, site by site (sites by
    /// region then id, each site's overlays by name).
    #[arg(long, value_name = "OUT_DIR")]
    fleet: Option<PathBuf>,
    /// With `--fleet`: only the sites of shard K of N (by a hash of the site id; docs/scale.md).
    #[arg(long, value_name = "K/N", requires = "fleet")]
    shard: Option<edgefleet_fleet::shard::Shard>,
    /// The generated tree to find `--site` in; default from edgefleet.toml, else `out`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(config: &Config, args: RenderArgs) -> u8 {
    let (dirs, builds) = match (&args.site, &args.fleet) {
        (_, Some(out)) => return fleet(out, args.shard),
        (Some(site), None) => {
            let out = args.out.clone().unwrap_or_else(|| config.out());
            let found = FleetTree::on_disk(&out).and_then(|tree| {
                let site = tree.find_site(site)?;
                Ok((tree, site))
            });
            let (tree, site) = match found {
                Ok(f) => f,
                Err(e) => {
                    crate::output::error(e.to_string());
                    return exit::INPUT;
                }
            };
            if site.overlays.is_empty() {
                eprintln!(
                    "error: site {:?} has no overlays in {}",
                    site.id,
                    site.dir.display()
                );
                return exit::INPUT;
            }
            let dirs: Vec<PathBuf> = site.overlays.iter().map(|o| o.dir.clone()).collect();
            let builds = tree.render_dirs(&dirs);
            (dirs, builds)
        }
        (None, None) => (
            args.dirs.clone(),
            edgefleet_fleet::tree::render_dirs(&Renderer::new(), &args.dirs),
        ),
    };
    // Nothing is printed unless every build succeeded.
    let mut texts = Vec::with_capacity(builds.len());
    for (dir, b) in dirs.iter().zip(builds) {
        match b {
            Ok(resources) => {
                if let Err(e) = check_object_count(dir, resources.len()) {
                    crate::output::error(e);
                    return exit::INPUT;
                }
                texts.push(kustomize::to_yaml(&resources));
            }
            Err(e) => {
                crate::output::error(e.to_string());
                return exit::INPUT;
            }
        }
    }
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut printed = false;
    let mut write = || -> std::io::Result<()> {
        for yaml in texts.iter().filter(|t| !t.is_empty()) {
            if printed {
                stdout.write_all(b"---\n")?;
            }
            stdout.write_all(yaml.as_bytes())?;
            printed = true;
        }
        stdout.flush()
    };
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = write();
    exit::OK
}

/// `render --fleet OUT [--shard K/N]`: every overlay of the (shard's) sites, sites by region
/// then id, overlays by name. The stream is written as it is rendered, a batch of overlays at a
/// time (rendered in parallel, written in order), so memory holds one batch, not the rendered
/// fleet. An overlay that cannot be rendered stops the stream there: what came before it has
/// been written, the error is printed and the exit code is 2.
fn fleet(out: &Path, shard: Option<edgefleet_fleet::shard::Shard>) -> u8 {
    let shard = shard.unwrap_or(edgefleet_fleet::shard::Shard::WHOLE);
    let tree = match FleetTree::on_disk(out) {
        Ok(t) => t,
        Err(e) => {
            crate::output::error(e.to_string());
            return exit::INPUT;
        }
    };
    // Only the shard's site folders are read.
    let found = tree.sites_where(|id| shard.contains(id));
    if let Some(e) = found
        .problems
        .iter()
        .find(|e| e.path().is_none_or(|p| owns(shard, out, p)))
    {
        crate::output::error(e.to_string());
        return exit::INPUT;
    }
    let sites: Vec<Vec<PathBuf>> = found
        .sites
        .into_iter()
        .map(|s| s.overlays.into_iter().map(|o| o.dir).collect())
        .collect();
    let bar = crate::generate::site_bar("rendering", sites.len());
    // Enough sites per batch to keep every worker busy, few enough to keep the batch small.
    let batch = rayon::current_num_threads().max(1) * 8;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut printed = false;
    let mut done = 0;
    for sites in sites.chunks(batch) {
        let texts: Vec<Result<Vec<String>, String>> = sites
            .par_iter()
            .map(|overlays| {
                overlays
                    .iter()
                    .map(|dir| {
                        let resources = tree.renderer().build(dir).map_err(|e| e.to_string())?;
                        check_object_count(dir, resources.len())?;
                        Ok(kustomize::to_yaml(&resources))
                    })
                    .collect()
            })
            .collect();
        for site in texts {
            let site = match site {
                Ok(s) => s,
                Err(e) => {
                    let _ = stdout.flush();
                    if let Some(b) = &bar {
                        b.finish_and_clear();
                    }
                    crate::output::error(e);
                    return exit::INPUT;
                }
            };
            for yaml in site.iter().filter(|t| !t.is_empty()) {
                let written = if printed {
                    stdout.write_all(b"---\n")
                } else {
                    Ok(())
                }
                .and_then(|()| stdout.write_all(yaml.as_bytes()));
                // A closed pipe (`| head`) is the reader's choice, not an error worth reporting.
                if written.is_err() {
                    if let Some(b) = &bar {
                        b.finish_and_clear();
                    }
                    return exit::OK;
                }
                printed = true;
            }
        }
        done += sites.len();
        if let Some(b) = &bar {
            b.set_position(done as u64);
        }
    }
    let _ = stdout.flush();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    exit::OK
}

/// `true` when a path of the tree at `out` is the shard's (`Shard::owns_path`).
fn owns(shard: edgefleet_fleet::shard::Shard, out: &Path, path: &Path) -> bool {
    match path.strip_prefix(out) {
        Ok(rest) => shard.owns_path(&rest.to_string_lossy().replace('\\', "/")),
        Err(_) => shard.fleet_wide(),
    }
}

/// Refuses an overlay that renders more objects than edgefleet reads for one site
/// (docs/limits.md), naming its kustomization.
pub fn check_object_count(dir: &Path, objects: usize) -> Result<(), String> {
    let limit = edgefleet_inventory::limits::MAX_OBJECTS_PER_SITE;
    if objects > limit {
        return Err(format!(
            "{}: renders {objects} objects, more than the {limit} edgefleet reads for one \
             overlay (docs/limits.md)",
            dir.join("kustomization.yaml").display()
        ));
    }
    Ok(())
}
