//! The built-in transformers of one kustomization, run in kustomize's fixed order (patches,
//! namespace, prefix and suffix, labels and annotations, JSON 6902 patches by id, replicas,
//! images, replacements), and the strategic-merge patching they share.

use super::*;

impl Renderer {
    /// The built-in transformers of `k`, in kustomize's order (with provenance on, each records
    /// the fields it set).
    pub(super) fn transform(
        &self,
        k: &Kustomization,
        ra: &mut Vec<Resource>,
        cfg: Option<&Config>,
    ) -> Result<(), RenderError> {
        self.transform_builtins(k, ra, cfg)?;
        if self.build_metadata {
            crate::build_metadata::record_builtins(ra, k);
        }
        Ok(())
    }

    fn transform_builtins(
        &self,
        k: &Kustomization,
        ra: &mut Vec<Resource>,
        cfg: Option<&Config>,
    ) -> Result<(), RenderError> {
        let kfile = k.file.as_path();
        let dir = k.dir.as_path();
        let prov = self.provenance;
        let field_err = |field: &str, message: String| RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.to_owned(),
            message,
        };
        // Provenance: the kustomization itself, and an inline patch in it.
        let own = || k.sources.own(kfile, &k.text);
        let inline = |pointer: &str| k.sources.inline(kfile, &k.text, pointer);

        // patchesStrategicMerge: each entry a file or an inline patch. Kustomize skips empty
        // documents (`{}`), and refuses the field when it holds no patch at all.
        let mut patched = false;
        for (i, entry) in k.patches_strategic_merge.iter().enumerate() {
            // The documents, and where they are written (for provenance).
            let (docs, source, prefix) = match entry {
                Value::String(s) if !s.contains('\n') && !s.trim_start().starts_with('{') => {
                    let file = load::resolve_file(
                        &|root, entry| self.resolve(root, entry),
                        kfile,
                        dir,
                        s,
                        "patchesStrategicMerge",
                    )?;
                    let docs = load::parse_documents(&file, &self.text(&file)?)?;
                    let source = prov.then(|| self.source(&file)).transpose()?;
                    (docs, source, String::new())
                }
                Value::String(s) => (
                    load::parse_documents_with(kfile, s.trim(), self.recent_parses)?,
                    prov.then(|| inline(&format!("/patchesStrategicMerge/{i}"))),
                    String::new(),
                ),
                // kubectl refuses a patch written as a mapping here ("cannot unmarshal object
                // into ... types.PatchStrategicMerge"; measured with v5.8.1)
                other => {
                    return Err(field_err(
                        "patchesStrategicMerge",
                        format!(
                            "entry {i} is {}: entries are file paths or patch text (a block \
                             string), not mappings (kubectl refuses it too)",
                            if other.is_object() {
                                "a mapping"
                            } else {
                                "not a string"
                            }
                        ),
                    ));
                }
            };
            for (document, patch) in docs.iter().enumerate() {
                if is_empty_patch(patch) {
                    continue;
                }
                patched = true;
                let at = source.as_ref().map(|source| provenance::PatchAt {
                    source,
                    document,
                    prefix: &prefix,
                });
                apply_smp_by_id(
                    ra,
                    patch,
                    kfile,
                    "patchesStrategicMerge",
                    at.as_ref(),
                    Allow::default(),
                )?;
            }
        }
        if !k.patches_strategic_merge.is_empty() && !patched {
            return Err(field_err(
                "patchesStrategicMerge",
                "holds no patch: every document is empty (Kustomize refuses it too)".into(),
            ));
        }

