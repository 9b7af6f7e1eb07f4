//! `workload.yaml`: the workload's metadata, read with positions so every refusal names its line,
//! and the checks a rendered document must pass.

use super::*;

/// A container image pinned by digest, as listed under `images:` in `workload.yaml` (its
/// [`reference`](Self::reference) parses as a [`kube_basics::image::ImageRef`] with a digest and
/// no tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedImage {
    /// Repository, e.g. `registry.example.com/otel/opentelemetry-collector-contrib`.
    pub name: String,
    /// `sha256:<64 hex>`.
    pub digest: String,
    /// The release the digest was taken from (informational).
    pub version: Option<String>,
}

impl PinnedImage {
    /// `name@digest`, the reference containers use.
    pub fn reference(&self) -> String {
        format!("{}@{}", self.name, self.digest)
    }
}

/// A workload's `workload.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadMeta {
    /// The folder name; a DNS-1123 label.
    pub name: String,
    pub description: String,
    /// Namespace the workload runs in (the Application's destination); a DNS-1123 label.
    pub namespace: String,
    /// Default upstream data rate while connected; `None` for a workload that sends nothing.
    pub upstream_kbps: Option<u64>,
    /// Share of the site's backhaul bandwidth the workload may use.
    pub link_share: Option<f64>,
    /// Share of the site's ephemeral storage its outage buffer may use.
    pub buffer_disk_share: Option<f64>,
    /// Smallest buffer worth having, in MiB.
    pub buffer_min_mib: Option<u64>,
    /// Images by role (`collector`, `broker`, ...), all pinned by digest.
    pub images: BTreeMap<String, PinnedImage>,
    /// The templates the workload has (always contains [`Part::Base`]).
    pub parts: BTreeSet<Part>,
    /// Runs only at sites that list it under `workloads:` (a workload that needs a Wasm runtime
    /// or a TEE), never at sites that take the whole catalogue.
    pub opt_in: bool,
    /// The whole mapping, including free-form keys: the `workload` variable of every template.
    pub raw: serde_json::Value,
}

impl WorkloadMeta {
    /// What the workload sends upstream, for [`edgefleet_inventory::OutageBuffer::compute`];
    /// `None` when it sends nothing (the buffer is then disabled).
    pub fn upstream_demand(&self) -> Option<edgefleet_inventory::UpstreamDemand> {
        Some(edgefleet_inventory::UpstreamDemand {
            upstream_kbps: self.upstream_kbps?,
            link_share: self.link_share?,
            buffer_disk_share: self.buffer_disk_share?,
            buffer_min_mib: self.buffer_min_mib?,
        })
    }

    /// Whether the workload has a template for `part`.
    pub fn has_part(&self, part: Part) -> bool {
        self.parts.contains(&part)
    }
}

/// `workload.yaml` as written, with positions for the checks serde cannot do.
#[derive(Deserialize)]
pub(super) struct MetaFile {
    name: Spanned<String>,
    description: String,
    namespace: Spanned<String>,
    #[serde(default)]
    upstream_kbps: Option<Spanned<u64>>,
    #[serde(default)]
    link_share: Option<Spanned<f64>>,
    #[serde(default)]
    buffer_disk_share: Option<Spanned<f64>>,
    #[serde(default)]
    buffer_min_mib: Option<u64>,
    #[serde(default)]
    images: BTreeMap<String, ImageFile>,
    #[serde(default)]
    opt_in: bool,
    // Other keys are free-form data for the templates (they reach them through `workload`).
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ImageFile {
    name: Spanned<String>,
    digest: Spanned<String>,
    #[serde(default)]
    version: Option<String>,
}

pub(super) fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a sequence",
        serde_json::Value::Object(_) => "a mapping",
    }
}

/// Byte offset of a 1-based line and column (in characters) in `text`.
pub(super) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let rest = &text[line_start..];
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

