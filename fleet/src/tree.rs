//! A generated tree read through a [`FileSystem`]: its sites (`sites/<region>/<site>/`), their
//! `site.json` and overlays, and the rendering of any set of them in parallel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_inventory::{Distribution, Fleet};
use edgefleet_overlays::layout;
use edgefleet_overlays::site_json::{SiteJson, SiteJsonError};
use kustomize::fs::{DiskFs, FileSystem};
use kustomize::{RenderError, Renderer, Resource};
use rayon::prelude::*;

/// What can be wrong with a generated tree. Each message names the file or folder at fault.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{}: no `sites/` folder; is this a tree written by `edgefleet generate`?", root.display())]
    NotATree { root: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    SiteJson(#[from] SiteJsonError),
    /// `site.json` names another site or region than the folder it is in.
    #[error("{}: {key} `{found}` does not match the folder `{folder}` (sites/<region>/<site>/site.json)", path.display())]
    Misplaced {
        path: PathBuf,
        key: &'static str,
        found: String,
        folder: String,
    },
    #[error("no site {site:?} under {} (looked in every region folder)", sites.display())]
    NoSuchSite { site: String, sites: PathBuf },
    #[error("site {site:?} is in several regions: {}", dirs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    SiteInSeveralRegions { site: String, dirs: Vec<PathBuf> },
    /// A YAML file of the tree that does not parse (the diagnostic names file:line:col).
    #[error("{0}")]
    Yaml(edgefleet_inventory::Diagnostic),
    /// An ApplicationSet edgefleet cannot read.
    #[error("{}: {message}", path.display())]
    AppSet { path: PathBuf, message: String },
    #[error("{}: site `{site}` is not in the inventory (run `edgefleet generate` to prune it)", path.display())]
    NotInInventory { path: PathBuf, site: String },
}

impl TreeError {
    /// The file or folder the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            TreeError::NotATree { root } => Some(root),
            TreeError::Io { path, .. }
            | TreeError::Misplaced { path, .. }
            | TreeError::AppSet { path, .. }
            | TreeError::NotInInventory { path, .. } => Some(path),
            TreeError::SiteJson(e) => Some(&e.path),
            TreeError::Yaml(d) => Some(&*d.location.file),
            TreeError::NoSuchSite { .. } | TreeError::SiteInSeveralRegions { .. } => None,
        }
    }
}

/// A site's overlay: the folder of one workload, holding a kustomization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    /// The folder's name (the workload, `telemetry-collector`).
    pub workload: String,
    /// The folder, under the tree's root as the caller named it.
    pub dir: PathBuf,
}

/// A site folder of the tree, `sites/<region>/<site>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteDir {
    pub region: String,
    pub id: String,
    /// The folder, under the tree's root as the caller named it.
    pub dir: PathBuf,
    pub site_json: SiteJson,
    /// Sub-folders holding a kustomization, sorted by name.
    pub overlays: Vec<Overlay>,
}

impl SiteDir {
    /// `sites/<region>/<site>/site.json`, relative to the tree's root.
    pub fn site_json_path(&self) -> String {
        layout::site_json(&self.region, &self.id)
    }

    /// The site in the inventory, and a note when `site.json` disagrees with it about the
    /// hardware, the backhaul, the region or the platform (a tree generated from an older inventory: the
    /// inventory is the truth, the tree is stale).
    pub fn in_inventory<'f>(
        &self,
        fleet: &'f Fleet,
    ) -> Result<(&'f edgefleet_inventory::Site, Option<String>), TreeError> {
        let file = self.dir.join(layout::SITE_JSON);
        let site = fleet
            .site(&self.site_json.site)
            .ok_or_else(|| TreeError::NotInInventory {
                path: file.clone(),
                site: self.site_json.site.clone(),
            })?;
        let mut stale = Vec::new();
        for (key, tree, inventory) in [
            ("hardware", &self.site_json.hardware, &site.hardware),
            ("backhaul", &self.site_json.backhaul, &site.backhaul),
            ("region", &self.site_json.region, &site.region),
        ] {
            if tree != inventory {
                stale.push(format!(
                    "{key} `{tree}` in the tree, `{inventory}` in the inventory"
                ));
            }
        }
        let inventory_platform = fleet.platform_of(site);
        let tree_platform = self.site_json.platform.as_deref();
        if tree_platform != inventory_platform.map(|p| p.name.as_str())
            || self.site_json.distribution != inventory_platform.map(|p| p.distribution)
        {
            let show = |name: Option<&str>, d: Option<Distribution>| match (name, d) {
                (Some(n), Some(d)) => format!("`{n}` ({d})"),
                (Some(n), None) => format!("`{n}`"),
                (None, Some(d)) => format!("({d})"),
                (None, None) => "none".to_owned(),
            };
            stale.push(format!(
                "platform {} in the tree, {} in the inventory",
                show(tree_platform, self.site_json.distribution),
                show(
                    inventory_platform.map(|p| p.name.as_str()),
                    inventory_platform.map(|p| p.distribution)
                )
            ));
        }
        let note = (!stale.is_empty()).then(|| {
            format!(
                "{}: stale tree ({}); using the inventory, run `edgefleet generate`",
                file.display(),
                stale.join(", ")
            )
        });
        Ok((site, note))
    }
}

