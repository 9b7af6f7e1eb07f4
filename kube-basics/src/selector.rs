//! Kubernetes label selectors, in both spellings: the string form of `kubectl -l` and of
//! Kustomize's `labelSelector`/`annotationSelector` (`a=b,c!=d,e in (x,y),f notin (z),g,!h`),
//! and the object form of `spec.selector` and ApplicationSet generators (`matchLabels` and
//! `matchExpressions`). Every requirement must hold; an empty selector selects everything.

use serde_json::Value;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// The key is present (`key`, `Exists`).
    Exists(String),
    /// The key is absent (`!key`, `DoesNotExist`).
    DoesNotExist(String),
    /// The key is present with one of the values (`key=v`, `key in (a,b)`, `In`).
    In(String, Vec<String>),
    /// The key is absent or has none of the values (`key!=v`, `key notin (a,b)`, `NotIn`).
    NotIn(String, Vec<String>),
}

impl Requirement {
    fn matches(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.contains(&v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.contains(&v)),
        }
    }
}

/// A parsed label selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses the string form (`a=b,c!=d,e in (x,y),f notin (z),g,!h`).
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        let mut rest = s.trim();
        while !rest.is_empty() {
            // One requirement runs to the next comma outside parentheses.
            let mut depth = 0;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let part = rest[..end].trim();
            rest = rest.get(end + 1..).unwrap_or("").trim();
            if part.is_empty() {
                return Err(format!("invalid selector `{s}`: empty requirement"));
            }
            requirements
                .push(parse_requirement(part).map_err(|e| format!("invalid selector `{s}`: {e}"))?);
        }
        Ok(LabelSelector { requirements })
    }

    /// Reads the object form: `matchLabels` and `matchExpressions` (operators `In`, `NotIn`,
    /// `Exists`, `DoesNotExist`). Non-string label values are compared as their text.
    pub fn from_value(v: &Value) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        if let Some(m) = v.get("matchLabels").and_then(Value::as_object) {
            for (k, val) in m {
                requirements.push(Requirement::In(k.clone(), vec![text(val)]));
            }
        }
        if let Some(exprs) = v.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e
                    .get("key")
                    .and_then(Value::as_str)
                    .ok_or("a matchExpression has no `key`")?
                    .to_owned();
                let values: Vec<String> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().map(text).collect())
                    .unwrap_or_default();
                requirements.push(match e.get("operator").and_then(Value::as_str) {
                    Some("In") => Requirement::In(key, values),
                    Some("NotIn") => Requirement::NotIn(key, values),
                    Some("Exists") => Requirement::Exists(key),
                    Some("DoesNotExist") => Requirement::DoesNotExist(key),
                    Some(other) => {
                        return Err(format!(
                            "unknown selector operator `{other}` (In, NotIn, Exists, DoesNotExist)"
                        ));
                    }
                    None => return Err(format!("the matchExpression on `{key}` has no operator")),
                });
            }
        }
        Ok(LabelSelector { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether labels looked up through `get` satisfy every requirement.
    pub fn matches_with(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        self.requirements.iter().all(|r| r.matches(get))
    }

    /// Whether a label map (`metadata.labels`; absent is empty) satisfies the selector.
    /// Non-string values compare as their text.
    pub fn matches(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        self.matches_with(&|k| labels.and_then(|m| m.get(k)).map(text))
    }
}

/// A label value as text (`true`, `3`); null is empty.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(k) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(k.trim().to_owned()));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotIn(
            k.trim().to_owned(),
            vec![v.trim().to_owned()],
        ));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::In(
            k.trim().to_owned(),
            vec![v.trim().to_owned()],
        ));
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let key = words[0].trim().to_owned();
        let rest = words[1].trim();
        let (op, set) = if let Some(r) = rest.strip_prefix("notin") {
            ("notin", r)
        } else if let Some(r) = rest.strip_prefix("in") {
            ("in", r)
        } else {
            return Err(format!("unknown operator in `{part}`"));
        };
        let inner = set
            .trim()
            .strip_prefix('(')
            .and_then(|x| x.strip_suffix(')'))
            .ok_or_else(|| format!("expected a parenthesised set in `{part}`"))?;
        let values: Vec<String> = inner
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        return Ok(if op == "in" {
            Requirement::In(key, values)
        } else {
            Requirement::NotIn(key, values)
        });
    }
    Ok(Requirement::Exists(part.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn string_and_object_forms_select_the_same_objects() {
        let s = LabelSelector::parse("tier=edge, zone in (eu, us), !legacy, gpu, role notin (db)")
            .unwrap();
        let o = LabelSelector::from_value(&json!({
            "matchLabels": {"tier": "edge"},
            "matchExpressions": [
                {"key": "zone", "operator": "In", "values": ["eu", "us"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "gpu", "operator": "Exists"},
                {"key": "role", "operator": "NotIn", "values": ["db"]},
            ]
        }))
        .unwrap();
        let cases = [
            (json!({"tier": "edge", "zone": "eu", "gpu": "1"}), true),
            (
                json!({"tier": "edge", "zone": "eu", "gpu": "1", "role": "web"}),
                true,
            ),
            (
                json!({"tier": "edge", "zone": "eu", "gpu": "1", "role": "db"}),
                false,
            ),
            (json!({"tier": "edge", "zone": "ap", "gpu": "1"}), false),
            (json!({"tier": "edge", "zone": "eu"}), false),
            (
                json!({"tier": "edge", "zone": "eu", "gpu": "1", "legacy": "x"}),
                false,
            ),
            (json!({"tier": "core", "zone": "eu", "gpu": "1"}), false),
        ];
        for (l, want) in cases {
            let l = labels(l);
            assert_eq!(s.matches(Some(&l)), want, "{l:?}");
            assert_eq!(o.matches(Some(&l)), want, "{l:?}");
        }
    }

    #[test]
    fn empty_selects_everything_and_bad_input_is_an_error() {
        assert!(LabelSelector::parse("").unwrap().matches(None));
        assert!(LabelSelector::from_value(&json!({})).unwrap().matches(None));
        assert!(LabelSelector::parse("a=b,,c").is_err());
        assert!(LabelSelector::parse("a within (b)").is_err());
        assert!(
            LabelSelector::from_value(
                &json!({"matchExpressions": [{"key": "a", "operator": "Has"}]})
            )
            .is_err()
        );
        // `!=` and `notin` select objects without the key.
        assert!(LabelSelector::parse("a!=b").unwrap().matches(None));
    }
}
