//! The kubeconfig from `KUBECONFIG` (a colon-separated list, merged) when `--kubeconfig` is not
//! given. Its own test binary: it sets the process environment.

use std::time::Duration;

use edgefleet_drift::LiveSource;
use edgefleet_drift::cluster::{ClusterOptions, ClusterSource};
use edgefleet_test_apiserver::{Applier, KubeconfigOptions, TestApiServer};

#[test]
fn kubeconfig_files_of_the_environment_are_merged() {
    let server = TestApiServer::start().unwrap();
    server.apply("north", &[], &Applier::default());
    server.apply("south", &[], &Applier::default());
    let dir = tempfile::tempdir().unwrap();
    let north = dir.path().join("north.yaml");
    let south = dir.path().join("south.yaml");
    for (site, path) in [("north", &north), ("south", &south)] {
        let options = KubeconfigOptions {
            sites: Some(vec![site.to_owned()]),
            ..KubeconfigOptions::default()
        };
        server.write_kubeconfig(path, &options).unwrap();
    }
    let list = std::env::join_paths([&north, &south]).unwrap();
    // SAFETY: this test binary has this one test; no other thread reads the environment.
    unsafe { std::env::set_var("KUBECONFIG", &list) };
    let src = ClusterSource::new(ClusterOptions {
        kubeconfig: None,
        context_template: "{site}".to_owned(),
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    assert!(src.read_site("north", &[]).is_ok());
    assert!(src.read_site("south", &[]).is_ok());

    // A malformed file in the list is an error of the whole run.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "contexts: {{{\n").unwrap();
    let list = std::env::join_paths([&north, &bad]).unwrap();
    // SAFETY: as above.
    unsafe { std::env::set_var("KUBECONFIG", &list) };
    let err = ClusterSource::new(ClusterOptions {
        kubeconfig: None,
        context_template: "{site}".to_owned(),
        timeout: Duration::from_secs(10),
    })
    .unwrap_err();
    assert!(err.to_string().contains("KUBECONFIG"), "{err}");
}
