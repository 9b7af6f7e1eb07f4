//! The built-in transformers of a kustomization: namespace, name prefix/suffix, labels,
//! annotations, replicas, images, and the final name-reference fix-up — each with kustomize's
//! default field specs (which fields of which kinds they touch).
//!
//! Behaviour checked against `kubectl kustomize` (Kustomize v5.8.1):
//! - `namespace` sets `metadata.namespace` of every namespaced object (and an APIService's or a
//!   CRD conversion webhook's service namespace); RoleBinding and ClusterRoleBinding subjects
//!   named `default` get it too, the others follow the ServiceAccount they name (by the
//!   name-reference fix-up, which moves them to the account's new name and namespace);
//! - prefixes and suffixes skip `Namespace`, `CustomResourceDefinition` and `APIService`;
//! - `replicas` matches an object by its current or any earlier name (an entry matching no
//!   workload is an error);
//! - `images` rewrites every `containers`/`initContainers` entry anywhere in an object; a name
//!   matches the image without tag and digest (`reg:5000/x` ≠ `docker.io/x`); `newTag` drops the
//!   old digest, `digest` drops the old tag, both give `name:tag@digest`.
//!
//! Modules: [`field_spec`] (field specs and kustomize's default ones), [`metadata`] (namespace,
//! prefix/suffix, labels, annotations), [`replicas`], [`images`] and [`name_reference`] (the
//! fix-up that makes references follow renamed objects).

mod field_spec;
mod images;
mod metadata;
mod name_reference;
mod replicas;

pub(crate) use field_spec::{
    FieldSpec, common_annotation_specs, common_label_specs, default_name_specs,
    default_namespace_specs, default_replica_specs, segment, set_pairs, template_label_specs,
    visit,
};
pub(crate) use images::rewrite_image;
pub use images::{images, images_with_specs, split_image};
pub use metadata::{
    SubjectMode, annotations, labels, namespace, namespace_with_specs, prefix_suffix,
    prefix_suffix_with_specs,
};
pub(crate) use metadata::{keeps_its_name, label_specs, namespace_field, stringify_annotations};
pub(crate) use name_reference::builtin_name_reference;
pub use name_reference::fix_name_references;
pub(crate) use replicas::names as replicas_names;
pub(crate) use replicas::replicas_with;
pub use replicas::replicas_with_specs;

#[cfg(test)]
mod test_support {
    use crate::{Origin, Resource};
    use serde_json::{Value, json};
    use std::path::Path;
    use std::sync::Arc;

    pub fn res(v: Value) -> Resource {
        Resource::new(
            v,
            Origin {
                file: Arc::from(Path::new("/r.yaml")),
                document: 0,
            },
        )
    }

    pub fn deployment() -> Resource {
        res(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {
                "serviceAccountName": "sa",
                "containers": [{"name": "c", "image": "nginx:1.0",
                    "envFrom": [{"configMapRef": {"name": "cfg"}}]}],
                "volumes": [{"name": "v", "configMap": {"name": "cfg"}}]}}}
        }))
    }
}
