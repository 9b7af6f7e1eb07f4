//! The published JSON Schema of inventory files, and its errors in words a user understands.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

/// The schema editors can use (`# yaml-language-server: $schema=...`); also what edgefleet checks.
pub const INVENTORY_SCHEMA: &str = include_str!("../schema/inventory.schema.json");

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(INVENTORY_SCHEMA).expect("embedded schema is JSON");
        jsonschema::validator_for(&schema).expect("embedded schema compiles")
    })
}

/// One schema violation: where (JSON pointer), whether the key itself is at fault, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    pub pointer: String,
    /// The problem is the mapping key at `pointer` (unknown field, invalid name), not its value.
    pub at_key: bool,
    pub message: String,
}

/// Every violation of an inventory document, not only the first.
pub fn check(document: &Value) -> Vec<SchemaViolation> {
    let mut out: Vec<SchemaViolation> = validator()
        .iter_errors(document)
        .flat_map(|e| describe(&e))
        .collect();
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer).then(a.message.cmp(&b.message)));
    out.dedup();
    out
}

fn describe(e: &jsonschema::ValidationError<'_>) -> Vec<SchemaViolation> {
    let pointer = e.instance_path().as_str().to_owned();
    // The keyword location inside our schema (e.g. `/$defs/name/pattern`) says which rule failed.
    let eval = e.schema_path().as_str().to_owned();
    let field = kube_basics::pointer::unescape(pointer.rsplit('/').next().unwrap_or(""));
    let violation = |pointer: String, at_key: bool, message: String| SchemaViolation {
        pointer,
        at_key,
        message,
    };
    match e.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|key| {
                let allowed = allowed_fields(&eval);
                let hint = if allowed.is_empty() {
                    String::new()
                } else {
                    format!(" (expected one of: {})", allowed.join(", "))
                };
                violation(
                    format!("{pointer}/{}", kube_basics::pointer::escape(key)),
                    true,
                    format!("unknown field `{key}`{hint}"),
                )
            })
            .collect(),
        ValidationErrorKind::Required { property } => vec![violation(
            pointer,
            false,
            format!(
                "missing required field `{}`",
                property.as_str().unwrap_or(&property.to_string())
            ),
        )],
        ValidationErrorKind::PropertyNames { error } => {
            let key = error.instance().as_str().unwrap_or_default().to_owned();
            let inner_eval = error.schema_path().as_str().to_owned();
            vec![violation(
                format!("{pointer}/{}", kube_basics::pointer::escape(&key)),
                true,
                format!("key {}", value_problem(&inner_eval, error.instance(), "")),
            )]
        }
        _ => {
            let what = if field.is_empty() || field.parse::<usize>().is_ok() {
                String::new()
            } else {
                format!("`{field}`: ")
            };
            vec![violation(
                pointer,
                false,
                format!(
                    "{what}{}",
                    value_problem(&eval, e.instance(), &e.to_string())
                ),
            )]
        }
    }
}

