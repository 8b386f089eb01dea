//! `kubefetch list`, `refresh` and `remove` end to end against the fake
//! cloud, on kubeconfigs mixing what kubefetch, kubectl and hand edits wrote.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine;
use common::*;
use fakecloud::fixtures::{
    ACK_CLUSTER, CCE_CLUSTER, HUAWEI_PROJECT_CN_NORTH_4, TENCENT_SECRET_ID, TENCENT_SECRET_KEY,
    TKE_CLUSTER, UCS_CLUSTER,
};
use fakecloud::{Fault, FaultKind, Provider, Recorded};
use serde_json::Value;

/// Two kubeconfig files listed in `$KUBECONFIG`, in a directory of their own.
struct TwoFiles {
    s: Sandbox,
    first: PathBuf,
    second: PathBuf,
}

impl TwoFiles {
    fn new() -> Self {
        let s = Sandbox::new();
        let dir = s.home.path().join("kube");
        std::fs::create_dir(&dir).unwrap();
        // New contexts go to the first file that exists, as kubectl writes them.
        std::fs::write(dir.join("first"), "").unwrap();
        TwoFiles {
            first: dir.join("first"),
            second: dir.join("second"),
            s,
        }
    }

    fn kubeconfig_var(&self) -> String {
        format!("{}:{}", self.first.display(), self.second.display())
    }

    fn run(&self, args: &[&str]) -> Output {
        self.s
            .kubefetch()
            .env("KUBECONFIG", self.kubeconfig_var())
            .args(args)
            .output()
            .unwrap()
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

fn by_context<'a>(rows: &'a Value, name: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["context"] == name)
        .unwrap_or_else(|| panic!("no row {name} in {rows}"))
}

/// The client certificate kubefetch wrote for a context, as PEM text.
fn client_cert_pem(path: &Path, user: &str) -> String {
    let config = yaml(path);
    let data = config["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == user)
        .unwrap()["user"]["client-certificate-data"]
        .as_str()
        .unwrap()
        .to_string();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap(),
    )
    .unwrap()
}

/// A context kubefetch did not write, with a client certificate: by kubectl
/// when it is installed, else as kubectl would write it.
fn add_foreign_context(file: &Path, name: &str, cert_pem: &str) {
    let cert = file.with_file_name(format!("{name}.crt"));
    std::fs::write(&cert, cert_pem).unwrap();
    if let Some(kubectl) = kubectl() {
        let run = |args: &[&str]| {
            let out = std::process::Command::new(&kubectl)
                .arg("--kubeconfig")
                .arg(file)
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "kubectl {args:?}: {}", stderr(&out));
        };
        run(&[
            "config",
            "set-cluster",
            name,
            "--server",
            "https://10.0.0.1:6443",
        ]);
        run(&[
            "config",
            "set-credentials",
            name,
            &format!("--client-certificate={}", cert.display()),
            "--embed-certs",
        ]);
        run(&[
            "config",
            "set-context",
            name,
            "--cluster",
            name,
            "--user",
            name,
        ]);
    } else {
        let mut config = std::fs::read_to_string(file).unwrap_or_default();
        let data = base64::engine::general_purpose::STANDARD.encode(cert_pem);
        config.push_str(&format!(
            "clusters:\n- name: {name}\n  cluster: {{server: 'https://10.0.0.1:6443'}}\n\
             users:\n- name: {name}\n  user: {{client-certificate-data: {data}}}\n\
             contexts:\n- name: {name}\n  context: {{cluster: {name}, user: {name}}}\n"
        ));
        std::fs::write(file, config).unwrap();
    }
}

