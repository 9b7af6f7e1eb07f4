//! The renderer's pieces (strategic merge and JSON 6902 patches, ConfigMap/Secret generators with
//! their hash suffix, replacements, patch target selectors) against the real `kubectl kustomize`:
//! each case is a small kustomization written to a temp folder that exercises one piece; kubectl
//! renders it and so does the renderer's whole pipeline (`kustomize::Renderer`, as `render` runs
//! it); the outputs must be the same bytes. Error cases must fail in both.
//! A missing kubectl fails these tests unless `EDGEFLEET_SKIP_ORACLES=1` (see `require_kubectl`).

use std::fs;
use std::path::Path;

use edgefleet_e2e::{kustomize_build, require_kubectl};
use kustomize::Renderer;

/// Writes `files` (name → text, sub-folders allowed) under a fresh temp folder.
fn write_tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {name}: {e}"));
    }
    dir
}

/// What kubectl prints for `dir`, and what the renderer prints for it.
fn both(kubectl: &Path, dir: &Path) -> (Result<String, String>, Result<String, String>) {
    let theirs = kustomize_build(kubectl, dir);
    let ours = Renderer::new().build_yaml(dir).map_err(|e| e.to_string());
    (theirs, ours)
}

fn check(name: &str, kubectl: &Path, dir: &Path, failures: &mut Vec<String>) {
    let (theirs, ours) = both(kubectl, dir);
    let ok = match (&theirs, &ours) {
        (Ok(a), Ok(b)) => a == b,
        (Err(_), Err(_)) => true,
        _ => false,
    };
    if !ok {
        let show = |r: &Result<String, String>| match r {
            Ok(text) => text.clone(),
            Err(e) => format!("error: {e}"),
        };
        failures.push(format!(
            "case `{name}` differs\n--- kubectl kustomize:\n{}\n--- edgefleet:\n{}\n",
            show(&theirs),
            show(&ours)
        ));
    }
}

fn finish(what: &str, failures: Vec<String>, cases: usize) {
    assert!(
        failures.is_empty(),
        "{} of {cases} {what} cases differ from kubectl kustomize:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patches

const DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: edge}
  finalizers: [a.example.com/x, b.example.com/y]
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {a: "1"}
    spec:
      nodeSelector: {kubernetes.io/arch: arm64, zone: a}
      imagePullSecrets: [{name: pull-a}]
      hostAliases: [{ip: 10.0.0.1, hostnames: [a.local]}]
      tolerations: [{key: k1, operator: Exists}]
      schedulingGates: [{name: g1}]
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      initContainers:
      - name: init
        image: registry.example.com/init:1
        env: [{name: A, value: "1"}]
      containers:
      - name: app
        image: registry.example.com/web:1
        args: [--port, "8080"]
        env:
        - {name: LOG, value: info}
        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        ports:
        - {containerPort: 8080, protocol: TCP, name: http}
        - {containerPort: 9090}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: cfg, mountPath: /etc/cfg, readOnly: true}
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 500m, memory: 128Mi}
      - name: sidecar
        image: registry.example.com/side:1
      volumes:
      - {name: data, emptyDir: {}}
      - {name: cfg, configMap: {name: cfg}}
"#;

const PATCH_HEAD: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";

