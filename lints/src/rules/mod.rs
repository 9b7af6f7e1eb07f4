//! Every rule, one file each, grouped by family. [`RULES`] is the registry: the one list of ids.

use serde_json::Value;

use crate::manifest::Container;
use crate::rule::Rule;

pub mod argocd;
pub mod images;
pub mod input;
pub mod outage;
pub mod platform;
pub mod probes;
pub mod residency;
pub mod resources;
pub mod schema;
pub mod security;
pub mod suppression;

/// Every rule, once, in the order `edgefleet explain --list` prints them.
pub static RULES: &[&Rule] = &[
    &input::invalid_yaml::RULE,
    &input::not_an_object::RULE,
    &suppression::missing_reason::RULE,
    &schema::invalid::RULE,
    &schema::duplicate_object::RULE,
    &resources::missing_cpu_request::RULE,
    &resources::missing_memory_request::RULE,
    &resources::missing_memory_limit::RULE,
    &resources::missing_cpu_limit::RULE,
    &resources::limit_below_request::RULE,
    &resources::site_over_capacity::RULE,
    &resources::accelerator_unavailable::RULE,
    &probes::missing_readiness::RULE,
    &probes::missing_liveness::RULE,
    &probes::identical_liveness_readiness::RULE,
    &probes::undeclared_port::RULE,
    &probes::slow_start_without_startup::RULE,
    &images::latest_tag::RULE,
    &images::not_pinned_by_digest::RULE,
    &images::registry_not_allowed::RULE,
    &images::pull_always::RULE,
    &images::pull_always_on_outage_link::RULE,
    &images::signature::RULE,
    &images::provenance::RULE,
    &images::sbom::RULE,
    &security::privileged::RULE,
    &security::host_namespaces::RULE,
    &security::privilege_escalation::RULE,
    &security::run_as_non_root::RULE,
    &security::writable_root_filesystem::RULE,
    &security::capabilities_not_dropped::RULE,
    &security::host_path::RULE,
    &security::default_namespace::RULE,
    &argocd::prune_without_preserve::RULE,
    &argocd::step_matches_no_application::RULE,
    &argocd::application_matches_no_step::RULE,
    &outage::buffer_below_outage::RULE,
    &outage::upstream_exceeds_link::RULE,
    &outage::certificate_renew_before::RULE,
    &residency::endpoint_outside_zone::RULE,
    &residency::unknown_endpoint::RULE,
    &residency::zone_restricted_workload::RULE,
    &residency::missing_egress_policy::RULE,
    &platform::api_not_served::RULE,
    &platform::runtime_class_not_installed::RULE,
    &platform::wasm_without_runtime::RULE,
    &platform::tee_required::RULE,
    &platform::svid_ttl_below_outage::RULE,
];

/// Rules replaced by a fleet-aware rule when the site is known (`lint --fleet`): there the
/// site-aware rule judges the same problem with the site's facts.
pub static SUPERSEDED_AT_SITE: &[(&str, &str)] =
    &[("images/pull-always", "images/pull-always-on-outage-link")];

/// `true` when the rule is not run on objects whose site is known.
pub fn superseded_at_site(id: &str) -> bool {
    SUPERSEDED_AT_SITE.iter().any(|(old, _)| *old == id)
}

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// The known rule id closest to a misspelt one (`did you mean ...?`), if one is close enough:
/// the same name in another family, or an edit distance of at most a third of the id.
pub fn suggest(id: &str) -> Option<&'static str> {
    let name = id.rsplit('/').next().unwrap_or(id);
    if let Some(r) = RULES.iter().find(|r| r.id.rsplit('/').next() == Some(name)) {
        return Some(r.id);
    }
    RULES
        .iter()
        .map(|r| {
            (
                edgefleet_inventory::diagnostic::edit_distance(id, r.id),
                r.id,
            )
        })
        .filter(|(d, _)| *d <= id.chars().count().max(3) / 3)
        .min()
        .map(|(_, id)| id)
}

/// JSON pointer of the deepest existing field along `path` under a container: where a finding
/// about a missing field points (its would-be parent).
pub(crate) fn deepest(c: &Container<'_>, path: &[&str]) -> String {
    let mut v = c.value;
    let mut depth = 0;
    for p in path {
        match v.get(p) {
            Some(next) => {
                v = next;
                depth += 1;
            }
            None => break,
        }
    }
    c.ptr(&path[..depth])
}

pub(crate) fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}
