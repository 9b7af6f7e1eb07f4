//! The loopback API server answers as a real one does: `Status` objects for 401, 403, 404 and
//! 405, `<Kind>List`s with a resourceVersion and without types on items, label selectors in
//! their equality and set-less forms, cluster-scoped and namespaced paths.

use edgefleet_test_apiserver::{Applier, KubeconfigOptions, TestApiServer};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

fn desired() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "a", "namespace": "edge", "labels": {"edgefleet.io/site": "s1", "tier": "x"}}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "b", "namespace": "edge", "labels": {"edgefleet.io/site": "s1"}}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "namespace": "other", "labels": {"tier": "y"}}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "reader", "labels": {"edgefleet.io/site": "s1"}}, "rules": []}),
    ]
}

async fn client(server: &TestApiServer, site: &str) -> kube::Client {
    let text = server.kubeconfig(&KubeconfigOptions::default());
    let kubeconfig = Kubeconfig::from_yaml(&text).unwrap();
    let options = KubeConfigOptions {
        context: Some(site.to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

async fn get(client: &kube::Client, path: &str) -> Result<Value, kube::core::Status> {
    let request = http::Request::get(path).body(Vec::new()).unwrap();
    match client.request::<Value>(request).await {
        Ok(v) => Ok(v),
        Err(kube::Error::Api(status)) => Err(*status),
        Err(e) => panic!("{path}: {e}"),
    }
}

fn names(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_like_a_kubernetes_api_server() {
    let server = TestApiServer::start().unwrap();
    server.apply("s1", &desired(), &Applier::default());
    server.apply("s2", &desired(), &Applier::default());
    server.set_forbidden("s2", true);
    server.add_site("s3");
    server.set_revoked("s3", true);
    let c = client(&server, "s1").await;

    let one = get(&c, "/api/v1/namespaces/edge/configmaps/a")
        .await
        .unwrap();
    assert_eq!(one["kind"], "ConfigMap");
    assert_eq!(one["metadata"]["name"], "a");
    let role = get(&c, "/apis/rbac.authorization.k8s.io/v1/clusterroles/reader")
        .await
        .unwrap();
    assert_eq!(role["kind"], "ClusterRole");

    let missing = get(&c, "/apis/apps/v1/namespaces/edge/deployments/nope")
        .await
        .unwrap_err();
    assert_eq!(missing.code, 404);
    assert_eq!(missing.reason, "NotFound");
    assert_eq!(missing.message, "deployments.apps \"nope\" not found");
    let missing = get(&c, "/api/v1/namespaces/edge/configmaps/nope")
        .await
        .unwrap_err();
    assert_eq!(missing.message, "configmaps \"nope\" not found");
    let unknown = get(&c, "/apis/example.com/v1/widgets").await.unwrap_err();
    assert_eq!(unknown.code, 404);

    let all = get(&c, "/api/v1/configmaps").await.unwrap();
    assert_eq!(all["kind"], "ConfigMapList");
    assert_eq!(all["apiVersion"], "v1");
    assert!(
        all["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert!(
        all["items"][0].get("kind").is_none(),
        "list items carry no type"
    );
    assert_eq!(names(&all), ["a", "b", "c"]);
    for (selector, want) in [
        ("edgefleet.io%2Fsite%3Ds1", vec!["a", "b"]),
        ("edgefleet.io%2Fsite%3D%3Ds1", vec!["a", "b"]),
        ("tier", vec!["a", "c"]),
        ("%21tier", vec!["b"]),
        ("tier%21%3Dx", vec!["b", "c"]),
        ("tier%20in%20%28x%2Cy%29", vec!["a", "c"]),
        ("edgefleet.io%2Fsite%3Ds1%2Ctier", vec!["a"]),
    ] {
        let list = get(&c, &format!("/api/v1/configmaps?labelSelector={selector}"))
            .await
            .unwrap();
        assert_eq!(names(&list), want, "{selector}");
    }
    let in_ns = get(&c, "/api/v1/namespaces/other/configmaps")
        .await
        .unwrap();
    assert_eq!(names(&in_ns), ["c"]);

    let apis = get(&c, "/apis").await.unwrap();
    assert_eq!(apis["kind"], "APIGroupList");
    let apps = get(&c, "/apis/apps/v1").await.unwrap();
    assert_eq!(apps["kind"], "APIResourceList");
    let deployments = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments")
        .unwrap();
    assert_eq!(deployments["namespaced"], true);
    assert!(
        deployments["verbs"]
            .as_array()
            .unwrap()
            .contains(&json!("list"))
    );

    let forbidden = client(&server, "s2").await;
    assert!(
        get(&forbidden, "/apis").await.is_ok(),
        "discovery stays open"
    );
    let denied = get(&forbidden, "/api/v1/namespaces/edge/configmaps/a")
        .await
        .unwrap_err();
    assert_eq!(denied.code, 403);
    assert_eq!(denied.reason, "Forbidden");
    assert!(
        denied
            .message
            .contains("cannot get resource \"configmaps\""),
        "{}",
        denied.message
    );

    let revoked = client(&server, "s3").await;
    let unauthorized = get(&revoked, "/api").await.unwrap_err();
    assert_eq!(unauthorized.code, 401);

    let post = http::Request::post("/api/v1/namespaces/edge/configmaps")
        .body(b"{}".to_vec())
        .unwrap();
    match c.request::<Value>(post).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 405),
        other => panic!("{other:?}"),
    }
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(
        methods.iter().filter(|m| *m == "POST").count(),
        1,
        "recorded: {methods:?}"
    );
}
