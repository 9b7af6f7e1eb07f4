//! `edgefleet render`: the in-process Kustomize build of overlays, printed as
//! `kubectl kustomize` prints it.
//!
//! Several folders (or a site with several workloads) print one stream: the builds in the
//! order given (a site's overlays sorted by folder name), joined by `---` lines, so that the
//! output is still one valid multi-document YAML stream, as `kubectl apply -f -` reads it.

use std::io::Write;
use std::path::{Path, PathBuf};

use kustomize::Renderer;
use rayon::prelude::*;

use crate::config::Config;
use crate::exit;

#[derive(clap::Args)]
pub struct RenderArgs {
    /// Folders holding a kustomization (e.g. out/sites/eu-north/rig-nsea-042/telemetry-collector).
    #[arg(
        value_name = "DIR",
        required_unless_present = "site",
        conflicts_with = "site"
    )]
    dirs: Vec<PathBuf>,
    /// Render every overlay of this site (out/sites/<region>/<ID>/*).
    #[arg(long, value_name = "ID")]
    site: Option<String>,
    /// The generated tree to find `--site` in; default from edgefleet.toml, else `out`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// The overlay folders of `site` under `out/sites/<region>/<site>/`, sorted.
fn site_overlays(out: &Path, site: &str) -> Result<Vec<PathBuf>, String> {
    let sites = out.join("sites");
    let regions = std::fs::read_dir(&sites).map_err(|e| format!("{}: {e}", sites.display()))?;
    let mut found = Vec::new();
    for region in regions.flatten() {
        let dir = region.path().join(site);
        if dir.is_dir() {
            found.push(dir);
        }
    }
    let site_dir = match found.as_slice() {
        [] => {
            return Err(format!(
                "no site {site:?} under {} (looked in every region folder)",
                sites.display()
            ));
        }
        [one] => one.clone(),
        many => {
            return Err(format!(
                "site {site:?} is in several regions: {}",
                many.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    let mut overlays: Vec<PathBuf> = std::fs::read_dir(&site_dir)
        .map_err(|e| format!("{}: {e}", site_dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && kustomize::kustomization::find_file(&kustomize::fs::DiskFs, p)
                    .ok()
                    .flatten()
                    .is_some()
        })
        .collect();
    overlays.sort();
    if overlays.is_empty() {
        return Err(format!(
            "site {site:?} has no overlays in {}",
            site_dir.display()
        ));
    }
    Ok(overlays)
}

pub fn run(config: &Config, args: RenderArgs) -> u8 {
    let dirs = match &args.site {
        Some(site) => {
            let out = args.out.clone().unwrap_or_else(|| config.out());
            match site_overlays(&out, site) {
                Ok(d) => d,
                Err(e) => {
                    crate::output::error(e.to_string());
                    return exit::INPUT;
                }
            }
        }
        None => args.dirs.clone(),
    };
    let renderer = Renderer::new();
    let builds: Vec<_> = dirs.par_iter().map(|d| renderer.build_yaml(d)).collect();
    // Nothing is printed unless every build succeeded.
    let mut texts = Vec::with_capacity(builds.len());
    for b in builds {
        match b {
            Ok(yaml) => texts.push(yaml),
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