fn smp_cases() -> Vec<(&'static str, String, String)> {
    let dep = DEPLOY.to_owned();
    let p = |body: &str| format!("{PATCH_HEAD}{body}");
    vec![
        (
            "containers merge by name, new ones first",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      containers:\n      - name: new\n        image: n:1\n      - name: sidecar\n        image: registry.example.com/side:2\n"),
        ),
        (
            "env merge by name in initContainers and containers",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      initContainers:\n      - name: init\n        env: [{name: B, value: \"2\"}, {name: A, value: \"9\"}]\n      containers:\n      - name: app\n        env:\n        - {name: LOG, value: debug}\n        - {name: NEW, value: x}\n"),
        ),
        (
            "volumes by name, volumeMounts by mountPath",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      volumes:\n      - {name: cache, emptyDir: {medium: Memory}}\n      - {name: cfg, configMap: {name: cfg2}}\n      containers:\n      - name: app\n        volumeMounts:\n        - {name: cache, mountPath: /cache}\n        - {mountPath: /data, readOnly: true}\n"),
        ),
        (
            "container ports by containerPort+protocol (kustomize quirk)",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      containers:\n      - name: app\n        ports:\n        - {containerPort: 8080, name: web}\n        - {containerPort: 7070, protocol: UDP}\n"),
        ),
        (
            "service ports by port",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80, targetPort: 8080, protocol: TCP}\n  - {name: metrics, port: 9090, protocol: TCP}\n".to_owned(),
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - {port: 80, targetPort: 8081, protocol: TCP}\n  - {name: grpc, port: 9000, protocol: TCP}\n".to_owned(),
        ),
        (
            "service ports: a patch port without protocol (kyaml quirk)",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - {name: http, port: 80, targetPort: 8080, protocol: TCP}\n  - {name: dns, port: 53, protocol: UDP}\n  - {name: dns-tcp, port: 53, protocol: TCP}\n".to_owned(),
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - {port: 80, targetPort: 9090}\n  - {port: 53, name: renamed}\n  - {port: 443, targetPort: 8443}\n".to_owned(),
        ),
        (
            "service ports without protocols anywhere",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n  - {name: metrics, port: 9090}\n".to_owned(),
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - {port: 9090, targetPort: 9091}\n  - {port: 443, name: https}\n".to_owned(),
        ),
        (
            "imagePullSecrets by name, hostAliases by ip",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      imagePullSecrets: [{name: pull-b}, {name: pull-a}]\n      hostAliases: [{ip: 10.0.0.1, hostnames: [b.local]}, {ip: 10.0.0.2, hostnames: [c.local]}]\n"),
        ),
        (
            "tolerations, args and schedulingGates are replaced",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      tolerations: [{key: k2, operator: Exists}]\n      schedulingGates: [{name: g2}]\n      containers:\n      - name: app\n        args: [--verbose]\n"),
        ),
        (
            "$patch: delete on a list element and on a map",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      nodeSelector: {$patch: delete}\n      containers:\n      - name: sidecar\n        $patch: delete\n      - name: absent\n        $patch: delete\n      volumes:\n      - {name: cfg, $patch: delete}\n"),
        ),
        (
            "$patch: replace on a map and on a list",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      nodeSelector: {$patch: replace, zone: b}\n      containers:\n      - name: only\n        image: only:1\n      - $patch: replace\n"),
        ),
        (
            "null deletes keys, emptied maps stay",
            dep.clone(),
            p("  labels: {tier: null}\nspec:\n  replicas: null\n  template:\n    metadata:\n      annotations: {a: null}\n    spec:\n      containers:\n      - name: app\n        resources: {limits: null}\n        env:\n        - {name: POD, valueFrom: null, value: fixed}\n"),
        ),
        (
            "nested maps merge recursively",
            dep.clone(),
            p("  annotations: {note: hi}\nspec:\n  template:\n    spec:\n      nodeSelector: {zone: b, accelerator: gpu}\n      containers:\n      - name: app\n        resources:\n          limits: {memory: 256Mi, nvidia.com/gpu: 1}\n"),
        ),
        (
            "custom resource without schema: lists replaced",
            "apiVersion: edge.example.com/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  stages:\n  - {name: a, image: a:1}\n  - {name: b, image: b:1}\n  config: {x: 1, y: {z: 2}}\n".to_owned(),
            "apiVersion: edge.example.com/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  stages:\n  - {name: b, image: b:2}\n  config: {y: {w: 3}}\n".to_owned(),
        ),
        (
            "finalizers merge as a set, patch values first",
            dep.clone(),
            p("  finalizers: [c.example.com/z, a.example.com/x]\n"),
        ),
        (
            "topologySpreadConstraints by topologyKey+whenUnsatisfiable",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      topologySpreadConstraints:\n      - {maxSkew: 2, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n      - {maxSkew: 1, topologyKey: host, whenUnsatisfiable: ScheduleAnyway}\n"),
        ),
        (
            "CronJob pod template containers",
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: job}\nspec:\n  schedule: '*/5 * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n          - {name: run, image: run:1, env: [{name: A, value: a}]}\n".to_owned(),
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: job}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - {name: run, image: run:2, env: [{name: B, value: b}]}\n".to_owned(),
        ),
        (
            "new list and new elements carrying directives and nulls",
            dep.clone(),
            p("spec:\n  template:\n    spec:\n      ephemeralContainers:\n      - {name: dbg, image: busybox, tty: null}\n      - {name: gone, $patch: delete}\n      containers:\n      - name: fresh\n        image: f:1\n        stdin: null\n        resources: {$patch: replace, limits: {cpu: 1}}\n      - name: app\n        resources: {$patch: merge, requests: {cpu: 200m}}\n"),
        ),
        (
            "StatefulSet volumeClaimTemplates are replaced, pod volumes merged",
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  serviceName: db\n  template:\n    spec:\n      containers: [{name: db, image: db:1}]\n      volumes: [{name: a, emptyDir: {}}]\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n".to_owned(),
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  template:\n    spec:\n      volumes: [{name: b, emptyDir: {}}]\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {resources: {requests: {storage: 5Gi}}}\n".to_owned(),
        ),
        (
            "Pod with numeric and boolean scalars overridden",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: pod}\nspec:\n  hostNetwork: false\n  terminationGracePeriodSeconds: 30\n  containers:\n  - {name: c, image: c:1, ports: [{containerPort: 80}]}\n".to_owned(),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: pod}\nspec:\n  hostNetwork: true\n  terminationGracePeriodSeconds: 5\n  containers:\n  - name: c\n    ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 81}]\n".to_owned(),
        ),
        (
            "autoscaling/v1 is in Kustomize's schema: finalizers merge",
            "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, finalizers: [a, b]}\nspec: {maxReplicas: 3, scaleTargetRef: {kind: Deployment, name: d, apiVersion: apps/v1}}\n".to_owned(),
            "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, finalizers: [c]}\n".to_owned(),
        ),
        (
            "autoscaling/v2 is newer than Kustomize's schema: finalizers replaced",
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, finalizers: [a, b]}\nspec: {maxReplicas: 3, scaleTargetRef: {kind: Deployment, name: d, apiVersion: apps/v1}}\n".to_owned(),
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, finalizers: [c]}\n".to_owned(),
        ),
        (
            "$patch: delete removes the whole object",
            dep.clone(),
            p("$patch: delete\n"),
        ),
        (
            "a map patched onto a list is an error",
            dep,
            p("spec:\n  template:\n    spec:\n      containers: {name: app}\n"),
        ),
    ]
}

