//! A loopback Kubernetes API server for edgefleet's drift tests and benchmark.
//!
//! One TLS port (a self-signed CA made at start, rcgen) serves a whole fleet: the bearer token
//! tells which site's objects to serve, so a thousand sites cost one listener. It speaks enough
//! of the API for `kubectl get`, `kubectl api-resources` and edgefleet's cluster source:
//! discovery (`/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`, `/version`), GET of single
//! objects (namespaced and cluster-scoped paths), LIST with `labelSelector` (a proper
//! `<Kind>List`), `Status` objects for 401, 403, 404 and 405 as a real server sends them. Every
//! request is recorded (method, path, query, site) so a test can assert the verbs it saw.
//!
//! Per site: latency, 401 (token revoked), 403 (a reader without RBAC), a server that never
//! answers (its kubeconfig entry points at a listener that accepts and then holds the
//! connection; requests with its token also hang), a cluster whose CA the kubeconfig does not
//! trust (a second CA). Each site may also get its own server URL (`/clusters/<site>` path
//! prefix, as behind a proxy), so discovery is per cluster as in a real fleet.
//!
//! [`served`] turns rendered objects into what a real API server returns for them after the
//! GitOps applier applied them, and edits them as people on site do.

pub mod discovery;
pub mod quantity;
pub mod served;

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

pub use discovery::Resource;
pub use served::{Applier, as_served, owned_objects, served_objects};

/// `GET` this path (no token) for the recorded requests as JSON (`?site=ID` for one site's):
/// `{"requests": [{"method", "path", "query", "site"}]}`.
pub const ADMIN_REQUESTS: &str = "/_edgefleet/requests";

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path without the per-site `/clusters/<site>` prefix.
    pub path: String,
    pub query: Option<String>,
    /// The site its token names; `None` for an unknown or missing token.
    pub site: Option<String>,
}

/// How a site's kubeconfig entry and requests behave.
#[derive(Clone, Debug, Default)]
struct Site {
    token: String,
    /// Served objects by (apiVersion, kind, namespace or "", name).
    objects: BTreeMap<(String, String, String, String), Value>,
    latency: Duration,
    forbidden: bool,
    revoked: bool,
    hanging: bool,
    untrusted: bool,
}

#[derive(Default)]
struct State {
    sites: BTreeMap<String, Site>,
    by_token: HashMap<String, String>,
    custom: Vec<Resource>,
    resource_version: u64,
}

struct Shared {
    state: RwLock<State>,
    requests: Mutex<Vec<RecordedRequest>>,
    record: std::sync::atomic::AtomicBool,
    builtin: Vec<Resource>,
    address: SocketAddr,
}

/// Where sites' kubeconfig entries point and how contexts are named.
#[derive(Clone, Debug)]
pub struct KubeconfigOptions {
    /// The context of a site: `{site}` replaced by the id (`edge-{site}`, `{site}`).
    pub context_template: String,
    /// One server URL per site (`https://127.0.0.1:PORT/clusters/<site>`): discovery per site,
    /// as in a real fleet. `false`: every site names the same server URL.
    pub per_site_server: bool,
    /// Only these sites (all when `None`).
    pub sites: Option<Vec<String>>,
}

impl Default for KubeconfigOptions {
    fn default() -> Self {
        KubeconfigOptions {
            context_template: "{site}".to_owned(),
            per_site_server: true,
            sites: None,
        }
    }
}

/// The loopback API server. Runs on its own threads until dropped.
pub struct TestApiServer {
    shared: Arc<Shared>,
    hang_address: SocketAddr,
    ca_pem: String,
    other_ca_pem: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    });
    if let Some(d) = details {
        v["details"] = d;
    }
    v["code"] = json!(code);
    v
}

