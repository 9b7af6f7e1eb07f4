use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::schema::{self, ViolationKind};

crate::declare_rule! {
    /// ## What it does
    /// Validates every object strictly against the embedded Kubernetes 1.35 schemas (unknown
    /// fields are errors, as with `kubectl apply --validate=strict`) or, for `argoproj.io`
    /// kinds, the Argo CD v3.6 CRD schemas. The finding points at the offending field.
    /// Objects of kinds without an embedded schema (other CRDs) are not checked.
    ///
    /// ## Why it matters at an edge site
    /// A misspelt field (`readinesProbe`) is silently dropped by lenient tooling: the site runs
    /// without the probe you thought you shipped. A wrong type makes the sync fail at every
    /// site, and recovering needs a new commit to reach sites over a thin link.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: "two"    # must be an integer
    /// ```
    ///
    /// ## Fix
    /// Correct the field at the reported line, as the message says.
    pub static RULE = {
        id: "schema/invalid",
        level: Error,
        summary: "Object does not match its Kubernetes or Argo CD schema",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    let Err(violations) = schema::validate(&m.value) else {
        return;
    };
    for v in violations {
        match v.kind {
            ViolationKind::UnknownKind => {}
            ViolationKind::Invalid | ViolationKind::MissingTypeInfo | ViolationKind::Internal => {
                out.push(Violation::at(
                    pointer(&v.instance_path, &v.message),
                    v.message.clone(),
                ));
            }
        }
    }
}

/// The pointer to report: for an unexpected field, the field itself (the validator points at
/// the object holding it and names the field in its message: `('selectr' was unexpected)`).
fn pointer(instance_path: &str, message: &str) -> String {
    if message.starts_with("Additional properties are not allowed")
        && let Some(start) = message.find("('")
        && let Some(len) = message[start + 2..].find('\'')
    {
        let field = &message[start + 2..start + 2 + len];
        return format!("{instance_path}/{}", kube_basics::pointer::escape(field));
    }
    instance_path.to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn unexpected_field_points_at_the_field() {
        assert_eq!(
            super::pointer(
                "/spec",
                "Additional properties are not allowed ('selectr' was unexpected)"
            ),
            "/spec/selectr"
        );
        assert_eq!(
            super::pointer("/spec/replicas", "not an integer"),
            "/spec/replicas"
        );
    }
}
