//! Live state from clusters: one kubeconfig context per site, `get`, `list` and discovery only.
//!
//! The kubeconfig is read once (`--kubeconfig`, else the files of `KUBECONFIG` merged, else
//! `~/.kube/config`); a site's context is the template with `{site}` replaced. Per site: API
//! discovery (cached per cluster server for the run), a GET per desired object (404: absent),
//! and a LIST with `labelSelector=edgefleet.io/site=<id>` per served, listable kind (preferred
//! versions, no subresources), a few requests at a time, all within the site's timeout. The
//! source owns one multi-thread tokio runtime; [`LiveSource::read_site`] blocks on it, so the
//! fleet's worker threads call it as plain threads. Every request is a GET: nothing is ever
//! written to a cluster.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Map, Value};

use crate::{LiveSite, LiveSource, ObjectKey, SiteFailure};

/// The label every generated object carries with its site id.
pub const SITE_LABEL: &str = "edgefleet.io/site";

/// Requests in flight at once within one site.
const SITE_CONCURRENCY: usize = 8;

/// How to reach the sites' clusters.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// `--kubeconfig`; `None`: `KUBECONFIG`, then `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// The context of a site, `{site}` replaced by the site id (default `{site}`).
    pub context_template: String,
    /// Per-site budget for every request to that site (`--timeout`).
    pub timeout: Duration,
}

/// A kubeconfig that cannot be used at all (exit 2): missing, malformed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClusterError(pub String);

/// A served resource: where its objects live.
#[derive(Clone, Debug)]
struct ApiResource {
    api_version: String,
    kind: String,
    plural: String,
    namespaced: bool,
}

impl ApiResource {
    fn prefix(&self) -> String {
        if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        }
    }
}

/// What one cluster serves, from discovery.
#[derive(Debug, Default)]
struct ServedApis {
    /// Every (apiVersion, kind) of every served version.
    by_kind: HashMap<(String, String), ApiResource>,
    /// The kinds to LIST: preferred versions, not subresources, with the `list` verb.
    listable: Vec<ApiResource>,
}

type DiscoveryCell = Arc<tokio::sync::OnceCell<Arc<ServedApis>>>;

/// Reads sites from their clusters.
pub struct ClusterSource {
    options: ClusterOptions,
    kubeconfig: Kubeconfig,
    runtime: tokio::runtime::Runtime,
    /// Discovery per cluster server, for the run.
    discovery: Mutex<HashMap<String, DiscoveryCell>>,
}

impl std::fmt::Debug for ClusterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterSource")
            .field("options", &self.options)
            .field("contexts", &self.kubeconfig.contexts.len())
            .finish()
    }
}

fn read_kubeconfig(explicit: Option<&Path>) -> Result<Kubeconfig, ClusterError> {
    if let Some(path) = explicit {
        return Kubeconfig::read_from(path)
            .map_err(|e| ClusterError(format!("kubeconfig {}: {e}", path.display())));
    }
    match Kubeconfig::from_env() {
        Ok(Some(config)) => return Ok(config),
        Ok(None) => {}
        Err(e) => return Err(ClusterError(format!("kubeconfig from KUBECONFIG: {e}"))),
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from);
    let Some(path) = home.map(|h| h.join(".kube").join("config")) else {
        return Err(ClusterError(
            "no kubeconfig: give --kubeconfig, or set KUBECONFIG".to_owned(),
        ));
    };
    if !path.exists() {
        return Err(ClusterError(format!(
            "no kubeconfig: --kubeconfig not given, KUBECONFIG not set, and {} does not exist",
            path.display()
        )));
    }
    Kubeconfig::read_from(&path)
        .map_err(|e| ClusterError(format!("kubeconfig {}: {e}", path.display())))
}

impl ClusterSource {
    pub fn new(options: ClusterOptions) -> Result<ClusterSource, ClusterError> {
        let kubeconfig = read_kubeconfig(options.kubeconfig.as_deref())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name("edgefleet-drift-io")
            .enable_all()
            .build()
            .map_err(|e| ClusterError(format!("cannot start the network runtime: {e}")))?;
        Ok(ClusterSource {
            options,
            kubeconfig,
            runtime,
            discovery: Mutex::new(HashMap::new()),
        })
    }

