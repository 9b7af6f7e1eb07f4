//! `images`: Kustomize's image tag transformer (new name, tag or digest for every container and
//! init container image whose name matches).

use serde_json::Value;

use crate::Resource;
use crate::kustomization::ImageSpec;

/// `(name, tag, digest)` of an image reference; the name keeps a registry port.
pub fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    // A ':' after the last '/' separates the tag (a ':' before it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].find(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(&rest[last_slash + i + 1..]),
            digest,
        ),
        None => (rest, None, digest),
    }
}

pub(crate) fn rewrite_image(image: &str, specs: &[ImageSpec]) -> Option<String> {
    let (name, tag, digest) = split_image(image);
    let spec = specs.iter().find(|s| s.name == name)?;
    let new_name = spec.new_name.as_deref().unwrap_or(name);
    let (tag, digest) = match (&spec.new_tag, &spec.digest) {
        (Some(t), Some(d)) => (Some(t.as_str()), Some(d.as_str())),
        (Some(t), None) => (Some(t.as_str()), None),
        (None, Some(d)) => (None, Some(d.as_str())),
        (None, None) => (tag, digest),
    };
    let mut out = new_name.to_owned();
    if let Some(t) = tag {
        out.push(':');
        out.push_str(t);
    }
    if let Some(d) = digest {
        out.push('@');
        out.push_str(d);
    }
    Some(out)
}

fn images_in(v: &mut Value, specs: &[ImageSpec]) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if (k == "containers" || k == "initContainers")
                    && let Value::Array(items) = child
                {
                    for c in items.iter_mut() {
                        if let Some(Value::String(img)) = c.get_mut("image")
                            && let Some(new) = rewrite_image(img, specs)
                        {
                            *img = new;
                        }
                    }
                }
                images_in(child, specs);
            }
        }
        Value::Array(items) => {
            for item in items {
                images_in(item, specs);
            }
        }
        _ => {}
    }
}

/// `images`.
pub fn images(resources: &mut [Resource], specs: &[ImageSpec]) {
    if specs.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        images_in(&mut r.value, specs);
    }
}

/// An `ImageTagTransformer` config: the `images` rewrite (every container and init container),
/// then every string at the config's own field specs (custom resources' image fields) whose
/// image name matches.
pub fn images_with_specs(
    resources: &mut [Resource],
    spec: &ImageSpec,
    field_specs: &[super::FieldSpec],
) {
    let specs = std::slice::from_ref(spec);
    for r in resources.iter_mut() {
        images_in(&mut r.value, specs);
        for fs in field_specs {
            if !fs.matches(r) {
                continue;
            }
            super::visit(&mut r.value, &fs.path, false, &mut |leaf| {
                if let Value::String(img) = leaf
                    && let Some(new) = rewrite_image(img, specs)
                {
                    *img = new;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_rules() {
        let specs = [
            ImageSpec {
                name: "nginx".into(),
                new_name: Some("my/nginx".into()),
                new_tag: Some("9".into()),
                digest: None,
            },
            ImageSpec {
                name: "reg:5000/x".into(),
                new_name: None,
                new_tag: None,
                digest: Some("sha256:d".into()),
            },
            ImageSpec {
                name: "bb".into(),
                new_name: None,
                new_tag: Some("2".into()),
                digest: Some("sha256:e".into()),
            },
        ];
        assert_eq!(
            rewrite_image("nginx@sha256:1", &specs).unwrap(),
            "my/nginx:9"
        );
        assert_eq!(
            rewrite_image("reg:5000/x:1@sha256:a", &specs).unwrap(),
            "reg:5000/x@sha256:d"
        );
        assert_eq!(rewrite_image("bb:1", &specs).unwrap(), "bb:2@sha256:e");
        assert!(rewrite_image("docker.io/nginx:1", &specs).is_none());
        assert_eq!(split_image("reg:5000/x"), ("reg:5000/x", None, None));
    }
}