fn respond(code: u16, body: &Value) -> Response<Full<Bytes>> {
    let mut text = serde_json::to_vec(body).unwrap_or_default();
    text.push(b'\n');
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header("cache-control", "no-cache, private")
        .body(Full::new(Bytes::from(text)))
        .expect("a valid response")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

/// A resource path: group version, namespace, plural, name; `None` when the path is not one.
struct ResourcePath {
    group_version: String,
    namespace: Option<String>,
    plural: String,
    name: Option<String>,
    /// More segments after the name (a subresource).
    sub: bool,
}

fn parse_resource_path(path: &str) -> Option<ResourcePath> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (gv, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ((*v).to_owned(), rest),
        ["apis", g, v, rest @ ..] => (format!("{g}/{v}"), rest),
        _ => return None,
    };
    if rest.is_empty() {
        return None;
    }
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, more @ ..] => (Some((*ns).to_owned()), {
            let mut v = vec![*plural];
            v.extend_from_slice(more);
            v
        }),
        other => (None, other.to_vec()),
    };
    Some(ResourcePath {
        group_version: gv,
        namespace,
        plural: rest[0].to_owned(),
        name: rest.get(1).map(|s| (*s).to_owned()),
        sub: rest.len() > 2,
    })
}

impl Shared {
    fn resources(&self, state: &State) -> Vec<Resource> {
        let mut all = self.builtin.clone();
        all.extend(state.custom.iter().cloned());
        all
    }

