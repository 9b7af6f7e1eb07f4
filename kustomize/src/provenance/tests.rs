use super::*;
use serde_json::json;

fn source(text: &str) -> Arc<Source> {
    Source::of_file(Arc::from(Path::new("f.yaml")), Arc::from(text))
}

fn at(s: &Source, document: usize, pointer: &str) -> Option<(u32, u32)> {
    s.position(document, pointer).map(|p| (p.line, p.column))
}

#[test]
fn positions_of_keys_items_and_documents() {
    let text = "---\n# empty\n---\na: 1\nb:\n  c: [x, y]\n  d:\n  - e: 1\n    f: 2\n---\ng: h\n";
    let s = source(text);
    assert_eq!(at(&s, 0, "/a"), Some((4, 1)));
    assert_eq!(at(&s, 0, "/b/c"), Some((6, 3)));
    assert_eq!(at(&s, 0, "/b/c/1"), Some((6, 10)));
    assert_eq!(at(&s, 0, "/b/d/0/f"), Some((9, 5)));
    assert_eq!(at(&s, 1, "/g"), Some((11, 1)));
    assert_eq!(at(&s, 0, "/zz"), None);
    assert_eq!(at(&s, 2, "/g"), None);
    let p = s.position(0, "/b/d/0/f").unwrap();
    assert_eq!(&text[p.offset..p.offset + p.len], "f");
    // A mapping item where its first key is written; the root likewise.
    assert_eq!(at(&s, 0, "/b/d/0"), Some((8, 5)));
    assert_eq!(at(&s, 0, ""), Some((4, 1)));
    let nested = source(
        "- - a
  - b
- c: 1
",
    );
    assert_eq!(at(&nested, 0, "/0"), Some((1, 5)));
    assert_eq!(at(&nested, 0, "/0/1"), Some((2, 5)));
    assert_eq!(at(&nested, 0, "/1"), Some((3, 3)));
}

#[test]
fn inline_literal_blocks_are_followed_into_the_file() {
    let k = "kind: Kustomization\npatches:\n- patch: |\n    kind: Deployment\n    metadata:\n\n      name: é\n    spec:\n      replicas: 2\n- patch: \"kind: Deployment\\nspec:\\n  paused: true\\n\"\n";
    let text: Arc<str> = Arc::from(k);
    let file: Arc<Path> = Arc::from(Path::new("k.yaml"));
    let s = Source::of_inline(file.clone(), text.clone(), Arc::from("/patches/0/patch"));
    let p = s.position(0, "/spec/replicas").unwrap();
    assert_eq!((p.line, p.column, p.exact), (9, 7, true));
    assert_eq!(&k[p.offset..p.offset + p.len], "replicas");
    let p = s.position(0, "/metadata/name").unwrap();
    assert_eq!((p.line, p.column), (7, 7));
    // A quoted string: its key, not exact.
    let s = Source::of_inline(file, text, Arc::from("/patches/1/patch"));
    let p = s.position(0, "/spec/paused").unwrap();
    assert_eq!((p.line, p.column, p.exact), (10, 3, false));
    assert!(s.position(0, "/spec/nothing").is_none());
}

#[test]
fn list_items_are_named_by_identity_and_found_again() {
    let v = json!({"spec": {"containers": [
        {"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 90}]},
        {"name": "b/c", "args": ["x", "y"]}
    ]}});
    let k = keyed(&v, "/spec/containers/1/args/1");
    assert_eq!(k, "/spec/containers/[name=b~1c]/args/1");
    assert_eq!(
        resolve(&v, &k, &mut String::new()).as_deref(),
        Some("/spec/containers/1/args/1")
    );
    let k = keyed(&v, "/spec/containers/0/ports/1/containerPort");
    assert_eq!(
        k,
        "/spec/containers/[name=a]/ports/[containerPort=90]/containerPort"
    );
    // The list reordered: the same items are found where they went.
    let moved = json!({"spec": {"containers": [
        {"name": "b/c", "args": ["x", "y"]},
        {"name": "a", "ports": [{"containerPort": 90}, {"containerPort": 80}]}
    ]}});
    assert_eq!(
        resolve(&moved, &k, &mut String::new()).as_deref(),
        Some("/spec/containers/1/ports/0/containerPort")
    );
    assert_eq!(
        resolve(
            &moved,
            "/spec/containers/[name=gone]/image",
            &mut String::new()
        ),
        None
    );
}