#[test]
fn strategic_merge_patches_match_kubectl() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let cases = smp_cases();
    let mut failures = Vec::new();
    for (name, base, patch_text) in &cases {
        let dir = write_tree(&[
            ("base.yaml", base.as_bytes()),
            ("patch.yaml", patch_text.as_bytes()),
            (
                "kustomization.yaml",
                b"resources: [base.yaml]\npatches:\n- path: patch.yaml\n",
            ),
        ]);
        check(name, &kubectl, dir.path(), &mut failures);
    }
    finish("strategic merge", failures, cases.len());
}

// ---------------------------------------------------------------------------------------------
// JSON 6902

#[test]
fn json6902_patches_match_kubectl() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let base = DEPLOY;
    let cases: &[(&str, &str)] = &[
        (
            "add at the end of a list with -",
            "- {op: add, path: /spec/template/spec/containers/0/args/-, value: --debug}\n- {op: add, path: /spec/template/spec/tolerations/0, value: {key: first, operator: Exists}}\n",
        ),
        (
            "move and copy",
            "- {op: copy, from: /spec/template/spec/containers/0/name, path: /metadata/labels/container}\n- {op: move, from: /spec/template/spec/nodeSelector/zone, path: /spec/template/spec/nodeSelector/region}\n",
        ),
        (
            "test then replace",
            "- {op: test, path: /spec/replicas, value: 1}\n- {op: replace, path: /spec/replicas, value: 3}\n- {op: replace, path: /metadata/name, value: renamed}\n",
        ),
        (
            "escaped pointers ~1 and ~0",
            "- {op: add, path: /metadata/annotations, value: {}}\n- {op: add, path: /metadata/annotations/edge.example.com~1site, value: rig-1}\n- {op: add, path: /metadata/annotations/tilde~0key, value: t}\n- {op: remove, path: /spec/template/spec/nodeSelector/kubernetes.io~1arch}\n",
        ),
        (
            "remove list elements and fields",
            "- {op: remove, path: /spec/template/spec/containers/1}\n- {op: remove, path: /spec/template/spec/containers/0/resources/limits}\n",
        ),
        (
            "add to a missing parent fails",
            "- {op: add, path: /spec/template/spec/securityContext/runAsUser, value: 1000}\n",
        ),
        (
            "a failing test op fails",
            "- {op: test, path: /spec/replicas, value: 2}\n",
        ),
        (
            "replace of a missing key adds it (evanphx/json-patch v4)",
            "- {op: replace, path: /spec/paused, value: true}\n",
        ),
        (
            "replace under a missing parent fails",
            "- {op: replace, path: /spec/strategy/type, value: Recreate}\n",
        ),
        (
            "negative indexes count from the end",
            "- {op: remove, path: /spec/template/spec/containers/-1}\n- {op: add, path: /spec/template/spec/containers/0/args/-1, value: --last}\n",
        ),
        (
            "test of a missing key against null passes",
            "- {op: test, path: /spec/paused, value: null}\n- {op: add, path: /spec/paused, value: false}\n",
        ),
        (
            "remove of a missing key fails",
            "- {op: remove, path: /spec/paused}\n",
        ),
        (
            "JSON syntax for the operations",
            "[{\"op\": \"add\", \"path\": \"/spec/minReadySeconds\", \"value\": 5}]\n",
        ),
        (
            "index past the end fails",
            "- {op: add, path: /spec/template/spec/containers/5, value: {name: x}}\n",
        ),
    ];
    let mut failures = Vec::new();
    for (name, ops) in cases {
        let dir = write_tree(&[
            ("base.yaml", base.as_bytes()),
            ("ops.yaml", ops.as_bytes()),
            (
                "kustomization.yaml",
                b"resources: [base.yaml]\npatches:\n- path: ops.yaml\n  target: {kind: Deployment, name: web}\n",
            ),
        ]);
        check(name, &kubectl, dir.path(), &mut failures);
    }
    finish("JSON 6902", failures, cases.len());
}