        // patches: strategic merge or JSON 6902, with an optional target
        for (i, entry) in k.patches.iter().enumerate() {
            let field = format!("patches[{i}]");
            let m = entry.as_object().ok_or_else(|| {
                field_err(&field, "must be a mapping with `path` or `patch`".into())
            })?;
            for key in m.keys() {
                if !["path", "patch", "target", "options"].contains(&key.as_str()) {
                    return Err(field_err(&field, format!("unknown field {key:?}")));
                }
            }
            let (text, source): (Arc<str>, _) = match (m.get("path"), m.get("patch")) {
                (Some(Value::String(p)), None) => {
                    let file = load::resolve_file(
                        &|root, entry| self.resolve(root, entry),
                        kfile,
                        dir,
                        p,
                        "patches",
                    )?;
                    let source = prov.then(|| self.source(&file)).transpose()?;
                    (self.text(&file)?, source)
                }
                // kustomize trims an inline patch: a literal block that ends it loses its
                // final newline (`|` prints as `|-`), measured with v5.8.1
                // `patch: ""` is no patch to kubectl: "must specify one of patch and path"
                (None, Some(Value::String(p))) if !p.is_empty() => (
                    Arc::from(p.trim()),
                    prov.then(|| inline(&format!("/patches/{i}/patch"))),
                ),
                (Some(_), Some(_)) => {
                    return Err(field_err(
                        &field,
                        "has both `path` and `patch`; give one".into(),
                    ));
                }
                _ => {
                    return Err(field_err(
                        &field,
                        "needs `path` or `patch` (a string)".into(),
                    ));
                }
            };
            let docs = load::parse_documents_with(kfile, &text, self.recent_parses)?;
            let at = |document: usize| {
                source.as_ref().map(|source| provenance::PatchAt {
                    source,
                    document,
                    prefix: "",
                })
            };
            let option = |key: &str| {
                m.get("options")
                    .and_then(|o| o.get(key))
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            };
            let allow = Allow {
                name: option("allowNameChange"),
                kind: option("allowKindChange"),
            };
            let target = match m.get("target") {
                Some(t) if !t.is_null() => {
                    Some(patch::Selector::from_value(t).map_err(|e| field_err(&field, e))?)
                }
                _ => None,
            };
            let is_json6902 = matches!(docs.as_slice(), [Value::Array(_)]);
            if is_json6902 {
                let Some(sel) = &target else {
                    return Err(field_err(
                        &field,
                        "a JSON 6902 patch needs a `target`".into(),
                    ));
                };
                let at = at(0);
                for r in ra.iter_mut().filter(|r| sel.matches(r)) {
                    r.store_previous_id();
                    patch::json6902(&mut r.value, &docs[0])
                        .map_err(|e| field_err(&field, format!("{}: {e}", r.id())))?;
                    if let Some(at) = &at {
                        provenance::record_ops(r, &docs[0], at);
                    }
                }
                continue;
            }
            for (document, p) in docs.iter().enumerate() {
                // An empty document (`{}`) is no patch to Kustomize: skipped, with or without a
                // target (applied, it would still merge the object's keyed lists).
                if is_empty_patch(p) {
                    continue;
                }
                let at = at(document);
                // kubectl reads a patch's documents as objects: without a kind and a name it
                // is "unable to parse SM or JSON patch", with a target or not (measured).
                if target.is_some()
                    && (p
                        .get("kind")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                        || p.pointer("/metadata/name")
                            .and_then(Value::as_str)
                            .is_none_or(str::is_empty))
                {
                    return Err(field_err(
                        &field,
                        format!(
                            "unable to parse SM or JSON patch: document {document} needs kind \
                             and metadata.name (kubectl refuses it too)"
                        ),
                    ));
                }
                match &target {
                    None => apply_smp_by_id(ra, p, kfile, &field, at.as_ref(), allow)?,
                    Some(sel) => {
                        let mut i = 0;
                        while i < ra.len() {
                            if !sel.matches(&ra[i]) {
                                i += 1;
                                continue;
                            }
                            // The patch is aimed at each selected object: its own id is ignored.
                            // (kustomize gives the patch the object's apiVersion; with
                            // `allowNameChange` the patch's name is the new name.)
                            let mut p = p.clone();
                            if let Value::Object(pm) = &mut p
                                && pm.contains_key("apiVersion")
                            {
                                pm.insert(
                                    "apiVersion".into(),
                                    Value::String(ra[i].api_version().to_owned()),
                                );
                            }
                            if let Some(Value::Object(md)) = p.get_mut("metadata") {
                                if !allow.name {
                                    md.insert(
                                        "name".into(),
                                        Value::String(ra[i].name().to_owned()),
                                    );
                                }
                                if let Some(ns) = ra[i].namespace() {
                                    md.insert("namespace".into(), Value::String(ns.to_owned()));
                                }
                            }
                            if smp(&mut ra[i], &p, kfile, &field, at.as_ref(), allow)? {
                                ra.remove(i);
                            } else {
                                i += 1;
                            }
                        }
                    }
                }
            }
        }

