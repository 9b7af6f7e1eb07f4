//! The cluster source against the loopback API server: what it reads, how each kind of
//! failure of one site is reported without stopping the others, and that it only ever GETs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use edgefleet_drift::cluster::{ClusterOptions, ClusterSource};
use edgefleet_drift::{LiveSource, ObjectKey, SiteFailure};
use edgefleet_test_apiserver::{Applier, KubeconfigOptions, TestApiServer};
use serde_json::{Value, json};

fn desired(site: &str) -> Vec<Value> {
    let labels = json!({"app.kubernetes.io/name": "web", "edgefleet.io/site": site});
    vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "web", "namespace": "edge", "labels": labels},
               "data": {"mode": "edge"}}),
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web", "namespace": "edge", "labels": labels},
               "spec": {"selector": {"app.kubernetes.io/name": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "edge", "labels": labels},
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                        "template": {"metadata": {"labels": labels},
                                     "spec": {"containers": [{"name": "web", "image": "registry.example.com/web:1.4",
                                              "ports": [{"name": "http", "containerPort": 8080}],
                                              "resources": {"requests": {"cpu": "0.25", "memory": "128Mi"}, "limits": {"memory": "0.5Gi"}}}]}}}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "web-reader", "labels": labels},
               "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    ]
}

fn key_of(obj: &Value) -> ObjectKey {
    ObjectKey {
        api_version: obj["apiVersion"].as_str().unwrap().to_owned(),
        kind: obj["kind"].as_str().unwrap().to_owned(),
        namespace: obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name: obj["metadata"]["name"].as_str().unwrap().to_owned(),
    }
}

struct Fleet {
    server: TestApiServer,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

fn fleet(sites: &[&str], setup: impl FnOnce(&TestApiServer), options: KubeconfigOptions) -> Fleet {
    let server = TestApiServer::start().expect("server starts");
    for site in sites {
        server.apply(site, &desired(site), &Applier::default());
    }
    setup(&server);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig, &options).unwrap();
    Fleet {
        server,
        _dir: dir,
        kubeconfig,
    }
}

fn edge_contexts() -> KubeconfigOptions {
    KubeconfigOptions {
        context_template: "edge-{site}".to_owned(),
        ..KubeconfigOptions::default()
    }
}

fn source(f: &Fleet, timeout: Duration) -> ClusterSource {
    ClusterSource::new(ClusterOptions {
        kubeconfig: Some(f.kubeconfig.clone()),
        context_template: "edge-{site}".to_owned(),
        timeout,
    })
    .expect("the kubeconfig loads")
}

fn keys(site: &str) -> Vec<ObjectKey> {
    desired(site).iter().map(key_of).collect()
}

#[test]
fn reads_what_the_cluster_serves() {
    let f = fleet(&["s1", "s2"], |_| {}, edge_contexts());
    let src = source(&f, Duration::from_secs(10));
    let mut wanted = keys("s1");
    wanted.push(ObjectKey {
        api_version: "v1".to_owned(),
        kind: "ConfigMap".to_owned(),
        namespace: Some("edge".to_owned()),
        name: "gone".to_owned(),
    });
    wanted.push(ObjectKey {
        api_version: "example.com/v1".to_owned(),
        kind: "Widget".to_owned(),
        namespace: Some("edge".to_owned()),
        name: "not-served".to_owned(),
    });
    let live = src.read_site("s1", &wanted).expect("s1 reads");
    for key in keys("s1") {
        let served = f
            .server
            .object(
                "s1",
                &key.api_version,
                &key.kind,
                key.namespace.as_deref(),
                &key.name,
            )
            .unwrap();
        assert_eq!(live.objects[&key].as_ref(), Some(&served), "{key:?}");
    }
    assert_eq!(live.objects[&wanted[4]], None, "a 404 is an absent object");
    assert_eq!(
        live.objects[&wanted[5]], None,
        "a kind the cluster does not serve"
    );

    // Everything carrying the site label, with its type back on each list item.
    let mut kinds: Vec<String> = live
        .labelled
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    kinds.sort();
    let mut want: Vec<String> = f
        .server
        .objects("s1")
        .iter()
        .filter(|o| o.pointer("/metadata/labels/edgefleet.io~1site") == Some(&json!("s1")))
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    want.sort();
    assert_eq!(kinds, want);
    assert!(kinds.iter().any(|k| k.starts_with("Pod/web-")), "{kinds:?}");
    assert!(
        kinds.iter().any(|k| k.starts_with("ReplicaSet/web-")),
        "{kinds:?}"
    );
    for o in &live.labelled {
        let served = f
            .server
            .object(
                "s1",
                o["apiVersion"].as_str().unwrap(),
                o["kind"].as_str().unwrap(),
                o.pointer("/metadata/namespace").and_then(Value::as_str),
                o["metadata"]["name"].as_str().unwrap(),
            )
            .unwrap();
        assert_eq!(o, &served);
    }
}

