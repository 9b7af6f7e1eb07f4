//! The team's own policies: Rego with conftest's conventions (each convention checked here is
//! the behaviour conftest and OPA document), and ValidatingAdmissionPolicies with the examples of
//! the Kubernetes documentation, written afresh with the same expressions and checked against
//! the outcome the documentation gives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_inventory::units::{Duration, Quantity};
use edgefleet_inventory::{
    BackhaulProfile, Distribution, HardwareProfile, KubeMinor, PlatformProfile, Region,
    RuntimeClass, RuntimeKind, SourceLocation,
};
use edgefleet_lints::fleet::{FleetSite, RenderedObject};
use edgefleet_lints::policy::{PoliciesConfig, PolicySet};
use edgefleet_lints::report::{self, Format, HumanOptions};
use edgefleet_lints::{Finding, Level, LintConfig, LintRun, Linter, Severity, SiteContext};

/// A folder with files, for one test.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Self { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn policies(&self, rego: &[&str], admission: &[&str]) -> Result<PolicySet, String> {
        let config = PoliciesConfig {
            rego: rego.iter().map(PathBuf::from).collect(),
            admission: admission.iter().map(PathBuf::from).collect(),
        };
        PolicySet::load(&config, self.dir.path()).map_err(|e| e.to_string())
    }

    fn linter(&self, rego: &[&str], admission: &[&str], config: &LintConfig) -> Linter {
        let set = self.policies(rego, admission).expect("policies load");
        Linter::new(config, self.dir.path())
            .unwrap()
            .with_policies(Arc::new(set), config)
            .unwrap()
    }

    fn lint(&self, linter: &Linter, files: &[&str]) -> LintRun {
        let paths: Vec<PathBuf> = files.iter().map(|f| self.path(f)).collect();
        linter.lint_paths(&paths).unwrap()
    }
}

fn of<'a>(run: &'a LintRun, rule: &str) -> Vec<&'a Finding> {
    run.findings.iter().filter(|f| f.rule == rule).collect()
}

/// One rendered object read from `text`, as defined by document `document` of `origin`.
fn rendered(text: &str, origin: &Path, document: usize, name: &str) -> RenderedObject {
    RenderedObject {
        value: serde_saphyr::from_str(text).unwrap(),
        origin_file: origin.to_path_buf(),
        origin_document: document,
        original_name: name.to_owned(),
        edits: Vec::new(),
    }
}

/// The sites a rule's findings name, sorted.
fn sites_of(run: &LintRun, rule: &str) -> Vec<String> {
    let mut at: Vec<String> = of(run, rule)
        .iter()
        .flat_map(|f| f.sites.iter().map(|s| s.to_string()))
        .collect();
    at.sort();
    at
}

