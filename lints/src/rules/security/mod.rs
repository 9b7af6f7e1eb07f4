pub mod capabilities_not_dropped;
pub mod default_namespace;
pub mod host_namespaces;
pub mod host_path;
pub mod privilege_escalation;
pub mod privileged;
pub mod run_as_non_root;
pub mod writable_root_filesystem;
