//! Recording: one call per step of the pipeline, each naming the fields its own instructions set.

use super::*;

pub(super) fn edit(
    step: Step,
    field: impl Into<Arc<str>>,
    source: &Arc<Source>,
    document: usize,
    at: impl Into<Arc<str>>,
) -> Edit {
    Edit {
        step,
        field: field.into(),
        source: source.clone(),
        document,
        at: at.into(),
    }
}

/// Where a patch is written: its source, its document there, and its pointer in that document
/// (empty, or `/patchesStrategicMerge/<i>` for a mapping written in a kustomization).
pub(crate) struct PatchAt<'a> {
    pub source: &'a Arc<Source>,
    pub document: usize,
    pub prefix: &'a str,
}

/// A strategic-merge patch was applied to `r`: each value the patch writes (directives,
/// deletions and the patch's own identity left out), found in the merged object.
pub(crate) fn record_merge(r: &mut Resource, patch: &Value, from: &PatchAt<'_>) {
    let Value::Object(pm) = patch else { return };
    let mut found: Vec<(String, String)> = Vec::new();
    let mut field = String::new();
    let mut at = String::from(from.prefix);
    for (k, v) in pm {
        if matches!(k.as_str(), "apiVersion" | "kind") || k.starts_with('$') {
            continue;
        }
        let Some(merged) = r.value.get(k) else {
            continue;
        };
        let (fl, al) = (field.len(), at.len());
        push(&mut field, k);
        push(&mut at, k);
        if k == "metadata"
            && let (Value::Object(md), Value::Object(rmd)) = (v, merged)
        {
            for (mk, mv) in md {
                if matches!(mk.as_str(), "name" | "namespace") || mk.starts_with('$') {
                    continue;
                }
                if let Some(rv) = rmd.get(mk) {
                    let (fl, al) = (field.len(), at.len());
                    push(&mut field, mk);
                    push(&mut at, mk);
                    merged_leaves(mv, rv, &mut field, &mut at, &mut found);
                    field.truncate(fl);
                    at.truncate(al);
                }
            }
        } else {
            merged_leaves(v, merged, &mut field, &mut at, &mut found);
        }
        field.truncate(fl);
        at.truncate(al);
    }
    r.edits.extend(
        found
            .into_iter()
            .map(|(f, a)| edit(Step::StrategicMerge, f, from.source, from.document, a)),
    );
}

pub(super) fn merged_leaves(
    p: &Value,
    r: &Value,
    field: &mut String,
    at: &mut String,
    out: &mut Vec<(String, String)>,
) {
    match (p, r) {
        (Value::Object(pm), Value::Object(rm)) => {
            for (k, v) in pm {
                if k.starts_with('$') {
                    continue;
                }
                let Some(rv) = rm.get(k) else { continue };
                let (fl, al) = (field.len(), at.len());
                push(field, k);
                push(at, k);
                merged_leaves(v, rv, field, at, out);
                field.truncate(fl);
                at.truncate(al);
            }
        }
        (Value::Array(pa), Value::Array(ra)) => {
            for (j, item) in pa.iter().enumerate() {
                if item.get("$patch").is_some() {
                    continue;
                }
                let Some(i) = matching_item(item, j, pa.len(), ra) else {
                    continue;
                };
                let (fl, al) = (field.len(), at.len());
                push_item(field, ra, i);
                at.push('/');
                at.push_str(&j.to_string());
                merged_leaves(item, &ra[i], field, at, out);
                field.truncate(fl);
                at.truncate(al);
            }
        }
        (Value::Null, _) | (Value::Object(_) | Value::Array(_), _) => {}
        _ => out.push((field.clone(), at.clone())),
    }
}

/// The item of the merged `list` a patch's item `j` (of `len`) became: by its identifying keys,
/// else by position when the lists have the same length (a replaced list), else by equality.
pub(super) fn matching_item(item: &Value, j: usize, len: usize, list: &[Value]) -> Option<usize> {
    if let Value::Object(m) = item {
        let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
        let mut keys = m
            .iter()
            .filter(|(k, v)| is_item_key(k) && scalar(v))
            .peekable();
        if keys.peek().is_some() {
            let keys: Vec<(&String, &Value)> = keys.collect();
            return list
                .iter()
                .position(|x| keys.iter().all(|(k, v)| x.get(k.as_str()) == Some(*v)));
        }
    }
    if len == list.len() {
        return Some(j);
    }
    list.iter().position(|x| x == item)
}