    fn discovery(&self, path: &str, state: &State) -> Option<Value> {
        let resources = self.resources(state);
        let path = path.trim_end_matches('/');
        if path == "/api" {
            return Some(json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.address.to_string()}],
            }));
        }
        if path == "/apis" {
            let mut groups: Vec<(String, Vec<String>)> = Vec::new();
            for r in &resources {
                let group = r.group();
                if group.is_empty() {
                    continue;
                }
                let version = r
                    .group_version
                    .split_once('/')
                    .map(|(_, v)| v)
                    .unwrap_or("");
                match groups.iter_mut().find(|(g, _)| g == group) {
                    Some((_, versions)) => {
                        if !versions.iter().any(|v| v == version) {
                            versions.push(version.to_owned());
                        }
                    }
                    None => groups.push((group.to_owned(), vec![version.to_owned()])),
                }
            }
            let groups: Vec<Value> = groups
                .into_iter()
                .map(|(g, versions)| {
                    let vs: Vec<Value> = versions
                        .iter()
                        .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                        .collect();
                    json!({"name": g, "versions": vs, "preferredVersion": vs[0].clone()})
                })
                .collect();
            return Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}));
        }
        let gv = if let Some(v) = path.strip_prefix("/api/") {
            v.to_owned()
        } else {
            let rest = path.strip_prefix("/apis/")?;
            if rest.matches('/').count() != 1 {
                return None;
            }
            rest.to_owned()
        };
        let list: Vec<Value> = resources
            .iter()
            .filter(|r| r.group_version == gv)
            .map(Resource::to_json)
            .collect();
        if list.is_empty() {
            return None;
        }
        Some(
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list}),
        )
    }

    fn handle(&self, method: &str, path: &str, query: Option<&str>, site: &str) -> (u16, Value) {
        let state = self.state.read().expect("state lock");
        if method != "GET" {
            return (
                405,
                status(
                    405,
                    "MethodNotAllowed",
                    &format!("the loopback server serves GET only, not {method}"),
                    Some(json!({})),
                ),
            );
        }
        if path == "/version" || path == "/version/" {
            return (
                200,
                json!({
                    "major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
                    "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
                    "gitVersion": "v1.33.5+k3s1", "gitCommit": "0000000000000000000000000000000000000000",
                    "gitTreeState": "clean", "buildDate": "2026-10-01T00:00:00Z",
                    "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/arm64",
                }),
            );
        }
        if let Some(doc) = self.discovery(path, &state) {
            return (200, doc);
        }
        let not_found = || {
            (
                404,
                status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                    Some(json!({})),
                ),
            )
        };
        let Some(rp) = parse_resource_path(path) else {
            return not_found();
        };
        let resources = self.resources(&state);
        let Some(resource) = resources
            .iter()
            .find(|r| r.group_version == rp.group_version && r.name == rp.plural)
        else {
            return not_found();
        };
        if rp.sub || (rp.namespace.is_some() && !resource.namespaced) {
            return not_found();
        }
        if resource.namespaced && rp.namespace.is_none() && rp.name.is_some() {
            return not_found();
        }
        let verb = if rp.name.is_some() { "get" } else { "list" };
        if !resource.verbs.contains(&verb) {
            return (
                405,
                status(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    Some(json!({})),
                ),
            );
        }
        let Some(site_state) = state.sites.get(site) else {
            return not_found();
        };
        let group = resource.group();
        if site_state.forbidden {
            let user = "system:serviceaccount:edgefleet:drift-reader";
            let scope = match &rp.namespace {
                Some(ns) => format!("in the namespace \"{ns}\""),
                None => "at the cluster scope".to_owned(),
            };
            let what = match &rp.name {
                Some(n) => format!("{} \"{n}\"", resource.qualified()),
                None => resource.qualified(),
            };
            let message = format!(
                "{what} is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{group}\" {scope}",
                resource.name
            );
            let mut details = json!({"group": group, "kind": resource.name});
            if let Some(n) = &rp.name {
                details["name"] = json!(n);
            }
            return (403, status(403, "Forbidden", &message, Some(details)));
        }
        match &rp.name {
            Some(name) => {
                let key = (
                    rp.group_version.clone(),
                    resource.kind.clone(),
                    rp.namespace.clone().unwrap_or_default(),
                    name.clone(),
                );
                match site_state.objects.get(&key) {
                    Some(obj) => (200, obj.clone()),
                    None => {
                        let details = if group.is_empty() {
                            json!({"name": name, "kind": resource.name})
                        } else {
                            json!({"name": name, "group": group, "kind": resource.name})
                        };
                        (
                            404,
                            status(
                                404,
                                "NotFound",
                                &format!("{} \"{name}\" not found", resource.qualified()),
                                Some(details),
                            ),
                        )
                    }
                }
            }
            None => {
                let selector = match query_param(query, "labelSelector") {
                    Some(s) => match kube_basics::selector::LabelSelector::parse(&s) {
                        Ok(sel) => Some(sel),
                        Err(e) => {
                            return (
                                400,
                                status(
                                    400,
                                    "BadRequest",
                                    &format!("unable to parse requirement: {e}"),
                                    None,
                                ),
                            );
                        }
                    },
                    None => None,
                };
                let items: Vec<Value> = site_state
                    .objects
                    .iter()
                    .filter(|((api, kind, ns, _), _)| {
                        *api == rp.group_version
                            && *kind == resource.kind
                            && rp.namespace.as_ref().is_none_or(|want| want == ns)
                    })
                    .filter(|(_, obj)| {
                        selector.as_ref().is_none_or(|sel| {
                            sel.matches(obj.pointer("/metadata/labels").and_then(Value::as_object))
                        })
                    })
                    .map(|(_, obj)| {
                        // Items of a built-in list carry no apiVersion and kind.
                        let mut item = obj.clone();
                        if let Some(m) = item.as_object_mut() {
                            m.shift_remove("apiVersion");
                            m.shift_remove("kind");
                        }
                        item
                    })
                    .collect();
                (
                    200,
                    json!({
                        "kind": format!("{}List", resource.kind),
                        "apiVersion": rp.group_version,
                        "metadata": {"resourceVersion": state.resource_version.to_string()},
                        "items": items,
                    }),
                )
            }
        }
    }
}