        if let Some(ns) = &k.namespace {
            transform::namespace(ra, ns).map_err(|e| field_err("namespace", e))?;
            if let Some(c) = cfg {
                set_strings(ra, &c.namespace, &|_| ns.clone());
            }
            if prov {
                provenance::record_namespace(ra, &own());
            }
        }
        let (prefix, suffix) = (
            k.name_prefix.as_deref().unwrap_or(""),
            k.name_suffix.as_deref().unwrap_or(""),
        );
        transform::prefix_suffix(ra, prefix, suffix);
        if let Some(c) = cfg {
            if !prefix.is_empty() {
                set_strings_renamable(ra, &c.name_prefix, &|s| format!("{prefix}{s}"));
            }
            if !suffix.is_empty() {
                set_strings_renamable(ra, &c.name_suffix, &|s| format!("{s}{suffix}"));
            }
        }
        if prov && (!prefix.is_empty() || !suffix.is_empty()) {
            provenance::record_name(ra, &own(), !prefix.is_empty(), !suffix.is_empty());
        }
        transform::labels(ra, &k.labels, &k.common_labels).map_err(|e| field_err("labels", e))?;
        transform::annotations(ra, &k.common_annotations);
        if let Some(c) = cfg {
            for l in &k.labels {
                if l.include_selectors {
                    transform::set_pairs(ra, &c.common_labels, &l.pairs);
                } else if l.include_templates {
                    transform::set_pairs(ra, &c.template_labels, &l.pairs);
                }
            }
            transform::set_pairs(ra, &c.common_labels, &k.common_labels);
            transform::set_pairs(ra, &c.common_annotations, &k.common_annotations);
        }
        if prov {
            record_labels_and_annotations(k, ra, &own()).map_err(|e| field_err("labels", e))?;
        }

        // patchesJson6902: exact target ids
        for (i, entry) in k.patches_json6902.iter().enumerate() {
            let field = format!("patchesJson6902[{i}]");
            let m = entry.as_object().ok_or_else(|| {
                field_err(
                    &field,
                    "must be a mapping with `target` and `path` or `patch`".into(),
                )
            })?;
            let (text, source): (Arc<str>, _) = match (m.get("path"), m.get("patch")) {
                (Some(Value::String(p)), None) => {
                    let file = load::resolve_file(
                        &|root, entry| self.resolve(root, entry),
                        kfile,
                        dir,
                        p,
                        "patchesJson6902",
                    )?;
                    let source = prov.then(|| self.source(&file)).transpose()?;
                    (self.text(&file)?, source)
                }
                (None, Some(Value::String(p))) => (
                    Arc::from(p.as_str()),
                    prov.then(|| inline(&format!("/patchesJson6902/{i}/patch"))),
                ),
                _ => {
                    return Err(field_err(
                        &field,
                        "needs one of `path` or `patch` (a string)".into(),
                    ));
                }
            };
            let at = source.as_ref().map(|source| provenance::PatchAt {
                source,
                document: 0,
                prefix: "",
            });
            let ops = load::parse_documents_with(kfile, &text, self.recent_parses)?
                .into_iter()
                .next()
                .unwrap_or(Value::Array(Vec::new()));
            // Kustomize selects the objects as a `patches` target does (by the current or the
            // original name and namespace, as regular expressions); a target that selects
            // nothing is no error (measured).
            let t = m
                .get("target")
                .filter(|t| t.is_object())
                .ok_or_else(|| field_err(&field, "needs a `target`".into()))?;
            let sel = patch::Selector::from_value(t).map_err(|e| field_err(&field, e))?;
            for r in ra.iter_mut().filter(|r| sel.matches(r)) {
                patch::json6902(&mut r.value, &ops)
                    .map_err(|e| field_err(&field, format!("{}: {e}", r.id())))?;
                if let Some(at) = &at {
                    provenance::record_ops(r, &ops, at);
                }
            }
        }

