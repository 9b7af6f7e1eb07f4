//! What a strategic merge patch that sets nothing does to an object in `kubectl kustomize`
//! (Kustomize v5.8.1): the model the `patch` target holds the renderer's strategic merge to.
//!
//! Kustomize never applies `{}` itself (it drops empty patch documents, and so does edgefleet),
//! but every patch that reaches its merge, the smallest being one holding only `apiVersion`,
//! `kind` and `metadata.name`, walks the whole object, and that walk rewrites the lists merged by
//! keys. Each rule below was checked with the pinned kubectl on small kustomizations (see
//! docs/fuzzing.md, finding "two elements with one merge key"); the conformance cases
//! `patches-smp-duplicate-merge-keys` and `patches-smp-null-elements-of-keyed-lists` keep the
//! renderer byte-identical to kubectl on them.
//!
//! - Maps: every field is walked; the object's own nulls and empty maps stay; scalars stay.
//! - Lists a patch replaces (no merge keys: `args`, `tolerations`, every list of a custom
//!   resource): unchanged, not walked into.
//! - Lists of scalars merged as a set (`finalizers`): nulls go; values equal as text (`1` and
//!   `"1"`) become one, at the first's place, holding the last one's value.
//! - Lists merged by keys: an element is *walked* (these rules applied inside it) when no element
//!   before it in the list has its key; otherwise it is kept as written.
//!   - One element: a null or `{}` goes; an element without the key stays as written.
//!   - Two elements or more, one of them a map without any of the keys: edgefleet refuses the
//!     list (Kustomize would drop the others: `keyless-list-element-drops-the-others`).
//!   - One key (containers by `name`), or two where no element sets the second (ports without
//!     `protocol`), no null: one element per key, at the key's first place, holding the key's
//!     **last** element.
//!   - One key, with a null: only the keys first seen before the first null stay, each with its
//!     first element; the rest of the list is lost.
//!   - Two keys where no element sets the second, with a null: only what follows the last null
//!     stays, by the rule without nulls.
//!   - Two keys that every element sets: one element per pair of keys, ordered by the pair's
//!     **last** place, holding its last element; with a null, as one key with a null.
//!   - Two keys that some elements set and others not: when no null and no first key repeats,
//!     unchanged (each element walked).
//!
//! Not modelled ([`Expect::Unknown`]: the target skips this check, the round trip is still
//! checked): a keyed list holding an element that is neither a map nor null, or a key that is
//! null, empty or not a scalar (kubectl duplicates or loses elements there); an element with the
//! second key and not the first; a list with and without second keys that repeats a first key or
//! holds a null; a set of scalars holding an empty string, a map or a list.

use serde_json::{Map, Value};

use kustomize::fuzzing::Schema;

/// What the strategic merge must do with an empty patch.
#[derive(Debug, PartialEq)]
pub enum Expect {
    /// Succeed with this object.
    Value(Value),
    /// Refuse the object (a keyed list with an element that has none of the keys).
    Refused,
    /// The model does not say (see the module documentation).
    Unknown,
}

/// The object `target` becomes under an empty strategic merge patch, as kubectl kustomize makes
/// it.
pub fn expected(target: &Value) -> Expect {
    match walk(target, Schema::unknown()) {
        Ok(v) => Expect::Value(v),
        Err(Skip::Refused) => Expect::Refused,
        Err(Skip::Unknown) => Expect::Unknown,
    }
}

/// Why the model gives no value. A refusal anywhere in what is walked wins over a part the model
/// does not know: the merge walks every part the model walks, so it meets the refusal.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Skip {
    Refused,
    Unknown,
}

type Walked = Result<Value, Skip>;

/// Combines the results of parts that are all walked.
fn all<T>(parts: impl IntoIterator<Item = Result<T, Skip>>) -> Result<Vec<T>, Skip> {
    let mut out = Vec::new();
    let mut unknown = false;
    for p in parts {
        match p {
            Ok(v) => out.push(v),
            Err(Skip::Refused) => return Err(Skip::Refused),
            Err(Skip::Unknown) => unknown = true,
        }
    }
    if unknown { Err(Skip::Unknown) } else { Ok(out) }
}