/// The sites of a tree, and the site folders that could not be read (the others are still
/// usable).
#[derive(Debug, Default)]
pub struct Discovery {
    pub sites: Vec<SiteDir>,
    pub problems: Vec<TreeError>,
}

/// The renders of one site's overlays, in overlay order.
#[derive(Debug)]
pub struct RenderedSite {
    pub site: String,
    pub overlays: Vec<(Overlay, Result<Vec<Resource>, RenderError>)>,
}

/// A generated tree: a root folder on a filesystem, and one renderer whose cache (bases,
/// components, parsed files) every render of the tree shares.
pub struct FleetTree {
    fs: Arc<dyn FileSystem>,
    root: PathBuf,
    canonical_root: PathBuf,
    renderer: Renderer,
}

impl FleetTree {
    /// The tree at `root` on disk.
    pub fn on_disk(root: &Path) -> Result<FleetTree, TreeError> {
        FleetTree::open(Arc::new(DiskFs), root)
    }

    /// The tree at `root` on `fs`; an error when `root` has no `sites/` folder.
    pub fn open(fs: Arc<dyn FileSystem>, root: &Path) -> Result<FleetTree, TreeError> {
        if !fs.is_dir(&root.join(layout::SITES)) {
            return Err(TreeError::NotATree {
                root: root.to_path_buf(),
            });
        }
        let canonical_root = fs.canonicalize(root).map_err(|source| TreeError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(FleetTree {
            renderer: Renderer::with_shared_fs(fs.clone()),
            fs,
            root: root.to_path_buf(),
            canonical_root,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn fs(&self) -> &dyn FileSystem {
        &*self.fs
    }

    /// The same tree whose renders record provenance (which patch, transformer or generator
    /// set each field, see [`kustomize::provenance`]) or not (the default; nothing is paid).
    #[must_use]
    pub fn with_provenance(mut self, on: bool) -> Self {
        self.renderer.set_provenance(on);
        self
    }

    /// Renders reuse the reading of a kustomization or inline patch text met just before on
    /// the same thread (see [`Renderer::with_recent_parses`]): for `diff`, which renders each
    /// overlay from two revisions one after the other.
    #[must_use]
    pub fn with_recent_parses(mut self, on: bool) -> Self {
        self.renderer.set_recent_parses(on);
        self
    }

    /// The renderer every render of this tree goes through (one cache for the whole fleet).
    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// `root/<relative>` for a `/`-separated path relative to the tree's root.
    pub fn path(&self, relative: &str) -> PathBuf {
        relative
            .split('/')
            .filter(|s| !s.is_empty())
            .fold(self.root.clone(), |p, s| p.join(s))
    }

    /// The folders under `dir` (following symlinks), hidden ones left out, sorted by name.
    fn subdirs(&self, dir: &Path) -> Result<Vec<PathBuf>, TreeError> {
        let entries = self.fs.read_dir(dir).map_err(|source| TreeError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(entries
            .into_iter()
            .filter(|p| !name_of(p).starts_with('.') && self.fs.is_dir(p))
            .collect())
    }

    /// Every site of the tree, by region folder then site folder. A folder without `site.json`
    /// is not a site (left out); a `site.json` that cannot be read, or that names another site
    /// or region than its folder, is a problem of that site only.
    pub fn sites(&self) -> Discovery {
        self.sites_where(|_| true)
    }

    /// [`sites`](Self::sites), reading only the site folders whose name (the site id) `keep`
    /// accepts: the others are neither read nor listed, and their problems are not found (a
    /// shard reads its own sites only).
    pub fn sites_where(&self, keep: impl Fn(&str) -> bool) -> Discovery {
        let mut found = Discovery::default();
        let regions = match self.subdirs(&self.root.join(layout::SITES)) {
            Ok(r) => r,
            Err(e) => {
                found.problems.push(e);
                return found;
            }
        };
        for region in regions {
            let dirs = match self.subdirs(&region) {
                Ok(d) => d,
                Err(e) => {
                    found.problems.push(e);
                    continue;
                }
            };
            for dir in dirs {
                if !keep(&name_of(&dir)) || !self.fs.is_file(&dir.join(layout::SITE_JSON)) {
                    continue;
                }
                match self.site_at(&dir) {
                    Ok(site) => found.sites.push(site),
                    Err(e) => found.problems.push(e),
                }
            }
        }
        found
    }

    /// The site folder `dir` (`<root>/sites/<region>/<site>`).
    pub fn site_at(&self, dir: &Path) -> Result<SiteDir, TreeError> {
        let file = dir.join(layout::SITE_JSON);
        let text = self
            .fs
            .read_to_string(&file)
            .map_err(|source| TreeError::Io {
                path: file.clone(),
                source,
            })?;
        let site_json = SiteJson::parse(&file, &text)?;
        let id = name_of(dir);
        let region = dir.parent().map(name_of).unwrap_or_default();
        for (key, found, folder) in [
            ("site", &site_json.site, &id),
            ("region", &site_json.region, &region),
        ] {
            if found != folder {
                return Err(TreeError::Misplaced {
                    path: file,
                    key,
                    found: found.clone(),
                    folder: folder.clone(),
                });
            }
        }
        let mut overlays = Vec::new();
        for o in self.subdirs(dir)? {
            if KUSTOMIZATION_FILES
                .iter()
                .any(|f| self.fs.is_file(&o.join(f)))
            {
                overlays.push(Overlay {
                    workload: name_of(&o),
                    dir: o,
                });
            }
        }
        Ok(SiteDir {
            region,
            id,
            dir: dir.to_path_buf(),
            site_json,
            overlays,
        })
    }

    /// The site `id`, in whichever region folder holds it (exactly one must).
    pub fn find_site(&self, id: &str) -> Result<SiteDir, TreeError> {
        let sites = self.root.join(layout::SITES);
        let found: Vec<PathBuf> = self
            .subdirs(&sites)?
            .into_iter()
            .map(|region| region.join(id))
            .filter(|d| self.fs.is_dir(d))
            .collect();
        match found.as_slice() {
            [] => Err(TreeError::NoSuchSite {
                site: id.to_owned(),
                sites,
            }),
            [one] => self.site_at(one),
            many => Err(TreeError::SiteInSeveralRegions {
                site: id.to_owned(),
                dirs: many.to_vec(),
            }),
        }
    }

    /// Renders `dirs` in parallel through the shared renderer; the results are in the order of
    /// `dirs`, whatever the number of threads.
    pub fn render_dirs(&self, dirs: &[PathBuf]) -> Vec<Result<Vec<Resource>, RenderError>> {
        render_dirs(&self.renderer, dirs)
    }

    /// Renders every overlay of `sites` in parallel (one task per overlay, so a fleet of few
    /// sites with many overlays spreads too); the result follows the order of `sites` and of
    /// their overlays.
    pub fn render_sites(&self, sites: &[SiteDir]) -> Vec<RenderedSite> {
        let jobs: Vec<(usize, &Overlay)> = sites
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.overlays.iter().map(move |o| (i, o)))
            .collect();
        let results: Vec<(usize, Overlay, Result<Vec<Resource>, RenderError>)> = jobs
            .par_iter()
            .map(|(i, o)| (*i, (*o).clone(), self.renderer.build(&o.dir)))
            .collect();
        let mut by_site: BTreeMap<usize, RenderedSite> = sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    i,
                    RenderedSite {
                        site: s.id.clone(),
                        overlays: Vec::new(),
                    },
                )
            })
            .collect();
        for (i, o, r) in results {
            if let Some(s) = by_site.get_mut(&i) {
                s.overlays.push((o, r));
            }
        }
        by_site.into_values().collect()
    }

    /// A path the renderer reports (canonical) under the tree's root as the caller named it;
    /// paths outside the tree are returned as they are.
    pub fn display_path(&self, path: &Path) -> PathBuf {
        if path.as_os_str().is_empty() {
            return PathBuf::new();
        }
        match path.strip_prefix(&self.canonical_root) {
            Ok(rest) => self.root.join(rest),
            Err(_) => path.to_path_buf(),
        }
    }

    /// `path` (under the root) as a `/`-separated path relative to the root.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let rest = path.strip_prefix(&self.root).ok()?;
        let parts: Vec<String> = rest
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(parts.join("/"))
    }
}

/// Renders `dirs` in parallel through `renderer` (any filesystem, one cache); the results are
/// in the order of `dirs`, whatever the number of threads.
pub fn render_dirs(
    renderer: &Renderer,
    dirs: &[PathBuf],
) -> Vec<Result<Vec<Resource>, RenderError>> {
    dirs.par_iter().map(|d| renderer.build(d)).collect()
}

/// The file names kustomize recognises as a kustomization.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