#[test]
fn list_shows_every_file_of_kubeconfig_with_expiry_and_provenance() {
    let t = TwoFiles::new();
    // The first file gets the TKE context (a new context goes to the first file).
    assert_code(&t.run(&["tke", TKE_CLUSTER, "--region", "ap-guangzhou"]), 0);
    let second = t.second.to_str().unwrap();
    assert_code(
        &t.run(&[
            "ack",
            ACK_CLUSTER,
            "--ttl",
            "3h",
            "--private",
            "--no-switch",
            "--kubeconfig",
            second,
        ]),
        0,
    );
    let cert = client_cert_pem(&t.first, "tke-cls-65r1c5nu");
    add_foreign_context(&t.second, "mine", &cert);
    // A context someone wrote by hand, without a user, in a file outside $KUBECONFIG.
    let hand = "contexts:\n- name: by-hand\n  context: {cluster: nowhere}\n";
    let third = t.first.with_file_name("third");
    std::fs::write(&third, hand).unwrap();

    let out = t.run(&["list"]);
    assert_code(&out, 0);
    let table = stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["CURRENT", "NAME", "PROVIDER", "CLUSTER", "REGION", "ACCESS", "EXPIRES", "FILE"],
        "{table}"
    );
    let tke = lines
        .iter()
        .find(|l| l.contains("tke-cls-65r1c5nu"))
        .unwrap();
    assert!(tke.starts_with('*'), "{tke}");
    assert!(
        tke.contains("ap-guangzhou") && tke.contains("public"),
        "{tke}"
    );
    assert!(tke.ends_with(t.first.to_str().unwrap()), "{tke}");
    assert!(
        tke.contains(" (in 7"),
        "a TKE certificate lasts 20 years: {tke}"
    );
    let ack = lines.iter().find(|l| l.contains("ack-")).unwrap();
    assert!(ack.contains("private") && ack.contains("(in 2h)"), "{ack}");
    assert!(ack.ends_with(second), "{ack}");
    assert!(!table.contains("mine"), "foreign contexts need --all");

    let out = t.run(&["list", "--all", "--output", "json"]);
    assert_code(&out, 0);
    let rows = json(&out);
    assert_eq!(rows.as_array().unwrap().len(), 3, "{rows}");
    let mine = by_context(&rows, "mine");
    for key in [
        "provider",
        "clusterId",
        "region",
        "private",
        "exec",
        "fetchedAt",
    ] {
        assert_eq!(mine[key], Value::Null, "{key} of a foreign row");
    }
    let tke = by_context(&rows, "tke-cls-65r1c5nu");
    assert_eq!(
        mine["expiresAt"], tke["expiresAt"],
        "the foreign expiry comes from its client certificate"
    );
    assert_eq!(mine["expired"], false);
    assert_eq!(mine["kubeconfig"], second);
    assert_eq!(tke["current"], true);
    assert_eq!(tke["provider"], "tke");
    assert_eq!(tke["clusterId"], TKE_CLUSTER);
    assert_eq!(tke["exec"], false);
    let ack = by_context(&rows, &format!("ack-{ACK_CLUSTER}-private"));
    assert_eq!(ack["private"], true);
    assert_eq!(ack["current"], false);
    assert_eq!(ack.as_object().unwrap().len(), 11);

    let out = t.run(&["list", "--expiring-within", "4h", "--output", "json"]);
    let rows = json(&out);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["provider"], "ack");
    let out = t.run(&["list", "--all", "--provider", "tke", "--output", "json"]);
    let rows = json(&out);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["context"], "tke-cls-65r1c5nu");

    // One file: no FILE column; a context without a user has no expiry.
    let out = t.run(&["list", "--all", "--kubeconfig", third.to_str().unwrap()]);
    assert_code(&out, 0);
    let table = stdout(&out);
    assert!(
        table.lines().next().unwrap().ends_with("EXPIRES"),
        "{table}"
    );
    let row = table.lines().nth(1).unwrap();
    assert!(
        row.trim_start().starts_with("by-hand") && row.ends_with(" -"),
        "{table}"
    );
    let out = t.run(&[
        "list",
        "--kubeconfig",
        third.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(stdout(&out), "[]\n");

    if let Some(kubectl) = kubectl() {
        // kubectl sees the same contexts and the same current one.
        let out = std::process::Command::new(kubectl)
            .args(["config", "get-contexts", "-o", "name"])
            .env("KUBECONFIG", t.kubeconfig_var())
            .output()
            .unwrap();
        let listed = stdout(&out);
        let mut names: Vec<&str> = listed.lines().collect();
        names.sort();
        let mut ours = vec![
            "tke-cls-65r1c5nu".to_string(),
            format!("ack-{ACK_CLUSTER}-private"),
            "mine".into(),
        ];
        ours.sort();
        assert_eq!(names, ours);
    }
}

/// What identifies an API request, without what changes on every attempt
/// (dates, nonces, signatures).
fn request_shape(r: &Recorded) -> (String, String, String, Vec<u8>, Vec<(String, String)>) {
    let stable = [
        "x-tc-region",
        "x-tc-action",
        "x-acs-signature-method",
        "x-acs-version",
        "x-project-id",
        "x-domain-id",
        "content-type",
    ];
    let mut headers: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(k, _)| stable.contains(&k.as_str()))
        .cloned()
        .collect();
    headers.sort();
    (
        r.method.clone(),
        r.path.clone(),
        r.query.clone(),
        r.body.clone(),
        headers,
    )
}