/// A JSON 6902 patch (`ops`, a list of operations) was applied to `r`: each value an operation
/// wrote (the operation's `value`, and every value inside it).
pub(crate) fn record_ops(r: &mut Resource, ops: &Value, from: &PatchAt<'_>) {
    let Value::Array(ops) = ops else { return };
    for (i, op) in ops.iter().enumerate() {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default();
        if !matches!(kind, "add" | "replace" | "copy" | "move") {
            continue;
        }
        let Some(path) = op.get("path").and_then(Value::as_str) else {
            continue;
        };
        // `-` appends: the item is now the last of its list.
        let path = match path.strip_suffix("/-") {
            Some(list) => match r.value.pointer(list).and_then(Value::as_array) {
                Some(items) if !items.is_empty() => format!("{list}/{}", items.len() - 1),
                _ => continue,
            },
            None => path.to_owned(),
        };
        let base = format!("{}/{i}", from.prefix);
        let Some(value) = op.get("value") else {
            r.edits.push(edit(
                Step::Json6902,
                keyed(&r.value, &path),
                from.source,
                from.document,
                base,
            ));
            continue;
        };
        // The value itself, then every value inside it.
        let mut found = vec![(path.clone(), format!("{base}/value"))];
        let (mut field, mut at) = (path, format!("{base}/value"));
        leaves(value, &mut field, &mut at, &mut found);
        for (f, a) in found {
            let f = keyed(&r.value, &f);
            r.edits
                .push(edit(Step::Json6902, f, from.source, from.document, a));
        }
    }
}

/// Every value inside `v` (below its root) as `(field, at)`, both pointers extended alike.
pub(super) fn leaves(
    v: &Value,
    field: &mut String,
    at: &mut String,
    out: &mut Vec<(String, String)>,
) {
    let mut visit = |token: &str, child: &Value, field: &mut String, at: &mut String| {
        let (fl, al) = (field.len(), at.len());
        push(field, token);
        push(at, token);
        if !matches!(child, Value::Object(_) | Value::Array(_)) {
            out.push((field.clone(), at.clone()));
        }
        leaves(child, field, at, out);
        field.truncate(fl);
        at.truncate(al);
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                visit(k, child, field, at);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                visit(&i.to_string(), child, field, at);
            }
        }
        _ => {}
    }
}

/// `namespace` was applied: the namespace of namespaced objects, the name of a `Namespace`.
pub(crate) fn record_namespace(ra: &mut [Resource], source: &Arc<Source>) {
    let (ns, name, at) = (
        Arc::<str>::from("/metadata/namespace"),
        Arc::<str>::from("/metadata/name"),
        Arc::<str>::from("/namespace"),
    );
    for r in ra.iter_mut() {
        let field = if r.kind() == "Namespace" && r.api_version() == "v1" {
            &name
        } else if r.is_cluster_scoped() {
            continue;
        } else {
            &ns
        };
        r.edits
            .push(edit(Step::Namespace, field.clone(), source, 0, at.clone()));
    }
    for r in ra.iter_mut() {
        if let Some((path, _)) = crate::transform::namespace_field(r) {
            let mut pointer = String::new();
            for key in path {
                push(&mut pointer, key);
            }
            if r.value.pointer(&pointer).is_some() {
                r.edits.push(edit(
                    Step::Namespace,
                    Arc::from(pointer),
                    source,
                    0,
                    at.clone(),
                ));
            }
        }
    }
}

/// `namePrefix` / `nameSuffix` were applied (the kinds they skip are skipped).
pub(crate) fn record_name(ra: &mut [Resource], source: &Arc<Source>, prefix: bool, suffix: bool) {
    let field = Arc::<str>::from("/metadata/name");
    let ats: Vec<Arc<str>> = [(prefix, "/namePrefix"), (suffix, "/nameSuffix")]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, at)| Arc::from(at))
        .collect();
    if ats.is_empty() {
        return;
    }
    for r in ra.iter_mut() {
        if crate::transform::keeps_its_name(r) {
            continue;
        }
        for at in &ats {
            r.edits
                .push(edit(Step::Name, field.clone(), source, 0, at.clone()));
        }
    }
}