/// A sentence for a bad value, chosen by the schema definition it failed.
fn value_problem(eval: &str, instance: &Value, fallback: &str) -> String {
    let shown = match instance {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    let defs = [
        (
            "/$defs/name/",
            "is not a valid name: use a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), because it becomes a folder and a resource name",
        ),
        (
            "/$defs/labelValue/",
            "is not a valid Kubernetes label value (at most 63 characters: letters, digits, '-', '_' and '.', starting and ending with a letter or digit)",
        ),
        (
            "/$defs/labelKey/",
            "is not a valid Kubernetes label key (an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.')",
        ),
        (
            "/$defs/quantity/",
            "is not a Kubernetes quantity (e.g. 500m, 4, 512Mi, 14Gi)",
        ),
        (
            "/$defs/duration/",
            "is not a duration (e.g. 0, 90s, 15m, 72h, 2d, 1h30m)",
        ),
        (
            "/$defs/endpoint/",
            "is not an absolute URL (scheme://host[:port][/path])",
        ),
        (
            "/$defs/maxUpdate/",
            "is not a count of at least 1 or a percentage such as 25%",
        ),
    ];
    for (def, sentence) in defs {
        if eval.contains(def) {
            return format!("{shown} {sentence}");
        }
    }
    if fallback.is_empty() {
        format!("{shown} is not allowed here")
    } else {
        fallback.to_owned()
    }
}

/// The fields a schema object allows, for "unknown field" hints.
fn allowed_fields(keyword_location: &str) -> Vec<String> {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    let schema =
        SCHEMA.get_or_init(|| serde_json::from_str(INVENTORY_SCHEMA).unwrap_or(Value::Null));
    let object = keyword_location
        .strip_suffix("/additionalProperties")
        .unwrap_or(keyword_location);
    schema
        .pointer(object)
        .and_then(|o| o.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_compiles_and_accepts_a_full_file() {
        let doc = json!({
            "hardware": {"box": {"arch": "arm64", "allocatable": {"cpu": "4", "memory": "8Gi", "ephemeral-storage": "64Gi"}, "accelerators": {"nvidia.com/gpu": 1}, "power_watts": 20}},
            "backhaul": {"lte": {"bandwidth_kbps": 20000, "metered": true, "latency_ms": 60, "max_outage": "6h"}},
            "regions": {"eu-north": {"jurisdiction": "NO", "zone": "EEA", "endpoints": {"telemetry": "https://otlp.eu.example.net", "metrics": "https://prom.eu.example.net/api/v1/write"}}},
            "rollout": {"waves": [{"name": "canary", "max_update": 1}, {"name": "main", "max_update": "25%"}], "trailing": {"min_outage": "24h"}},
            "sites": [{"id": "s-1", "region": "eu-north", "hardware": "box", "backhaul": "lte", "wave": "canary", "labels": {"tier": "gold"}}]
        });
        assert_eq!(check(&doc), vec![]);
    }

    #[test]
    fn every_error_of_a_document_is_reported_in_words() {
        let doc = json!({
            "sites": [
                {"id": "UPPER", "region": "r", "hardware": "h", "backhaul": "b", "wave": "w", "colour": "red"},
                {"id": "../x", "region": "r", "hardware": "h", "backhaul": "b"},
                {"id": "ok", "region": "r", "hardware": "h", "backhaul": "b", "wave": "w", "labels": {"a": "x\n---\nkind: Secret"}}
            ]
        });
        let v = check(&doc);
        let find = |p: &str| {
            v.iter()
                .find(|x| x.pointer == p)
                .unwrap_or_else(|| panic!("{p} in {v:?}"))
        };
        assert!(
            find("/sites/0/id")
                .message
                .contains("\"UPPER\" is not a valid name")
        );
        let unknown = find("/sites/0/colour");
        assert!(unknown.at_key && unknown.message.contains("unknown field `colour`"));
        assert!(unknown.message.contains("backhaul"), "{}", unknown.message);
        assert!(find("/sites/1/id").message.contains("\"../x\""));
        assert!(
            find("/sites/1")
                .message
                .contains("missing required field `wave`")
        );
        assert!(
            find("/sites/2/labels/a")
                .message
                .contains("\"x\\n---\\nkind: Secret\" is not a valid Kubernetes label value")
        );
    }

    #[test]
    fn schema_accepts_a_residency_section_and_rejects_bad_keys() {
        let doc = json!({"residency": {
            "zones": {"EEA": ["NO", "DE"], "US": ["US"]},
            "endpoints": {"collector.partner.example.org": "EEA", "*.example.com": "US"},
            "policy": {"telemetry": {"*": ["same"]}, "personal": {"EEA": ["same"], "US": ["same", "EEA"]}, "public": {"*": ["any"]}}
        }});
        assert_eq!(check(&doc), vec![]);
        let bad = json!({"residency": {
            "zones": {"EEA": ["no"]},
            "endpoints": {"bad host": "EEA"},
            "policy": {"Personal": {"*": ["same"]}}
        }});
        let v = check(&bad);
        for p in [
            "/residency/zones/EEA/0",
            "/residency/endpoints/bad host",
            "/residency/policy/Personal",
        ] {
            assert!(v.iter().any(|x| x.pointer == p), "{p} in {v:?}");
        }
    }
}