async fn serve_request(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let mut path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    if let Some(rest) = path.strip_prefix("/clusters/") {
        path = match rest.find('/') {
            Some(i) => rest[i..].to_owned(),
            None => "/".to_owned(),
        };
    }
    if path == ADMIN_REQUESTS {
        // The recorded requests, for scripts (bench/drift.sh): not an API path, not recorded.
        let site = query_param(query.as_deref(), "site");
        let requests: Vec<Value> = shared
            .requests
            .lock()
            .expect("requests lock")
            .iter()
            .filter(|r| site.is_none() || r.site == site)
            .map(|r| json!({"method": r.method, "path": r.path, "query": r.query, "site": r.site}))
            .collect();
        return Ok(respond(200, &json!({"requests": requests})));
    }
    let token = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_owned);
    let (site, latency, hanging, revoked) = {
        let state = shared.state.read().expect("state lock");
        match token.as_ref().and_then(|t| state.by_token.get(t)) {
            Some(site) => {
                let s = &state.sites[site];
                (Some(site.clone()), s.latency, s.hanging, s.revoked)
            }
            None => (None, Duration::ZERO, false, false),
        }
    };
    if shared.record.load(std::sync::atomic::Ordering::Relaxed) {
        shared
            .requests
            .lock()
            .expect("requests lock")
            .push(RecordedRequest {
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                site: site.clone(),
            });
    }
    if hanging {
        std::future::pending::<()>().await;
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (code, body) = match site {
        Some(site) if !revoked => shared.handle(&method, &path, query.as_deref(), &site),
        _ => (401, status(401, "Unauthorized", "Unauthorized", None)),
    };
    Ok(respond(code, &body))
}

fn make_ca(name: &str) -> Result<(rcgen::CertificateParams, rcgen::KeyPair, String), rcgen::Error> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((params, key, cert.pem()))
}

