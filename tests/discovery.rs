//! `kubefetch discover`, `--all` and `--name` against the fake cloud's list
//! APIs: every page followed, states reported unchanged, names resolved.

mod common;

use common::{assert_code, names, progress_ending_with, stderr, stdout, yaml, Sandbox};
use fakecloud::fixtures::{ACK_CLUSTER, CCE_CLUSTER, UCS_CLUSTER};
use fakecloud::{Cluster, Fault, FaultKind, Provider};
use serde_json::Value;

/// Enough clusters in one region that every list API needs several pages.
const MANY: usize = 250;

fn json(output: &std::process::Output) -> Vec<Value> {
    serde_json::from_str::<Value>(&stdout(output))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
        .as_array()
        .expect("an array")
        .clone()
}

fn ids(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| o["clusterId"].as_str().unwrap().to_string())
        .collect()
}

fn add_many(s: &Sandbox, provider: Provider, id: impl Fn(usize) -> String) -> Vec<String> {
    (0..MANY)
        .map(|i| {
            let id = id(i);
            s.cloud
                .add_cluster(Cluster::new(provider, id.clone()).named(format!("n{i}")));
            id
        })
        .collect()
}

fn huawei_id(i: usize) -> String {
    format!("7a000000-0000-11ee-8000-{i:012}")
}

fn list_requests(s: &Sandbox, provider: Provider) -> Vec<fakecloud::Recorded> {
    s.cloud
        .requests()
        .into_iter()
        .filter(|r| r.provider == provider && r.cluster_id.is_none())
        .collect()
}

