//! The parts of an object the policies can read, so that each distinct part is evaluated once.
//!
//! A fleet's objects differ from site to site mostly in fields no policy reads (the site's
//! label, its location annotation): 10,000 sites give 166,000 objects but a few hundred distinct
//! shapes for a policy that reads `kind`, `spec.replicas` and the containers. The policies'
//! source is scanned for the paths they read from the root variable (`input` in Rego, `object`
//! in CEL): `input.spec.replicas`, `input.metadata.labels["team"]`, `object.?spec.?replicas`.
//! A path stops at the first step that is not a constant (`input.spec.containers[i]` reads the
//! whole list). The key of an object is the values at those paths; two objects with the same
//! key give the same results, so results are cached by key. A bare root (`x := input`) reads
//! everything: then the key is the whole object. Words in comments and string literals are
//! skipped; anything else unexpected only makes the key larger, never wrong.

use serde_json::Value;

/// The paths a set of policies reads from the root variable, as JSON pointers; `None`: all.
#[derive(Debug, Clone, Default)]
pub(crate) struct Projection {
    pointers: Option<Vec<String>>,
    /// `pointers` split into reference tokens once, for [`Projection::key`].
    tokens: Vec<Vec<String>>,
}

impl Projection {
    /// The paths read from `root` in `sources` (Rego modules or CEL expressions).
    pub(crate) fn scan<'a>(root: &str, sources: impl IntoIterator<Item = &'a str>) -> Self {
        Self::scan_roots(&[(root, "")], sources)
    }

    /// The paths read from several roots, each standing for a pointer prefix (`site` imported
    /// from `data.edgefleet.site` reads under `/edgefleet/site`).
    pub(crate) fn scan_roots<'a>(
        roots: &[(&str, &str)],
        sources: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut pointers: Vec<String> = Vec::new();
        for text in sources {
            for (root, prefix) in roots {
                match paths_in(root, text) {
                    Some(found) => {
                        pointers.extend(found.into_iter().map(|p| format!("{prefix}{p}")))
                    }
                    None if prefix.is_empty() => return Self::whole(),
                    None => pointers.push((*prefix).to_owned()),
                }
            }
        }
        pointers.sort();
        pointers.dedup();
        // A path under another path adds nothing.
        let mut kept: Vec<String> = Vec::new();
        for p in pointers {
            if !kept
                .iter()
                .any(|k| p == *k || p.starts_with(&format!("{k}/")))
            {
                kept.push(p);
            }
        }
        Self::of(kept)
    }

    fn whole() -> Self {
        Self {
            pointers: None,
            tokens: Vec::new(),
        }
    }

    fn of(pointers: Vec<String>) -> Self {
        let tokens = pointers
            .iter()
            .map(|p| edgefleet_inventory::source::pointer_tokens(p).collect())
            .collect();
        Self {
            pointers: Some(pointers),
            tokens,
        }
    }

    /// `true` when every field may be read (the key is the whole object).
    pub(crate) fn is_whole(&self) -> bool {
        self.pointers.is_none()
    }

    /// Adds paths every evaluation reads (the request's kind, name and namespace).
    pub(crate) fn with(self, extra: &[&str]) -> Self {
        match self.pointers {
            Some(mut p) => {
                p.extend(extra.iter().map(|e| (*e).to_owned()));
                Self::of(p)
            }
            None => self,
        }
    }

    /// The values of `object` at the paths (absent ones marked), as a string key.
    pub(crate) fn key(&self, object: &Value) -> String {
        match &self.pointers {
            None => object.to_string(),
            Some(_) => {
                let mut key = String::new();
                for tokens in &self.tokens {
                    collect(Some(object), tokens, &mut key);
                    key.push('\u{1}');
                }
                key
            }
        }
    }
}

/// The values under `tokens` (`*`: every element or entry, with its key) appended to `key`.
fn collect(value: Option<&Value>, tokens: &[String], key: &mut String) {
    let Some(value) = value else {
        key.push('\u{0}');
        return;
    };
    let Some((first, rest)) = tokens.split_first() else {
        key.push_str(&value.to_string());
        return;
    };
    if first == "*" {
        match value {
            Value::Array(items) => {
                key.push('[');
                for item in items {
                    collect(Some(item), rest, key);
                    key.push(',');
                }
                key.push(']');
            }
            Value::Object(map) => {
                key.push('{');
                for (k, v) in map {
                    key.push_str(&Value::String(k.clone()).to_string());
                    key.push(':');
                    collect(Some(v), rest, key);
                    key.push(',');
                }
                key.push('}');
            }
            other => key.push_str(&other.to_string()),
        }
        return;
    }
    let next = match value {
        Value::Object(map) => map.get(first.as_str()),
        Value::Array(items) => first.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    };
    match next {
        Some(v) => collect(Some(v), rest, key),
        // Absent, or reading into a scalar: the scalar decides.
        None if matches!(value, Value::Object(_) | Value::Array(_)) => key.push('\u{0}'),
        None => key.push_str(&value.to_string()),
    }
}

