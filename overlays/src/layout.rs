//! Where things are in a generated tree, in one place: the planner writes these paths, and the
//! fleet library (`edgefleet-fleet`) finds sites, overlays and ApplicationSets by them.
//!
//! ```text
//! bases/<workload>/
//! components/<part>/<profile>/<workload>/
//! sites/<region>/<site>/site.json
//! sites/<region>/<site>/<workload>/kustomization.yaml
//! appsets/<name>.yaml
//! ```
//!
//! Paths are relative to the tree's root and `/`-separated.

/// The folder of every site, one sub-folder per region.
pub const SITES: &str = "sites";
/// The folder of the ApplicationSets.
pub const APPSETS: &str = "appsets";
/// The folder of the workload bases.
pub const BASES: &str = "bases";
/// The folder of the hardware, backhaul and region components.
pub const COMPONENTS: &str = "components";
/// A site's parameters for the ApplicationSet git-files generator, in the site's folder.
pub const SITE_JSON: &str = "site.json";
/// The kustomization file the planner writes in every base, component and overlay.
pub const KUSTOMIZATION: &str = "kustomization.yaml";
/// From an overlay folder (`sites/<region>/<site>/<workload>`) back to the tree's root.
pub const OVERLAY_TO_ROOT: &str = "../../../..";

/// `sites/<region>/<site>`.
pub fn site_dir(region: &str, site: &str) -> String {
    join(&[SITES, region, site])
}

/// `sites/<region>/<site>/site.json`.
pub fn site_json(region: &str, site: &str) -> String {
    join(&[SITES, region, site, SITE_JSON])
}

/// `sites/<region>/<site>/<workload>`: a site's overlay of one workload.
pub fn overlay_dir(region: &str, site: &str, workload: &str) -> String {
    join(&[SITES, region, site, workload])
}

/// `bases/<workload>`.
pub fn base_dir(workload: &str) -> String {
    join(&[BASES, workload])
}

/// `components/<part>/<profile>/<workload>` (part: `hardware`, `backhaul` or `region`).
pub fn component_dir(part: &str, profile: &str, workload: &str) -> String {
    join(&[COMPONENTS, part, profile, workload])
}

/// `appsets/<name>.yaml`.
pub fn appset_file(name: &str) -> String {
    format!("{APPSETS}/{name}.yaml")
}

/// The git-files generator's glob over a region's `site.json` files, under the tree's path in
/// its repository (`prefix`, empty for the repository root).
pub fn site_json_glob(prefix: &str, region: &str) -> String {
    format!("{}{SITES}/{region}/*/{SITE_JSON}", repo_prefix(prefix))
}

/// `prefix` as the start of a repository path: empty, or ending with one `/`.
pub fn repo_prefix(prefix: &str) -> String {
    let p = prefix.trim_end_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// `parts` joined with `/` (paths are built for every planned file: no formatting machinery).
pub fn join(parts: &[&str]) -> String {
    let len = parts.iter().map(|p| p.len() + 1).sum::<usize>();
    let mut path = String::with_capacity(len);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            path.push('/');
        }
        path.push_str(part);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(site_dir("eu", "a"), "sites/eu/a");
        assert_eq!(site_json("eu", "a"), "sites/eu/a/site.json");
        assert_eq!(overlay_dir("eu", "a", "w"), "sites/eu/a/w");
        assert_eq!(
            component_dir("hardware", "p", "w"),
            "components/hardware/p/w"
        );
        assert_eq!(appset_file("w-eu"), "appsets/w-eu.yaml");
        assert_eq!(site_json_glob("", "eu"), "sites/eu/*/site.json");
        assert_eq!(site_json_glob("fleet/", "eu"), "fleet/sites/eu/*/site.json");
        assert_eq!(
            site_json_glob("fleet//", "eu"),
            "fleet/sites/eu/*/site.json"
        );
        // The overlay's way back has one `..` per folder below the root.
        assert_eq!(
            OVERLAY_TO_ROOT.split('/').count(),
            overlay_dir("r", "s", "w").split('/').count()
        );
    }
}
