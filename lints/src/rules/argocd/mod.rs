pub mod application_matches_no_step;
pub mod prune_without_preserve;
pub mod step_matches_no_application;

use serde_json::Value;

use crate::manifest::Manifest;

/// The RollingSync steps of an ApplicationSet and the labels its template gives every
/// Application, when both can be read statically.
pub(crate) struct RollingSync<'a> {
    pub steps: &'a [Value],
    pub labels: Option<&'a serde_json::Map<String, Value>>,
}

impl<'a> RollingSync<'a> {
    /// `None` unless the object is an ApplicationSet with RollingSync steps and no
    /// `templatePatch` (which can add labels we cannot see without rendering).
    pub fn of(m: &'a Manifest) -> Option<Self> {
        if m.kind() != "ApplicationSet" || !m.api_version().starts_with("argoproj.io/") {
            return None;
        }
        if m.value
            .pointer("/spec/strategy/type")
            .and_then(Value::as_str)
            != Some("RollingSync")
            || m.value.pointer("/spec/templatePatch").is_some()
        {
            return None;
        }
        let steps = m
            .value
            .pointer("/spec/strategy/rollingSync/steps")?
            .as_array()?;
        let labels = m
            .value
            .pointer("/spec/template/metadata/labels")
            .and_then(Value::as_object);
        Some(Self { steps, labels })
    }

    /// Whether step `i` selects the template's Applications: `Some(false)` when it cannot,
    /// `None` when that depends on templated label values (`{{.wave}}`).
    pub fn step_matches(&self, step: &Value) -> Option<bool> {
        let exprs = step.get("matchExpressions")?.as_array()?;
        if exprs.is_empty() {
            return None;
        }
        let mut unknown = false;
        for expr in exprs {
            match expression_matches(expr, self.labels) {
                Some(false) => return Some(false),
                Some(true) => {}
                None => unknown = true,
            }
        }
        if unknown { None } else { Some(true) }
    }
}

/// One `matchExpressions` item against static labels (Kubernetes semantics: `NotIn` matches
/// an absent label). `None` when the label value is templated or the operator unknown.
fn expression_matches(
    expr: &Value,
    labels: Option<&serde_json::Map<String, Value>>,
) -> Option<bool> {
    let key = expr.get("key")?.as_str()?;
    let operator = expr.get("operator")?.as_str()?;
    let values: Vec<&str> = expr
        .get("values")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let label = labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    if label.is_some_and(|v| v.contains("{{")) {
        return None;
    }
    match operator {
        "In" => Some(label.is_some_and(|v| values.contains(&v))),
        "NotIn" => Some(!label.is_some_and(|v| values.contains(&v))),
        "Exists" => Some(label.is_some()),
        "DoesNotExist" => Some(label.is_none()),
        _ => None,
    }
}
