//! The limits on what edgefleet reads (numbers in `kube_basics::limits`, docs/limits.md), and
//! the reference parser's budget built from them. Every YAML file goes through
//! [`crate::source::parse_yaml`], whose fast path and reference parser enforce the same limits.

pub use kube_basics::limits::*;

/// The reference parser's budget, from the limits above.
pub fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = MAX_DOCUMENTS;
    budget.max_depth = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    // Every node is at most two events (start and end), plus stream and document markers.
    budget.max_events = 2 * MAX_NODES + 2 * MAX_DOCUMENTS + 2;
    budget.max_reader_input_bytes = Some(MAX_FILE_BYTES as usize);
    budget.max_total_scalar_bytes = MAX_FILE_BYTES as usize;
    budget
}

/// The reference parser's alias limits, from the limits above.
pub fn alias_limits() -> serde_saphyr::options::AliasLimits {
    let mut limits = serde_saphyr::options::AliasLimits::default();
    limits.max_total_replayed_events = MAX_ALIAS_EXPANSION;
    limits
}

/// A parser budget breach in words, naming the limit (`None` for other errors).
pub fn describe_breach(message: &str) -> Option<String> {
    let rest = message.split("budget breached: ").nth(1)?;
    let what = if rest.starts_with("Depth") {
        format!("nested deeper than {MAX_DEPTH} levels")
    } else if rest.starts_with("Documents") {
        format!("more than {MAX_DOCUMENTS} documents in one file")
    } else if rest.starts_with("Nodes") || rest.starts_with("Events") {
        format!("more than {MAX_NODES} YAML nodes in one file")
    } else if rest.starts_with("ScalarBytes") || rest.starts_with("InputBytes") {
        format!("more than {} MiB of text", MAX_FILE_BYTES / (1024 * 1024))
    } else {
        "aliases expand past the parser's budget (an alias bomb?)".to_owned()
    };
    Some(format!(
        "invalid YAML: {what} (edgefleet's limit, docs/limits.md)"
    ))
}
