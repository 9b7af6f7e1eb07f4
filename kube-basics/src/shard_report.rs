//! How the JUnit report of one shard of a sharded run (`lint --fleet --shard K/N`, `drift
//! --shard K/N`) carries its shard manifest and its data, written and read in one place for
//! every command that writes one, so that `edgefleet merge` reads them all alike.
//!
//! One suite of the report (which one is the command's: `edgefleet lint` for the linter, a
//! suite of its own for drift) has a property `shard.<key>` per field of the manifest and a
//! property `shard.run` holding the shard's data as JSON. The manifest is opaque here: the
//! caller decides what a complete set of shards is.
//!
//! It is here, not beside the manifest in `edgefleet-fleet`, because the linter's reporters
//! may not depend on the fleet library (docs/architecture.md) and both reporters depend on
//! this crate.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The prefix of the JUnit properties holding the manifest (`shard.command`, ...).
pub const JUNIT_PREFIX: &str = "shard.";
/// The JUnit property holding the shard's data.
pub const JUNIT_RUN: &str = "shard.run";

/// The JUnit properties that carry a shard's `manifest` (an object: a string field as it is,
/// any other as JSON) and its data `run`, in that order, for [`read_junit`] to read back.
pub fn junit_properties<'a>(
    manifest: &'a Value,
    run: &Value,
) -> impl Iterator<Item = (String, String)> + 'a {
    let fields = manifest.as_object().into_iter().flatten();
    let run = (JUNIT_RUN.to_owned(), run.to_string());
    fields
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (format!("{JUNIT_PREFIX}{key}"), text)
        })
        .chain(std::iter::once(run))
}

/// The error of a `report` report (`lint`, `drift`) that carries no shard manifest.
pub fn without_manifest(report: &str) -> String {
    format!("a {report} report without a shard manifest (written without --shard K/N)")
}

/// The shard manifest and data of a `report` report (`lint`, `drift`) from the `(name, value)`
/// properties of its suite: the `shard.<key>` properties as an object of strings, and the
/// `shard.run` property read as JSON. An error when either is missing
/// ([`without_manifest`]) or the data is not what `T` reads.
pub fn read_junit<'a, T: DeserializeOwned>(
    report: &str,
    properties: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(Map<String, Value>, T), String> {
    let mut manifest = Map::new();
    let mut run = None;
    for (name, value) in properties {
        if name == JUNIT_RUN {
            run = Some(value);
        } else if let Some(key) = name.strip_prefix(JUNIT_PREFIX) {
            manifest.insert(key.to_owned(), Value::String(value.to_owned()));
        }
    }
    let (false, Some(run)) = (manifest.is_empty(), run) else {
        return Err(without_manifest(report));
    };
    let run =
        serde_json::from_str(run).map_err(|e| format!("damaged shard data (shard.run): {e}"))?;
    Ok((manifest, run))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The properties of the `edgefleet lint` suite of shard 2 of 4.
    const LINT_SUITE: &[(&str, &str)] = &[
        ("files", "12"),
        ("objects", "40"),
        ("shard.edgefleet", "0.1.0"),
        ("shard.command", "lint --fleet --format junit"),
        ("shard.inventory", "sha256:5f1c"),
        ("shard.shard", "2/4"),
        (
            "shard.run",
            r#"{"objects":40,"linted":["out/sites/eu-north/rig-nsea-042"]}"#,
        ),
    ];

    #[test]
    fn the_manifest_and_the_data_are_read_from_the_suite() {
        let (manifest, run): (_, Value) = read_junit("lint", LINT_SUITE.iter().copied()).unwrap();
        assert_eq!(
            Value::Object(manifest),
            serde_json::json!({
                "edgefleet": "0.1.0",
                "command": "lint --fleet --format junit",
                "inventory": "sha256:5f1c",
                "shard": "2/4",
            })
        );
        assert_eq!(
            run,
            serde_json::json!({"objects": 40, "linted": ["out/sites/eu-north/rig-nsea-042"]})
        );
    }

    #[test]
    fn the_manifest_and_the_data_are_written_as_properties() {
        let manifest = serde_json::json!({"shard": "2/4", "command": "drift", "sites": 3});
        let run = serde_json::json!({"sites": []});
        let written: Vec<(String, String)> = junit_properties(&manifest, &run).collect();
        let expected = [
            ("shard.shard", "2/4"),
            ("shard.command", "drift"),
            ("shard.sites", "3"),
            ("shard.run", r#"{"sites":[]}"#),
        ];
        assert_eq!(
            written,
            expected.map(|(name, value)| (name.to_owned(), value.to_owned()))
        );
        // Not a manifest: only the data.
        let written: Vec<(String, String)> = junit_properties(&Value::Null, &run).collect();
        assert_eq!(
            written,
            [("shard.run".to_owned(), r#"{"sites":[]}"#.to_owned())]
        );
    }

    #[test]
    fn a_report_without_manifest_or_data_is_refused() {
        let refused = "a drift report without a shard manifest (written without --shard K/N)";
        let no_run = LINT_SUITE.iter().copied().filter(|p| p.0 != "shard.run");
        assert_eq!(read_junit::<Value>("drift", no_run).unwrap_err(), refused);
        let only_run = LINT_SUITE.iter().copied().filter(|p| p.0 == "shard.run");
        assert_eq!(read_junit::<Value>("drift", only_run).unwrap_err(), refused);
        assert_eq!(
            read_junit::<Value>("drift", [("files", "12")]).unwrap_err(),
            refused
        );
    }

    #[test]
    fn damaged_data_is_named() {
        let damaged = [("shard.shard", "1/2"), ("shard.run", "{\"objects\":")];
        let error = read_junit::<Value>("lint", damaged).unwrap_err();
        assert!(
            error.starts_with("damaged shard data (shard.run): EOF while parsing"),
            "{error}"
        );
        // JSON, but not the data the caller reads.
        let wrong = [("shard.shard", "1/2"), ("shard.run", "{\"objects\":40}")];
        let error = read_junit::<Vec<u32>>("lint", wrong).unwrap_err();
        assert!(
            error.starts_with("damaged shard data (shard.run): invalid type: map"),
            "{error}"
        );
    }
}