/// A serde-saphyr error's message without its location and snippet (we print our own).
pub(super) fn yaml_message(err: &serde_saphyr::Error) -> String {
    let mut options = serde_saphyr::RenderOptions::default();
    options.snippets = serde_saphyr::SnippetMode::Off;
    let text = err.render_with_options(options);
    let first = text.lines().next().unwrap_or_default().trim();
    // "message at line L, column C" → "message"
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

/// A rendered document must be a mapping naming an object by apiVersion, kind and metadata.name
/// (a base object, or the target of a strategic-merge patch).
pub(super) fn check_document(doc: &serde_json::Value) -> Result<(), String> {
    let Some(obj) = doc.as_object() else {
        return Err(format!(
            "is {}, not a mapping (a Kubernetes object or patch)",
            json_kind(doc)
        ));
    };
    for key in ["apiVersion", "kind"] {
        match obj.get(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err(format!("{key} must be a non-empty string")),
            None => return Err(format!("has no {key}")),
        }
    }
    match obj.get("metadata").and_then(|m| m.get("name")) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(()),
        Some(_) => Err("metadata.name must be a non-empty string".into()),
        None => Err("has no metadata.name".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// workload.yaml
// ---------------------------------------------------------------------------------------------

pub(super) fn parse_meta(
    path: &Path,
    folder: &str,
    text: &str,
) -> Result<WorkloadMeta, CatalogueError> {
    let yaml_err = |err: serde_saphyr::Error| {
        let (line, column) = err
            .location()
            .map(|l| (l.line() as usize, l.column() as usize))
            .unwrap_or((1, 1));
        CatalogueError::Metadata {
            path: path.to_path_buf(),
            line,
            column,
            message: yaml_message(&err),
        }
    };
    let at = |loc: &serde_saphyr::Location, message: String| CatalogueError::Metadata {
        path: path.to_path_buf(),
        line: loc.line() as usize,
        column: loc.column() as usize,
        message,
    };
    let raw: serde_json::Value = serde_saphyr::from_str(text).map_err(yaml_err)?;
    if !raw.is_object() {
        return Err(CatalogueError::Metadata {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("must be a mapping, not {}", json_kind(&raw)),
        });
    }
    let file: MetaFile = serde_saphyr::from_str(text).map_err(yaml_err)?;
    if !is_dns1123_label(&file.name.value) {
        return Err(at(
            &file.name.referenced,
            format!("name {:?} is not a DNS-1123 label", file.name.value),
        ));
    }
    if file.name.value != folder {
        return Err(at(
            &file.name.referenced,
            format!(
                "name {:?} must equal the folder name {folder:?}",
                file.name.value
            ),
        ));
    }
    if !is_dns1123_label(&file.namespace.value) {
        return Err(at(
            &file.namespace.referenced,
            format!(
                "namespace {:?} is not a DNS-1123 label",
                file.namespace.value
            ),
        ));
    }
    for share in [&file.link_share, &file.buffer_disk_share]
        .into_iter()
        .flatten()
    {
        if !(share.value > 0.0 && share.value <= 1.0) {
            return Err(at(
                &share.referenced,
                format!("a share must be in (0, 1], got {}", share.value),
            ));
        }
    }
    if let Some(up) = &file.upstream_kbps
        && (file.link_share.is_none()
            || file.buffer_disk_share.is_none()
            || file.buffer_min_mib.is_none())
    {
        return Err(at(
            &up.referenced,
            "a workload that declares upstream_kbps also needs link_share, buffer_disk_share \
             and buffer_min_mib to size its outage buffer"
                .into(),
        ));
    }
    let mut images = BTreeMap::new();
    for (role, image) in file.images {
        if image.name.value.is_empty()
            || image.name.value.contains(['@', ' '])
            || kube_basics::image::ImageRef::parse(&image.name.value)
                .tag
                .is_some()
        {
            return Err(at(
                &image.name.referenced,
                format!(
                    "image {role}: name {:?} must be a repository without tag or digest",
                    image.name.value
                ),
            ));
        }
        if !is_sha256_digest(&image.digest.value) {
            return Err(at(
                &image.digest.referenced,
                format!(
                    "image {role}: digest {:?} must be sha256: followed by 64 lower-case hex digits",
                    image.digest.value
                ),
            ));
        }
        images.insert(
            role,
            PinnedImage {
                name: image.name.value,
                digest: image.digest.value,
                version: image.version,
            },
        );
    }
    Ok(WorkloadMeta {
        name: file.name.value,
        description: file.description,
        namespace: file.namespace.value,
        upstream_kbps: file.upstream_kbps.map(|s| s.value),
        link_share: file.link_share.map(|s| s.value),
        buffer_disk_share: file.buffer_disk_share.map(|s| s.value),
        buffer_min_mib: file.buffer_min_mib,
        images,
        parts: BTreeSet::new(),
        opt_in: file.opt_in,
        raw,
    })
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

pub(super) fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    })
}