fn walk(v: &Value, sch: Schema) -> Walked {
    match v {
        Value::Object(m) => {
            let sch = sch.map(v);
            let fields = all(m
                .iter()
                .map(|(k, child)| walk(child, sch.field(k)).map(|c| (k.clone(), c))))?;
            Ok(Value::Object(fields.into_iter().collect::<Map<_, _>>()))
        }
        Value::Array(items) => match sch.merge_keys() {
            None => Ok(v.clone()),
            Some([]) => set_of_scalars(items),
            Some(keys) => keyed_list(items, keys, sch.elements()),
        },
        _ => Ok(v.clone()),
    }
}

/// The text Kustomize compares a key or a set member by; `None` for what the model leaves out
/// (null, empty, a map or a list).
fn text(v: &Value) -> Option<String> {
    let t = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!t.is_empty()).then_some(t)
}

fn set_of_scalars(items: &[Value]) -> Walked {
    let mut out: Vec<(String, Value)> = Vec::new();
    for item in items {
        if item.is_null() {
            continue;
        }
        let t = text(item).ok_or(Skip::Unknown)?;
        match out.iter_mut().find(|(k, _)| *k == t) {
            Some(slot) => slot.1 = item.clone(),
            None => out.push((t, item.clone())),
        }
    }
    Ok(Value::Array(out.into_iter().map(|(_, v)| v).collect()))
}

