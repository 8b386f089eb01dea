//! `kubefetch sync FILE` against the fake cloud: mixed outcomes in one
//! write, pruning only this fleet's contexts, idempotence, a dry run that
//! fetches nothing, invalid files refused before any request, and progress
//! with and without a terminal.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_code, big_kubeconfig, context, names, stderr, stdout, yaml, Sandbox};
use fakecloud::fixtures::{ACK_CLUSTER, CCE_CLUSTER, TKE_CLUSTER};
use fakecloud::{Cluster, Provider};
use serde_json::Value;

fn fleet(s: &Sandbox, name: &str, clusters: &str) -> PathBuf {
    s.write_home_file(
        &format!("{name}.yaml"),
        &format!("apiVersion: kubefetch/v1\nkind: Fleet\nname: {name}\nclusters:\n{clusters}"),
    )
}

/// `kubefetch sync FILE --kubeconfig KUBECONFIG`, to add to before it runs.
fn sync_command(s: &Sandbox, file: &Path, kubeconfig: &Path) -> assert_cmd::Command {
    let mut cmd = s.kubefetch();
    cmd.arg("sync")
        .arg(file)
        .arg("--kubeconfig")
        .arg(kubeconfig);
    cmd
}

fn sync(s: &Sandbox, file: &Path, kubeconfig: &Path, extra: &[&str]) -> std::process::Output {
    sync_command(s, file, kubeconfig)
        .args(extra)
        .output()
        .unwrap()
}

fn summary(output: &std::process::Output) -> Vec<Value> {
    serde_json::from_str::<Value>(&stdout(output))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
        .as_array()
        .unwrap()
        .clone()
}

fn fetch_requests(s: &Sandbox) -> usize {
    s.cloud
        .requests()
        .iter()
        .filter(|r| r.cluster_id.is_some())
        .count()
}

fn fleet_of(config: &Value, name: &str) -> Value {
    context(config, name)["context"]["extensions"][0]["extension"]["fleet"].clone()
}

#[test]
fn failures_are_reported_and_every_success_is_written_in_one_write() {
    let s = Sandbox::new();
    let file = fleet(
        &s,
        "platform",
        &format!(
            "- {{provider: tke, ids: [cls-a, cls-nope]}}\n- {{provider: ack, region: cn-hangzhou, ids: [{ACK_CLUSTER}], ttl: 3h}}\n"
        ),
    );
    let kubeconfig = s.home.path().join("config");
    let out = sync(&s, &file, &kubeconfig, &["--output", "json"]);
    assert_code(&out, 4);
    let rows = summary(&out);
    let actions: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["context"].as_str().unwrap(),
                r["action"].as_str().unwrap(),
            )
        })
        .collect();
    let ack = format!("ack-{ACK_CLUSTER}");
    assert_eq!(
        actions,
        [
            ("tke-cls-a", "added"),
            ("tke-cls-nope", "failed"),
            (ack.as_str(), "added")
        ]
    );
    assert_eq!(rows[1]["error"]["kind"], "not_found");
    let config = yaml(&kubeconfig);
    assert_eq!(names(&config, "contexts"), ["tke-cls-a", ack.as_str()]);
    assert_eq!(fleet_of(&config, "tke-cls-a"), "platform");
    assert_eq!(
        context(&config, &ack)["context"]["extensions"][0]["extension"]["ttl"],
        180
    );
    assert!(config["current-context"].is_null(), "sync never switches");
}

#[test]
fn a_provider_without_credentials_fails_its_entries_and_the_others_are_written() {
    let s = Sandbox::new();
    let file = fleet(
        &s,
        "platform",
        &format!("- {{provider: ack, ids: [{ACK_CLUSTER}]}}\n- {{provider: tke, ids: [cls-a]}}\n"),
    );
    let kubeconfig = s.home.path().join("config");
    let out = sync_command(&s, &file, &kubeconfig)
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .output()
        .unwrap();
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("ack: no Alibaba Cloud credentials found"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names(&yaml(&kubeconfig), "contexts"), ["tke-cls-a"]);
}