        transform::replicas_with(ra, &k.replicas, cfg.map_or(&[][..], |c| &c.replicas[..]))
            .map_err(|e| field_err("replicas", e))?;
        if prov && !k.replicas.is_empty() {
            let names: Vec<&str> = k.replicas.iter().map(|r| r.name.as_str()).collect();
            provenance::record_replicas(ra, &own(), &names);
        }
        if prov && !k.images.is_empty() {
            // Each entry traced to the key that sets the new reference.
            let entries: Vec<(&str, Arc<str>)> = k
                .images
                .iter()
                .enumerate()
                .map(|(j, spec)| {
                    let key = if spec.digest.is_some() {
                        "digest"
                    } else if spec.new_tag.is_some() {
                        "newTag"
                    } else if spec.new_name.is_some() {
                        "newName"
                    } else {
                        "name"
                    };
                    (spec.name.as_str(), Arc::from(format!("/images/{j}/{key}")))
                })
                .collect();
            provenance::record_images(ra, &own(), 0, &|image| {
                let (name, _, _) = transform::split_image(image);
                entries
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, at)| at.clone())
            });
        }
        transform::images(ra, &k.images);
        if let Some(c) = cfg
            && !k.images.is_empty()
        {
            set_strings(ra, &c.images, &|s| {
                transform::rewrite_image(s, &k.images).unwrap_or_else(|| s.to_owned())
            });
        }

        if !k.replacements.is_empty() {
            let read = |entry: &str| -> Result<String, RenderError> {
                let file = load::resolve_file(
                    &|root, entry| self.resolve(root, entry),
                    kfile,
                    dir,
                    entry,
                    "replacements",
                )?;
                Ok(self.text(&file)?.to_string())
            };
            replace::apply(ra, &k.replacements, &read)
                .map_err(|e| generate::with_path(e, kfile))?;
        }
        Ok(())
    }
}

/// Sets the string at each custom field spec's path of each matching object to `f(old)` (a
/// created field is `f("")`).
fn set_strings(ra: &mut [Resource], specs: &[transform::FieldSpec], f: &dyn Fn(&str) -> String) {
    if specs.is_empty() {
        return;
    }
    for r in ra.iter_mut() {
        for spec in specs {
            if !spec.matches(r) {
                continue;
            }
            transform::visit(
                &mut r.value,
                &spec.path,
                spec.create,
                &mut |leaf| match leaf {
                    Value::String(s) => *s = f(s),
                    Value::Null if spec.create => *leaf = Value::String(f("")),
                    _ => {}
                },
            );
        }
    }
}

/// [`set_strings`] for `namePrefix`/`nameSuffix` field specs: objects whose names prefixes and
/// suffixes leave alone are skipped too.
fn set_strings_renamable(
    ra: &mut [Resource],
    specs: &[transform::FieldSpec],
    f: &dyn Fn(&str) -> String,
) {
    if specs.is_empty() {
        return;
    }
    for r in ra.iter_mut() {
        if transform::keeps_its_name(r) {
            continue;
        }
        set_strings(std::slice::from_mut(r), specs, f);
    }
}

/// What a strategic merge patch may change of the object's identity (`patches[].options`).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Allow {
    pub name: bool,
    pub kind: bool,
}

/// A strategic merge patch document Kustomize drops when reading patches: `{}` (null documents
/// are dropped when the file is read).
fn is_empty_patch(p: &Value) -> bool {
    p.as_object().is_some_and(|m| m.is_empty())
}

/// Applies one strategic merge patch to `r`; `true` when the patch deletes the object. With
/// provenance, `at` says where the patch is written.
///
/// As in kustomize, the object keeps its name and kind (unless `allow` lets the patch change
/// them; the old id is then remembered) and always its namespace: a patch names its object by
/// any of its ids, the original one included.
pub(super) fn smp(
    r: &mut Resource,
    p: &Value,
    kfile: &Path,
    field: &str,
    at: Option<&provenance::PatchAt<'_>>,
    allow: Allow,
) -> Result<bool, RenderError> {
    let id = r.id();
    let (kind, name, namespace) = (
        r.value.get("kind").cloned(),
        r.value.pointer("/metadata/name").cloned(),
        r.value.pointer("/metadata/namespace").cloned(),
    );
    if allow.name || allow.kind {
        r.store_previous_id();
    }
    patch::strategic_merge(&mut r.value, p).map_err(|message| RenderError::Field {
        path: kfile.to_path_buf(),
        field: field.to_owned(),
        message: format!("{id}: {message}"),
    })?;
    if r.value.is_null() {
        return Ok(true);
    }
    if let Value::Object(m) = &mut r.value {
        if !allow.kind {
            restore(m, "kind", kind);
        }
        if let Some(Value::Object(md)) = m.get_mut("metadata") {
            if !allow.name {
                restore(md, "name", name);
            }
            restore(md, "namespace", namespace);
        }
    }
    if let Some(at) = at {
        provenance::record_merge(r, p, at);
    }
    Ok(false)
}

/// Puts `key` back to `value` (removes it when it was absent).
fn restore(m: &mut serde_json::Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            if m.get(key) != Some(&v) {
                m.insert(key.to_owned(), v);
            }
        }
        None => {
            m.remove(key);
        }
    }
}