fn keyed_list(items: &[Value], keys: &[String], elem: Schema) -> Walked {
    if keys.len() > 2 {
        return Err(Skip::Unknown);
    }
    // Each element: `None` for a null, else its key texts (`None` for a key it does not set).
    let mut found: Vec<Option<Vec<Option<String>>>> = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Null => found.push(None),
            Value::Object(m) => {
                let mut ks = Vec::with_capacity(keys.len());
                for k in keys {
                    ks.push(match m.get(k) {
                        None => None,
                        Some(v) => Some(text(v).ok_or(Skip::Unknown)?),
                    });
                }
                found.push(Some(ks));
            }
            _ => return Err(Skip::Unknown),
        }
    }
    if let [item] = items {
        return Ok(Value::Array(match (item, &found[0]) {
            (Value::Null, _) => vec![],
            (Value::Object(m), _) if m.is_empty() => vec![],
            (_, Some(ks)) if ks[0].is_some() => vec![walk(item, elem)?],
            (_, Some(ks)) if ks.iter().all(Option::is_none) => vec![item.clone()],
            _ => return Err(Skip::Unknown),
        }));
    }
    if found
        .iter()
        .flatten()
        .any(|ks| ks.iter().all(Option::is_none))
    {
        return Err(Skip::Refused);
    }
    if found.iter().flatten().any(|ks| ks[0].is_none()) {
        return Err(Skip::Unknown);
    }
    let two = keys.len() == 2;
    let keyed = found.iter().flatten().count();
    let with_second = found.iter().flatten().filter(|ks| two && ks[1].is_some());
    let with_second = with_second.count();
    let nulls: Vec<usize> = (0..items.len()).filter(|&i| found[i].is_none()).collect();
    let key_of = |i: usize| -> &Vec<Option<String>> { found[i].as_ref().expect("not a null") };
    // The merge walks the first element of each key, in the order keys are first seen, until a
    // null's turn (when a null deletes the list's elements): the elements it walks are exactly
    // those with no element of their key before them.
    let first_of_its_key = |i: usize| {
        found[i].is_some() && (0..i).all(|j| found[j].is_none() || key_of(j) != key_of(i))
    };
    // Where the merge stops walking: at the first null, except when the null's key values join
    // another key's (two keys, no second key set: the null does not delete).
    let one_key_like = with_second == 0;
    if !one_key_like && with_second != keyed {
        // Some elements set the second key, others not: modelled only without nulls and with
        // distinct first keys (the merge pairs up `80` with `80/TCP`, then keeps or drops
        // elements depending on their order).
        let mut firsts: Vec<&String> = found.iter().flatten().flat_map(|ks| &ks[0]).collect();
        firsts.sort();
        firsts.dedup();
        if !nulls.is_empty() || firsts.len() != keyed {
            return Err(Skip::Unknown);
        }
    }
    let stop = match nulls.first() {
        Some(&first) if !(two && one_key_like) => first,
        _ => items.len(),
    };
    // Every element walked, first: a refusal inside any of them fails the merge, even when
    // another element takes its place afterwards.
    let walked: Vec<usize> = (0..stop).filter(|&i| first_of_its_key(i)).collect();
    let walked_values = all(walked.iter().map(|&i| walk(&items[i], elem)))?;
    let element = |i: usize| -> Value {
        match walked.iter().position(|&w| w == i) {
            Some(p) => walked_values[p].clone(),
            None => items[i].clone(),
        }
    };
    // What `range` leaves, one element per key: at the key's first (or last) place, the key's
    // last element.
    let one_per_key = |range: std::ops::Range<usize>, at_last_place: bool| -> Value {
        let mut slots: Vec<(&Vec<Option<String>>, usize)> = Vec::new();
        for i in range.filter(|&i| found[i].is_some()) {
            let k = key_of(i);
            match slots.iter().position(|(s, _)| *s == k) {
                Some(p) if at_last_place => {
                    slots.remove(p);
                    slots.push((k, i));
                }
                Some(p) => slots[p].1 = i,
                None => slots.push((k, i)),
            }
        }
        Value::Array(slots.into_iter().map(|(_, i)| element(i)).collect())
    };
    Ok(if one_key_like {
        match nulls.last() {
            None => one_per_key(0..items.len(), false),
            // One key: the keys first seen before the first null, each with its first element.
            Some(_) if !two => Value::Array(walked.iter().map(|&i| element(i)).collect()),
            // Two keys, no second set: what follows the last null, as without nulls.
            Some(&last) => one_per_key(last + 1..items.len(), false),
        }
    } else if with_second == keyed {
        match nulls.first() {
            None => one_per_key(0..items.len(), true),
            Some(_) => Value::Array(walked.iter().map(|&i| element(i)).collect()),
        }
    } else {
        // Mixed, distinct first keys, no null (checked above): unchanged, each element walked.
        Value::Array((0..items.len()).map(element).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": spec}}})
    }

    fn expect_spec(spec: Value) -> Value {
        match expected(&pod(spec)) {
            Expect::Value(v) => v["spec"]["template"]["spec"].clone(),
            other => panic!("{other:?}"),
        }
    }

    fn ports(list: Value) -> Value {
        expect_spec(json!({"containers": [{"name": "app", "ports": list}]}))["containers"][0]
            ["ports"]
            .clone()
    }

    // Every expectation below is what kubectl kustomize v5.8.1 printed for the same object under
    // a patch holding only apiVersion, kind and metadata.name.

    #[test]
    fn one_key_last_element_wins_at_the_first_place() {
        assert_eq!(
            expect_spec(json!({"containers": [
                {"name": "side", "image": "s1", "env": [{"name": "A", "value": "1"}]},
                {"name": "web", "image": "w"},
                {"name": "side", "image": "s2", "args": ["x"]}]})),
            json!({"containers": [
                {"name": "side", "image": "s2", "args": ["x"]}, {"name": "web", "image": "w"}]})
        );
        assert_eq!(
            expect_spec(json!({"containers": [
                {"name": "side", "image": "s1"}, {"name": "side", "image": "s2"},
                {"name": "side", "image": "s3"}]})),
            json!({"containers": [{"name": "side", "image": "s3"}]})
        );
    }

    #[test]
    fn only_an_element_alone_with_its_key_is_walked() {
        assert_eq!(
            expect_spec(json!({"containers": [
                {"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "X", "value": "2"}]},
                {"name": "b"}]})),
            json!({"containers": [
                {"name": "a", "env": [{"name": "X", "value": "2"}]}, {"name": "b"}]})
        );
        let raw =
            json!({"name": "b", "env": [{"name": "B", "value": "1"}, {"name": "B", "value": "2"}]});
        assert_eq!(
            expect_spec(json!({"containers": [
                {"name": "b", "env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]},
                raw]})),
            json!({"containers": [raw]})
        );
    }

    #[test]
    fn one_key_with_a_null_keeps_what_comes_before_it() {
        let (a1, a2, b) = (
            json!({"name": "a", "image": "a1"}),
            json!({"name": "a", "image": "a2"}),
            json!({"name": "b"}),
        );
        for (list, want) in [
            (json!([a1, null, b]), json!([a1])),
            (json!([null, a1]), json!([])),
            (json!([a1, null, a2]), json!([a1])),
            (json!([a1, a2, null, b]), json!([a1])),
        ] {
            assert_eq!(expect_spec(json!({"containers": list}))["containers"], want);
        }
    }

    #[test]
    fn ports_without_protocol_keep_what_follows_the_last_null() {
        assert_eq!(
            ports(json!([{"containerPort": 80}, null, {"containerPort": 90}])),
            json!([{"containerPort": 90}])
        );
        assert_eq!(ports(json!([{"containerPort": 80}, null])), json!([]));
        assert_eq!(
            ports(
                json!([{"containerPort": 80, "name": "a"}, null, {"containerPort": 90},
                         {"containerPort": 80, "name": "b"}, {"containerPort": 90, "name": "c"}])
            ),
            json!([{"containerPort": 90, "name": "c"}, {"containerPort": 80, "name": "b"}])
        );
        assert_eq!(
            ports(
                json!([{"containerPort": 8080, "name": "a"}, {"containerPort": 9090},
                         {"containerPort": 8080, "name": "b"}])
            ),
            json!([{"containerPort": 8080, "name": "b"}, {"containerPort": 9090}])
        );
    }

    #[test]
    fn ports_with_protocol_are_ordered_by_their_last_place() {
        assert_eq!(
            ports(
                json!([{"containerPort": 80, "protocol": "TCP", "name": "x"},
                         {"containerPort": 90, "protocol": "TCP"},
                         {"containerPort": 80, "protocol": "TCP", "name": "y"}])
            ),
            json!([{"containerPort": 90, "protocol": "TCP"},
                   {"containerPort": 80, "protocol": "TCP", "name": "y"}])
        );
        assert_eq!(
            ports(
                json!([{"containerPort": 80, "protocol": "TCP", "name": "a"},
                         {"containerPort": 90, "protocol": "TCP"}, null,
                         {"containerPort": 100, "protocol": "TCP"}])
            ),
            json!([{"containerPort": 80, "protocol": "TCP", "name": "a"},
                   {"containerPort": 90, "protocol": "TCP"}])
        );
        assert_eq!(
            ports(
                json!([{"containerPort": 80, "protocol": "TCP", "name": "a"},
                         {"containerPort": 80, "protocol": "TCP", "name": "b"}, null])
            ),
            json!([{"containerPort": 80, "protocol": "TCP", "name": "a"}])
        );
        let distinct = json!([{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"},
                              {"containerPort": 443, "protocol": "TCP"}]);
        assert_eq!(ports(distinct.clone()), distinct);
        // TCP then none collapses, none then TCP does not: left to the merge (not modelled).
        let mixed = pod(json!({"containers": [{"name": "app", "ports": [
            {"containerPort": 8080, "protocol": "TCP"}, {"containerPort": 8080}]}]}));
        assert_eq!(expected(&mixed), Expect::Unknown);
    }

    #[test]
    fn sets_of_scalars_and_single_elements() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "finalizers": ["b", "a", 1, "1", "b", null]},
            "spec": {"template": {"spec": {"containers": [{}]}}}});
        let Expect::Value(v) = expected(&obj) else {
            panic!()
        };
        assert_eq!(v["metadata"]["finalizers"], json!(["b", "a", "1"]));
        assert_eq!(v["spec"]["template"]["spec"]["containers"], json!([]));
        let raw = json!({"image": "x", "env": [{"name": "A"}, {"name": "A"}]});
        assert_eq!(
            expect_spec(json!({"containers": [raw]}))["containers"],
            json!([raw])
        );
    }

    #[test]
    fn replaced_lists_and_nulls_of_the_object_stay() {
        let spec = json!({"tolerations": [{"key": "a"}, {"key": "a"}, null],
                          "nodeName": null, "containers": [{"name": "x", "args": [null, "a"]}]});
        assert_eq!(expect_spec(spec.clone()), spec);
        let custom = json!({"apiVersion": "x.io/v1", "kind": "Thing",
                            "spec": {"containers": [{"name": "a"}, {"name": "a"}]}});
        assert_eq!(expected(&custom), Expect::Value(custom.clone()));
    }

    #[test]
    fn keyless_elements_are_refused_odd_keys_not_modelled() {
        assert_eq!(
            expected(&pod(json!({"containers": [{"name": "a"}, {"image": "b"}]}))),
            Expect::Refused
        );
        for odd in [json!(""), json!(null), json!({"x": 1}), json!([1])] {
            assert_eq!(
                expected(&pod(json!({"containers": [{"name": odd}, {"name": "b"}]}))),
                Expect::Unknown
            );
        }
        // A refusal found anywhere wins over a part the model leaves out.
        assert_eq!(
            expected(&pod(json!({"containers": [{"name": ""}, {"name": "b"}],
                                 "volumes": [{"name": "v"}, {"emptyDir": {}}]}))),
            Expect::Refused
        );
    }
}