#[test]
fn prune_removes_only_this_fleets_contexts_that_the_file_no_longer_lists() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("config");
    let platform = fleet(&s, "platform", "- {provider: tke, ids: [cls-a, cls-b]}\n");
    assert_code(&sync(&s, &platform, &kubeconfig, &[]), 0);
    let other = fleet(
        &s,
        "other",
        &format!("- {{provider: tke, ids: [{TKE_CLUSTER}]}}\n"),
    );
    assert_code(&sync(&s, &other, &kubeconfig, &[]), 0);
    let by_hand = s
        .kubefetch()
        .args(["tke", "cls-c", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_code(&by_hand, 0);
    assert_eq!(yaml(&kubeconfig)["current-context"], "tke-cls-c");
    // A foreign context of the same shape, and the current context set to a doomed one.
    let mut text = std::fs::read_to_string(&kubeconfig).unwrap();
    text = text.replace("current-context: tke-cls-c", "current-context: tke-cls-b");
    std::fs::write(&kubeconfig, text).unwrap();
    let foreign = s.write_home_file(
        "foreign.yaml",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: mine\n  cluster: {server: 'https://10.0.0.1'}\nusers:\n- name: mine\n  user: {token: t}\ncontexts:\n- name: mine\n  context: {cluster: mine, user: mine}\n",
    );
    let merged = s
        .kubefetch()
        .args(["list", "--all"])
        .env(
            "KUBECONFIG",
            format!("{}:{}", kubeconfig.display(), foreign.display()),
        )
        .output()
        .unwrap();
    assert_code(&merged, 0);

    let shrunk = fleet(&s, "platform", "- {provider: tke, ids: [cls-a]}\n");
    let dry = sync(&s, &shrunk, &kubeconfig, &["--prune", "--dry-run"]);
    assert_code(&dry, 0);
    let plan: Vec<Vec<String>> = stdout(&dry)
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert_eq!(
        plan,
        [
            vec!["ACTION", "CONTEXT", "PROVIDER", "CLUSTER"],
            vec!["update", "tke-cls-a", "tke", "cls-a"],
            vec!["prune", "tke-cls-b", "tke", "cls-b"],
        ]
    );
    let out = sync(&s, &shrunk, &kubeconfig, &["--prune", "--output", "json"]);
    assert_code(&out, 0);
    let rows = summary(&out);
    assert_eq!(rows.last().unwrap()["action"], "pruned");
    assert_eq!(rows.last().unwrap()["context"], "tke-cls-b");
    let config = yaml(&kubeconfig);
    assert_eq!(
        names(&config, "contexts"),
        [
            "tke-cls-a",
            format!("tke-{TKE_CLUSTER}").as_str(),
            "tke-cls-c"
        ]
    );
    assert!(!names(&config, "clusters").contains(&"tke-cls-b".to_string()));
    assert!(!names(&config, "users").contains(&"tke-cls-b".to_string()));
    assert!(
        config["current-context"].is_null(),
        "the pruned current context is unset"
    );
    assert!(
        stderr(&out).contains("current-context was tke-cls-b"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fleet_of(&config, &format!("tke-{TKE_CLUSTER}")), "other");
    assert!(fleet_of(&config, "tke-cls-c").is_null());
}

#[test]
fn a_hand_fetched_context_listed_by_the_fleet_joins_it_and_a_second_sync_changes_nothing() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("config");
    let by_hand = s
        .kubefetch()
        .args(["tke", "cls-a", "--no-switch", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_code(&by_hand, 0);
    let file = fleet(&s, "platform", "- {provider: tke, ids: [cls-a, cls-b]}\n");
    let first = sync(&s, &file, &kubeconfig, &["--output", "json", "--prune"]);
    assert_code(&first, 0);
    let actions: Vec<Value> = summary(&first)
        .iter()
        .map(|r| r["action"].clone())
        .collect();
    assert_eq!(actions, ["updated", "added"]);
    let after_first = yaml(&kubeconfig);
    assert_eq!(fleet_of(&after_first, "tke-cls-a"), "platform");

    let second = sync(&s, &file, &kubeconfig, &["--output", "json", "--prune"]);
    assert_code(&second, 0);
    let actions: Vec<Value> = summary(&second)
        .iter()
        .map(|r| r["action"].clone())
        .collect();
    assert_eq!(actions, ["updated", "updated"]);
    let after_second = yaml(&kubeconfig);
    for section in ["contexts", "clusters", "users"] {
        assert_eq!(names(&after_first, section), names(&after_second, section));
    }
}

#[test]
fn a_dry_run_sends_no_fetch_request_and_writes_nothing() {
    let s = Sandbox::new();
    s.cloud.add_cluster(
        Cluster::new(Provider::Cce, "7a000000-0000-11ee-8000-000000000001").in_state("Hibernation"),
    );
    let file = fleet(
        &s,
        "platform",
        "- {provider: tke, ids: [cls-a, cls-b]}\n- {provider: cce, all: true}\n",
    );
    let kubeconfig = s.home.path().join("config");
    let out = sync(&s, &file, &kubeconfig, &["--dry-run", "--output", "json"]);
    assert_code(&out, 0);
    let plan = summary(&out);
    let contexts: Vec<&str> = plan
        .iter()
        .map(|p| p["context"].as_str().unwrap())
        .collect();
    let cce = format!("cce-{CCE_CLUSTER}");
    assert!(
        contexts.contains(&"tke-cls-a") && contexts.contains(&cce.as_str()),
        "{contexts:?}"
    );
    assert!(plan.iter().all(|p| p["action"] == "add"));
    assert_eq!(fetch_requests(&s), 0, "only discovery was asked");
    assert!(s
        .cloud
        .requests()
        .iter()
        .any(|r| r.provider == Provider::Cce));
    assert!(!kubeconfig.exists());
}

#[test]
fn all_true_fetches_running_clusters_and_skips_the_others() {
    let s = Sandbox::new();
    s.cloud
        .add_cluster(Cluster::new(Provider::Tke, "cls-idle").in_state("Idling"));
    let file = fleet(&s, "platform", "- {provider: tke, all: true}\n");
    let kubeconfig = s.home.path().join("config");
    let out = sync(
        &s,
        &file,
        &kubeconfig,
        &["--output", "json", "--concurrency", "2"],
    );
    assert_code(&out, 0);
    let rows = summary(&out);
    let idle = rows.iter().find(|r| r["clusterId"] == "cls-idle").unwrap();
    assert_eq!(idle["status"], "skipped");
    assert_eq!(names(&yaml(&kubeconfig), "contexts").len(), 4);
}

/// A cluster listed by id, even under another name, is not fetched again by
/// `all: true`; another cluster found under a listed context's name is
/// reported (exit 2), never dropped in silence.
#[test]
fn all_true_leaves_listed_clusters_to_their_entry_and_reports_a_name_clash() {
    let s = Sandbox::new();
    let file = fleet(
        &s,
        "platform",
        &format!(
            "- {{provider: tke, ids: [cls-a], context: prod}}\n\
             - {{provider: ack, ids: [{ACK_CLUSTER}], context: tke-cls-b}}\n\
             - {{provider: tke, all: true}}\n"
        ),
    );
    let kubeconfig = s.home.path().join("config");
    let out = sync(&s, &file, &kubeconfig, &["--output", "json"]);
    assert_code(&out, 2);
    let rows = summary(&out);
    let of = |id: &str| -> Vec<&Value> { rows.iter().filter(|r| r["clusterId"] == id).collect() };
    assert_eq!(of("cls-a").len(), 1, "cls-a once, as prod: {rows:?}");
    assert_eq!(of("cls-a")[0]["context"], "prod");
    let clash = of("cls-b");
    assert_eq!(clash.len(), 1, "{rows:?}");
    assert_eq!(clash[0]["status"], "error");
    assert_eq!(clash[0]["error"]["kind"], "usage");
    assert!(stderr(&out).contains("tke-cls-b is the `context` another entry gives"));
    let contexts = names(&yaml(&kubeconfig), "contexts");
    assert!(contexts.contains(&"prod".to_string()), "{contexts:?}");
    assert!(!contexts.contains(&"tke-cls-a".to_string()), "{contexts:?}");
    let config = yaml(&kubeconfig);
    let taken = &context(&config, "tke-cls-b")["context"]["extensions"][0];
    assert_eq!(
        taken["extension"]["provider"], "ack",
        "the listed cluster keeps its name"
    );
}

#[test]
fn invalid_fleet_files_are_exit_2_naming_line_and_key_with_nothing_sent() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("config");
    std::fs::write(&kubeconfig, "apiVersion: v1\nkind: Config\n").unwrap();
    let cases = [
        (
            "- {provider: tke, ids: [cls-a], colour: red}\n",
            ":5: clusters[0].colour: unknown key",
        ),
        (
            "- {provider: tke, ids: cls-a}\n",
            ":5: clusters[0].ids: expected a list",
        ),
        (
            "- {provider: gke, ids: [cls-a]}\n",
            ":5: clusters[0].provider: unknown provider",
        ),
        (
            "- provider: tke\n  ids: [cls-a, cls-b]\n  context: prod\n",
            ":7: clusters[0].context:",
        ),
        (
            "- {provider: tke, ids: [cls-a]}\n- {provider: tke, ids: [cls-a]}\n",
            ":6: clusters[1].ids[0]: context name tke-cls-a",
        ),
        (
            "- {provider: tke, ids: ['cls a']}\n",
            ":5: clusters[0].ids[0]: malformed cluster id",
        ),
        (
            "- {provider: tke, ids: [cls-a], ttl: 1h}\n",
            ":5: clusters[0].ttl: tke does not take ttl",
        ),
    ];
    for (entries, expected) in cases {
        let file = fleet(&s, "bad", entries);
        let out = sync(&s, &file, &kubeconfig, &[]);
        assert_code(&out, 2);
        let message = stderr(&out);
        assert!(
            message.contains(&format!("{}{expected}", file.display())),
            "{message}\n  expected {expected}"
        );
    }
    assert!(s.cloud.requests().is_empty());
    assert_eq!(
        std::fs::read_to_string(&kubeconfig).unwrap(),
        "apiVersion: v1\nkind: Config\n"
    );
}

#[test]
fn progress_is_a_line_per_cluster_without_a_terminal_and_a_bar_on_one() {
    let s = Sandbox::new();
    let file = fleet(
        &s,
        "platform",
        "- {provider: tke, ids: [cls-a, cls-b, cls-c]}\n",
    );
    let kubeconfig = s.home.path().join("config");
    let out = sync(&s, &file, &kubeconfig, &[]);
    assert_code(&out, 0);
    let text = stderr(&out);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("] fetched tke"))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines.iter().any(|l| l.starts_with("[3/3]")), "{text}");
    assert!(text.contains("Synced"), "{text}");

    let quiet = sync(&s, &file, &kubeconfig, &["-q"]);
    assert_code(&quiet, 0);
    assert!(stderr(&quiet).is_empty(), "{}", stderr(&quiet));

    // Under a pseudo-terminal: the bar replaces the lines.
    let (file, kubeconfig) = (file.to_str().unwrap(), kubeconfig.to_str().unwrap());
    let Some(pty) = s.run_on_terminal(&["sync", file, "--kubeconfig", kubeconfig]) else {
        return;
    };
    assert_code(&pty, 0);
    let screen = String::from_utf8_lossy(&pty.stdout).into_owned();
    assert!(screen.contains("/3 clusters"), "the bar: {screen}");
    assert!(!screen.contains("] fetched tke"), "{screen}");
    assert!(screen.contains("Synced"), "{screen}");
}

