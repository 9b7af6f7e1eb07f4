//! Reading policy files: the YAML documents, ValidatingAdmissionPolicies and their bindings,
//! each CEL expression compiled and located at its line.

use super::*;

pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

pub(super) fn resource_rules(v: Option<&Value>) -> Vec<ResourceRule> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| ResourceRule {
            api_groups: strings(r.get("apiGroups")),
            api_versions: strings(r.get("apiVersions")),
            resources: strings(r.get("resources")),
            operations: strings(r.get("operations")),
            resource_names: strings(r.get("resourceNames")),
            scope: r
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_owned(),
        })
        .collect()
}

pub(super) fn match_resources(v: &Value) -> MatchResources {
    MatchResources {
        namespace_selector: v.get("namespaceSelector").cloned(),
        object_selector: v.get("objectSelector").cloned(),
        rules: resource_rules(v.get("resourceRules")),
        exclude: resource_rules(v.get("excludeResourceRules")),
    }
}

/// The YAML files under the configured paths.
pub(super) fn yaml_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PolicyError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            super::super::walk(p, &mut out, &|n| {
                n.ends_with(".yaml") || n.ends_with(".yml")
            })
            .map_err(|e| PolicyError::plain(format!("{}: {e}", p.display())))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(PolicyError::plain(format!(
                "{}: [policies] admission: no such file or folder",
                p.display()
            )));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Where in the file a function call of an expression is: the expression's own location moved
/// to `needle` when the expression is found there verbatim (plain, quoted or block scalars whose
/// lines are the expression's lines).
pub(super) fn locate_in_expression(
    text: &str,
    at: &SourceLocation,
    needle: &str,
) -> SourceLocation {
    let end = (at.offset + at.len.max(1)).min(text.len());
    let scalar = text.get(at.offset..end).unwrap_or("");
    // Block scalars: the span covers the indicator; search the block's lines too.
    let search_end = if scalar.starts_with('|') || scalar.starts_with('>') {
        text[at.offset..]
            .find("\n\n")
            .map_or(text.len(), |i| at.offset + i)
            .max(end)
    } else {
        end
    };
    if let Some(i) = text.get(at.offset..search_end).and_then(|s| s.find(needle)) {
        let offset = at.offset + i;
        let (line, column) = line_col(text, offset);
        return SourceLocation {
            file: at.file.clone(),
            line,
            column,
            offset,
            len: needle.len(),
        };
    }
    at.clone()
}

pub(super) struct Loader<'a> {
    pub(super) library: &'a CelLibrary,
    pub(super) doc: &'a YamlDocument,
    pub(super) text: &'a str,
}

impl Loader<'_> {
    fn compile(&self, pointer: &str, text: &str) -> Result<Expr, PolicyError> {
        let at = self.doc.locate(pointer);
        let program = self.library.compile(text).map_err(|e| {
            let first = e.errors.first();
            let location = first
                .map(|p| {
                    // The parser's line is 1-based, its column 0-based: the rest of that line
                    // of the expression, found in the file, is where the error is.
                    let (line, column) = (p.pos.0.max(1) as usize, p.pos.1.max(0) as usize);
                    let needle: String = text
                        .lines()
                        .nth(line - 1)
                        .map_or(String::new(), |l| l.chars().skip(column).take(24).collect());
                    if needle.trim().is_empty() {
                        at.clone()
                    } else {
                        locate_in_expression(self.text, &at, needle.trim())
                    }
                })
                .unwrap_or_else(|| at.clone());
            let msg = first.map_or_else(|| e.to_string(), |p| p.msg.clone());
            located(location, format!("CEL syntax error in `{text}`: {msg}"))
        })?;
        if let Some(name) = self.library.unsupported(&program) {
            let location = locate_in_expression(self.text, &at, &name);
            let what = if name == "authorizer" {
                "the variable `authorizer` needs a cluster's authorizer: not available offline"
                    .to_owned()
            } else {
                format!(
                    "CEL function `{name}` is not supported by edgefleet (standard library, \
                     strings, lists, regex, url, quantity and optional types are)"
                )
            };
            return Err(located(location, format!("{what}, in `{text}`")));
        }
        Ok(Expr {
            text: text.to_owned(),
            program,
        })
    }
}

pub(super) fn read_policy(
    loader: &Loader<'_>,
    v: &Value,
    rule: usize,
) -> Result<Policy, PolicyError> {
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if name.is_empty() {
        return Err(located(
            loader.doc.locate("/metadata"),
            "ValidatingAdmissionPolicy without metadata.name",
        ));
    }
    let spec = v.get("spec").cloned().unwrap_or(Value::Null);
    let param_kind = spec.get("paramKind").map(|p| {
        (
            p.get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            p.get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        )
    });
    let named = |field: &str| -> Result<Vec<(String, Expr)>, PolicyError> {
        let mut out = Vec::new();
        for (i, c) in spec
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let n = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let text = c.get("expression").and_then(Value::as_str).unwrap_or("");
            out.push((
                n,
                loader.compile(&format!("/spec/{field}/{i}/expression"), text)?,
            ));
        }
        Ok(out)
    };
    let conditions = named("matchConditions")?;
    let variables = named("variables")?;
    let mut validations = Vec::new();
    for (i, val) in spec
        .get("validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let text = val.get("expression").and_then(Value::as_str).unwrap_or("");
        let expr = loader.compile(&format!("/spec/validations/{i}/expression"), text)?;
        let message_expr = match val.get("messageExpression").and_then(Value::as_str) {
            Some(t) => {
                Some(loader.compile(&format!("/spec/validations/{i}/messageExpression"), t)?)
            }
            None => None,
        };
        validations.push(Validation {
            expr,
            message: val
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned),
            message_expr,
            field_path: val
                .get("fieldPath")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    let texts: Vec<&str> = conditions
        .iter()
        .map(|(_, e)| e)
        .chain(variables.iter().map(|(_, e)| e))
        .chain(
            validations
                .iter()
                .flat_map(|v| std::iter::once(&v.expr).chain(v.message_expr.as_ref())),
        )
        .map(|e| e.text.as_str())
        .collect();
    let reads = Reads::of(&texts);
    Ok(Policy {
        reads,
        name,
        param_kind,
        constraints: spec
            .get("matchConstraints")
            .map(match_resources)
            .unwrap_or_default(),
        conditions,
        variables,
        validations,
        fail_closed: spec.get("failurePolicy").and_then(Value::as_str) != Some("Ignore"),
        rule,
    })
}

pub(super) fn policy_rule(p: &Policy, v: &Value, location: SourceLocation) -> PolicyRule {
    let annotation = |k: &str| {
        v.pointer(&format!("/metadata/annotations/{}", k.replace('/', "~1")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let summary = annotation("edgefleet.io/summary")
        .unwrap_or_else(|| format!("ValidatingAdmissionPolicy `{}`", p.name));
    let mut docs = String::new();
    if let Some(d) = annotation("edgefleet.io/description").or_else(|| annotation("description")) {
        docs.push_str(d.trim_end());
        docs.push_str("\n\n");
    }
    docs.push_str(&format!(
        "Defined at {location} (ValidatingAdmissionPolicy, CEL). Validations:\n\n"
    ));
    for val in &p.validations {
        docs.push_str(&format!("- `{}`", val.expr.text.trim()));
        if let Some(m) = &val.message {
            docs.push_str(&format!(": {m}"));
        }
        docs.push('\n');
    }
    PolicyRule::new(
        format!("admission/{}", p.name),
        Level::Error,
        summary,
        docs,
        location,
    )
}