#[test]
fn unauthorized_sites_say_why_and_others_go_on() {
    let f = fleet(
        &["ok", "revoked", "forbidden"],
        |s| {
            s.set_revoked("revoked", true);
            s.set_forbidden("forbidden", true);
        },
        edge_contexts(),
    );
    let src = source(&f, Duration::from_secs(10));
    match src.read_site("revoked", &keys("revoked")) {
        Err(SiteFailure::Unauthorized(why)) => assert!(why.contains("401"), "{why}"),
        other => panic!("revoked: {other:?}"),
    }
    match src.read_site("forbidden", &keys("forbidden")) {
        Err(SiteFailure::Unauthorized(why)) => {
            assert!(why.contains("403") && why.contains("is forbidden"), "{why}")
        }
        other => panic!("forbidden: {other:?}"),
    }
    assert!(src.read_site("ok", &keys("ok")).is_ok());
}

#[test]
fn a_site_that_never_answers_costs_its_timeout_and_no_more() {
    let sites = ["a", "b", "c", "hung"];
    let f = fleet(&sites, |s| s.set_hanging("hung", true), edge_contexts());
    let timeout = Duration::from_secs(2);
    let src = source(&f, timeout);
    let start = Instant::now();
    let results: Vec<(String, Result<_, SiteFailure>, Duration)> = std::thread::scope(|scope| {
        let handles: Vec<_> = sites
            .iter()
            .map(|site| {
                let src = &src;
                scope.spawn(move || {
                    let r = src.read_site(site, &keys(site));
                    (site.to_string(), r, start.elapsed())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (site, result, elapsed) in &results {
        if site == "hung" {
            match result {
                Err(SiteFailure::Unreachable(why)) => {
                    assert!(why.contains("timed out after 2 s"), "{why}")
                }
                other => panic!("hung: {other:?}"),
            }
            assert!(*elapsed >= timeout, "{elapsed:?}");
            assert!(*elapsed < timeout + Duration::from_secs(10), "{elapsed:?}");
        } else {
            assert!(result.is_ok(), "{site}: {result:?}");
        }
    }

    // Requests with its token hang too (a server that accepts and stalls mid-request).
    let g = fleet(
        &["x", "stalled"],
        |_| {},
        KubeconfigOptions {
            per_site_server: false,
            ..edge_contexts()
        },
    );
    g.server.set_hanging("stalled", true);
    // The kubeconfig was written before: it still points at the real port.
    let src = source(&g, Duration::from_millis(1500));
    let t = Instant::now();
    match src.read_site("stalled", &keys("stalled")) {
        Err(SiteFailure::Unreachable(why)) => {
            assert!(why.contains("timed out after 1.5 s"), "{why}")
        }
        other => panic!("stalled: {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_certificate_from_another_authority_is_a_tls_failure() {
    let f = fleet(
        &["ok", "mitm"],
        |s| s.set_untrusted("mitm", true),
        edge_contexts(),
    );
    let src = source(&f, Duration::from_secs(10));
    match src.read_site("mitm", &keys("mitm")) {
        Err(SiteFailure::Unreachable(why)) => {
            assert!(why.starts_with("TLS: certificate not trusted"), "{why}")
        }
        other => panic!("mitm: {other:?}"),
    }
    assert!(src.read_site("ok", &keys("ok")).is_ok());
}

#[test]
fn an_unknown_context_is_one_unreachable_site() {
    let f = fleet(&["ok"], |_| {}, edge_contexts());
    let src = source(&f, Duration::from_secs(10));
    match src.read_site("elsewhere", &keys("elsewhere")) {
        Err(SiteFailure::Unreachable(why)) => {
            assert!(why.contains("no context `edge-elsewhere`"), "{why}")
        }
        other => panic!("elsewhere: {other:?}"),
    }
    assert!(src.read_site("ok", &keys("ok")).is_ok());
}

#[test]
fn a_connection_refused_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\ncontexts:\n- name: down\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .unwrap();
    let src = ClusterSource::new(ClusterOptions {
        kubeconfig: Some(kubeconfig),
        context_template: "{site}".to_owned(),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    match src.read_site("down", &[]) {
        Err(SiteFailure::Unreachable(why)) => assert!(why.contains("connection refused"), "{why}"),
        other => panic!("down: {other:?}"),
    }
}

#[test]
fn only_get_requests_are_ever_sent() {
    let sites = ["s1", "s2", "s3"];
    let f = fleet(&sites, |s| s.set_forbidden("s3", true), edge_contexts());
    let src = source(&f, Duration::from_secs(10));
    for site in sites {
        let _ = src.read_site(site, &keys(site));
    }
    let requests = f.server.requests();
    assert!(requests.len() > 20, "{}", requests.len());
    let not_get: Vec<_> = requests.iter().filter(|r| r.method != "GET").collect();
    assert!(not_get.is_empty(), "{not_get:?}");
    assert!(requests.iter().any(|r| r.path == "/apis"));
    assert!(requests.iter().any(|r| {
        r.path == "/api/v1/pods"
            && r.query.as_deref() == Some("labelSelector=edgefleet.io%2Fsite%3Ds2")
    }));
    // No subresource and no kind without the list verb is ever listed.
    assert!(
        !requests
            .iter()
            .any(|r| r.path.contains("/status") || r.path.ends_with("/bindings"))
    );
}

#[test]
fn discovery_is_cached_per_cluster_server() {
    let sites = ["s1", "s2", "s3"];
    let shared = fleet(
        &sites,
        |_| {},
        KubeconfigOptions {
            per_site_server: false,
            ..edge_contexts()
        },
    );
    let src = source(&shared, Duration::from_secs(10));
    for site in sites {
        src.read_site(site, &keys(site)).unwrap();
    }
    let apis = shared
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/apis")
        .count();
    assert_eq!(apis, 1, "one server: one discovery");

    let own = fleet(&sites, |_| {}, edge_contexts());
    let src = source(&own, Duration::from_secs(10));
    for site in sites {
        src.read_site(site, &keys(site)).unwrap();
    }
    let apis = own
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/apis")
        .count();
    assert_eq!(apis, 3, "a server per site: a discovery per site");
}

#[test]
fn a_kubeconfig_that_cannot_be_used_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = ClusterSource::new(ClusterOptions {
        kubeconfig: Some(dir.path().join("nope")),
        context_template: "{site}".to_owned(),
        timeout: Duration::from_secs(1),
    });
    let err = missing.unwrap_err().to_string();
    assert!(err.contains("nope"), "{err}");
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "clusters: [unclosed\n").unwrap();
    let err = ClusterSource::new(ClusterOptions {
        kubeconfig: Some(bad),
        context_template: "{site}".to_owned(),
        timeout: Duration::from_secs(1),
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("bad"), "{err}");
}