#[test]
fn an_exec_entry_writes_a_user_that_runs_kubefetch_and_no_key() {
    let s = Sandbox::new();
    let file = fleet(
        &s,
        "platform",
        &format!("- {{provider: ack, ids: [{ACK_CLUSTER}], exec: true}}\n- {{provider: tke, ids: [cls-a]}}\n"),
    );
    let kubeconfig = s.home.path().join("config");
    let out = sync_command(&s, &file, &kubeconfig)
        .env("KUBEFETCH_EXEC_COMMAND", "kubefetch")
        .output()
        .unwrap();
    assert_code(&out, 0);
    let config = yaml(&kubeconfig);
    let name = format!("ack-{ACK_CLUSTER}");
    let user = config["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name.as_str())
        .unwrap();
    assert_eq!(user["user"]["exec"]["command"], "kubefetch");
    assert!(user["user"]["client-key-data"].is_null());
    let provenance = &context(&config, &name)["context"]["extensions"][0]["extension"];
    assert_eq!(provenance["exec"], true);
    assert_eq!(provenance["ttl"], 60, "exec's default lifetime for ack");
    assert_eq!(provenance["fleet"], "platform");
}

#[test]
fn a_sync_interrupted_while_it_writes_leaves_the_old_file_or_the_new_one() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};
    let s = Sandbox::new();
    let file = fleet(&s, "platform", "- {provider: tke, ids: [cls-a, cls-b]}\n");
    let original = big_kubeconfig(20_000);
    let kubeconfig = s.write_home_file("kube/config", &original);
    std::fs::set_permissions(&kubeconfig, std::fs::Permissions::from_mode(0o600)).unwrap();
    let lock = PathBuf::from(format!("{}.lock", kubeconfig.display()));
    for signal in [libc::SIGINT, libc::SIGKILL] {
        let mut child = s
            .command()
            .arg("sync")
            .arg(&file)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !lock.exists() && child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the lock never appeared");
            std::thread::sleep(Duration::from_micros(200));
        }
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, signal) };
        let status = child.wait().unwrap();
        assert!(
            status.signal() == Some(signal) || status.success(),
            "{status:?}"
        );
        let text = std::fs::read_to_string(&kubeconfig).unwrap();
        let contexts = names(&yaml(&kubeconfig), "contexts");
        let new = contexts.len() == 20_002 && contexts.contains(&"tke-cls-b".to_string());
        assert!(
            text == original || new,
            "signal {signal}: neither the old file nor the new one"
        );
        if signal == libc::SIGINT {
            assert!(!lock.exists(), "SIGINT left {}", lock.display());
        } else {
            let _ = std::fs::remove_file(&lock);
        }
        std::fs::write(&kubeconfig, &original).unwrap();
    }
}