/// JSON pointers of the `root.a.b["c"]` chains in `text`, following variables bound to the
/// elements of a path (`some c in input.spec.containers` in Rego, `object.spec.containers.all(c,
/// ...)` in CEL: `c.image` reads `/spec/containers/*/image`); `None` when `root` is read whole.
fn paths_in(root: &str, text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut roots: Vec<(String, String)> = vec![(root.to_owned(), String::new())];
    let mut done = 0;
    while done < roots.len() {
        let (name, prefix) = roots[done].clone();
        done += 1;
        if roots.len() > 64 {
            return None;
        }
        for (pointer, end) in occurrences(&name, text) {
            if pointer.is_empty() {
                if prefix.is_empty() {
                    return None;
                }
                if is_binding(text, end - name.len()) {
                    continue;
                }
                // A bound variable used whole: everything under its path.
                out.push(prefix.clone());
                continue;
            }
            let full = format!("{prefix}{pointer}");
            if let Some(var) = bound_after(text, end).or_else(|| bound_before(text, end)) {
                // The elements' count and keys (`~2` is no key Kubernetes uses; if one had it,
                // its value would only join the key), and what the variable reads of each.
                out.push(format!("{full}/*/~2"));
                roots.push((var, format!("{full}/*")));
            } else {
                out.push(full);
            }
        }
    }
    Some(out)
}

/// CEL: `path.all(v,`, `.exists(v,`, `.exists_one(v,`, `.map(v,`, `.filter(v,` right after a
/// chain bind `v` to its elements.
fn bound_after(text: &str, end: usize) -> Option<String> {
    let rest = &text[end..];
    for m in [".all(", ".exists(", ".exists_one(", ".map(", ".filter("] {
        if let Some(args) = rest.strip_prefix(m) {
            let var: String = args
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let after = args.trim_start()[var.len()..].trim_start();
            if !var.is_empty() && after.starts_with(',') {
                return Some(var);
            }
        }
    }
    None
}

/// Where a variable is bound rather than read: `some v in`, `some k, v in` (Rego), `.all(v,`
/// and the other comprehension macros (CEL).
fn is_binding(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end();
    if before.ends_with("some") {
        return true;
    }
    if let Some(b) = before.strip_suffix(',') {
        let b = b.trim_end();
        let word_start = b
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        return b[..word_start].trim_end().ends_with("some");
    }
    if let Some(b) = before.strip_suffix('(') {
        return [".all", ".exists", ".exists_one", ".map", ".filter"]
            .iter()
            .any(|m| b.ends_with(m));
    }
    false
}

/// Rego: `some v in <chain>` or `some k, v in <chain>` bind `v` to the elements.
fn bound_before(text: &str, end: usize) -> Option<String> {
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..end].trim_start();
    let rest = line.strip_prefix("some ")?;
    let (vars, _) = rest.split_once(" in ")?;
    let var = vars.rsplit(',').next()?.trim();
    (!var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| var.to_owned())
}

