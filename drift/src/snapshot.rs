//! Live state from a snapshot folder, for partitioned or air-gapped sites: `DIR/<site-id>/`
//! holds what `kubectl get -o yaml` (or `-o json`) exported there, in any number of files and
//! sub-folders (`*.yaml`, `*.yml`, `*.json`): single objects, multi-document streams, or
//! `kind: List` documents with `items`.
//!
//! A site without a folder is `unreachable` ("no snapshot"); a file that does not parse is bad
//! input (exit 2) naming the file, line and column. Every folder of the selected sites is read
//! before any site is compared, so a broken file stops the run before it reports anything.
//!
//! [`write`] makes such a folder from what a source read at a site (`edgefleet drift snapshot`):
//! one `List` file, written to a temporary folder renamed into place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::{LiveSite, LiveSource, ObjectKey, SITE_LABEL, SiteFailure};

/// The file [`write`] puts a site's objects in.
pub const SNAPSHOT_FILE: &str = "objects.yaml";

/// A snapshot that cannot be read: bad input.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Object { path: PathBuf, message: String },
}

/// The objects of every site's folder, read once.
#[derive(Debug, Default)]
pub struct SnapshotSource {
    dir: PathBuf,
    /// `None`: the site has no folder.
    sites: BTreeMap<String, Option<Vec<Value>>>,
}

impl SnapshotSource {
    /// Reads `dir/<site>/` for each of `sites`. `dir` itself must exist.
    pub fn load(dir: &Path, sites: &[String]) -> Result<SnapshotSource, SnapshotError> {
        if !dir.is_dir() {
            return Err(SnapshotError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such snapshot folder",
                ),
            });
        }
        let mut source = SnapshotSource {
            dir: dir.to_path_buf(),
            sites: BTreeMap::new(),
        };
        for site in sites {
            let folder = dir.join(site);
            let objects = if folder.is_dir() {
                Some(read_folder(&folder)?)
            } else {
                None
            };
            source.sites.insert(site.clone(), objects);
        }
        Ok(source)
    }
}

impl LiveSource for SnapshotSource {
    fn read_site(&self, site: &str, desired: &[ObjectKey]) -> Result<LiveSite, SiteFailure> {
        let Some(Some(objects)) = self.sites.get(site) else {
            return Err(SiteFailure::Unreachable(format!(
                "no snapshot ({} does not exist)",
                self.dir.join(site).display()
            )));
        };
        let mut live = LiveSite::default();
        let keyed: Vec<(ObjectKey, &Value)> = objects
            .iter()
            .filter_map(|o| ObjectKey::of(o).map(|k| (k, o)))
            .collect();
        for key in desired {
            let found = keyed
                .iter()
                .find(|(k, _)| k == key)
                .or_else(|| keyed.iter().find(|(k, _)| key.names(k)))
                .map(|(_, o)| (*o).clone());
            live.objects.insert(key.clone(), found);
        }
        live.labelled = objects
            .iter()
            .filter(|o| {
                o.pointer("/metadata/labels")
                    .and_then(|l| l.get(SITE_LABEL))
                    .and_then(Value::as_str)
                    == Some(site)
            })
            .cloned()
            .collect();
        Ok(live)
    }
}

/// Every object of the files under `folder`, in path order.
fn read_folder(folder: &Path) -> Result<Vec<Value>, SnapshotError> {
    let mut files = Vec::new();
    collect_files(folder, &mut files)?;
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| SnapshotError::Io {
            path: file.clone(),
            source,
        })?;
        for doc in parse_file(&file, &text)? {
            flatten(&file, doc, &mut objects)?;
        }
    }
    Ok(objects)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SnapshotError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SnapshotError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| SnapshotError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The documents of a file (JSON: one value; YAML: a stream), located errors.
fn parse_file(path: &Path, text: &str) -> Result<Vec<Value>, SnapshotError> {
    if path.extension().is_some_and(|e| e == "json") {
        return serde_json::from_str::<Value>(text)
            .map(|v| vec![v])
            .map_err(|e| SnapshotError::Parse {
                path: path.to_path_buf(),
                line: e.line().max(1),
                column: e.column().max(1),
                message: strip_position(&e.to_string()),
            });
    }
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, kustomize::parse_options()).map_err(
            |e| {
                let (line, column) = e
                    .location()
                    .map(|l| (l.line() as usize, l.column() as usize))
                    .unwrap_or((1, 1));
                let mut options = serde_saphyr::RenderOptions::default();
                options.snippets = serde_saphyr::SnippetMode::Off;
                let rendered = e.render_with_options(options);
                let first = rendered.lines().next().unwrap_or_default().trim();
                SnapshotError::Parse {
                    path: path.to_path_buf(),
                    line: line.max(1),
                    column: column.max(1),
                    message: strip_position(first),
                }
            },
        )?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// A parser message without its own ` at line L column C` (the error names the place first).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// One document as objects: a `List` (`kind: List`, `DeploymentList`, … with `items`) gives
