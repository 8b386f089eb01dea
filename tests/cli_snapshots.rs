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
    mask_spans(&text)
}

/// `list`'s relative expiry (`in 7304d`, `expired 3h ago`) with each digit
/// as `N`: the number changes with the day, the table's alignment must not.
fn mask_spans(text: &str) -> String {
    text.char_indices()
        .map(|(at, c)| {
            let before = text[..at].trim_end_matches(|d: char| d.is_ascii_digit());
            let in_span = ["(in ", "(expired "].iter().any(|p| before.ends_with(p));
            if c.is_ascii_digit() && in_span {
                'N'
            } else {
                c
            }
        })
        .collect()
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

/// Every committed snapshot, whichever test wrote it, is free of secrets.
#[test]
fn no_snapshot_holds_a_secret() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "snap") {
            assert_no_secrets(&std::fs::read_to_string(&path).unwrap());
            read += 1;
        }
    }
    assert!(read >= 10, "only {read} snapshots found");
}

macro_rules! assert_cli_snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            filters => vec![
                (r"(127\.0\.0\.1|localhost|\[::1\]):\d+", "$1:[PORT]"),
                (r#"/[^\s"']*?/\.tmp[A-Za-z0-9]{6}"#, "[TMP]"),
                (r"(?i)(request ?id\W{0,3})[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "$1[REQUEST_ID]"),
                (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "[TIMESTAMP]"),
                (r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "[DATE] UTC"),
                // list's EXPIRES column: same width, so the table stays aligned.
                (r"\d{4}-\d\d-\d\d \d\d:\d\d", "YYYY-MM-DD HH:MM"),
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

/// One run of `kubefetch ARGS` in a fresh sandbox that `prepare` adjusts
/// (environment, files), expected to exit with `expected`.
fn sandboxed(
    args: &[&str],
    expected: i32,
    prepare: impl FnOnce(&Sandbox, &mut assert_cmd::Command),
) -> String {
    let s = Sandbox::new();
    let mut cmd = s.kubefetch();
    prepare(&s, &mut cmd);
    let out = cmd.args(args).output().unwrap();
    assert_code(&out, expected);
    transcript(&out, Some(&s))
}

const FETCH: [&str; 4] = ["tke", CLUSTER, "--region", REGION];

#[test]
fn no_credentials() {
    let text = sandboxed(&FETCH, 3, |_, cmd| {
        cmd.env_remove("TENCENTCLOUD_SECRET_ID")
            .env_remove("TENCENTCLOUD_SECRET_KEY");
    });
    assert_cli_snapshot!("error_no_credentials", text);
}

#[test]
fn wrong_key() {
    let text = sandboxed(&FETCH, 3, |_, cmd| {
        cmd.env("TENCENTCLOUD_SECRET_KEY", WRONG_KEY);
    });
    assert_cli_snapshot!("error_wrong_key", text);
}

#[test]
fn unknown_cluster() {
    let text = sandboxed(&["tke", "cls-nope", "--region", REGION], 4, |_, _| {});
    assert_cli_snapshot!("error_unknown_cluster", text);
}

#[test]
fn missing_region() {
    let text = sandboxed(&["tke", CLUSTER], 2, |_, cmd| {
        cmd.env_remove("TENCENTCLOUD_REGION");
    });
    assert_cli_snapshot!("error_missing_region", text);
}

#[test]
fn invalid_kubeconfig() {
    let text = sandboxed(&FETCH, 6, |s, _| {
        s.write_home_file(
            ".kube/config",
            "apiVersion: v1\nkind: Config\ncontexts:\n- name: a\n  context: [not, a, mapping]\n",
        );
    });
    assert_cli_snapshot!("error_invalid_kubeconfig", text);
}

#[test]
fn lock_timeout() {
    let text = sandboxed(&FETCH, 6, |s, cmd| {
        s.write_home_file(".kube/config.lock", "");
        cmd.env("KUBEFETCH_LOCK_TIMEOUT", "0.2");
    });
    assert_cli_snapshot!("error_lock_timeout", text);
}

#[test]
fn json_summary_of_a_success_and_a_failure() {
    let args = [
        "tke", CLUSTER, "cls-nope", "--region", REGION, "--output", "json",
    ];
    // The failure answers late, so that the progress lines keep one order.
    let text = sandboxed(&args, 4, |s, _| s.answer_late("cls-nope"));
    assert_cli_snapshot!("fetch_json_summary", text);
}

/// `list` over a set of two files: a context of the user's own (current),
/// a public TKE fetch in the first file and a private ACK fetch with a TTL
/// in the second.
#[test]
fn list_table_and_json() {
    let s = Sandbox::new();
    let first = s.write_home_file(
        "kube/first",
        "apiVersion: v1\nkind: Config\n\
         clusters:\n- name: mine\n  cluster: {server: 'https://10.0.0.1:6443'}\n\
         users:\n- name: mine\n  user: {}\n\
         contexts:\n- name: mine\n  context: {cluster: mine, user: mine}\n\
         current-context: mine\n",
    );
    let second = s.home.path().join("kube/second");
    let (first, second) = (first.to_str().unwrap(), second.to_str().unwrap());
    let fetches: [&[&str]; 2] = [
        &["tke", CLUSTER, "--kubeconfig", first, "--no-switch"],
        &[
            "ack",
            fixtures::ACK_CLUSTER,
            "--private",
            "--ttl",
            "3h",
            "--kubeconfig",
            second,
        ],
    ];
    for args in fetches {
        assert_code(&s.run(args), 0);
    }
    let list = |args: &[&str]| {
        let out = s
            .kubefetch()
            .env("KUBECONFIG", format!("{first}:{second}"))
            .args(args)
            .output()
            .unwrap();
        assert_code(&out, 0);
        transcript(&out, Some(&s))
    };
    assert_cli_snapshot!("list_table", list(&["list"]));
    assert_cli_snapshot!("list_table_all", list(&["list", "--all"]));
    assert_cli_snapshot!(
        "list_table_one_file",
        list(&["list", "--all", "--kubeconfig", first])
    );
    assert_cli_snapshot!(
        "list_json_all",
        list(&["list", "--all", "--output", "json"])
    );
}

/// `discover` of the fake cloud's TKE clusters in one region: the table
/// and the JSON objects of DESIGN.md section 9.
#[test]
fn discover_table_and_json() {
    let s = Sandbox::new();
    let discover = |args: &[&str]| {
        let out = s.run(args);
        assert_code(&out, 0);
        transcript(&out, Some(&s))
    };
    assert_cli_snapshot!(
        "discover_table",
        discover(&["discover", "tke", "--region", REGION])
    );
    assert_cli_snapshot!(
        "discover_json",
        discover(&["discover", "tke", "--region", REGION, "--output", "json"])
    );
}