fn io_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl TestApiServer {
    /// Starts the server on `127.0.0.1` (a free port), with a fresh CA.
    pub fn start() -> std::io::Result<TestApiServer> {
        let (ca_params, ca_key, ca_pem) =
            make_ca("edgefleet-test-apiserver-ca").map_err(io_error)?;
        let (_, _, other_ca_pem) =
            make_ca("edgefleet-test-apiserver-other-ca").map_err(io_error)?;
        let mut server_params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .map_err(io_error)?;
        server_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "kube-apiserver");
        server_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = rcgen::KeyPair::generate().map_err(io_error)?;
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .map_err(io_error)?;
        // ring, as the workspace's client uses (no aws-lc); its missing post-quantum key
        // exchange does not matter on loopback.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io_error)?
            .with_no_client_auth()
            .with_single_cert(
                vec![server_cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
            )
            .map_err(io_error)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(tls));

        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let hang_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        hang_listener.set_nonblocking(true)?;
        let address = std_listener.local_addr()?;
        let hang_address = hang_listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: RwLock::new(State::default()),
            requests: Mutex::new(Vec::new()),
            record: std::sync::atomic::AtomicBool::new(true),
            builtin: discovery::builtin(),
            address,
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-apiserver")
            .enable_all()
            .build()?;
        let task_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("test-apiserver".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("listener");
                    let hang = TcpListener::from_std(hang_listener).expect("listener");
                    let held = Arc::new(Mutex::new(Vec::new()));
                    let accept = async {
                        loop {
                            let Ok((stream, _)) = listener.accept().await else {
                                continue;
                            };
                            let acceptor = acceptor.clone();
                            let shared = task_shared.clone();
                            tokio::spawn(async move {
                                let _ = stream.set_nodelay(true);
                                let Ok(tls) = acceptor.accept(stream).await else {
                                    return;
                                };
                                let service =
                                    service_fn(move |req| serve_request(shared.clone(), req));
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .keep_alive(true)
                                    .serve_connection(TokioIo::new(tls), service)
                                    .await;
                            });
                        }
                    };
                    let black_hole = async {
                        loop {
                            if let Ok((stream, _)) = hang.accept().await {
                                held.lock().expect("held lock").push(stream);
                            }
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = black_hole => {}
                        _ = rx => {}
                    }
                });
                runtime.shutdown_background();
            })?;
        Ok(TestApiServer {
            shared,
            hang_address,
            ca_pem,
            other_ca_pem,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.shared.address)
    }

    /// The server URL of `site` when every site has its own (`…/clusters/<site>`).
    pub fn site_url(&self, site: &str) -> String {
        format!("{}/clusters/{site}", self.url())
    }

    pub fn address(&self) -> SocketAddr {
        self.shared.address
    }

    /// The address of the listener that accepts connections and never answers.
    pub fn black_hole_address(&self) -> SocketAddr {
        self.hang_address
    }

    /// The CA that signed the server's certificate (PEM).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A CA that signed nothing the server presents: a client trusting only it fails TLS
    /// verification.
    pub fn other_ca_pem(&self) -> &str {
        &self.other_ca_pem
    }

    fn with_site<R>(&self, site: &str, f: impl FnOnce(&mut Site, &mut u64) -> R) -> R {
        let mut state = self.shared.state.write().expect("state lock");
        if !state.sites.contains_key(site) {
            let token = format!("edgefleet-test-{}", served::uid_for(&[site, "token"]));
            state.by_token.insert(token.clone(), site.to_owned());
            state.sites.insert(
                site.to_owned(),
                Site {
                    token,
                    ..Site::default()
                },
            );
        }
        let State {
            sites,
            resource_version,
            ..
        } = &mut *state;
        f(sites.get_mut(site).expect("inserted"), resource_version)
    }

    /// Adds `site` (no objects) if it is not there; its token is fixed from its id.
    pub fn add_site(&self, site: &str) {
        self.with_site(site, |_, _| ());
    }

    /// The sites, in id order.
    pub fn sites(&self) -> Vec<String> {
        let state = self.shared.state.read().expect("state lock");
        state.sites.keys().cloned().collect()
    }

    /// The bearer token of `site`.
    pub fn token(&self, site: &str) -> String {
        self.with_site(site, |s, _| s.token.clone())
    }

    /// Serves `obj` at `site` as it is (replacing an object with the same identity), with a new
    /// `resourceVersion`.
    pub fn put_object(&self, site: &str, obj: Value) {
        let api = obj["apiVersion"].as_str().unwrap_or("").to_owned();
        let kind = obj["kind"].as_str().unwrap_or("").to_owned();
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        {
            let mut state = self.shared.state.write().expect("state lock");
            let known = self
                .shared
                .builtin
                .iter()
                .chain(state.custom.iter())
                .any(|r| r.group_version == api && r.kind == kind);
            if !known {
                state
                    .custom
                    .push(discovery::custom(&api, &kind, !ns.is_empty()));
            }
        }
        self.with_site(site, |s, rv| {
            *rv += 1;
            let mut obj = obj;
            if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("resourceVersion".to_owned(), json!(rv.to_string()));
            }
            s.objects.insert((api, kind, ns, name), obj);
        });
    }

    /// Serves `desired` (rendered objects) at `site` as a real cluster does after the applier
    /// applied them: [`served_objects`] (defaults, status, managed fields, owned objects).
    pub fn apply(&self, site: &str, desired: &[Value], applier: &Applier) {
        self.add_site(site);
        for obj in served_objects(site, desired, applier) {
            self.put_object(site, obj);
        }
    }

    /// The served object, if any.
    pub fn object(
        &self,
        site: &str,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let state = self.shared.state.read().expect("state lock");
        let key = (
            api_version.to_owned(),
            kind.to_owned(),
            namespace.unwrap_or("").to_owned(),
            name.to_owned(),
        );
        state.sites.get(site)?.objects.get(&key).cloned()
    }

    /// Every object served at `site`.
    pub fn objects(&self, site: &str) -> Vec<Value> {
        let state = self.shared.state.read().expect("state lock");
        state
            .sites
            .get(site)
            .map(|s| s.objects.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Deletes a served object; `false` when there was none.
    pub fn delete_object(
        &self,
        site: &str,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let key = (
            api_version.to_owned(),
            kind.to_owned(),
            namespace.unwrap_or("").to_owned(),
            name.to_owned(),
        );
        self.with_site(site, |s, _| s.objects.remove(&key).is_some())
    }

    /// Changes a served object as `manager` would on site (`kubectl-edit`, `kubectl-patch`):
    /// the field at JSON `pointer` set to `value`, owned by `manager` in `managedFields`
    /// ([`served::set_field`]). `false` when the object or the pointer does not exist.
    #[allow(clippy::too_many_arguments)]
    pub fn edit(
        &self,
        site: &str,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        pointer: &str,
        value: Value,
        manager: &str,
    ) -> bool {
        let Some(mut obj) = self.object(site, api_version, kind, namespace, name) else {
            return false;
        };
        if !served::set_field(&mut obj, pointer, value, manager, "2026-12-01T09:30:00Z") {
            return false;
        }
        self.put_object(site, obj);
        true
    }

    /// Every request of `site` waits `latency` before its answer.
    pub fn set_latency(&self, site: &str, latency: Duration) {
        self.with_site(site, |s, _| s.latency = latency);
    }

    /// Same latency for every site added so far.
    pub fn set_latency_all(&self, latency: Duration) {
        let mut state = self.shared.state.write().expect("state lock");
        for s in state.sites.values_mut() {
            s.latency = latency;
        }
    }

    /// `site`'s reader lacks RBAC: discovery works, every GET and LIST of objects gets 403.
    pub fn set_forbidden(&self, site: &str, on: bool) {
        self.with_site(site, |s, _| s.forbidden = on);
    }

    /// `site`'s token is revoked: every request gets 401.
    pub fn set_revoked(&self, site: &str, on: bool) {
        self.with_site(site, |s, _| s.revoked = on);
    }

    /// `site` never answers: its kubeconfig entry points at the black hole listener (accepts,
    /// then holds the connection), and requests with its token hang too.
    pub fn set_hanging(&self, site: &str, on: bool) {
        self.with_site(site, |s, _| s.hanging = on);
    }

    /// `site`'s kubeconfig entry trusts [`TestApiServer::other_ca_pem`]: TLS verification fails.
    pub fn set_untrusted(&self, site: &str, on: bool) {
        self.with_site(site, |s, _| s.untrusted = on);
    }

    /// The requests seen so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().expect("requests lock").clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.requests.lock().expect("requests lock").clear();
    }

    /// Turns request recording on or off (a benchmark of a thousand sites need not keep them).
    pub fn set_recording(&self, on: bool) {
        self.shared
            .record
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// The context name of `site` under `template`.
    pub fn context_name(template: &str, site: &str) -> String {
        template.replace("{site}", site)
    }

    /// A kubeconfig (JSON, which is YAML) with one context, cluster and user per site: the
    /// cluster's CA embedded (`certificate-authority-data`), the site's bearer token.
    pub fn kubeconfig(&self, options: &KubeconfigOptions) -> String {
        let state = self.shared.state.read().expect("state lock");
        let b64 = base64::engine::general_purpose::STANDARD;
        let ca = b64.encode(&self.ca_pem);
        let other_ca = b64.encode(&self.other_ca_pem);
        let mut clusters = Vec::new();
        let mut users = Vec::new();
        let mut contexts = Vec::new();
        for (id, site) in &state.sites {
            if let Some(only) = &options.sites
                && !only.contains(id)
            {
                continue;
            }
            let context = Self::context_name(&options.context_template, id);
            let server = if site.hanging {
                format!("https://{}", self.hang_address)
            } else if options.per_site_server {
                self.site_url(id)
            } else {
                self.url()
            };
            clusters.push(json!({
                "name": context,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": if site.untrusted { &other_ca } else { &ca },
                },
            }));
            users.push(json!({"name": context, "user": {"token": site.token}}));
            contexts
                .push(json!({"name": context, "context": {"cluster": context, "user": context}}));
        }
        let current = contexts
            .first()
            .map(|c| c["name"].clone())
            .unwrap_or(json!(""));
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": clusters,
            "users": users,
            "contexts": contexts,
            "current-context": current,
        });
        serde_json::to_string_pretty(&config).unwrap_or_default() + "\n"
    }

    /// Writes [`TestApiServer::kubeconfig`] to `path`.
    pub fn write_kubeconfig(
        &self,
        path: &Path,
        options: &KubeconfigOptions,
    ) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig(options))
    }
}

impl Drop for TestApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