// ---------------------------------------------------------------------------------------------
// Generators

#[test]
fn generators_match_kubectl() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    type Files<'a> = Vec<(&'a str, &'a [u8])>;
    let cases: Vec<(&str, &str, Files)> = vec![
        (
            "literals with quotes and = in values",
            "configMapGenerator:\n- name: lit\n  literals:\n  - plain=v\n  - \"single='x y'\"\n  - 'double=\"a=b\"'\n  - \"lead=' x'\"\n  - 'half=\"open'\n  - empty=\n",
            vec![],
        ),
        (
            "files with default and explicit keys",
            "configMapGenerator:\n- name: files\n  files:\n  - conf/app.properties\n  - custom.key=conf/other.txt\n",
            vec![("conf/app.properties", b"a=1\nb=2\n"), ("conf/other.txt", b"no newline")],
        ),
        (
            "env files: comments, blanks, BOM, verbatim values",
            "configMapGenerator:\n- name: env\n  envs: [site.env]\n",
            vec![("site.env", b"\xEF\xBB\xBFFIRST=1\n# comment\n\n   INDENTED=yes\nQUOTED=\"kept\"\nSPACES=a b  \nEQ=x=y\r\nEDGEFLEET_SURELY_UNSET_VAR\n")],
        ),
        (
            "options and generatorOptions",
            "generatorOptions:\n  labels: {global: g, both: global}\n  annotations: {note: global}\nconfigMapGenerator:\n- name: opts\n  literals: [a=1]\n  options:\n    labels: {both: local}\n    immutable: true\n",
            vec![],
        ),
        (
            "global options win for flags, local labels win, namespace kept",
            "generatorOptions: {disableNameSuffixHash: true, immutable: true, labels: {a: g}}\nconfigMapGenerator:\n- name: local\n  literals: [a=1]\n  options: {disableNameSuffixHash: false, immutable: false, labels: {a: l}}\n- name: global\n  namespace: edge\n  literals: [a=1]\n",
            vec![],
        ),
        (
            "disableNameSuffixHash",
            "generatorOptions: {disableNameSuffixHash: true}\nconfigMapGenerator:\n- name: nohash\n  literals: [a=1]\nsecretGenerator:\n- name: nohash-secret\n  literals: [a=1]\n",
            vec![],
        ),
        (
            "secret types and base64",
            "secretGenerator:\n- name: opaque\n  literals: [user=admin, pass=s3cr3t!, long=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\n- name: tls\n  type: kubernetes.io/tls\n  files: [tls.crt, tls.key]\n",
            vec![("tls.crt", b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), ("tls.key", b"key\n")],
        ),
        (
            "binaryData for a non-UTF-8 file",
            "configMapGenerator:\n- name: bin\n  files: [blob.bin, text.txt, big.bin]\n",
            vec![("blob.bin", b"\x00\xff\xfe\x01binary"), ("text.txt", b"text\n"), ("big.bin", &[0xff; 200])],
        ),
        (
            "hash of values needing JSON escapes",
            "configMapGenerator:\n- name: escapes\n  literals:\n  - \"html=<a href='x'>&amp;</a>\"\n  - \"unicode=\u{e6}\u{f8}\u{e5} \u{1f680}\"\n  - 'tab=a\tb'\n  files: [multi.txt]\n",
            vec![("multi.txt", "line1\nline2\n\\back \"quote\" \u{2028}\u{2029} tail\n".as_bytes())],
        ),
        (
            "empty generator",
            "configMapGenerator:\n- name: empty\nsecretGenerator:\n- name: empty-secret\n",
            vec![],
        ),
        (
            "behavior merge and replace",
            "resources: [base]\nconfigMapGenerator:\n- name: cm\n  behavior: merge\n  literals: [b=3, c=4]\n  options: {labels: {layer: overlay}}\n- name: nohash\n  behavior: merge\n  literals: [y=2]\n- name: swap\n  behavior: replace\n  literals: [z=9]\nsecretGenerator:\n- name: s\n  behavior: merge\n  literals: [b=2]\n",
            vec![(
                "base/kustomization.yaml",
                b"configMapGenerator:\n- name: cm\n  literals: [a=1, b=2]\n  options: {labels: {layer: base, keep: me}}\n- name: nohash\n  literals: [x=1]\n  options: {disableNameSuffixHash: true}\n- name: swap\n  literals: [a=1]\n  options: {annotations: {kept: yes-please}}\nsecretGenerator:\n- name: s\n  type: kubernetes.io/tls\n  literals: [a=1]\n",
            )],
        ),
        (
            "repeated key is an error",
            "configMapGenerator:\n- name: dup\n  literals: [a=1, a=2]\n",
            vec![],
        ),
        (
            "keys are not validated (export, spaces, slashes)",
            "configMapGenerator:\n- name: odd\n  envs: [odd.env]\n  literals: [\"a b=1\", a/b=2]\n",
            vec![("odd.env", b"export FOO=bar\n")],
        ),
        (
            "a literal without = is an error",
            "configMapGenerator:\n- name: bad\n  literals: [novalue]\n",
            vec![],
        ),
    ];
    let mut failures = Vec::new();
    for (name, kustomization, files) in &cases {
        let mut tree: Files = files.clone();
        tree.push(("kustomization.yaml", kustomization.as_bytes()));
        let dir = write_tree(&tree);
        check(name, &kubectl, dir.path(), &mut failures);
    }
    finish("generator", failures, cases.len());
}