/// Provenance of `labels`, `commonLabels` and `commonAnnotations` (after they were applied, with
/// the same field specs).
pub(super) fn record_labels_and_annotations(
    k: &Kustomization,
    ra: &mut [Resource],
    own: &Arc<provenance::Source>,
) -> Result<(), String> {
    use provenance::{Pairs, Step};
    let entry = |field: &str, key: &str| -> Arc<str> {
        let mut at = field.to_owned();
        kube_basics::pointer::push(&mut at, key);
        Arc::from(at)
    };
    let mut labels = Vec::new();
    for (i, l) in k.labels.iter().enumerate() {
        let list = format!("/labels/{i}/pairs");
        labels.push(Pairs {
            specs: transform::label_specs(l)?,
            pairs: &l.pairs,
            ats: l.pairs.iter().map(|(key, _)| entry(&list, key)).collect(),
        });
    }
    if !k.common_labels.is_empty() {
        labels.push(Pairs {
            specs: Cow::Borrowed(transform::common_label_specs()),
            pairs: &k.common_labels,
            ats: k
                .common_labels
                .iter()
                .map(|(key, _)| entry("/commonLabels", key))
                .collect(),
        });
    }
    if !labels.is_empty() {
        provenance::record_pairs(ra, own, 0, Step::Labels, &labels);
    }
    if !k.common_annotations.is_empty() {
        let annotations = Pairs {
            specs: Cow::Borrowed(transform::common_annotation_specs()),
            pairs: &k.common_annotations,
            ats: k
                .common_annotations
                .iter()
                .map(|(key, _)| entry("/commonAnnotations", key))
                .collect(),
        };
        provenance::record_pairs(ra, own, 0, Step::Annotations, &[annotations]);
    }
    Ok(())
}

/// Applies a strategic merge patch to the object it names (apiVersion, kind, name, namespace),
/// found as kustomize's `GetById` finds it: by the object's current id or any previous one
/// (a patch may name an object by its name before prefixes, suffixes or namespaces), first with
/// the namespace, then without; two objects matching is an error.
pub(super) fn apply_smp_by_id(
    ra: &mut Vec<Resource>,
    p: &Value,
    kfile: &Path,
    field: &str,
    at: Option<&provenance::PatchAt<'_>>,
    allow: Allow,
) -> Result<(), RenderError> {
    let s = |ptr: &str| p.pointer(ptr).and_then(Value::as_str).unwrap_or_default();
    let (api, kind, name, ns) = (
        s("/apiVersion"),
        s("/kind"),
        s("/metadata/name"),
        p.pointer("/metadata/namespace").and_then(Value::as_str),
    );
    if kind.is_empty() || name.is_empty() {
        return Err(RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.to_owned(),
            message: "a strategic merge patch without `target` needs kind and metadata.name".into(),
        });
    }
    let (group, version) = api.split_once('/').unwrap_or(("", api));
    let effective = if kube_basics::kinds::kustomize_cluster_scoped(api, kind) {
        crate::resource::CLUSTER_SCOPE
    } else {
        ns.filter(|n| !n.is_empty()).unwrap_or("default")
    };
    let find = |with_ns: bool| -> Vec<usize> {
        ra.iter()
            .enumerate()
            .filter(|(_, r)| {
                r.group_version() == (group, version)
                    && (r.kind() == kind
                        && r.name() == name
                        && (!with_ns || r.effective_namespace() == effective)
                        || r.prev_ids.iter().any(|id| {
                            id.kind == kind
                                && id.name == name
                                && (!with_ns || id.namespace == effective)
                        }))
            })
            .map(|(i, _)| i)
            .collect()
    };
    let mut hits = find(true);
    if hits.is_empty() {
        hits = find(false);
    }
    let id = format!(
        "{kind} {}{name}",
        ns.map(|n| format!("{n}/")).unwrap_or_default()
    );
    match hits.as_slice() {
        [] => Err(RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.to_owned(),
            message: format!("no resource matches the patch for {api} {id}"),
        }),
        [i] => {
            if smp(&mut ra[*i], p, kfile, field, at, allow)? {
                ra.remove(*i);
            }
            Ok(())
        }
        _ => Err(RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.to_owned(),
            message: format!("the patch for {id} matches several resources; give a namespace"),
        }),
    }
}