    /// The kubeconfig context of `site`.
    pub fn context_of(&self, site: &str) -> String {
        self.options.context_template.replace("{site}", site)
    }

    /// A kubeconfig holding only `context`, its cluster and its user: the site's client is
    /// built from it without copying a fleet-sized kubeconfig per site.
    fn kubeconfig_for(&self, context: &str) -> Result<Kubeconfig, SiteFailure> {
        let kc = &self.kubeconfig;
        let Some(named) = kc.contexts.iter().find(|c| c.name == context) else {
            return Err(SiteFailure::Unreachable(format!(
                "no context `{context}` in the kubeconfig"
            )));
        };
        let Some(ctx) = &named.context else {
            return Err(SiteFailure::Unreachable(format!(
                "context `{context}` of the kubeconfig is empty"
            )));
        };
        let cluster = kc
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)
            .cloned()
            .ok_or_else(|| {
                SiteFailure::Unreachable(format!(
                    "context `{context}` names cluster `{}`, which the kubeconfig lacks",
                    ctx.cluster
                ))
            })?;
        let user = match &ctx.user {
            Some(u) => Some(
                kc.auth_infos
                    .iter()
                    .find(|a| &a.name == u)
                    .cloned()
                    .ok_or_else(|| {
                        SiteFailure::Unreachable(format!(
                            "context `{context}` names user `{u}`, which the kubeconfig lacks"
                        ))
                    })?,
            ),
            None => None,
        };
        Ok(Kubeconfig {
            clusters: vec![cluster],
            auth_infos: user.into_iter().collect(),
            contexts: vec![named.clone()],
            current_context: Some(context.to_owned()),
            ..Kubeconfig::default()
        })
    }

    async fn read(&self, site: &str, desired: &[ObjectKey]) -> Result<LiveSite, SiteFailure> {
        let context = self.context_of(site);
        let kubeconfig = self.kubeconfig_for(&context)?;
        let options = KubeConfigOptions {
            context: Some(context.clone()),
            ..KubeConfigOptions::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| SiteFailure::Unreachable(format!("context `{context}`: {e}")))?;
        config.connect_timeout = Some(self.options.timeout);
        config.read_timeout = Some(self.options.timeout);
        let server = config.cluster_url.to_string();
        let client = kube::Client::try_from(config)
            .map_err(|e| failure(&e, &server, self.options.timeout))?;
        let site_client = SiteClient {
            client,
            server: server.clone(),
            timeout: self.options.timeout,
        };

        let cell = {
            let mut cache = self.discovery.lock().expect("discovery cache lock");
            cache.entry(server.clone()).or_default().clone()
        };
        let apis = cell
            .get_or_try_init(|| site_client.discover())
            .await?
            .clone();

        // A GET per desired object.
        let gets = stream::iter(desired.iter().cloned())
            .map(|key| {
                let apis = &apis;
                let site_client = &site_client;
                async move {
                    let Some(resource) = apis
                        .by_kind
                        .get(&(key.api_version.clone(), key.kind.clone()))
                    else {
                        // The cluster does not serve the kind (a CRD not installed): the
                        // object cannot be there.
                        return Ok((key, None));
                    };
                    let path = object_path(resource, key.namespace.as_deref(), &key.name);
                    let live = site_client.get_opt(&path).await?;
                    Ok::<_, SiteFailure>((key, live))
                }
            })
            .buffer_unordered(SITE_CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        let mut objects = BTreeMap::new();
        for result in gets {
            let (key, live) = result?;
            objects.insert(key, live);
        }

        // A LIST by the site label per listable kind.
        let selector = format!("{SITE_LABEL}={site}");
        let lists = stream::iter(apis.listable.iter())
            .map(|resource| {
                let site_client = &site_client;
                let path = format!(
                    "{}/{}?labelSelector={}",
                    resource.prefix(),
                    resource.plural,
                    encode_query(&selector)
                );
                async move {
                    let list = site_client.get_opt(&path).await?;
                    Ok::<_, SiteFailure>((resource, list))
                }
            })
            .buffer_unordered(SITE_CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        let mut labelled = Vec::new();
        let mut seen_uids = HashSet::new();
        let mut lists_in_order = Vec::new();
        for result in lists {
            lists_in_order.push(result?);
        }
        // Deterministic order whatever the arrival order: by discovery order.
        lists_in_order.sort_by_key(|(r, _)| {
            apis.listable
                .iter()
                .position(|l| l.api_version == r.api_version && l.plural == r.plural)
        });
        for (resource, list) in lists_in_order {
            let Some(Value::Array(items)) =
                list.and_then(|mut l| l.get_mut("items").map(Value::take))
            else {
                continue;
            };
            for item in items {
                let uid = item
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some(uid) = uid
                    && !seen_uids.insert(uid)
                {
                    continue;
                }
                labelled.push(with_type(item, resource));
            }
        }
        Ok(LiveSite { objects, labelled })
    }
}

/// Items of a list carry no `apiVersion` and `kind`: put them back, first.
fn with_type(item: Value, resource: &ApiResource) -> Value {
    let Value::Object(fields) = item else {
        return item;
    };
    let mut out = Map::new();
    out.insert(
        "apiVersion".to_owned(),
        fields
            .get("apiVersion")
            .cloned()
            .unwrap_or_else(|| Value::String(resource.api_version.clone())),
    );
    out.insert(
        "kind".to_owned(),
        fields
            .get("kind")
            .cloned()
            .unwrap_or_else(|| Value::String(resource.kind.clone())),
    );
    for (k, v) in fields {
        if k != "apiVersion" && k != "kind" {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

fn object_path(resource: &ApiResource, namespace: Option<&str>, name: &str) -> String {
    if resource.namespaced {
        format!(
            "{}/namespaces/{}/{}/{}",
            resource.prefix(),
            encode_segment(namespace.unwrap_or("default")),
            resource.plural,
            encode_segment(name)
        )
    } else {
        format!(
            "{}/{}/{}",
            resource.prefix(),
            resource.plural,
            encode_segment(name)
        )
    }
}

fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct SiteClient {
    client: kube::Client,
    server: String,
    timeout: Duration,
}

impl SiteClient {
    /// GET `path`: the JSON body, `None` on 404.
    async fn get_opt(&self, path: &str) -> Result<Option<Value>, SiteFailure> {
        let request = http::Request::get(path)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| SiteFailure::Unreachable(format!("bad request path {path}: {e}")))?;
        match self.client.request::<Value>(request).await {
            Ok(v) => Ok(Some(v)),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(e) => Err(failure(&e, &self.server, self.timeout)),
        }
    }

    async fn get(&self, path: &str) -> Result<Value, SiteFailure> {
        self.get_opt(path).await?.ok_or_else(|| {
            SiteFailure::Unreachable(format!(
                "{}: discovery path {path} not found: not a Kubernetes API server?",
                self.server
            ))
        })
    }

    /// Discovery: `/api`, `/api/<v>`, `/apis`, `/apis/<group>/<version>` for every version.
    async fn discover(&self) -> Result<Arc<ServedApis>, SiteFailure> {
        let mut group_versions: Vec<(String, bool)> = Vec::new();
        let core = self.get("/api").await?;
        for v in core["versions"].as_array().into_iter().flatten() {
            if let Some(v) = v.as_str() {
                group_versions.push((v.to_owned(), group_versions.is_empty()));
            }
        }
        let groups = self.get("/apis").await?;
        for g in groups["groups"].as_array().into_iter().flatten() {
            let preferred = g
                .pointer("/preferredVersion/groupVersion")
                .and_then(Value::as_str);
            for v in g["versions"].as_array().into_iter().flatten() {
                if let Some(gv) = v["groupVersion"].as_str() {
                    let is_preferred = preferred.is_none_or(|p| p == gv);
                    group_versions.push((gv.to_owned(), is_preferred));
                }
            }
        }
        let lists = stream::iter(group_versions.iter())
            .map(|(gv, preferred)| async move {
                let path = if gv.contains('/') {
                    format!("/apis/{gv}")
                } else {
                    format!("/api/{gv}")
                };
                // A group version that vanished between the two requests is skipped.
                let list = self.get_opt(&path).await?;
                Ok::<_, SiteFailure>((gv.clone(), *preferred, list))
            })
            .buffered(SITE_CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        let mut apis = ServedApis::default();
        for result in lists {
            let (gv, preferred, list) = result?;
            let Some(list) = list else { continue };
            for r in list["resources"].as_array().into_iter().flatten() {
                let (Some(plural), Some(kind)) = (r["name"].as_str(), r["kind"].as_str()) else {
                    continue;
                };
                if plural.contains('/') {
                    continue;
                }
                let resource = ApiResource {
                    api_version: gv.clone(),
                    kind: kind.to_owned(),
                    plural: plural.to_owned(),
                    namespaced: r["namespaced"].as_bool().unwrap_or(false),
                };
                let verbs: Vec<&str> = r["verbs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if preferred && verbs.contains(&"list") {
                    apis.listable.push(resource.clone());
                }
                if verbs.contains(&"get") {
                    apis.by_kind
                        .entry((gv.clone(), kind.to_owned()))
                        .or_insert(resource);
                }
            }
        }
        Ok(Arc::new(apis))
    }
}

/// Seconds as people read them: `20 s`, `0.5 s`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{s:.1} s")
    }
}

/// A client error as a site failure a human understands.
fn failure(error: &kube::Error, server: &str, timeout: Duration) -> SiteFailure {
    if let kube::Error::Api(status) = error {
        let message = if status.message.is_empty() {
            status.reason.clone()
        } else {
            status.message.clone()
        };
        return match status.code {
            401 => SiteFailure::Unauthorized(format!(
                "401 Unauthorized from {server}: {message} (is the token of the context valid?)"
            )),
            403 => SiteFailure::Unauthorized(format!("403 Forbidden from {server}: {message}")),
            code => SiteFailure::Unreachable(format!("{server} answered {code}: {message}")),
        };
    }
    // The chain of causes, outermost first.
    let mut chain = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !chain.iter().any(|c| c.contains(&text)) {
            chain.push(text);
        }
        source = e.source();
    }
    let all = chain.join(": ");
    let innermost = chain.last().cloned().unwrap_or_default();
    let lower = all.to_lowercase();
    let reason = if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        format!(
            "TLS: certificate not trusted (the server's certificate is not signed by the \
             kubeconfig's certificate authority) at {server}"
        )
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        format!("TLS: certificate not valid for the host of {server} ({innermost})")
    } else if lower.contains("expired") && lower.contains("certificate") {
        format!("TLS: certificate expired at {server} ({innermost})")
    } else if lower.contains("invalid peer certificate")
        || lower.contains("certificate")
        || lower.contains("tls")
    {
        format!("TLS: {innermost} at {server}")
    } else if lower.contains("connection refused") {
        format!("connection refused by {server}")
    } else if lower.contains("timed out") || lower.contains("elapsed") || lower.contains("timeout")
    {
        format!("timed out after {} talking to {server}", seconds(timeout))
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") {
        format!("cannot resolve the host of {server}: {innermost}")
    } else {
        format!("cannot reach {server}: {all}")
    };
    SiteFailure::Unreachable(reason)
}

