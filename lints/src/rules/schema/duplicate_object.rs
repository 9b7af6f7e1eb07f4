use std::collections::HashMap;
use std::path::Path;

use crate::config::DuplicateScope;
use crate::manifest::{Manifest, ManifestSource};
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports an object whose kind, namespace and name repeat an earlier object applied
    /// together with it: by default one file or stream (a rendered build, standard input);
    /// `duplicate_scope = "folder"` in `[lint]` compares the files of one folder, `"run"`
    /// everything linted together. With `lint --fleet`, the objects of one site (all its
    /// overlays).
    ///
    /// ## Why it matters at an edge site
    /// Two objects with one identity fight: whichever is applied last wins, and which one
    /// that is depends on file order. ArgoCD reports the app as out of sync forever, and the
    /// site runs a configuration nobody reviewed.
    ///
    /// ## Example
    /// One file (or, with `duplicate_scope = "folder"`, two files of one folder) defining
    /// `ConfigMap edge/telemetry-config` twice.
    ///
    /// ## Fix
    /// Merge the two objects, or rename one of them.
    pub static RULE = {
        id: "schema/duplicate-object",
        level: Error,
        summary: "Two objects with the same kind, namespace and name",
        check: Check::Set(check),
    };
}

fn check(options: &RuleOptions, manifests: &[Manifest], out: &mut Vec<(usize, Violation)>) {
    type Key<'a> = (Option<&'a Path>, &'a str, Option<&'a str>, &'a str);
    let mut seen: HashMap<Key, usize> = HashMap::new();
    for (i, m) in manifests.iter().enumerate() {
        let Some(name) = m.value.pointer("/metadata/name").and_then(|v| v.as_str()) else {
            continue;
        };
        let kind = m.kind();
        if kind.is_empty() {
            continue;
        }
        let key = (
            scope(options.duplicate_scope, m),
            kind,
            m.object.namespace.as_deref(),
            name,
        );
        match seen.get(&key) {
            Some(&first) => {
                let at = manifests[first].locate("/metadata/name");
                out.push((
                    i,
                    Violation::at(
                        "/metadata/name",
                        format!("{} is defined twice; first at {at}", m.object),
                    )
                    .help("keep one definition: the last one applied would silently win"),
                ));
            }
            None => {
                seen.insert(key, i);
            }
        }
    }
}

/// The scope an object is compared in: its file, its file's folder, or none (the whole set).
/// Rendered objects are one site's, which the caller already scopes.
fn scope(scope: DuplicateScope, m: &Manifest) -> Option<&Path> {
    let ManifestSource::Parsed(doc) = &m.source else {
        return None;
    };
    match scope {
        DuplicateScope::File => Some(&doc.file),
        DuplicateScope::Folder => Some(doc.file.parent().unwrap_or(Path::new(""))),
        DuplicateScope::Run => None,
    }
}