/// Every use of `name` as an identifier (outside comments and strings, not after a `.`): the
/// pointer its chain reads and where the chain ends.
fn occurrences(name: &str, text: &str) -> Vec<(String, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    if bytes[i] == b'\\' && q != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b if ident(b) => {
                let start = i;
                while i < bytes.len() && ident(bytes[i]) {
                    i += 1;
                }
                let preceded_by_dot = start > 0 && bytes[start - 1] == b'.';
                if &text[start..i] != name || preceded_by_dot {
                    continue;
                }
                let (pointer, end) = chain(text, i);
                out.push((pointer, end));
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The constant steps after a root at `i`: `.name`, `.?name`, `["key"]`, `['key']`, `[0]`.
fn chain(text: &str, mut i: usize) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut pointer = String::new();
    let escape = |t: &str| t.replace('~', "~0").replace('/', "~1");
    loop {
        match bytes.get(i) {
            Some(b'.') => {
                let mut j = i + 1;
                if bytes.get(j) == Some(&b'?') {
                    j += 1;
                }
                let s = j;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                // `.startsWith(`, `.all(`: a method or macro on the value read so far.
                if j == s || bytes.get(j) == Some(&b'(') {
                    break;
                }
                pointer.push('/');
                pointer.push_str(&escape(&text[s..j]));
                i = j;
            }
            Some(b'[') => {
                let mut j = i + 1;
                if bytes.get(j) == Some(&b'?') {
                    j += 1;
                }
                match bytes.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let s = j + 1;
                        let Some(len) = text[s..].find(q as char) else {
                            break;
                        };
                        let key = &text[s..s + len];
                        if key.contains('\\') || bytes.get(s + len + 1) != Some(&b']') {
                            break;
                        }
                        pointer.push('/');
                        pointer.push_str(&escape(key));
                        i = s + len + 2;
                    }
                    Some(b'_') if bytes.get(j + 1) == Some(&b']') => {
                        // `[_]`: every element.
                        pointer.push_str("/*");
                        i = j + 2;
                    }
                    Some(d) if d.is_ascii_digit() => {
                        let s = j;
                        while j < bytes.len() && bytes[j].is_ascii_digit() {
                            j += 1;
                        }
                        if bytes.get(j) != Some(&b']') {
                            break;
                        }
                        pointer.push('/');
                        pointer.push_str(&text[s..j]);
                        i = j + 1;
                    }
                    _ => break,
                }
            }
            _ => break,
        }
    }
    (pointer, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_read_from_rego_and_cel() {
        let p = paths_in(
            "input",
            "deny contains msg if {\n  input.kind == \"Deployment\" # input whole in a comment\n  input.metadata.labels[\"team/x\"]\n  some c in input.spec.containers\n  x := input.spec.items[i].name\n  msg := \"input\"\n}",
        )
        .unwrap();
        assert_eq!(
            p,
            [
                "/kind",
                "/metadata/labels/team~1x",
                "/spec/containers/*/~2",
                "/spec/items"
            ]
        );
        let p = paths_in("object", "object.?spec.?replicas.orValue(1) > 0 && has(object.metadata.labels) && object.data['k'] == '' && other.object && object.metadata.name.startsWith('a')").unwrap();
        assert_eq!(
            p,
            [
                "/spec/replicas",
                "/metadata/labels",
                "/data/k",
                "/metadata/name"
            ]
        );
        assert!(paths_in("input", "x := input\n").is_none());
        assert!(paths_in("object", "size(object) > 0").is_none());
    }

    #[test]
    fn variables_bound_to_elements_are_followed() {
        let rego = "deny contains msg if {\n  some c in input.spec.containers\n  c.securityContext.privileged\n  msg := c.name\n}\nwarn contains m if {\n  input.spec.volumes[_].hostPath\n  m := \"x\"\n}";
        let p = paths_in("input", rego).unwrap();
        assert_eq!(
            p,
            [
                "/spec/containers/*/~2",
                "/spec/volumes/*/hostPath",
                "/spec/containers/*/securityContext/privileged",
                "/spec/containers/*/name"
            ]
        );
        let cel = "object.spec.containers.all(c, c.image.startsWith('r/') && c.name != '')";
        let p = paths_in("object", cel).unwrap();
        assert_eq!(
            p,
            [
                "/spec/containers/*/~2",
                "/spec/containers/*/image",
                "/spec/containers/*/name"
            ]
        );
        // Used whole: the whole element.
        let p = paths_in("object", "object.spec.containers.exists(c, f(c))").unwrap();
        assert_eq!(p, ["/spec/containers/*/~2", "/spec/containers/*"]);
        let proj = Projection::scan("object", [cel]);
        let a = json!({"spec": {"containers": [{"name": "a", "image": "r/x", "env": [{"name": "SITE", "value": "s1"}]}]}});
        let b = json!({"spec": {"containers": [{"name": "a", "image": "r/x", "env": [{"name": "SITE", "value": "s2"}]}]}});
        let c = json!({"spec": {"containers": [{"name": "a", "image": "r/x"}, {"name": "b", "image": "r/y"}]}});
        assert_eq!(proj.key(&a), proj.key(&b));
        assert_ne!(proj.key(&a), proj.key(&c));
    }

    #[test]
    fn objects_that_differ_only_where_no_policy_reads_share_a_key() {
        let p = Projection::scan(
            "input",
            ["input.kind == \"A\"", "input.metadata.labels.team"],
        );
        let a = json!({"kind": "A", "metadata": {"labels": {"team": "x", "site": "s1"}}});
        let b = json!({"kind": "A", "metadata": {"labels": {"team": "x", "site": "s2"}}});
        let c = json!({"kind": "A", "metadata": {"labels": {"team": "y", "site": "s1"}}});
        assert_eq!(p.key(&a), p.key(&b));
        assert_ne!(p.key(&a), p.key(&c));
        // Absent and null differ.
        assert_ne!(
            p.key(&json!({"kind": "A"})),
            p.key(&json!({"kind": "A", "metadata": {"labels": {"team": null}}}))
        );
        let whole = Projection::scan("input", ["x := input"]);
        assert_ne!(whole.key(&a), whole.key(&b));
    }
}
