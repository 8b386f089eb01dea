//! Snapshots (insta) of what people read: every `--help`, the main errors
//! with their hints, and the JSON summary. What changes from run to run
//! (temporary paths, ports, request ids, timestamps) is replaced before
//! comparing; no secret may reach a snapshot. In CI (`CI=true`) a mismatch
//! or a missing snapshot fails instead of writing a new file.

mod common;

use std::process::Output;

use clap::CommandFactory;
use common::*;
use fakecloud::fixtures;

const CLUSTER: &str = fixtures::TKE_CLUSTER;
const REGION: &str = fixtures::TENCENT_REGION;

/// Exit code, stdout and stderr of one run, with every secret checked out.
fn transcript(out: &Output, s: Option<&Sandbox>) -> String {
    let mut text = format!(
        "exit code: {}\n--- stdout\n{}--- stderr\n{}",
        code(out),
        stdout(out),
        stderr(out)
    );
    if let Some(s) = s {
        for home in [
            s.home.path().to_path_buf(),
            s.home.path().canonicalize().unwrap(),
        ] {
            text = text.replace(&home.display().to_string(), "[HOME]");
        }
    }
    assert_no_secrets(&text);
    text
}

fn assert_no_secrets(text: &str) {
    let secrets = [
        fixtures::TENCENT_SECRET_KEY,
        fixtures::TENCENT_TMP_SECRET_KEY,
        fixtures::TENCENT_TMP_TOKEN,
        fixtures::ALIBABA_ACCESS_KEY_SECRET,
        fixtures::ALIBABA_STS_ACCESS_KEY_SECRET,
        fixtures::ALIBABA_STS_TOKEN,
        fixtures::HUAWEI_SK,
        fixtures::HUAWEI_PASSWORD,
        WRONG_KEY,
        "PRIVATE KEY",
        "client-key-data",
    ];
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "a secret reached the output:\n{text}"
        );
    }
}

const WRONG_KEY: &str = "not-the-right-key-0000000000000";

macro_rules! assert_cli_snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            filters => vec![
                (r"(127\.0\.0\.1|localhost|\[::1\]):\d+", "$1:[PORT]"),
                (r#"/[^\s"']*?/\.tmp[A-Za-z0-9]{6}"#, "[TMP]"),
                (r"(?i)(request ?id\W{0,3})[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "$1[REQUEST_ID]"),
                (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "[TIMESTAMP]"),
                (r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "[DATE] UTC"),
            ],
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

fn help(args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("kubefetch")
        .unwrap()
        .env_clear()
        .args(args)
        .output()
        .unwrap();
    assert_code(&out, 0);
    transcript(&out, None)
}

#[test]
fn help_of_every_command() {
    assert_cli_snapshot!("help", help(&["--help"]));
    for sub in kubefetch::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        assert_cli_snapshot!(format!("help_{name}"), help(&[name, "--help"]));
    }
}

#[test]
fn help_as_the_kubectl_plugin() {
    use std::os::unix::process::CommandExt;
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("kubefetch"))
        .arg0("kubectl-fetch")
        .env_clear()
        .arg("--help")
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_cli_snapshot!("help_kubectl_fetch", transcript(&out, None));
}

#[test]
fn no_credentials() {
    let s = Sandbox::new();
    let out = s
        .kubefetch()
        .env_remove("TENCENTCLOUD_SECRET_ID")
        .env_remove("TENCENTCLOUD_SECRET_KEY")
        .args(["tke", CLUSTER, "--region", REGION])
        .output()
        .unwrap();
    assert_code(&out, 3);
    assert_cli_snapshot!("error_no_credentials", transcript(&out, Some(&s)));
}

#[test]
fn wrong_key() {
    let s = Sandbox::new();
    let out = s
        .kubefetch()
        .env("TENCENTCLOUD_SECRET_KEY", WRONG_KEY)
        .args(["tke", CLUSTER, "--region", REGION])
        .output()
        .unwrap();
    assert_code(&out, 3);
    assert_cli_snapshot!("error_wrong_key", transcript(&out, Some(&s)));
}

#[test]
fn unknown_cluster() {
    let s = Sandbox::new();
    let out = s.run(&["tke", "cls-nope", "--region", REGION]);
    assert_code(&out, 4);
    assert_cli_snapshot!("error_unknown_cluster", transcript(&out, Some(&s)));
}

#[test]
fn missing_region() {
    let s = Sandbox::new();
    let out = s
        .kubefetch()
        .env_remove("TENCENTCLOUD_REGION")
        .args(["tke", CLUSTER])
        .output()
        .unwrap();
    assert_code(&out, 2);
    assert_cli_snapshot!("error_missing_region", transcript(&out, Some(&s)));
}

#[test]
fn invalid_kubeconfig() {
    let s = Sandbox::new();
    s.write_home_file(
        ".kube/config",
        "apiVersion: v1\nkind: Config\ncontexts:\n- name: a\n  context: [not, a, mapping]\n",
    );
    let out = s.run(&["tke", CLUSTER, "--region", REGION]);
    assert_code(&out, 6);
    assert_cli_snapshot!("error_invalid_kubeconfig", transcript(&out, Some(&s)));
}

#[test]
fn lock_timeout() {
    let s = Sandbox::new();
    s.write_home_file(".kube/config.lock", "");
    let out = s
        .kubefetch()
        .env("KUBEFETCH_LOCK_TIMEOUT", "0.2")
        .args(["tke", CLUSTER, "--region", REGION])
        .output()
        .unwrap();
    assert_code(&out, 6);
    assert_cli_snapshot!("error_lock_timeout", transcript(&out, Some(&s)));
}

#[test]
fn json_summary_of_a_success_and_a_failure() {
    let s = Sandbox::new();
    let out = s.run(&[
        "tke", CLUSTER, "cls-nope", "--region", REGION, "--output", "json",
    ]);
    assert_code(&out, 4);
    assert_cli_snapshot!("fetch_json_summary", transcript(&out, Some(&s)));
}