// ---------------------------------------------------------------------------------------------
// Replacements

const REPL_RESOURCES: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: site
  namespace: edge
data:
  count: "5"
  endpoint: otlp.eu-north.example.net:4317
  flag: "true"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
  namespace: edge
  labels: {app: agent}
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: app
        image: registry.example.com/agent:1.0
        env:
        - {name: ENDPOINT, value: old}
        - {name: PORT, value: "0"}
      - name: side
        image: registry.example.com/side:1.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: other
  namespace: edge
  labels: {app: other}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: app
        image: registry.example.com/other:1.0
"#;

/// A replacement case: name, the `replacements:` list, extra files (name, text).
type ReplacementCase<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

#[test]
fn replacements_match_kubectl() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let cases: &[ReplacementCase] = &[
        (
            "types: kept on existing scalars, resolved on created fields",
            "- source: {kind: ConfigMap, name: site, fieldPath: data.count}\n  targets:\n  - select: {kind: Deployment, name: agent}\n    fieldPaths:\n    - spec.replicas\n    - spec.template.spec.containers.[name=app].env.[name=PORT].value\n    - spec.template.metadata.annotations.count\n    options: {create: true}\n",
            &[],
        ),
        (
            "delimiters on source and target",
            "- source: {kind: ConfigMap, name: site, fieldPath: data.endpoint, options: {delimiter: ':', index: 0}}\n  targets:\n  - select: {kind: Deployment}\n    fieldPaths:\n    - spec.template.spec.containers.*.image\n    options: {delimiter: '/', index: 0}\n  - select: {kind: Deployment, name: agent}\n    fieldPaths:\n    - spec.template.spec.containers.[name=app].env.[name=ENDPOINT].value\n",
            &[],
        ),
        (
            "select by label, reject by name, default fieldPath",
            "- source: {kind: Deployment, name: other}\n  targets:\n  - select: {kind: Deployment}\n    reject:\n    - {name: other}\n    fieldPaths: [metadata.annotations.peer]\n    options: {create: true}\n- source: {kind: ConfigMap, fieldPath: data.flag}\n  targets:\n  - select: {labelSelector: app=other}\n    fieldPaths: [spec.template.spec.hostNetwork]\n    options: {create: true}\n",
            &[],
        ),
        (
            "replacements from a file",
            "- path: repl.yaml\n",
            &[(
                "repl.yaml",
                "source: {kind: ConfigMap, name: site, namespace: edge, fieldPath: data.count}\ntargets:\n- select: {kind: Deployment, name: other}\n  fieldPaths: [spec.replicas]\n",
            )],
        ),
        (
            "a map as the value",
            "- source: {kind: Deployment, name: agent, fieldPath: spec.template.metadata.labels}\n  targets:\n  - select: {kind: Deployment, name: other}\n    fieldPaths: [spec.template.metadata.labels]\n    options: {create: true}\n",
            &[],
        ),
        (
            "select and reject by anchored regexes",
            "- source: {kind: ConfigMap, name: site, fieldPath: data.flag}\n  targets:\n  - select: {kind: \"Deploy.*\", version: \"v.*\"}\n    reject:\n    - {name: \"oth.*\"}\n    fieldPaths: [metadata.annotations.flag]\n    options: {create: true}\n  - select: {name: agen}\n    fieldPaths: [metadata.annotations.never]\n    options: {create: true}\n",
            &[],
        ),
        (
            "namespaces compared as written",
            "- source: {kind: ConfigMap, name: site, fieldPath: data.flag}\n  targets:\n  - select: {namespace: \"ed.*\", kind: Deployment}\n    fieldPaths: [metadata.annotations.edge]\n    options: {create: true}\n  - select: {namespace: default}\n    fieldPaths: [metadata.annotations.default]\n    options: {create: true}\n",
            &[],
        ),
        (
            "missing source is an error",
            "- source: {kind: Secret, name: nope}\n  targets:\n  - select: {kind: Deployment}\n",
            &[],
        ),
        (
            "missing target field without create is an error",
            "- source: {kind: ConfigMap, name: site, fieldPath: data.count}\n  targets:\n  - select: {kind: Deployment}\n    fieldPaths: [spec.template.spec.nothere]\n",
            &[],
        ),
        (
            "two sources is an error",
            "- source: {kind: Deployment}\n  targets:\n  - select: {kind: ConfigMap}\n    fieldPaths: [data.d]\n    options: {create: true}\n",
            &[],
        ),
    ];
    let mut failures = Vec::new();
    for (name, repl, extra) in cases {
        let mut files: Vec<(&str, &[u8])> = vec![("resources.yaml", REPL_RESOURCES.as_bytes())];
        for (f, t) in *extra {
            files.push((f, t.as_bytes()));
        }
        let kustomization = format!("resources: [resources.yaml]\nreplacements:\n{repl}");
        files.push(("kustomization.yaml", kustomization.as_bytes()));
        let dir = write_tree(&files);
        check(name, &kubectl, dir.path(), &mut failures);
    }
    finish("replacement", failures, cases.len());
}

