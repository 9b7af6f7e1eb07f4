use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a probe (`livenessProbe`, `readinessProbe`, `startupProbe`) whose `httpGet`,
    /// `tcpSocket` or `grpc` port is not declared in the container's `ports`: a named port
    /// with no `ports[].name` of that name, or a number with no matching `containerPort` that
    /// the container's `command`, `args` and `env` values do not mention either (a health
    /// server configured by a flag such as `--health-probe-bind-address=:8081` is declared
    /// there, and the probe reaches it).
    ///
    /// ## Why it matters at an edge site
    /// A named port that does not exist makes the probe fail for ever: the pod never becomes
    /// ready (or is restarted in a loop) at every site. A numeric port missing from `ports` is
    /// usually a port renumbered in the app but not in the probe.
    ///
    /// ## Example
    /// ```yaml
    ///     ports: [{name: http, containerPort: 8080}]
    ///     readinessProbe: {httpGet: {path: /ready, port: metrics}}
    /// ```
    ///
    /// ## Fix
    /// Point the probe at a declared port (`port: http`), or declare the port.
    pub static RULE = {
        id: "probes/undeclared-port",
        level: Warning,
        summary: "Probe port is not declared by the container",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in m.containers() {
        let ports: Vec<&Value> = c
            .get(&["ports"])
            .and_then(Value::as_array)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            for handler in ["httpGet", "tcpSocket", "grpc"] {
                let Some(port) = c.get(&[probe, handler, "port"]) else {
                    continue;
                };
                let declared = match port {
                    Value::String(name) => ports
                        .iter()
                        .any(|p| p.get("name").and_then(Value::as_str) == Some(name)),
                    Value::Number(n) => {
                        ports
                            .iter()
                            .any(|p| p.get("containerPort").and_then(Value::as_u64) == n.as_u64())
                            || configured_in_arguments(&c, &n.to_string())
                    }
                    _ => continue,
                };
                if !declared {
                    out.push(
                        Violation::at(
                            c.ptr(&[probe, handler, "port"]),
                            format!(
                                "{}: {probe} port {port} is not declared in the container's ports",
                                c.label()
                            ),
                        )
                        .help(
                            "declare the port under `ports`, or point the probe at a declared one",
                        ),
                    );
                }
            }
        }
    }
}

/// Whether `port` (digits) appears as a whole number in the container's command, args or env
/// values: `:8081`, `--port=8081`, `0.0.0.0:8081`, `8081`, not `18081`.
fn configured_in_arguments(c: &crate::manifest::Container, port: &str) -> bool {
    let texts = ["command", "args"]
        .into_iter()
        .filter_map(|field| c.get(&[field]).and_then(Value::as_array))
        .flatten()
        .chain(
            c.get(&["env"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("value")),
        )
        .filter_map(Value::as_str);
    texts.into_iter().any(|text| {
        text.match_indices(port).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + port.len()..].chars().next();
            !before.is_some_and(|ch| ch.is_ascii_digit())
                && !after.is_some_and(|ch| ch.is_ascii_digit())
        })
    })
}