#[test]
fn tke_discovery_follows_every_page_of_describe_clusters() {
    let s = Sandbox::new();
    let added = add_many(&s, Provider::Tke, |i| format!("cls-many{i:04}"));
    let out = s.run(&["discover", "tke", "--output", "json"]);
    assert_code(&out, 0);
    let found = ids(&json(&out));
    assert_eq!(
        found.len(),
        4 + MANY,
        "fixture clusters plus the added ones"
    );
    assert!(added.iter().all(|id| found.contains(id)));
    let pages = list_requests(&s, Provider::Tke);
    assert_eq!(
        pages.len(),
        3,
        "254 clusters, 100 a page, each page asked once"
    );
    let offsets: Vec<u64> = pages
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["Offset"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(offsets, [0, 100, 200]);
    assert!(pages.iter().all(|r| r.status == 200), "signatures verified");
}

#[test]
fn ack_discovery_pages_and_without_a_region_asks_for_every_region() {
    let s = Sandbox::new();
    add_many(&s, Provider::Ack, |i| format!("cmany{i:04}"));
    s.cloud.add_cluster(
        Cluster::new(Provider::Ack, "cbeijing1")
            .in_region("cn-beijing")
            .in_state("stopped"),
    );
    let out = s.run(&[
        "discover",
        "ack",
        "--region",
        "cn-hangzhou",
        "--output",
        "json",
    ]);
    assert_code(&out, 0);
    assert_eq!(json(&out).len(), 1 + MANY);
    let pages = list_requests(&s, Provider::Ack);
    assert_eq!(pages.len(), 3);
    assert!(pages
        .iter()
        .all(|r| r.query.contains("region_id=cn-hangzhou")));

    let out = s.run(&["discover", "ack"]);
    assert_code(&out, 0);
    let table = stdout(&out);
    assert!(table.starts_with("PROVIDER"), "{table}");
    let beijing = table.lines().find(|l| l.contains("cbeijing1")).unwrap();
    let columns: Vec<&str> = beijing.split_whitespace().collect();
    assert_eq!(
        columns,
        ["ack", "cbeijing1", "cbeijing1", "cn-beijing", "stopped"]
    );
    let every_region = &list_requests(&s, Provider::Ack)[3..];
    assert!(every_region.iter().all(|r| !r.query.contains("region_id")));
}

#[test]
fn huawei_discovery_lists_cce_in_one_answer_and_pages_ucs() {
    let s = Sandbox::new();
    add_many(&s, Provider::Ucs, huawei_id);
    s.cloud
        .add_cluster(Cluster::new(Provider::Cce, huawei_id(999)).in_state("Hibernation"));
    let out = s.run(&["discover", "cce", "--output", "json"]);
    assert_code(&out, 0);
    let cce = json(&out);
    assert!(ids(&cce).contains(&CCE_CLUSTER.to_string()));
    let hibernating = cce
        .iter()
        .find(|c| c["clusterId"] == huawei_id(999))
        .unwrap();
    assert_eq!(hibernating["state"], "Hibernation");
    assert_eq!(hibernating["region"], "cn-north-4");

    let out = s.run(&["discover", "ucs", "--output", "json"]);
    assert_code(&out, 0);
    let ucs = ids(&json(&out));
    assert_eq!(ucs.len(), 2 + MANY);
    assert!(ucs.contains(&UCS_CLUSTER.to_string()));
    let pages = list_requests(&s, Provider::Ucs);
    assert_eq!(pages.len(), 3, "{pages:?}");
}

#[test]
fn a_failed_list_names_the_provider_code_and_fails_with_its_exit_code() {
    let s = Sandbox::new();
    s.cloud.inject(
        Fault::new(FaultKind::Error {
            status: 200,
            code: "UnauthorizedOperation.CamNoAuth".into(),
        })
        .for_provider(Provider::Tke),
    );
    let out = s.run(&["discover", "tke"]);
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("tke: cannot list clusters"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    s.cloud.inject(
        Fault::new(FaultKind::Status(503))
            .for_provider(Provider::Ack)
            .times(2),
    );
    let out = s.run(&["discover", "ack", "--region", "cn-hangzhou"]);
    assert_code(&out, 0);
}

#[test]
fn discover_refuses_what_the_provider_does_not_take() {
    let s = Sandbox::new();
    assert_code(&s.run(&["discover", "ucs", "--region", "cn-north-4"]), 2);
    assert_code(&s.run(&["discover", "tke", "--project-id", "p"]), 2);
    assert!(s.cloud.requests().is_empty());
}

#[test]
fn fetch_all_fetches_running_clusters_and_skips_the_others() {
    let s = Sandbox::new();
    s.cloud
        .add_cluster(Cluster::new(Provider::Tke, "cls-idle").in_state("Idling"));
    let kubeconfig = s.home.path().join("all.yaml");
    let out = s
        .kubefetch()
        .args(["tke", "--all", "--output", "json", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_code(&out, 0);
    let summary = json(&out);
    let skipped: Vec<&Value> = summary
        .iter()
        .filter(|o| o["status"] == "skipped")
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["clusterId"], "cls-idle");
    assert_eq!(skipped[0]["state"], "Idling");
    assert!(stderr(&out).contains("skipped cls-idle (Idling)"));
    let written = names(&yaml(&kubeconfig), "contexts");
    assert_eq!(
        written,
        ["tke-cls-65r1c5nu", "tke-cls-a", "tke-cls-b", "tke-cls-c"]
    );
    assert!(
        yaml(&kubeconfig)["current-context"].is_null()
            || yaml(&kubeconfig)["current-context"] == ""
    );
}

#[test]
fn fetch_all_in_a_region_without_clusters_says_so_and_writes_nothing() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("all.yaml");
    let out = s
        .kubefetch()
        .args(["tke", "--all", "--region", "ap-singapore", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("tke: no clusters found, nothing fetched"),
        "{}",
        stderr(&out)
    );
    assert!(!kubeconfig.exists());
}

#[test]
fn ack_all_without_a_region_fetches_each_cluster_in_its_own_region() {
    let s = Sandbox::new();
    s.cloud
        .add_cluster(Cluster::new(Provider::Ack, "cbeijing1").in_region("cn-beijing"));
    let kubeconfig = s.home.path().join("ack.yaml");
    let out = s
        .kubefetch()
        .args(["ack", "--all", "--kubeconfig"])
        .arg(&kubeconfig)
        .env_remove("ALIBABA_CLOUD_REGION_ID")
        .output()
        .unwrap();
    assert_code(&out, 0);
    let config = yaml(&kubeconfig);
    assert_eq!(
        names(&config, "contexts"),
        [format!("ack-{ACK_CLUSTER}"), "ack-cbeijing1".to_string()]
    );
    let region = &common::context(&config, "ack-cbeijing1")["context"]["extensions"][0]
        ["extension"]["region"];
    assert_eq!(region, "cn-beijing");
}

#[test]
fn a_name_resolves_through_discovery_and_must_match_exactly_one_cluster() {
    let s = Sandbox::new();
    s.cloud
        .add_cluster(Cluster::new(Provider::Tke, "cls-web").named("web"));
    s.cloud
        .add_cluster(Cluster::new(Provider::Tke, "cls-db1").named("db"));
    s.cloud
        .add_cluster(Cluster::new(Provider::Tke, "cls-db2").named("db"));
    let kubeconfig = s.home.path().join("named.yaml");
    let out = s
        .kubefetch()
        .args(["tke", "--name", "web", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_code(&out, 0);
    let config = yaml(&kubeconfig);
    assert_eq!(names(&config, "contexts"), ["tke-cls-web"]);
    assert_eq!(config["current-context"], "tke-cls-web");

    let before = s.cloud.requests().len();
    let out = s.run(&["tke", "--name", "nope"]);
    assert_code(&out, 4);
    assert!(
        stderr(&out).contains("no cluster named nope"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["tke", "--name", "db"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("cls-db1, cls-db2"),
        "{}",
        stderr(&out)
    );
    let fetches = s.cloud.requests()[before..]
        .iter()
        .filter(|r| r.cluster_id.is_some())
        .count();
    assert_eq!(fetches, 0, "only discovery was asked");
}

/// `--all` without a terminal: a line per cluster as its fetch ends (the
/// delayed one last), the skipped cluster, one summary line; no success is
/// said twice.
#[test]
fn fetching_every_cluster_says_each_as_it_is_fetched_without_a_terminal() {
    let s = Sandbox::new();
    s.cloud
        .add_cluster(Cluster::new(Provider::Tke, "cls-idle").in_state("Idling"));
    s.answer_late("cls-a");
    let kubeconfig = s.home.path().join("all.yaml");
    let out = s
        .kubefetch()
        .args(["tke", "--all", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_code(&out, 0);
    let text = stderr(&out);
    assert_eq!(
        progress_ending_with(&text, 4, "fetched tke cls-a"),
        [
            "fetched tke cls-65r1c5nu",
            "fetched tke cls-b",
            "fetched tke cls-c"
        ],
        "{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[4..],
        [
            "skipped cls-idle (Idling)".to_string(),
            format!(
                "Fetched into {}: 4 added, 0 updated, 1 skipped, 0 failed",
                kubeconfig.display()
            ),
        ],
        "{text}"
    );
}

#[test]
fn fetching_many_clusters_on_a_terminal_shows_a_bar_then_a_summary() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("bar.yaml");
    let path = kubeconfig.to_str().unwrap();
    let Some(pty) = s.run_on_terminal(&["tke", "--all", "--kubeconfig", path]) else {
        return;
    };
    assert_code(&pty, 0);
    let screen = String::from_utf8_lossy(&pty.stdout).into_owned();
    assert!(screen.contains("/4 clusters"), "the bar: {screen}");
    assert!(!screen.contains("] fetched tke"), "{screen}");
    assert!(!screen.contains("Added context"), "{screen}");
    assert!(
        screen.contains(&format!("Fetched into {path}: 4 added")),
        "{screen}"
    );
    let plain = s
        .kubefetch()
        .args(["tke", "cls-a", "cls-b", "--kubeconfig", path])
        .output()
        .unwrap();
    assert!(
        !stderr(&plain).contains("clusters"),
        "no bar without a terminal"
    );
}