// ---------------------------------------------------------------------------------------------
// Target selectors

const SELECT_RESOURCES: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-canary
  labels: {app: web, wave: canary}
  annotations: {edgefleet.io/tier: gold}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-stable
  namespace: prod
  labels: {app: web, wave: stable}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web-db
  labels: {app: db}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: web-reader
  labels: {app: rbac}
"#;

#[test]
fn target_selectors_match_kubectl() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let cases: &[(&str, &str)] = &[
        ("name regex is anchored", "{name: web}"),
        ("name regex alternatives", "{name: \"web-(canary|db)\"}"),
        ("group and kind", "{group: apps, kind: Deployment}"),
        ("core group is empty", "{version: v1, kind: Service}"),
        (
            "namespace default matches objects without one",
            "{namespace: default}",
        ),
        ("namespace regex", "{namespace: \"pro.*\"}"),
        (
            "label selector with set ops",
            "{labelSelector: \"app in (web, db),wave notin (stable)\"}",
        ),
        (
            "label selector inequality and existence",
            "{labelSelector: \"app!=db,!wave\"}",
        ),
        (
            "annotation selector",
            "{annotationSelector: edgefleet.io/tier=gold}",
        ),
        (
            "several fields together",
            "{kind: Deployment, name: \"web-.*\", labelSelector: wave=stable}",
        ),
    ];
    let ops = "- {op: add, path: /metadata/labels/selected, value: \"yes\"}\n";
    let mut failures = Vec::new();
    for (name, target) in cases {
        let kustomization = format!(
            "resources: [resources.yaml]\npatches:\n- path: ops.yaml\n  target: {target}\n"
        );
        let dir = write_tree(&[
            ("resources.yaml", SELECT_RESOURCES.as_bytes()),
            ("ops.yaml", ops.as_bytes()),
            ("kustomization.yaml", kustomization.as_bytes()),
        ]);
        check(name, &kubectl, dir.path(), &mut failures);
    }
    finish("target selector", failures, cases.len());
}
