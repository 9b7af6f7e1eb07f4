//! Container image references (`registry:5000/repo/name:tag@sha256:...`), split as the
//! container runtime reads them.

/// An image reference split as the container runtime reads it.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The registry host (`docker.io` when the reference names none).
    pub registry: &'a str,
    /// Registry and repository, without tag or digest (`ghcr.io/acme/agent`).
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(image: &'a str) -> Self {
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (image, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        let registry = match name.split_once('/') {
            Some((first, _))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                first
            }
            _ => "docker.io",
        };
        Self {
            registry,
            name,
            tag,
            digest,
        }
    }

    /// `true` when the runtime would pull a moving tag: no digest, and `latest` or no tag.
    pub fn is_floating_latest(&self) -> bool {
        self.digest.is_none() && matches!(self.tag, None | Some("latest"))
    }
}

#[cfg(test)]
mod tests {
    use super::ImageRef;

    #[test]
    fn parses_registry_port_tag_and_digest() {
        let r = ImageRef::parse("registry.example.com:5000/edge/agent:1.2@sha256:abc");
        assert_eq!(r.registry, "registry.example.com:5000");
        assert_eq!(r.name, "registry.example.com:5000/edge/agent");
        assert_eq!(r.tag, Some("1.2"));
        assert_eq!(r.digest, Some("sha256:abc"));
        let r = ImageRef::parse("nginx");
        assert_eq!((r.registry, r.tag, r.digest), ("docker.io", None, None));
        assert!(r.is_floating_latest());
        let r = ImageRef::parse("localhost/app:2");
        assert_eq!((r.registry, r.tag), ("localhost", Some("2")));
    }
}