fn site(id: &str, backhaul: &str, cpu: &str) -> SiteContext {
    let at = SourceLocation::start_of(&Arc::from(Path::new("inventory.yaml")));
    SiteContext {
        id: id.to_owned(),
        region: Region {
            name: "eu-north".to_owned(),
            jurisdiction: "NO".to_owned(),
            zone: "EEA".to_owned(),
            endpoints: Default::default(),
            location: at.clone(),
        },
        hardware: HardwareProfile {
            name: "node".to_owned(),
            arch: "arm64".to_owned(),
            cpu: Quantity::parse(cpu).unwrap(),
            memory: Quantity::parse("4Gi").unwrap(),
            ephemeral_storage: Quantity::parse("64Gi").unwrap(),
            accelerators: Default::default(),
            power_watts: 25,
            tee: None,
            location: at.clone(),
        },
        backhaul: BackhaulProfile {
            name: backhaul.to_owned(),
            bandwidth_kbps: 2048,
            metered: true,
            latency_ms: 650,
            max_outage: Duration::parse("72h").unwrap(),
            location: at,
        },
        platform: None,
        residency: Arc::new(edgefleet_inventory::Residency::default()),
        applicationsets: Default::default(),
        wave: "main".to_owned(),
        labels: Default::default(),
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example.com/web@sha256:0000000000000000000000000000000000000000000000000000000000000000
";

// ---------------------------------------------------------------------------------------------
// Rego

const CONVENTIONS: &str = r#"package main

# METADATA
# title: No more than two replicas in a store
# description: Stores have one node; extra replicas only take memory.
deny contains msg if {
	input.kind == "Deployment"
	input.spec.replicas > 2
	msg := sprintf("%s runs %d replicas; stores allow 2", [input.metadata.name, input.spec.replicas])
}

violation contains {"msg": "no team label", "field": "/metadata/labels", "team": "platform"} if {
	input.kind == "Deployment"
	not input.metadata.labels.team
}

warn_latest contains msg if {
	some c in input.spec.template.spec.containers
	endswith(c.image, ":latest")
	msg := sprintf("%s uses a floating tag", [c.name])
}

deny_privileged contains msg if {
	some c in input.spec.template.spec.containers
	c.securityContext.privileged
	msg := "privileged"
}

exception contains ["privileged"] if {
	input.metadata.name == "node-agent"
}

# Not a conftest rule name: never reported.
denied contains "x" if { true }
"#;

#[test]
fn rego_follows_conftest_conventions() {
    let repo = Repo::new(&[
        ("policy/main.rego", CONVENTIONS),
        (
            "manifests/app.yaml",
            &format!(
                "{DEPLOYMENT}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: node-agent\nspec:\n  template:\n    spec:\n      containers:\n      - name: agent\n        image: registry.example.com/agent:latest\n        securityContext:\n          privileged: true\n"
            ),
        ),
    ]);
    let linter = repo.linter(&["policy"], &[], &LintConfig::default());
    let run = repo.lint(&linter, &["manifests"]);

    // `deny`: a failure (error), one per message; the object's line.
    let deny = of(&run, "policy/main/deny");
    assert_eq!(deny.len(), 1, "{:#?}", run.findings);
    assert_eq!(deny[0].severity, Severity::Error);
    assert_eq!(deny[0].message, "web runs 3 replicas; stores allow 2");
    assert_eq!(deny[0].location.line, 2, "the object: its `kind`");
    // `violation` with an object: `msg` is the message; `field` points at the line.
    let violation = of(&run, "policy/main/violation");
    assert_eq!(violation.len(), 1, "{violation:#?}");
    assert_eq!(violation[0].severity, Severity::Error);
    assert_eq!(violation[0].message, "no team label");
    assert_eq!(violation[0].location.line, 6, "metadata.labels");
    // `warn_*`: a warning; each document of the file is its own `input`.
    let warn = of(&run, "policy/main/warn_latest");
    assert_eq!(warn.len(), 1);
    assert_eq!(warn[0].severity, Severity::Warning);
    assert_eq!(warn[0].message, "agent uses a floating tag");
    assert_eq!(warn[0].object.as_ref().unwrap().name, "node-agent");
    // `exception` silences `deny_privileged` for the node agent.
    assert!(of(&run, "policy/main/deny_privileged").is_empty());
    // A rule whose name only starts like `deny` is not read.
    assert!(run.findings.iter().all(|f| !f.rule.contains("denied")));

    // Without the exception, the privileged container is reported.
    let repo2 = Repo::new(&[
        (
            "policy/main.rego",
            &CONVENTIONS.replace("node-agent", "other"),
        ),
        (
            "m.yaml",
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: node-agent\nspec:\n  template:\n    spec:\n      containers:\n      - name: agent\n        image: r/a@sha256:00\n        securityContext:\n          privileged: true\n",
        ),
    ]);
    let linter = repo2.linter(&["policy"], &[], &LintConfig::default());
    let run = repo2.lint(&linter, &["m.yaml"]);
    assert_eq!(of(&run, "policy/main/deny_privileged").len(), 1);
}

#[test]
fn rego_metadata_is_the_explain_text_and_levels_are_configurable() {
    let repo = Repo::new(&[("policy/main.rego", CONVENTIONS), ("d.yaml", DEPLOYMENT)]);
    let set = repo.policies(&["policy"], &[]).unwrap();
    let rule = set.find("policy/main/deny").unwrap();
    assert_eq!(rule.summary, "No more than two replicas in a store");
    assert!(rule.docs.contains("Stores have one node"));
    assert_eq!(rule.default_level, Level::Error);
    assert_eq!(
        set.find("policy/main/warn_latest").unwrap().default_level,
        Level::Warning
    );

    // [lint.rules] turns a policy rule off or changes its level.
    let mut config = LintConfig::default();
    config.rules.insert("policy/main/deny".into(), Level::Off);
    config
        .rules
        .insert("policy/main/violation".into(), Level::Note);
    let linter = repo.linter(&["policy"], &[], &config);
    let run = repo.lint(&linter, &["d.yaml"]);
    assert!(of(&run, "policy/main/deny").is_empty());
    assert_eq!(
        of(&run, "policy/main/violation")[0].severity,
        Severity::Note
    );

    // A [lint.rules] entry naming no policy rule is a configuration error.
    let mut config = LintConfig::default();
    config.rules.insert("policy/main/nope".into(), Level::Off);
    let set = Arc::new(repo.policies(&["policy"], &[]).unwrap());
    let err = Linter::new(&config, repo.dir.path())
        .unwrap()
        .with_policies(set, &config)
        .err()
        .expect("unknown policy rule");
    assert!(err.to_string().contains("policy/main/nope"));
}

#[test]
fn policy_findings_are_suppressed_and_reported_like_built_in_ones() {
    let suppressed = DEPLOYMENT.replace(
        "  labels:\n    app: web\n",
        "  labels:\n    app: web\n  annotations:\n    edgefleet.io/ignore: policy/main/deny\n    edgefleet.io/ignore-reason: the flagship store has three nodes\n",
    );
    let repo = Repo::new(&[
        ("policy/main.rego", CONVENTIONS),
        ("a.yaml", &suppressed),
        ("b.yaml", DEPLOYMENT),
    ]);
    let linter = repo.linter(&["policy"], &[], &LintConfig::default());
    let run = repo.lint(&linter, &["a.yaml", "b.yaml"]);
    let deny = of(&run, "policy/main/deny");
    assert_eq!(deny.len(), 1);
    assert!(deny[0].location.file.ends_with("b.yaml"));
    assert_eq!(run.suppressed, 1);
    // Every output format carries the policy rule.
    for format in [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Junit,
    ] {
        let text = report::render(&run, format, &HumanOptions::default()).unwrap();
        assert!(text.contains("policy/main/deny"), "{format:?}: {text}");
    }
}

#[test]
fn rego_v0_modules_are_read_and_syntax_errors_are_located() {
    let v0 =
        "package legacy\n\ndeny[msg] {\n  input.kind == \"Deployment\"\n  msg := \"legacy\"\n}\n";
    let repo = Repo::new(&[("policy/legacy.rego", v0), ("d.yaml", DEPLOYMENT)]);
    let linter = repo.linter(&["policy"], &[], &LintConfig::default());
    let run = repo.lint(&linter, &["d.yaml"]);
    assert_eq!(of(&run, "policy/legacy/deny").len(), 1);

    let broken = "package broken\n\ndeny contains msg if {\n  input.kind ==\n}\n";
    let repo = Repo::new(&[("policy/broken.rego", broken)]);
    let err = repo.policies(&["policy"], &[]).unwrap_err();
    assert!(err.contains("broken.rego:"), "{err}");
    assert!(err.contains(":5:") || err.contains(":4:"), "{err}");
}

/// A rule that reads the site: LoadBalancer Services only at sites behind VSAT.
const VSAT: &str = r#"package edge.network

import data.edgefleet.site

deny_loadbalancer contains {"msg": msg, "field": "spec.type"} if {
	input.kind == "Service"
	input.spec.type == "LoadBalancer"
	site.backhaul.name == "vsat"
	msg := sprintf("LoadBalancer Service at %s, behind VSAT", [site.id])
}

warn_small contains "small site" if {
	data.edgefleet.site.hardware.cpu_millis < 2000
	input.kind == "Service"
}
"#;

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  type: LoadBalancer\n  ports:\n  - port: 80\n";

#[test]
fn a_site_aware_rego_rule_fires_only_at_vsat_sites_counted_per_site() {
    let repo = Repo::new(&[("policy/network.rego", VSAT), ("svc/service.yaml", SERVICE)]);
    let linter = repo.linter(&["policy"], &[], &LintConfig::default());
    let sites: Vec<FleetSite> = [
        ("rig-1", "vsat", "4"),
        ("store-1", "fiber", "1"),
        ("rig-2", "vsat", "1"),
        ("store-2", "lte", "4"),
        ("rig-3", "vsat", "4"),
    ]
    .iter()
    .map(|(id, backhaul, cpu)| FleetSite {
        context: site(id, backhaul, cpu),
        overlays: vec![repo.path("svc")],
    })
    .collect();
    let origin = repo.path("svc/service.yaml");
    let render = |_: &Path| -> Result<Vec<RenderedObject>, String> {
        Ok(vec![rendered(SERVICE, &origin, 0, "api")])
    };
    let run = linter.lint_fleet(&sites, &render);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    let lb = of(&run, "policy/edge.network/deny_loadbalancer");
    // One finding per message: the message names the site, so one per VSAT site.
    let mut at: Vec<&str> = lb
        .iter()
        .flat_map(|f| f.sites.iter().map(|s| &**s))
        .collect();
    at.sort();
    assert_eq!(at, ["rig-1", "rig-2", "rig-3"]);
    assert!(
        lb.iter().all(|f| f.location.line == 7),
        "spec.type? {lb:#?}"
    );
    assert!(
        lb[0]
            .message
            .starts_with("LoadBalancer Service at rig-1, behind VSAT")
    );
    // `data.edgefleet.site.hardware`: one finding naming the two small sites.
    let small = of(&run, "policy/edge.network/warn_small");
    assert_eq!(small.len(), 1);
    assert_eq!(
        small[0].sites.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["rig-2", "store-1"]
    );

    // Without a site (plain `lint`), `data.edgefleet.site` is undefined: no finding.
    let run = repo.lint(&linter, &["svc"]);
    assert!(
        run.findings.iter().all(|f| !f.rule.starts_with("policy/")),
        "{:#?}",
        run.findings
    );
}

/// Rules that read the site's platform (`data.edgefleet.site.platform`, as templates see it).
const PLATFORM: &str = r#"package edge.platform

import data.edgefleet.site

deny_missing_runtime contains msg if {
	site.platform != null
	wanted := input.spec.template.spec.runtimeClassName
	installed := {c.name | some c in site.platform.runtime_classes}
	not wanted in installed
	msg := sprintf("%s needs RuntimeClass %s, not installed at %s (%s)", [input.metadata.name, wanted, site.id, site.platform.distribution])
}

warn_no_platform contains msg if {
	site.platform == null
	input.kind == "Deployment"
	msg := sprintf("%s: no platform declared", [site.id])
}
"#;

const WASM_DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: edge-fn
  namespace: shop
spec:
  selector:
    matchLabels: {app: edge-fn}
  template:
    metadata:
      labels: {app: edge-fn}
    spec:
      runtimeClassName: spin
      containers:
      - name: fn
        image: registry.example.com/fn@sha256:0000000000000000000000000000000000000000000000000000000000000000
";

fn with_platform(mut s: SiteContext, distribution: Distribution, classes: &[&str]) -> SiteContext {
    let at = SourceLocation::start_of(&Arc::from(Path::new("platforms.yaml")));
    s.platform = Some(PlatformProfile {
        name: format!("{distribution}-edge"),
        distribution,
        version: "1.33".to_owned(),
        kubernetes: KubeMinor(33),
        runtime_classes: classes
            .iter()
            .map(|c| {
                let kind = if *c == "spin" {
                    RuntimeKind::Wasm
                } else {
                    RuntimeKind::Container
                };
                let class = RuntimeClass {
                    name: (*c).to_owned(),
                    kind,
                };
                ((*c).to_owned(), class)
            })
            .collect(),
        identity: None,
        location: at,
    });
    s
}

#[test]
fn a_rego_rule_reads_the_site_platform() {
    let repo = Repo::new(&[
        ("policy/platform.rego", PLATFORM),
        ("fn/deploy.yaml", WASM_DEPLOYMENT),
    ]);
    let linter = repo.linter(&["policy"], &[], &LintConfig::default());
    let table = [
        (
            "k3s-1",
            Some((Distribution::K3s, &["runc", "spin"][..])),
            None,
        ),
        (
            "microshift-1",
            Some((Distribution::MicroShift, &["runc"][..])),
            Some("deny"),
        ),
        (
            "k3s-2",
            Some((Distribution::K3s, &["runc"][..])),
            Some("deny"),
        ),
        ("bare-1", None, Some("warn")),
    ];
    let sites: Vec<FleetSite> = table
        .iter()
        .map(|(id, platform, _)| {
            let base = site(id, "fiber", "4");
            let context = match platform {
                Some((d, classes)) => with_platform(base, *d, classes),
                None => base,
            };
            FleetSite {
                context,
                overlays: vec![repo.path("fn")],
            }
        })
        .collect();
    let origin = repo.path("fn/deploy.yaml");
    let render = |_: &Path| -> Result<Vec<RenderedObject>, String> {
        Ok(vec![rendered(WASM_DEPLOYMENT, &origin, 0, "edge-fn")])
    };
    let run = linter.lint_fleet(&sites, &render);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    let expect = |kind: &str| -> Vec<String> {
        let mut at: Vec<String> = table
            .iter()
            .filter(|(_, _, fires)| *fires == Some(kind))
            .map(|(id, _, _)| (*id).to_owned())
            .collect();
        at.sort();
        at
    };
    assert_eq!(
        sites_of(&run, "policy/edge.platform/deny_missing_runtime"),
        expect("deny")
    );
    assert_eq!(
        sites_of(&run, "policy/edge.platform/warn_no_platform"),
        expect("warn")
    );
    let denied = of(&run, "policy/edge.platform/deny_missing_runtime");
    assert!(
        denied.iter().any(|f| f.message.starts_with(
            "edge-fn needs RuntimeClass spin, not installed at microshift-1 (microshift)"
        )),
        "{denied:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// ValidatingAdmissionPolicy

/// The documentation's first example: at most 5 replicas, bound with Deny to namespaces
/// labelled `environment: test`.
const DEMO_POLICY: &str = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: demo-policy.example.com
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups:   [\"apps\"]
      apiVersions: [\"v1\"]
      operations:  [\"CREATE\", \"UPDATE\"]
      resources:   [\"deployments\"]
  validations:
    - expression: \"object.spec.replicas <= 5\"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: demo-binding-test.example.com
spec:
  policyName: demo-policy.example.com
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
";

fn namespace(name: &str, env: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n    environment: {env}\n"
    )
}

fn deployment(name: &str, ns: &str, replicas: u32) -> String {
    DEPLOYMENT
        .replace(
            "name: web\n  namespace: shop",
            &format!("name: {name}\n  namespace: {ns}"),
        )
        .replace("replicas: 3", &format!("replicas: {replicas}"))
}

/// Three policies reading different things: a label that differs per site, the namespace's
/// labels, and the replicas.
const PER_SITE_READS: &str = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: no-forbidden-label
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: \"!('forbidden' in object.metadata.labels)\"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: no-forbidden-label
spec:
  policyName: no-forbidden-label
  validationActions: [Deny]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: not-in-prod
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: \"namespaceObject.metadata.labels.environment != 'prod'\"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: not-in-prod
spec:
  policyName: not-in-prod
  validationActions: [Deny]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: few-replicas
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: \"object.spec.replicas <= 5\"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: few-replicas
spec:
  policyName: few-replicas
  validationActions: [Deny]
";

/// The same Deployment (same name and namespace) at many sites, differing per site only in a
/// label, its namespace's labels or its replicas: each policy judges each site on what it reads
/// (verdicts are shared between objects only when what the policy reads is the same).
#[test]
fn admission_verdicts_follow_what_each_policy_reads_at_every_site() {
    // site, environment of the namespace, extra label, replicas, the policies that fire
    let table: [(&str, &str, &str, u32, &[&str]); 6] = [
        ("s1", "staging", "", 3, &[]),
        (
            "s2",
            "staging",
            "    forbidden: 'yes'\n",
            3,
            &["no-forbidden-label"],
        ),
        ("s3", "prod", "", 3, &["not-in-prod"]),
        ("s4", "staging", "", 9, &["few-replicas"]),
        (
            "s5",
            "prod",
            "    forbidden: 'yes'\n",
            9,
            &["no-forbidden-label", "not-in-prod", "few-replicas"],
        ),
        ("s6", "staging", "", 3, &[]),
    ];
    let repo = Repo::new(&[("admission/policies.yaml", PER_SITE_READS)]);
    let linter = repo.linter(&[], &["admission"], &LintConfig::default());
    let sites: Vec<FleetSite> = table
        .iter()
        .map(|(id, ..)| FleetSite {
            context: site(id, "fiber", "4"),
            overlays: vec![repo.path(id)],
        })
        .collect();
    let origin = repo.path("objects.yaml");
    let render = |overlay: &Path| -> Result<Vec<RenderedObject>, String> {
        let id = overlay.file_name().unwrap().to_str().unwrap();
        let (_, env, label, replicas, _) = table.iter().find(|t| t.0 == id).unwrap();
        let deploy = deployment("web", "shop", *replicas).replace(
            "    app: web\nspec:",
            &format!("    app: web\n{label}spec:"),
        );
        [(namespace("shop", env), "shop"), (deploy, "web")]
            .iter()
            .enumerate()
            .map(|(i, (text, name))| Ok(rendered(text, &origin, i, name)))
            .collect()
    };
    let run = linter.lint_fleet(&sites, &render);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    for policy in ["no-forbidden-label", "not-in-prod", "few-replicas"] {
        let got = sites_of(&run, &format!("admission/{policy}"));
        let want: Vec<String> = table
            .iter()
            .filter(|t| t.4.contains(&policy))
            .map(|t| t.0.to_owned())
            .collect();
        assert_eq!(got, want, "{policy}: {:#?}", run.findings);
    }
}

#[test]
fn admission_documentation_example_denies_more_than_five_replicas_in_test_namespaces() {
    let repo = Repo::new(&[
        ("admission/demo.yaml", DEMO_POLICY),
        (
            "m.yaml",
            &[
                namespace("test", "test"),
                namespace("prod", "production"),
                deployment("too-many", "test", 6),
                deployment("fine", "test", 5),
                deployment("elsewhere", "prod", 6),
            ]
            .join("---\n"),
        ),
    ]);
    let linter = repo.linter(&[], &["admission"], &LintConfig::default());
    let run = repo.lint(&linter, &["m.yaml"]);
    let found = of(&run, "admission/demo-policy.example.com");
    assert_eq!(found.len(), 1, "{:#?}", run.findings);
    // The documented denial: `failed expression: object.spec.replicas <= 5`, from a Deny binding.
    assert_eq!(
        found[0].message,
        "failed expression: object.spec.replicas <= 5"
    );
    assert_eq!(found[0].severity, Severity::Error);
    assert_eq!(found[0].object.as_ref().unwrap().name, "too-many");
}

/// The documentation's parameter example: a ReplicaLimit custom resource as params, and the
/// message from `messageExpression`.
const PARAMS_POLICY: &str = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replicalimit-policy.example.com
spec:
  failurePolicy: Fail
  paramKind:
    apiVersion: rules.example.com/v1
    kind: ReplicaLimit
  matchConstraints:
    resourceRules:
    - apiGroups:   [\"apps\"]
      apiVersions: [\"v1\"]
      operations:  [\"CREATE\", \"UPDATE\"]
      resources:   [\"deployments\"]
  validations:
    - expression: \"object.spec.replicas <= params.maxReplicas\"
      messageExpression: \"'object.spec.replicas must be no greater than ' + string(params.maxReplicas)\"
      reason: Invalid
      fieldPath: spec.replicas
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replicalimit-binding-test.example.com
spec:
  policyName: replicalimit-policy.example.com
  validationActions: [Warn]
  paramRef:
    name: replica-limit-test.example.com
    namespace: default
    parameterNotFoundAction: Deny
";

const REPLICA_LIMIT: &str = "apiVersion: rules.example.com/v1
kind: ReplicaLimit
metadata:
  name: replica-limit-test.example.com
  namespace: default
maxReplicas: 3
";

#[test]
fn admission_params_and_message_expression() {
    let repo = Repo::new(&[
        ("admission/policy.yaml", PARAMS_POLICY),
        (
            "m.yaml",
            &[
                deployment("four", "shop", 4),
                deployment("three", "shop", 3),
            ]
            .join("---\n"),
        ),
        ("params/limit.yaml", REPLICA_LIMIT),
    ]);
    let linter = repo.linter(&[], &["admission"], &LintConfig::default());
    // Params found among the linted objects (the repository).
    let run = repo.lint(&linter, &["m.yaml", "params"]);
    let found = of(&run, "admission/replicalimit-policy.example.com");
    assert_eq!(found.len(), 1, "{:#?}", run.findings);
    assert_eq!(
        found[0].message,
        "object.spec.replicas must be no greater than 3"
    );
    // validationActions: [Warn] → a warning; fieldPath → the replicas line.
    assert_eq!(found[0].severity, Severity::Warning);
    assert_eq!(found[0].location.line, 9);
    assert_eq!(found[0].object.as_ref().unwrap().name, "four");

    // parameterNotFoundAction: Deny without the params: every matched object is reported.
    let run = repo.lint(&linter, &["m.yaml"]);
    let found = of(&run, "admission/replicalimit-policy.example.com");
    assert_eq!(found.len(), 2);
    assert!(
        found[0].message.contains("no params found"),
        "{}",
        found[0].message
    );

    // parameterNotFoundAction: Allow: nothing.
    let allow = Repo::new(&[
        (
            "admission/policy.yaml",
            &PARAMS_POLICY.replace(
                "parameterNotFoundAction: Deny",
                "parameterNotFoundAction: Allow",
            ),
        ),
        ("m.yaml", &deployment("four", "shop", 4)),
    ]);
    let linter = allow.linter(&[], &["admission"], &LintConfig::default());
    assert!(
        of(
            &allow.lint(&linter, &["m.yaml"]),
            "admission/replicalimit-policy.example.com"
        )
        .is_empty()
    );
}

/// `matchConditions` exclude objects; `variables` as in the documentation's image example.
const CONDITIONS_POLICY: &str = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: image-matches-namespace-environment.policy.example.com
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups:   [\"apps\"]
      apiVersions: [\"v1\"]
      operations:  [\"CREATE\", \"UPDATE\"]
      resources:   [\"deployments\"]
  matchConditions:
    - name: 'exclude-system-owned'
      expression: \"!has(object.metadata.labels) || !('owner' in object.metadata.labels) || object.metadata.labels['owner'] != 'system'\"
  variables:
  - name: environment
    expression: \"'environment' in namespaceObject.metadata.labels ? namespaceObject.metadata.labels['environment'] : 'prod'\"
  - name: exempt
    expression: \"has(object.metadata.labels) && 'exempt' in object.metadata.labels && object.metadata.labels['exempt'] == 'true'\"
  - name: containers
    expression: \"object.spec.template.spec.containers\"
  - name: containersToCheck
    expression: \"variables.containers.filter(c, c.image.contains('example.com/'))\"
  validations:
  - expression: \"variables.exempt || variables.containersToCheck.all(c, c.image.startsWith(variables.environment + '.'))\"
    messageExpression: \"'only ' + variables.environment + ' images are allowed in namespace ' + namespaceObject.metadata.name\"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: image-matches-binding
spec:
  policyName: image-matches-namespace-environment.policy.example.com
  validationActions: [Deny, Audit]
";

#[test]
fn admission_match_conditions_exclude_and_variables_compose() {
    let image = |name: &str, ns: &str, image: &str, labels: &str| {
        deployment(name, ns, 1)
            .replace("registry.example.com/web@sha256:0000000000000000000000000000000000000000000000000000000000000000", image)
            .replace("    app: web\nspec:", &format!("    app: web\n{labels}spec:"))
    };
    let repo = Repo::new(&[
        ("admission/policy.yaml", CONDITIONS_POLICY),
        (
            "m.yaml",
            &[
                namespace("staging-apps", "staging"),
                image("wrong", "staging-apps", "prod.example.com/app:1", ""),
                image("right", "staging-apps", "staging.example.com/app:1", ""),
                image(
                    "system",
                    "staging-apps",
                    "prod.example.com/app:1",
                    "    owner: system\n",
                ),
                image(
                    "exempt",
                    "staging-apps",
                    "prod.example.com/app:1",
                    "    exempt: 'true'\n",
                ),
            ]
            .join("---\n"),
        ),
    ]);
    let linter = repo.linter(&[], &["admission"], &LintConfig::default());
    let run = repo.lint(&linter, &["m.yaml"]);
    let found = of(
        &run,
        "admission/image-matches-namespace-environment.policy.example.com",
    );
    let names: Vec<&str> = found
        .iter()
        .map(|f| f.object.as_ref().unwrap().name.as_str())
        .collect();
    // `system` is excluded by the matchCondition, `exempt` by the variable, `right` passes.
    assert_eq!(names, ["wrong"], "{:#?}", run.findings);
    assert_eq!(
        found[0].message,
        "only staging images are allowed in namespace staging-apps"
    );
    // Deny and Audit: the highest, an error.
    assert_eq!(found[0].severity, Severity::Error);
}

#[test]
fn admission_runtime_errors_follow_the_failure_policy() {
    let policy = |failure: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replicas-positive
spec:
  failurePolicy: {failure}
  matchConstraints:
    resourceRules:
    - apiGroups: [\"*\"]
      apiVersions: [\"*\"]
      operations: [\"*\"]
      resources: [\"*\"]
  validations:
  - expression: \"object.spec.replicas > 0\"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replicas-positive
spec:
  policyName: replicas-positive
  validationActions: [Warn]
"
        )
    };
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  a: b\n";
    let repo = Repo::new(&[("admission/p.yaml", &policy("Fail")), ("cm.yaml", cm)]);
    let linter = repo.linter(&[], &["admission"], &LintConfig::default());
    let run = repo.lint(&linter, &["cm.yaml"]);
    let found = of(&run, "admission/replicas-positive");
    assert_eq!(found.len(), 1, "{:#?}", run.findings);
    assert!(
        found[0]
            .message
            .contains("`object.spec.replicas > 0` failed"),
        "{}",
        found[0].message
    );
    assert!(found[0].message.contains("spec"), "{}", found[0].message);
    assert_eq!(found[0].severity, Severity::Warning);

    let repo = Repo::new(&[("admission/p.yaml", &policy("Ignore")), ("cm.yaml", cm)]);
    let linter = repo.linter(&[], &["admission"], &LintConfig::default());
    assert!(
        of(
            &repo.lint(&linter, &["cm.yaml"]),
            "admission/replicas-positive"
        )
        .is_empty()
    );
}

#[test]
fn an_unsupported_cel_function_is_a_located_error_never_a_pass() {
    let policy = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: cidr
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [\"\"]
      apiVersions: [\"v1\"]
      operations: [\"CREATE\"]
      resources: [\"services\"]
  validations:
  - expression: \"!has(object.spec.loadBalancerSourceRanges) || object.spec.loadBalancerSourceRanges.all(r, isCIDR(r))\"
";
    let repo = Repo::new(&[("admission/cidr.yaml", policy)]);
    let err = repo.policies(&[], &["admission"]).unwrap_err();
    // file:line:col of the call inside the expression.
    let col = policy.lines().nth(12).unwrap().find("isCIDR").unwrap() + 1;
    assert!(
        err.starts_with(&format!("admission/cidr.yaml:13:{col}: ")),
        "{err}"
    );
    assert!(err.contains("`isCIDR` is not supported"), "{err}");

    // `authorizer` needs a cluster.
    let repo = Repo::new(&[(
        "admission/a.yaml",
        &policy.replace(
            "isCIDR(r)",
            "authorizer.group('').resource('x').check('get').allowed()",
        ),
    )]);
    let err = repo.policies(&[], &["admission"]).unwrap_err();
    assert!(err.contains("authorizer"), "{err}");

    // A syntax error is located too.
    let repo = Repo::new(&[(
        "admission/s.yaml",
        &policy.replace("isCIDR(r))", "isCIDR(r)"),
    )]);
    let err = repo.policies(&[], &["admission"]).unwrap_err();
    assert!(err.starts_with("admission/s.yaml:13:"), "{err}");
    assert!(err.contains("CEL syntax error"), "{err}");
}

#[test]
fn admission_rules_are_explained_from_annotations() {
    let repo = Repo::new(&[(
        "admission/demo.yaml",
        &DEMO_POLICY.replace(
            "  name: demo-policy.example.com\n",
            "  name: demo-policy.example.com\n  annotations:\n    edgefleet.io/summary: At most five replicas in test\n    edgefleet.io/description: Test clusters are small.\n",
        ),
    )]);
    let set = repo.policies(&[], &["admission"]).unwrap();
    let rule = set.find("admission/demo-policy.example.com").unwrap();
    assert_eq!(rule.summary, "At most five replicas in test");
    assert!(rule.docs.contains("Test clusters are small."));
    assert!(rule.docs.contains("object.spec.replicas <= 5"));
    assert_eq!(rule.default_level, Level::Error);
}
