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

pub fn run(config: &Config, args: RenderArgs) -> u8 {
    let (dirs, builds) = match &args.site {
        Some(site) => {
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
        None => (
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