/// The pairs one label or annotation transformer wrote, each with its entry in the
/// kustomization (`/commonLabels/app`).
pub(crate) struct Pairs<'a> {
    pub specs: std::borrow::Cow<'static, [crate::transform::FieldSpec]>,
    pub pairs: &'a [(String, String)],
    pub ats: Vec<Arc<str>>,
}

/// `labels`, `commonLabels` or `commonAnnotations` were applied: each pair in every mapping the
/// transformer's field specs reach, where the object now holds it with that value.
pub(crate) fn record_pairs(
    ra: &mut [Resource],
    source: &Arc<Source>,
    document: usize,
    step: Step,
    sets: &[Pairs<'_>],
) {
    // Each key as a pointer token, escaped once.
    let tokens: Vec<Vec<String>> = sets
        .iter()
        .map(|set| {
            set.pairs
                .iter()
                .map(|(k, _)| kube_basics::pointer::escape(k))
                .collect()
        })
        .collect();
    let mut at = String::new();
    for r in ra.iter_mut() {
        let mut found: Vec<(String, Arc<str>)> = Vec::new();
        for (set, tokens) in sets.iter().zip(&tokens) {
            for spec in set.specs.iter().filter(|s| s.matches(r)) {
                at.clear();
                visit_at(&r.value, &spec.path, &mut at, &mut |map, at| {
                    let Value::Object(m) = map else { return };
                    for (((key, value), entry), token) in set.pairs.iter().zip(&set.ats).zip(tokens)
                    {
                        if m.get(key).and_then(Value::as_str) == Some(value.as_str()) {
                            let mut field = String::with_capacity(at.len() + token.len() + 1);
                            field.push_str(at);
                            field.push('/');
                            field.push_str(token);
                            found.push((field, entry.clone()));
                        }
                    }
                });
            }
        }
        r.edits.extend(
            found
                .into_iter()
                .map(|(field, at)| edit(step, field, source, document, at)),
        );
    }
}

/// A builtin config's field specs were applied (prefix, suffix, namespace, replicas): every value
/// at a spec's path of the objects the spec selects (and `selects` keeps), traced to `at` in
/// document `document` of the config's source.
pub(crate) fn record_specs(
    ra: &mut [Resource],
    step: Step,
    source: &Arc<Source>,
    document: usize,
    at: &str,
    specs: &[crate::transform::FieldSpec],
    selects: &dyn Fn(&Resource) -> bool,
) {
    let at: Arc<str> = Arc::from(at);
    let mut pointer = String::new();
    for r in ra.iter_mut() {
        if !selects(r) {
            continue;
        }
        let mut found: Vec<String> = Vec::new();
        for spec in specs.iter().filter(|s| s.matches(r)) {
            pointer.clear();
            visit_at(&r.value, &spec.path, &mut pointer, &mut |v, p| {
                if !v.is_object() && !v.is_array() {
                    found.push(p.to_owned());
                }
            });
        }
        r.edits.extend(
            found
                .into_iter()
                .map(|field| edit(step, field, source, document, at.clone())),
        );
    }
}

/// Calls `found` with every value at `path` under `v` and its (keyed) pointer, as
/// [`visit`](crate::transform) walks a field spec's path (lists on the way are traversed).
pub(super) fn visit_at(
    v: &Value,
    path: &[String],
    at: &mut String,
    found: &mut dyn FnMut(&Value, &str),
) {
    let Some((first, rest)) = path.split_first() else {
        found(v, at);
        return;
    };
    match v {
        Value::Array(items) => {
            for i in 0..items.len() {
                let len = at.len();
                push_item(at, items, i);
                visit_at(&items[i], path, at, found);
                at.truncate(len);
            }
        }
        Value::Object(m) => {
            let (key, _) = crate::transform::segment(first);
            if let Some(child) = m.get(key) {
                let len = at.len();
                push(at, key);
                visit_at(child, rest, at, found);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// `replicas` was applied (same matching as the transformer).
pub(crate) fn record_replicas(ra: &mut [Resource], source: &Arc<Source>, names: &[&str]) {
    let field = Arc::<str>::from("/spec/replicas");
    for (i, name) in names.iter().enumerate() {
        let at: Arc<str> = Arc::from(format!("/replicas/{i}/count"));
        for r in ra.iter_mut() {
            if !crate::transform::replicas_names(r, name) {
                continue;
            }
            r.edits
                .push(edit(Step::Replicas, field.clone(), source, 0, at.clone()));
        }
    }
}

/// `images` is about to be applied: the `image` of every container and init container (wherever
/// a pod template is, as the transformer looks) that an entry rewrites, traced to that entry
/// (`entry(image)`: its pointer in the kustomization).
pub(crate) fn record_images(
    ra: &mut [Resource],
    source: &Arc<Source>,
    document: usize,
    entry: &dyn Fn(&str) -> Option<Arc<str>>,
) {
    fn walk(
        v: &Value,
        field: &mut String,
        entry: &dyn Fn(&str) -> Option<Arc<str>>,
        out: &mut Vec<(String, Arc<str>)>,
    ) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let len = field.len();
                    push(field, k);
                    if (k == "containers" || k == "initContainers")
                        && let Value::Array(items) = child
                    {
                        for (i, c) in items.iter().enumerate() {
                            if let Some(Value::String(img)) = c.get("image")
                                && let Some(at) = entry(img)
                            {
                                let l = field.len();
                                push_item(field, items, i);
                                field.push_str("/image");
                                out.push((field.clone(), at));
                                field.truncate(l);
                            }
                        }
                    }
                    walk(child, field, entry, out);
                    field.truncate(len);
                }
            }
            Value::Array(items) => {
                for i in 0..items.len() {
                    let len = field.len();
                    push_item(field, items, i);
                    walk(&items[i], field, entry, out);
                    field.truncate(len);
                }
            }
            _ => {}
        }
    }
    for r in ra.iter_mut() {
        let mut found = Vec::new();
        walk(&r.value, &mut String::new(), entry, &mut found);
        r.edits.extend(
            found
                .into_iter()
                .map(|(field, at)| edit(Step::Images, field, source, document, at)),
        );
    }
}

/// A generator (`field`, entry `i` of the kustomization, `args` as written) made `r`: its name
/// from the entry's `name`, each data key from the literal, file or env file that supplied it.
pub(crate) fn record_generated(
    r: &mut Resource,
    source: &Arc<Source>,
    document: usize,
    entry: &str,
    name_at: &str,
    args: &Value,
) {
    let list = |key: &str| -> Vec<&str> {
        match args.get(key) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => vec![s.as_str()],
            _ => Vec::new(),
        }
    };
    let (literals, files) = (list("literals"), list("files"));
    let envs: Vec<(&str, &str)> = ["envs", "env"]
        .into_iter()
        .filter(|k| args.get(*k).is_some())
        .map(|k| (k, ""))
        .collect();
    let mut found: Vec<(String, String)> = Vec::new();
    if args.get("name").is_some() {
        found.push(("/metadata/name".into(), name_at.to_owned()));
    }
    for map in ["data", "binaryData"] {
        let Some(Value::Object(data)) = r.value.get(map) else {
            continue;
        };
        for key in data.keys() {
            let at = if let Some(j) = literals
                .iter()
                .position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key))
            {
                format!("{entry}/literals/{j}")
            } else if let Some(j) = files.iter().position(|f| match f.split_once('=') {
                Some((k, _)) => k == key,
                None => Path::new(f).file_name().is_some_and(|n| n == key.as_str()),
            }) {
                format!("{entry}/files/{j}")
            } else if let Some((k, _)) = envs.first() {
                // Which env file holds the key is not known here: the list.
                format!("{entry}/{k}")
            } else {
                continue;
            };
            let mut f = format!("/{map}");
            push(&mut f, key);
            found.push((f, at));
        }
    }
    r.edits.extend(
        found
            .into_iter()
            .map(|(f, a)| edit(Step::Generator, f, source, document, a)),
    );
}
