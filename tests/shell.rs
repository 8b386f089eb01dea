//! Shell integration: completion scripts, the man page, `--version`, and
//! kubefetch as the kubectl plugin `kubectl fetch` (DESIGN.md section 12).

mod common;

use clap::{CommandFactory, ValueEnum};
use common::*;

/// Every visible subcommand name, from the same definition the binary uses.
fn subcommands() -> Vec<String> {
    kubefetch::cli::Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect()
}

fn kubefetch(args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("kubefetch")
        .unwrap()
        .env_clear()
        .args(args)
        .output()
        .unwrap()
}

/// `word` occurs on its own, not inside another name ("man" in "command").
fn mentions(text: &str, word: &str) -> bool {
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(part_of_name) && !after.is_some_and(part_of_name)
    })
}

#[test]
fn every_completion_script_completes_every_subcommand() {
    let names = subcommands();
    assert!(names.len() >= 7, "{names:?}");
    for shell in clap_complete::Shell::value_variants() {
        let shell = shell.to_possible_value().unwrap().get_name().to_string();
        let out = kubefetch(&["completions", &shell]);
        assert_code(&out, 0);
        let script = stdout(&out);
        for name in &names {
            assert!(mentions(&script, name), "{shell} script lacks {name}");
        }
        assert!(script.contains("no-switch"), "{shell} script lacks flags");
    }
}

#[test]
fn the_bash_script_is_valid_bash() {
    let script = stdout(&kubefetch(&["completions", "bash"]));
    let Ok(mut bash) = std::process::Command::new("bash")
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("SKIPPED: bash is not installed; the bash syntax check did not run");
        return;
    };
    use std::io::Write;
    bash.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(bash.wait().unwrap().success(), "bash -n refused the script");
}

#[test]
fn another_shell_is_a_usage_error() {
    let out = kubefetch(&["completions", "tcsh"]);
    assert_code(&out, 2);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("possible values"), "{}", stderr(&out));
}

#[test]
fn the_man_page_has_a_section_for_every_subcommand() {
    let out = kubefetch(&["man"]);
    assert_code(&out, 0);
    let page = stdout(&out);
    assert!(page.contains(".TH kubefetch 1"), "{page}");
    for name in subcommands() {
        let heading = format!(".SH \"KUBEFETCH {}\"", name.to_uppercase());
        assert!(page.contains(&heading), "no {heading}");
    }
    // Options of the subcommands are on the page, and the environment.
    assert!(page.contains("\\-\\-insecure\\-skip\\-tls\\-verify"));
    assert!(page.contains("KUBEFETCH_LOCK_TIMEOUT"));
}

#[test]
fn version_names_the_version_and_the_commit() {
    let out = kubefetch(&["--version"]);
    assert_code(&out, 0);
    let line = stdout(&out);
    let expected = format!("kubefetch {}\n", kubefetch::version::text());
    assert_eq!(line, expected);
    assert!(line.starts_with(&format!("kubefetch {} (", env!("CARGO_PKG_VERSION"))));
}

/// A directory holding `kubectl-fetch`, a link to the built binary, as a user
/// installs the plugin.
fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let binary = assert_cmd::cargo::cargo_bin("kubefetch");
    std::os::unix::fs::symlink(binary, dir.path().join("kubectl-fetch")).unwrap();
    dir
}

fn kubectl_with_plugin(s: &Sandbox, plugins: &std::path::Path) -> Option<std::process::Command> {
    let kubectl = kubectl()?;
    let mut path = vec![plugins.to_path_buf()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut cmd = std::process::Command::new(kubectl);
    cmd.env_clear()
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("HOME", s.home.path())
        .env("KUBEFETCH_LOCK_TIMEOUT", "2")
        .envs(s.cloud.env());
    Some(cmd)
}

#[test]
fn kubectl_runs_it_as_the_fetch_plugin() {
    let s = Sandbox::new();
    let plugins = plugin_dir();
    let Some(mut help) = kubectl_with_plugin(&s, plugins.path()) else {
        return;
    };
    let out = help.args(["fetch", "--help"]).output().unwrap();
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("Usage: kubectl fetch <COMMAND>"),
        "{}",
        stdout(&out)
    );

    let mut fetch = kubectl_with_plugin(&s, plugins.path()).unwrap();
    let out = fetch
        .args(["fetch", "tke", "cls-65r1c5nu", "--region", "ap-guangzhou"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("Added context tke-cls-65r1c5nu"),
        "{}",
        stderr(&out)
    );
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(config["current-context"].as_str(), Some("tke-cls-65r1c5nu"));
    assert_kubectl_accepts(&s.default_kubeconfig(), "tke-cls-65r1c5nu");

    // Usage errors name the plugin and keep the contract's exit code.
    let mut bad = kubectl_with_plugin(&s, plugins.path()).unwrap();
    let out = bad.args(["fetch", "tke"]).output().unwrap();
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("Usage: kubectl fetch tke"),
        "{}",
        stderr(&out)
    );
}
