pub mod limit_below_request;
pub mod missing_cpu_limit;
pub mod missing_cpu_request;
pub mod missing_memory_limit;
pub mod missing_memory_request;

use crate::manifest::Manifest;
use crate::rule::Report;

/// Reports every container lacking `resources.<section>.<resource>`.
fn missing(m: &Manifest, section: &str, resource: &str, help: &str, out: &mut Vec<Report>) {
    for c in m.containers() {
        if c.get(&["resources", section, resource]).is_some() {
            continue;
        }
        out.push(
            Report::at(
                super::deepest(&c, &["resources", section]),
                format!(
                    "{} has no {resource} {}",
                    c.label(),
                    section.trim_end_matches('s')
                ),
            )
            .help(help.to_owned()),
        );
    }
}