/// its items.
fn flatten(path: &Path, doc: Value, out: &mut Vec<Value>) -> Result<(), SnapshotError> {
    let is_list = doc
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && doc.get("items").is_some_and(Value::is_array);
    if is_list {
        if let Some(Value::Array(items)) = doc.get("items").cloned() {
            for item in items {
                flatten(path, item, out)?;
            }
        }
        return Ok(());
    }
    if ObjectKey::of(&doc).is_none() {
        return Err(SnapshotError::Object {
            path: path.to_path_buf(),
            message: "an object without apiVersion, kind or metadata.name (is this a `kubectl get -o yaml` export?)".to_owned(),
        });
    }
    out.push(doc);
    Ok(())
}

/// Writes what a source read at `site` as `dir/<site>/objects.yaml` (a `List` of every object,
/// sorted by key, `managedFields` kept), replacing the site's folder only once complete.
pub fn write(dir: &Path, site: &str, live: &LiveSite) -> std::io::Result<PathBuf> {
    let mut objects: BTreeMap<ObjectKey, &Value> = BTreeMap::new();
    for o in live.objects.values().flatten().chain(&live.labelled) {
        if let Some(k) = ObjectKey::of(o) {
            objects.entry(k).or_insert(o);
        }
    }
    let list = json!({
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": objects.values().map(|v| (*v).clone()).collect::<Vec<_>>(),
    });
    let text = kustomize::emit::emit_document(&list);
    std::fs::create_dir_all(dir)?;
    let target = dir.join(site);
    let pid = std::process::id();
    let temp = dir.join(format!(".{site}.writing-{pid}"));
    let old = dir.join(format!(".{site}.old-{pid}"));
    let _ = std::fs::remove_dir_all(&temp);
    std::fs::create_dir_all(&temp)?;
    let written = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(temp.join(SNAPSHOT_FILE))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if target.exists() {
            std::fs::rename(&target, &old)?;
        }
        std::fs::rename(&temp, &target)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&temp);
        if old.exists() && !target.exists() {
            let _ = std::fs::rename(&old, &target);
        }
        return Err(e);
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(name: &str) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": "edge",
                "labels": {"edgefleet.io/site": "rig-1"},
                "creationTimestamp": "2026-11-30T08:12:40Z",
                "managedFields": [{"manager": "argocd-controller", "operation": "Apply",
                    "time": "2026-11-30T08:12:40Z", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
            },
            "spec": {"replicas": 1, "template": {"metadata": {"creationTimestamp": null},
                "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1",
                    "args": ["yes", "on", "0x1F", "1_000", "~"]}]}}}
        })
    }

    #[test]
    fn a_written_snapshot_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let key = ObjectKey::of(&deployment("a")).unwrap();
        let mut live = LiveSite::default();
        live.objects.insert(key.clone(), Some(deployment("a")));
        live.labelled = vec![deployment("a"), deployment("b")];
        let folder = write(dir.path(), "rig-1", &live).unwrap();
        assert_eq!(folder, dir.path().join("rig-1"));
        // A second write replaces the folder, leaving nothing else behind.
        write(dir.path(), "rig-1", &live).unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["rig-1"]);

        let source = SnapshotSource::load(dir.path(), &["rig-1".to_owned()]).unwrap();
        let read = source
            .read_site("rig-1", std::slice::from_ref(&key))
            .unwrap();
        assert_eq!(read.objects[&key], Some(deployment("a")));
        assert_eq!(read.labelled, vec![deployment("a"), deployment("b")]);
    }

    #[test]
    fn lists_streams_and_json_are_read_and_a_missing_site_is_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("rig-1");
        std::fs::create_dir_all(site.join("apps")).unwrap();
        std::fs::write(
            site.join("apps/all.yaml"),
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a, namespace: edge}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: edge}\n",
        )
        .unwrap();
        std::fs::write(
            site.join("c.json"),
            r#"{"apiVersion": "v1", "kind": "ConfigMapList", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "edge"}}]}"#,
        )
        .unwrap();
        std::fs::write(site.join("notes.txt"), "not read").unwrap();
        let sites = ["rig-1".to_owned(), "rig-2".to_owned()];
        let source = SnapshotSource::load(dir.path(), &sites).unwrap();
        let key = |n: &str| ObjectKey {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("edge".into()),
            name: n.into(),
        };
        let keys = [key("a"), key("b"), key("c"), key("d")];
        let read = source.read_site("rig-1", &keys).unwrap();
        assert!(read.objects[&key("a")].is_some());
        assert!(read.objects[&key("b")].is_some());
        assert!(read.objects[&key("c")].is_some());
        assert!(read.objects[&key("d")].is_none());
        match source.read_site("rig-2", &keys) {
            Err(SiteFailure::Unreachable(why)) => assert!(why.starts_with("no snapshot"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_yaml_names_the_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("rig-1");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(
            site.join("bad.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n",
        )
        .unwrap();
        let err = SnapshotSource::load(dir.path(), &["rig-1".to_owned()]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{}:", site.join("bad.yaml").display())),
            "{text}"
        );
        assert!(
            matches!(err, SnapshotError::Parse { line: 4.., .. }),
            "{text}"
        );
    }
}
