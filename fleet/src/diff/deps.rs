//! Which folders of a planned tree an overlay's render reads, so `diff` renders only the
//! overlays a change can reach.
//!
//! An overlay's output depends on the files of its own folder and of every folder its
//! kustomization names, transitively. Rather than know every kustomization field that names a
//! path (resources, components, patches, generator files and env files, replacements, openapi,
//! configurations, …), every string in a kustomization is tried as a path relative to its
//! folder (and, for `key=path` generator entries, the part after `=`): a string that names a file
//! of the tree adds that file's folder; one that names a folder adds that folder's own
//! dependencies. A string that happens to name a file without being a path only adds a folder
//! to re-render: the set errs on the side of rendering more, never less.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use edgefleet_overlays::tree::OutputTree;
use serde_json::Value;

/// The names kustomize reads a kustomization from, in its order.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Folders (relative, `/`-separated; `""` is the root) an overlay's render reads.
pub type Folders = Arc<BTreeSet<String>>;

/// The dependencies of folders of one planned tree, each computed once (bases and components
/// are shared by thousands of overlays).
pub struct Dependencies<'t> {
    tree: &'t OutputTree,
    memo: Mutex<HashMap<String, Folders>>,
}

impl<'t> Dependencies<'t> {
    pub fn new(tree: &'t OutputTree) -> Self {
        Dependencies {
            tree,
            memo: Mutex::new(HashMap::new()),
        }
    }

    /// The folders a render of `dir` reads (`dir` included).
    pub fn of(&self, dir: &str) -> Folders {
        let mut visiting = BTreeSet::new();
        self.of_inner(dir, &mut visiting)
    }

    fn of_inner(&self, dir: &str, visiting: &mut BTreeSet<String>) -> Folders {
        if let Some(found) = self.lock().get(dir) {
            return found.clone();
        }
        let mut folders = BTreeSet::new();
        folders.insert(dir.to_owned());
        if !visiting.insert(dir.to_owned()) {
            // A cycle: the renderer reports it; the folder itself is enough here.
            return Arc::new(folders);
        }
        let text = KUSTOMIZATION_FILES
            .iter()
            .find_map(|name| self.tree.get(&join(dir, name)));
        if let Some(text) = text {
            for candidate in strings(text) {
                let Some(path) = normalise(dir, &candidate) else {
                    continue;
                };
                if self.tree.get(&path).is_some() {
                    folders.insert(parent(&path).to_owned());
                } else if self.is_dir(&path) {
                    folders.extend(self.of_inner(&path, visiting).iter().cloned());
                }
            }
        }
        visiting.remove(dir);
        let folders = Arc::new(folders);
        self.lock().insert(dir.to_owned(), folders.clone());
        folders
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        self.tree
            .paths_from(&prefix)
            .next()
            .is_some_and(|p| p.starts_with(&prefix))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Folders>> {
        // A poisoned memo only holds finished entries; keep using it.
        self.memo.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every string of a kustomization that could be a path: scalars (keys excluded) and the part
/// after `=` of `key=path` entries. Text that does not parse gives every whitespace-separated
/// word instead (the render will fail on it anyway; this keeps the set conservative).
fn strings(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    // The fast reader first (the planner writes plain YAML), the reference parser for the rest.
    let parsed = kube_basics::fastyaml::parse_stream(&text)
        .or_else(|| serde_saphyr::from_str::<Value>(&text).ok().map(|v| vec![v]));
    match parsed {
        Some(values) => values.iter().for_each(|v| collect(v, &mut out)),
        None => out.extend(
            text.split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ',' | '"' | '\''))
                .map(str::to_owned),
        ),
    }
    let with_values: Vec<String> = out
        .iter()
        .filter_map(|s| s.split_once('=').map(|(_, v)| v.to_owned()))
        .collect();
    out.extend(with_values);
    out.retain(|s| !s.is_empty() && !s.contains("://"));
    out
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// `rel` from the folder `dir`, with `.` and `..` resolved; `None` when it leaves the tree or is
/// absolute (nothing of the planned tree is there).
fn normalise(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for segment in rel.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> OutputTree {
        let mut t = OutputTree::new();
        for (p, text) in files {
            t.insert(*p, text.as_bytes().to_vec());
        }
        t
    }

    #[test]
    fn an_overlay_reads_its_folder_its_bases_and_the_files_it_names() {
        let t = tree(&[
            ("bases/app/kustomization.yaml", "resources: [deploy.yaml]\n"),
            ("bases/app/deploy.yaml", "kind: Deployment\n"),
            ("components/hw/kustomization.yaml", "kind: Component\n"),
            ("shared/patches/limits.yaml", "x: 1\n"),
            ("shared/env/site.env", "A=1\n"),
            ("unrelated/kustomization.yaml", "resources: []\n"),
            (
                "sites/eu/s1/app/kustomization.yaml",
                "resources:\n- ../../../../bases/app\ncomponents:\n- ../../../../components/hw\n\
                 patches:\n- path: ../../../../shared/patches/limits.yaml\n\
                 configMapGenerator:\n- name: c\n  envs: [../../../../shared/env/site.env]\n  files:\n  - key=../../../../shared/env/site.env\n",
            ),
        ]);
        let deps = Dependencies::new(&t);
        let got: Vec<String> = deps.of("sites/eu/s1/app").iter().cloned().collect();
        assert_eq!(
            got,
            [
                "bases/app",
                "components/hw",
                "shared/env",
                "shared/patches",
                "sites/eu/s1/app"
            ]
        );
    }

    #[test]
    fn a_cycle_or_a_path_out_of_the_tree_ends_the_walk() {
        let t = tree(&[
            (
                "a/kustomization.yaml",
                "resources: [../b, ../../../etc/passwd, /abs]\n",
            ),
            ("b/kustomization.yaml", "resources: [../a]\n"),
        ]);
        let deps = Dependencies::new(&t);
        let got: Vec<String> = deps.of("a").iter().cloned().collect();
        assert_eq!(got, ["a", "b"]);
    }
}