impl LiveSource for ClusterSource {
    fn read_site(&self, site: &str, desired: &[ObjectKey]) -> Result<LiveSite, SiteFailure> {
        let timeout = self.options.timeout;
        self.runtime.block_on(async {
            match tokio::time::timeout(timeout, self.read(site, desired)).await {
                Ok(result) => result,
                Err(_) => Err(SiteFailure::Unreachable(format!(
                    "timed out after {}",
                    seconds(timeout)
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_read_naturally() {
        assert_eq!(seconds(Duration::from_secs(20)), "20 s");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 s");
    }

    #[test]
    fn paths_of_objects() {
        let deploy = ApiResource {
            api_version: "apps/v1".to_owned(),
            kind: "Deployment".to_owned(),
            plural: "deployments".to_owned(),
            namespaced: true,
        };
        assert_eq!(
            object_path(&deploy, Some("edge"), "web"),
            "/apis/apps/v1/namespaces/edge/deployments/web"
        );
        let role = ApiResource {
            api_version: "rbac.authorization.k8s.io/v1".to_owned(),
            kind: "ClusterRole".to_owned(),
            plural: "clusterroles".to_owned(),
            namespaced: false,
        };
        assert_eq!(
            object_path(&role, None, "system:reader"),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:reader"
        );
        assert_eq!(
            encode_query("edgefleet.io/site=a-1"),
            "edgefleet.io%2Fsite%3Da-1"
        );
    }
}
