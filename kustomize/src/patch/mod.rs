//! Patches as Kustomize v5 applies them: strategic merge patches (kyaml's `merge2`, with the
//! merge keys of the built-in kinds), JSON 6902 patches, and the `target` selector of `patches`.
//!
//! The strategic merge follows Kustomize's own algorithm, not apimachinery's: kubectl 1.37.1
//! (Kustomize v5.8.1) is the oracle and `tests/tests/render_pieces.rs` compares with it. What
//! that means in practice (each point checked against the oracle):
//! - maps merge recursively, `null` deletes a key, an emptied map stays as `{}`;
//! - lists with a patch strategy `merge` merge by their keys; elements only in the patch come
//!   *first*, in patch order, then the remaining target elements (Kustomize prepends);
//! - lists whose merge key set has two keys (container ports: `containerPort`+`protocol`,
//!   Service ports: `port`+`protocol`, topology spread constraints) follow kyaml's quirks, which
//!   can drop a patch element that omits `protocol` when the target sets it (reproduced as is);
//! - lists of primitives with strategy `merge` (`finalizers`) are unions, patch values first;
//! - every other list (including `tolerations`, `args`, and every list of a custom resource or of
//!   a field newer than Kubernetes v1.21, such as `schedulingGates`) is replaced by the patch;
//! - `$patch: delete|replace|merge` on maps, on list elements and as a list's lone element.
//!   `$setElementOrder/…`, `$deleteFromPrimitiveList/…` and `$retainKeys` are *not* applied by
//!   Kustomize (it copies them into the object verbatim); edgefleet refuses them instead.
//!
//! Merge keys come from `patch/schema.json`, derived from the embedded Kubernetes v1.35 OpenAPI
//! definitions (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
//! `x-kubernetes-list-map-keys`) minus the fields, types and apiVersions newer than v1.21.2, the
//! schema Kustomize v5 embeds (checked: `autoscaling/v1` HPAs merge `finalizers`, `autoscaling/v2`
//! ones replace them; `schedulingGates` are replaced). A unit test re-derives the keys from the
//! embedded definitions; the exclusions are listed there.
//!
//! Modules: [`schema`] (merge keys per kind and field), [`strategic`] (the strategic merge),
//! [`json6902`] (JSON 6902 operations) and [`target`] (the `target` selector).

mod json6902;
mod schema;
mod strategic;
mod target;

pub use json6902::json6902;
#[cfg(feature = "fuzzing")]
pub use schema::Schema;
pub(crate) use schema::{custom as custom_schema, custom_table, set_custom as set_custom_schema};
pub use strategic::strategic_merge;
pub use target::Selector;