/// The requests of this provider for this cluster since `from`.
fn cluster_requests(s: &Sandbox, provider: Provider, cluster: &str, from: usize) -> Vec<Recorded> {
    s.cloud.requests()[from..]
        .iter()
        .filter(|r| r.provider == provider && r.cluster_id.as_deref() == Some(cluster))
        .cloned()
        .collect()
}

struct Case {
    name: &'static str,
    provider: Provider,
    cluster: &'static str,
    fetch: Vec<&'static str>,
    context: String,
    /// Variables that differ at refresh time: the recorded options must win.
    refresh_env: Vec<(&'static str, String)>,
    /// Provenance fields the fetch must have recorded.
    recorded: Vec<(&'static str, Value)>,
}

fn cases(s: &Sandbox) -> Vec<Case> {
    let dead = "http://127.0.0.1:9".to_string();
    let api = s.cloud.api_url();
    vec![
        Case {
            name: "tke private, region from the environment",
            provider: Provider::Tke,
            cluster: TKE_CLUSTER,
            fetch: vec!["tke", TKE_CLUSTER, "--private"],
            context: format!("tke-{TKE_CLUSTER}-private"),
            refresh_env: vec![("TENCENTCLOUD_REGION", "ap-shanghai".into())],
            recorded: vec![("private", true.into()), ("region", "ap-guangzhou".into())],
        },
        Case {
            name: "tke profile and endpoint",
            provider: Provider::Tke,
            cluster: "cls-a",
            fetch: vec![
                "tke",
                "cls-a",
                "--profile",
                "work",
                "--endpoint",
                leak(&api),
            ],
            context: "tke-cls-a".into(),
            refresh_env: vec![
                ("KUBEFETCH_TKE_ENDPOINT", dead.clone()),
                ("TENCENTCLOUD_REGION", "ap-beijing".into()),
            ],
            recorded: vec![
                ("profile", "work".into()),
                ("endpoint", format!("{api}/").into()),
                ("region", "ap-guangzhou".into()),
            ],
        },
        Case {
            name: "ack private, ttl, roa signature",
            provider: Provider::Ack,
            cluster: ACK_CLUSTER,
            fetch: vec![
                "ack",
                ACK_CLUSTER,
                "--private",
                "--ttl",
                "90m",
                "--signature-v2",
                "--region",
                "cn-beijing",
            ],
            context: format!("ack-{ACK_CLUSTER}-private"),
            refresh_env: vec![("ALIBABA_CLOUD_REGION_ID", "cn-shanghai".into())],
            recorded: vec![
                ("ttl", 90.into()),
                ("signature", "roa-v2".into()),
                ("region", "cn-beijing".into()),
            ],
        },
        Case {
            name: "cce project id, ttl, insecure",
            provider: Provider::Cce,
            cluster: CCE_CLUSTER,
            fetch: vec![
                "cce",
                CCE_CLUSTER,
                "--project-id",
                HUAWEI_PROJECT_CN_NORTH_4,
                "--ttl",
                "7d",
                "--insecure-skip-tls-verify",
            ],
            context: format!("cce-{CCE_CLUSTER}"),
            refresh_env: vec![("OS_REGION_NAME", "eu-de".into())],
            recorded: vec![
                ("projectId", HUAWEI_PROJECT_CN_NORTH_4.into()),
                ("ttl", (7 * 1440).into()),
                ("insecureSkipTlsVerify", true.into()),
            ],
        },
        Case {
            name: "ucs private, endpoint",
            provider: Provider::Ucs,
            cluster: UCS_CLUSTER,
            fetch: vec!["ucs", UCS_CLUSTER, "--private", "--endpoint", leak(&api)],
            context: format!("ucs-{UCS_CLUSTER}-private"),
            refresh_env: vec![("KUBEFETCH_UCS_ENDPOINT", dead)],
            recorded: vec![("private", true.into())],
        },
    ]
}

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}

#[test]
fn refresh_repeats_the_original_request_with_every_recorded_option() {
    let s = Sandbox::new();
    s.write_home_file(
        ".tccli/work.credential",
        &serde_json::json!({"secretId": TENCENT_SECRET_ID, "secretKey": TENCENT_SECRET_KEY})
            .to_string(),
    );
    s.write_home_file(
        ".tccli/work.configure",
        r#"{"_sys_param":{"region":"ap-shanghai"}}"#,
    );
    let path = s.default_kubeconfig();
    for case in cases(&s) {
        let before = s.cloud.requests().len();
        assert_code(&s.run(&case.fetch), 0);
        let fetched = cluster_requests(&s, case.provider, case.cluster, before);
        assert!(!fetched.is_empty(), "{}: no request recorded", case.name);
        let config = yaml(&path);
        let recorded = &context(&config, &case.context)["context"]["extensions"][0]["extension"];
        for (key, value) in &case.recorded {
            assert_eq!(&recorded[*key], value, "{}: provenance {key}", case.name);
        }

        // A namespace the user set survives; current-context is not touched.
        set_namespace(&path, &case.context, "team-a");
        let current_before = yaml(&path)["current-context"].clone();
        let before = s.cloud.requests().len();
        let mut refresh = s.kubefetch();
        if case.fetch.contains(&"--profile") {
            // Only the recorded profile can sign now.
            refresh
                .env_remove("TENCENTCLOUD_SECRET_ID")
                .env_remove("TENCENTCLOUD_SECRET_KEY");
        }
        let out = refresh
            .envs(case.refresh_env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(["refresh", &case.context, "--output", "json"])
            .output()
            .unwrap();
        assert_refreshed(&out, &case, &path);
        let refreshed = cluster_requests(&s, case.provider, case.cluster, before);
        let shapes = |list: &[Recorded]| list.iter().map(request_shape).collect::<Vec<_>>();
        assert_eq!(
            shapes(&refreshed).last(),
            shapes(&fetched).last(),
            "{}: the refresh asked something else",
            case.name
        );
        let config = yaml(&path);
        assert_eq!(
            context(&config, &case.context)["context"]["namespace"],
            "team-a",
            "{}",
            case.name
        );
        assert_eq!(config["current-context"], current_before, "{}", case.name);
        let again = &context(&config, &case.context)["context"]["extensions"][0]["extension"];
        for (key, value) in &case.recorded {
            assert_eq!(
                &again[*key], value,
                "{}: provenance {key} after refresh",
                case.name
            );
        }
    }
}

fn assert_refreshed(out: &Output, case: &Case, path: &Path) {
    assert_code(out, 0);
    let summary = json(out);
    assert_eq!(summary[0]["status"], "ok", "{}: {summary}", case.name);
    assert_eq!(summary[0]["context"], case.context.as_str());
    assert_eq!(summary[0]["clusterId"], case.cluster);
    assert_eq!(summary[0]["kubeconfig"], path.to_str().unwrap());
}

fn set_namespace(path: &Path, context: &str, namespace: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let marker = format!("- name: {context}\n  context:\n");
    assert!(text.contains(&marker), "{text}");
    std::fs::write(
        path,
        text.replacen(&marker, &format!("{marker}    namespace: {namespace}\n"), 1),
    )
    .unwrap();
}

#[test]
fn refresh_writes_each_context_back_in_its_own_file_and_reports_failures() {
    let t = TwoFiles::new();
    assert_code(&t.run(&["tke", "cls-a", "--region", "ap-guangzhou"]), 0);
    let second = t.second.to_str().unwrap();
    assert_code(
        &t.run(&["tke", "cls-b", "--no-switch", "--kubeconfig", second]),
        0,
    );
    assert_code(
        &t.run(&["tke", "cls-c", "--no-switch", "--kubeconfig", second]),
        0,
    );
    let order_before = names(&yaml(&t.second), "contexts");
    let first_before = std::fs::read(&t.first).unwrap();
    t.s.cloud.inject(
        Fault::new(FaultKind::Error {
            status: 200,
            code: "ResourceNotFound.ClusterNotFound".into(),
        })
        .for_provider(Provider::Tke)
        .for_cluster("cls-b"),
    );
    let out = t.run(&["refresh", "--all", "--output", "json"]);
    assert_code(&out, 4);
    let summary = json(&out);
    assert_eq!(summary.as_array().unwrap().len(), 3, "{summary}");
    let b = by_context(&summary, "tke-cls-b");
    assert_eq!(b["status"], "error");
    assert_eq!(b["error"]["kind"], "not_found");
    assert_eq!(by_context(&summary, "tke-cls-c")["status"], "ok");
    assert_eq!(by_context(&summary, "tke-cls-c")["kubeconfig"], second);
    assert_eq!(
        by_context(&summary, "tke-cls-a")["kubeconfig"],
        t.first.to_str().unwrap()
    );
    assert_ne!(
        std::fs::read(&t.first).unwrap(),
        first_before,
        "tke-cls-a was written back"
    );
    assert_eq!(
        names(&yaml(&t.second), "contexts"),
        order_before,
        "same place"
    );
    assert!(!t.second.with_file_name("second.lock").exists());

    // --dry-run prints and sends nothing.
    let before = t.s.cloud.requests().len();
    let out = t.run(&["refresh", "--expiring-within", "30000d", "--dry-run"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
    assert!(stdout(&out).contains("tke-cls-b"));
    assert_eq!(t.s.cloud.requests().len(), before);
    let out = t.run(&["refresh", "--expiring-within", "1d", "--dry-run"]);
    assert_eq!(stdout(&out), "");
}

#[test]
fn remove_takes_shared_entries_only_with_their_last_context() {
    let t = TwoFiles::new();
    assert_code(&t.run(&["tke", "cls-a", "--region", "ap-guangzhou"]), 0);
    assert_code(&t.run(&["tke", "cls-b", "--no-switch"]), 0);
    // In the second file, a context of the user's that uses tke-cls-a's cluster.
    std::fs::write(
        &t.second,
        "current-context: tke-cls-a\ncontexts:\n- name: mine\n  context: {cluster: tke-cls-a, user: me}\nusers:\n- name: me\n  user: {token: abc}\n",
    )
    .unwrap();
    let out = t.run(&["remove", "tke-cls-a", "--dry-run"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        format!(
            "would remove context tke-cls-a from {f}\nwould remove user tke-cls-a from {f}\n\
             would unset current-context tke-cls-a in {f}\nwould unset current-context tke-cls-a in {s}\n",
            f = t.first.display(),
            s = t.second.display()
        )
    );
    let out = t.run(&["remove", "tke-cls-a"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("note: current-context was tke-cls-a"),
        "{}",
        stderr(&out)
    );
    let first = yaml(&t.first);
    assert_eq!(names(&first, "contexts"), ["tke-cls-b"]);
    assert_eq!(
        names(&first, "clusters"),
        ["tke-cls-a", "tke-cls-b"],
        "mine still uses it"
    );
    assert_eq!(names(&first, "users"), ["tke-cls-b"]);
    assert_eq!(first["current-context"], Value::Null);
    assert_eq!(yaml(&t.second)["current-context"], Value::Null);

    // Once its last user is gone, the cluster goes with the context removed
    // in its own file only.
    let out = t.run(&["remove", "mine"]);
    assert_code(&out, 6);
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_code(&t.run(&["remove", "mine", "--force"]), 0);
    assert_eq!(names(&yaml(&t.second), "users"), Vec::<String>::new());
    assert_eq!(
        names(&yaml(&t.first), "clusters"),
        ["tke-cls-a", "tke-cls-b"],
        "an unused cluster of another file is not the removed context's"
    );

    // Selectors: every kubefetch context of a provider, and expired ones.
    assert_code(
        &t.run(&["ack", ACK_CLUSTER, "--ttl", "15", "--no-switch"]),
        0,
    );
    let out = t.run(&["remove", "--expired"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("nothing was removed"),
        "{}",
        stderr(&out)
    );
    assert_code(&t.run(&["remove", "--provider", "tke"]), 0);
    assert_eq!(
        names(&yaml(&t.first), "contexts"),
        [format!("ack-{ACK_CLUSTER}")]
    );
}

#[test]
fn remove_deletes_the_exec_cache_entries_of_the_context_only() {
    let s = Sandbox::new();
    let cache = s.home.path().join(".kube/cache/kubefetch");
    assert_code(&s.run(&["tke", "cls-b", "--region", "ap-guangzhou"]), 0);
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("tke-cls-b-0123456789abcdef.json"), "{}").unwrap();
    assert_code(&s.run(&["remove", "tke-cls-b"]), 0);
    assert!(
        cache.join("tke-cls-b-0123456789abcdef.json").exists(),
        "a context with a key has no cache entries: these are another context's"
    );

    assert_code(
        &s.run(&["tke", "cls-a", "--region", "ap-guangzhou", "--exec"]),
        0,
    );
    let written = dir_entries(&cache);
    assert_eq!(written.len(), 2, "{written:?}");
    let entries = [
        ("tke-cls-a-0123456789abcdef.json", false),
        ("tke-cls-a-private-0123456789abcdef.json", true),
        ("tke-cls-ab-0123456789abcdef.json", true),
        ("tke-cls-a-notahash.json", true),
    ];
    for (name, _) in entries {
        std::fs::write(cache.join(name), "{}").unwrap();
    }
    assert_code(&s.run(&["remove", "tke-cls-a"]), 0);
    for (name, kept) in entries {
        assert_eq!(cache.join(name).exists(), kept, "{name}");
    }
    assert!(
        !written
            .iter()
            .any(|name| cache.join(name).exists() && name.starts_with("tke-cls-a-")),
        "the entry the fetch wrote went too"
    );
}

#[test]
fn bad_input_changes_nothing() {
    let t = TwoFiles::new();
    assert_code(&t.run(&["tke", "cls-a", "--region", "ap-guangzhou"]), 0);
    std::fs::write(
        &t.second,
        "contexts:\n- name: foreign\n  context: {cluster: x, user: x}\n",
    )
    .unwrap();
    let snapshot = || {
        (
            std::fs::read(&t.first).unwrap(),
            std::fs::read(&t.second).unwrap(),
        )
    };
    let before = snapshot();
    let requests = t.s.cloud.requests().len();
    for (args, expected, says) in [
        (vec!["refresh", "nope"], 4, "no context named nope"),
        (
            vec!["refresh", "tke-cls-a", "nope"],
            4,
            "no context named nope",
        ),
        (vec!["refresh", "foreign"], 6, "not written by kubefetch"),
        (vec!["refresh"], 2, "--all"),
        (vec!["refresh", "--provider", "tke"], 2, "--expiring-within"),
        (
            vec!["refresh", "--all", "--expiring-within", "1d"],
            2,
            "cannot be used with",
        ),
        (
            vec!["refresh", "--all", "--kubeconfig", "-"],
            2,
            "--kubeconfig",
        ),
        (
            vec!["refresh", "--expiring-within", "soon"],
            2,
            "invalid --expiring-within",
        ),
        (vec!["remove", "nope"], 4, "no context named nope"),
        (
            vec!["remove", "tke-cls-a", "nope"],
            4,
            "nothing was removed",
        ),
        (vec!["remove", "foreign"], 6, "--force"),
        (vec!["remove"], 2, "--provider"),
        (
            vec!["remove", "tke-cls-a", "--provider", "tke"],
            2,
            "cannot be used with",
        ),
        (
            vec!["remove", "tke-cls-a", "--kubeconfig", "-"],
            2,
            "--kubeconfig",
        ),
        (vec!["list", "--kubeconfig", "-"], 2, "--kubeconfig"),
        (vec!["list", "--provider", "gke"], 2, "gke"),
    ] {
        let out = t.run(&args);
        assert_code(&out, expected);
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert_eq!(snapshot(), before, "{args:?} changed a file");
    }
    assert_eq!(t.s.cloud.requests().len(), requests, "a request was sent");
    let out = t.run(&["refresh", "foreign", "nope", "--output", "json"]);
    assert_code(&out, 6);
    let summary = json(&out);
    assert_eq!(
        by_context(&summary, "foreign")["error"]["kind"],
        "kubeconfig"
    );
    assert_eq!(by_context(&summary, "nope")["error"]["kind"], "not_found");
    assert_eq!(snapshot(), before);

    // An invalid file anywhere in the set: exit 6, nothing on stdout, no change.
    std::fs::write(&t.second, "contexts: [unclosed\n").unwrap();
    let before = snapshot();
    for args in [
        vec!["list"],
        vec!["list", "--output", "json"],
        vec!["refresh", "--all"],
        vec!["remove", "tke-cls-a"],
    ] {
        let out = t.run(&args);
        assert_code(&out, 6);
        assert_eq!(stdout(&out), "", "{args:?}");
        assert!(
            stderr(&out).contains("second"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(snapshot(), before, "{args:?} changed a file");
    }
}

/// `refresh --all` and `remove` run while other kubefetch processes fetch
/// into the same file: every process succeeds (a refresh may only report a
/// context removed meanwhile), no removed context comes back, no fetched one
/// is lost, and no lock or temporary file is left.
#[test]
fn refresh_and_remove_beside_concurrent_fetches() {
    lifecycle_beside_writers(None);
}

/// The same with `kubectl config set-context` writing the file too: nothing
/// kubectl wrote is lost to kubefetch. kubectl reads the file before it
/// takes the lock and writes back every context of that first read missing
/// from the second, so it may bring back a context removed between its two
/// reads (and drop one fetched then): those checks belong to the run above.
#[test]
fn refresh_and_remove_beside_kubectl_config() {
    let Some(kubectl) = kubectl() else { return };
    lifecycle_beside_writers(Some(kubectl));
}

fn lifecycle_beside_writers(kubectl: Option<PathBuf>) {
    let s = Sandbox::new();
    let dir = s.home.path().join("kube");
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("config");
    let file = path.to_str().unwrap().to_string();
    let spawn = |args: Vec<String>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kubefetch"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", s.home.path())
            .env("KUBEFETCH_LOCK_TIMEOUT", "60")
            .envs(s.cloud.env())
            .args(args)
            .arg("--kubeconfig")
            .arg(&file);
        cmd
    };
    let fetch = |cluster: &str, context: &str| {
        s.cloud
            .add_cluster(fakecloud::Cluster::new(Provider::Tke, cluster));
        spawn(
            ["tke", cluster, "--context", context, "--no-switch"]
                .map(String::from)
                .to_vec(),
        )
    };
    for i in 0..6 {
        let out = fetch(&format!("cls-old{i}"), &format!("old-{i}"))
            .output()
            .unwrap();
        assert_code(&out, 0);
    }
    let mut fetchers: Vec<_> = (0..6)
        .map(|i| {
            fetch(&format!("cls-new{i}"), &format!("new-{i}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let removed = ["old-0", "old-1", "old-2"];
    let (refreshes, removals, kubectl_written) = std::thread::scope(|scope| {
        let refresher = scope.spawn(|| {
            (0..3)
                .map(|_| {
                    spawn(vec!["refresh".into(), "--all".into()])
                        .output()
                        .unwrap()
                })
                .collect::<Vec<_>>()
        });
        let remover = scope.spawn(|| {
            removed
                .iter()
                .map(|name| {
                    spawn(vec!["remove".into(), name.to_string()])
                        .output()
                        .unwrap()
                })
                .collect::<Vec<_>>()
        });
        let kubectl_thread = scope.spawn(|| {
            let Some(kubectl) = &kubectl else {
                return Vec::new();
            };
            (0..8)
                .filter_map(|n| {
                    let name = format!("kc-{n}");
                    let out = std::process::Command::new(kubectl)
                        .args(["config", "set-context", &name, "--cluster=x", "--user=y"])
                        .arg("--kubeconfig")
                        .arg(&path)
                        .env("HOME", &dir)
                        .output()
                        .unwrap();
                    // kubectl gives up at once when it finds the lock taken.
                    out.status.success().then_some(name)
                })
                .collect()
        });
        (
            refresher.join().unwrap(),
            remover.join().unwrap(),
            kubectl_thread.join().unwrap(),
        )
    });
    for child in fetchers.iter_mut() {
        let status = child.wait().unwrap();
        assert!(status.success(), "a fetch failed");
    }
    for out in &removals {
        assert_code(out, 0);
    }
    for out in &refreshes {
        if code(out) != 0 {
            assert_code(out, 6);
            for line in stderr(out).lines().filter(|l| l.starts_with("error:")) {
                assert!(line.contains("left"), "{}", stderr(out));
            }
        }
    }
    let config = yaml(&path);
    let contexts = names(&config, "contexts");
    for name in &kubectl_written {
        assert!(
            contexts.contains(name),
            "kubectl's {name} was lost: {contexts:?}"
        );
    }
    if kubectl.is_none() {
        for name in removed {
            assert!(
                !contexts.contains(&name.to_string()),
                "{name} came back: {contexts:?}"
            );
            assert!(!names(&config, "users").contains(&name.to_string()));
        }
        let kept = ["old-3", "old-4", "old-5"].map(String::from);
        let fetched = (0..6).map(|i| format!("new-{i}"));
        for name in kept.into_iter().chain(fetched) {
            assert!(contexts.contains(&name), "{name} lost: {contexts:?}");
        }
    }
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["config"], "no lock or temporary file may be left");
}
