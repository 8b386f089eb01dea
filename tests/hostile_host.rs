//! The README's promises on the hosts CI jobs and shared machines really
//! are: running as root, special files as targets, read-only and other
//! users' files, signals while the lock is held, several `$KUBECONFIG`
//! files.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use fakecloud::fixtures::*;

const TKE: [&str; 4] = ["tke", TKE_CLUSTER, "--region", TENCENT_REGION];

/// The uid and gid the "other user" tests run kubefetch as, when root.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
}

// ------------------------------------------------------------ target files

/// A device to aim at: as root (CI containers), a private copy of
/// /dev/null, so that a regression cannot replace the real one.
fn null_device(dir: &Path) -> PathBuf {
    if !is_root() {
        return PathBuf::from("/dev/null");
    }
    let path = dir.join("null");
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; (1, 3) is the null device.
    let made = unsafe { libc::mknod(c_path.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(made, 0, "{}", std::io::Error::last_os_error());
    path
}

#[test]
fn a_target_that_is_not_a_regular_file_is_exit_6_before_any_request() {
    let s = Sandbox::new();
    let fifo = s.home.path().join("fifo");
    mkfifo(&fifo);
    let device = null_device(s.home.path());
    let device_before = std::fs::symlink_metadata(&device).unwrap();
    for (how, target) in [
        ("KUBECONFIG", device.display().to_string()),
        ("--kubeconfig", device.display().to_string()),
        ("--kubeconfig", fifo.display().to_string()),
        ("--kubeconfig", s.home.path().display().to_string()),
    ] {
        let mut cmd = s.kubefetch();
        cmd.args(TKE);
        if how == "KUBECONFIG" {
            cmd.env("KUBECONFIG", &target);
        } else {
            cmd.args([how, &target]);
        }
        let out = cmd.timeout(Duration::from_secs(20)).output().unwrap();
        assert_code(&out, 6);
        let err = stderr(&out);
        assert!(
            err.contains(&target) && err.contains("not a regular file"),
            "{err}"
        );
        assert!(!err.contains("chmod"), "{err}");
    }
    assert!(s.cloud.requests().is_empty(), "{:?}", s.cloud.requests());
    let device_after = std::fs::symlink_metadata(&device).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &device_after.file_type()
    ));
    assert_eq!(device_after.ino(), device_before.ino());
    assert!(!s.default_kubeconfig().exists());
    assert!(dir_entries(s.home.path())
        .iter()
        .all(|name| name == "fifo" || name == "null"));
}

#[test]
fn ucs_agent_refuses_a_pipe_or_device_before_spending_the_one_time_bundle() {
    let s = Sandbox::new();
    let device = null_device(s.home.path());
    // What /dev/stdout is, in the sandbox: a regression must not replace
    // the real one.
    let stdout_link = s.home.path().join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &stdout_link).unwrap();
    for out_path in [&stdout_link, &device] {
        // stdout is a pipe here, as in `kubefetch ucs-agent ... --out /dev/stdout | wc -c`.
        let out = s.run(&[
            "ucs-agent",
            UCS_ATTACHED_CLUSTER,
            "--out",
            out_path.to_str().unwrap(),
            "--force",
        ]);
        assert_code(&out, 6);
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
    }
    assert!(s.cloud.requests().is_empty(), "{:?}", s.cloud.requests());
    assert!(std::fs::symlink_metadata(&stdout_link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn ucs_agent_writes_through_a_dangling_symlink() {
    let s = Sandbox::new();
    let real = s.home.path().join("bundles").join("agent.yaml");
    std::fs::create_dir(real.parent().unwrap()).unwrap();
    let link = s.home.path().join("agent.yaml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = s.run(&[
        "ucs-agent",
        UCS_ATTACHED_CLUSTER,
        "--out",
        link.to_str().unwrap(),
    ]);
    assert_code(&out, 0);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().contains("kind:"));
    assert!(!stderr(&out).contains("recovery"), "{}", stderr(&out));
}

#[test]
fn a_file_its_owner_may_not_write_is_refused_as_kubectl_does() {
    let s = Sandbox::new();
    let original = "apiVersion: v1\nkind: Config\n";
    let config = s.write_home_file(".kube/config", original);
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o400)).unwrap();
    let mut cmd = s.command();
    if is_root() {
        // Root may write anything, as kubectl run by root would: be a user.
        for path in [
            s.home.path().to_path_buf(),
            s.home.path().join(".kube"),
            config.clone(),
        ] {
            std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        cmd.uid(NOBODY).gid(NOBODY);
    }
    let out = cmd.args(TKE).output().unwrap();
    assert_code(&out, 6);
    let err = stderr(&out);
    assert!(err.contains("not writable"), "{err}");
    assert!(s.cloud.requests().is_empty(), "{:?}", s.cloud.requests());
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o400
    );
}

#[test]
fn root_keeps_the_owner_of_a_users_kubeconfig() {
    if !is_root() {
        eprintln!("SKIPPED: only root can write another user's kubeconfig");
        return;
    }
    let s = Sandbox::new();
    let config = s.write_home_file(".kube/config", "apiVersion: v1\nkind: Config\n");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&config, Some(NOBODY), Some(NOBODY)).unwrap();
    assert_code(&s.run(&TKE), 0);
    let meta = std::fs::metadata(&config).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY));
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        names(&yaml(&config), "contexts"),
        [format!("tke-{TKE_CLUSTER}")]
    );
}

#[test]
fn of_several_kubeconfig_files_the_first_existing_one_gets_a_new_context() {
    let s = Sandbox::new();
    let missing = s.home.path().join("missing");
    let existing = s.write_home_file("existing", "apiVersion: v1\nkind: Config\n");
    let later = s.write_home_file("later", "apiVersion: v1\nkind: Config\n");
    fetch_with_kubeconfig_list(&s, &[&missing, &existing, &later]);
    assert!(!missing.exists());
    assert_eq!(
        names(&yaml(&existing), "contexts"),
        [format!("tke-{TKE_CLUSTER}")]
    );
    assert!(names(&yaml(&later), "contexts").is_empty());

    // None exists: kubectl writes the last one.
    let first = s.home.path().join("none-1");
    let last = s.home.path().join("none-2");
    fetch_with_kubeconfig_list(&s, &[&first, &last]);
    assert!(!first.exists());
    assert_eq!(
        names(&yaml(&last), "contexts"),
        [format!("tke-{TKE_CLUSTER}")]
    );
}

fn fetch_with_kubeconfig_list(s: &Sandbox, files: &[&Path]) {
    let list: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let out = s
        .kubefetch()
        .env("KUBECONFIG", list.join(":"))
        .args(TKE)
        .output()
        .unwrap();
    assert_code(&out, 0);
}

// ------------------------------------------------------------------ signals

#[test]
fn sigterm_or_sigint_while_the_lock_is_held_removes_the_lock_and_temp_file() {
    let s = Sandbox::new();
    let original = big_kubeconfig(20_000);
    let config = s.write_home_file(".kube/config", &original);
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let lock = PathBuf::from(format!("{}.lock", config.display()));
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut child = s
            .command()
            .args(TKE)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !lock.exists() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "kubefetch ended before the lock was seen"
            );
            assert!(Instant::now() < deadline, "the lock never appeared");
            std::thread::sleep(Duration::from_micros(200));
        }
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: signalling our own child.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "{status:?}");
        assert!(!lock.exists(), "signal {signal} left {}", lock.display());
        assert_eq!(
            dir_entries(&s.home.path().join(".kube")),
            ["config"],
            "signal {signal}"
        );
        assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    }
}

// -------------------------------------------------------------------- names

#[test]
fn a_context_name_is_not_silently_repointed_to_another_cluster() {
    let s = Sandbox::new();
    let config = s.default_kubeconfig();
    let fetch = |args: &[&str]| s.run(args);
    assert_code(
        &fetch(&[
            "tke",
            "cls-a",
            "--region",
            TENCENT_REGION,
            "--context",
            "prod",
        ]),
        0,
    );
    let before = std::fs::read(&config).unwrap();
    let out = fetch(&["ack", ACK_CLUSTER, "--context", "prod"]);
    assert_code(&out, 6);
    let err = stderr(&out);
    assert!(
        err.contains("tke cluster cls-a in ap-guangzhou")
            && err.contains(&format!("ack cluster {ACK_CLUSTER}"))
            && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(&config).unwrap(), before);

    assert_code(&fetch(&["tke", "cls-a", "--region", TENCENT_REGION]), 0);
    let out = fetch(&[
        "tke",
        "cls-b",
        "--region",
        TENCENT_REGION,
        "--context",
        "tke-cls-a",
    ]);
    assert_code(&out, 6);
    assert!(
        stderr(&out).contains("tke cluster cls-b"),
        "{}",
        stderr(&out)
    );

    // Asked for explicitly, it is done.
    let out = fetch(&["ack", ACK_CLUSTER, "--context", "prod", "--force"]);
    assert_code(&out, 0);
    let written = yaml(&config);
    let provenance = &context(&written, "prod")["context"]["extensions"][0]["extension"];
    assert_eq!(provenance["provider"], "ack");
    assert_eq!(provenance["clusterId"], ACK_CLUSTER);
}

// ------------------------------------------------------------------ proxies

/// A proxy that records the head of every request it gets and refuses it.
struct RecordingProxy {
    url: String,
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl RecordingProxy {
    fn start() -> RecordingProxy {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorded = heads.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let n = stream.read(&mut buf).unwrap_or(0);
                recorded
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let _ = stream.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        RecordingProxy { url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// kubefetch with every proxy variable pointing at `proxy`, and Huawei
/// credentials of its own instead of the sandbox's AK/SK.
fn through_proxy(s: &Sandbox, proxy: &RecordingProxy) -> assert_cmd::Command {
    let mut cmd = s.kubefetch();
    cmd.env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK");
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
    ] {
        cmd.env(var, &proxy.url);
    }
    cmd
}

#[test]
fn no_credential_crosses_a_plain_http_proxy_hop() {
    let s = Sandbox::new();
    let cce = [
        "cce",
        CCE_CLUSTER,
        "--region",
        HUAWEI_REGION,
        "--retries",
        "0",
    ];

    // IAM on loopback, CCE on its default: the password goes straight to
    // IAM, and CCE only gets a CONNECT tunnel through the proxy.
    let proxy = RecordingProxy::start();
    let out = through_proxy(&s, &proxy)
        .env_remove("KUBEFETCH_CCE_ENDPOINT")
        .env("OS_USERNAME", HUAWEI_USER)
        .env("OS_PASSWORD", HUAWEI_PASSWORD)
        .env("OS_DOMAIN_NAME", HUAWEI_DOMAIN_NAME)
        .args(cce)
        .output()
        .unwrap();
    assert_code(&out, 5);
    let heads = proxy.heads();
    assert!(
        !heads.is_empty(),
        "the https endpoint goes through the proxy"
    );
    for head in &heads {
        assert!(
            head.starts_with("CONNECT cce.cn-north-4.myhuaweicloud.com:443 "),
            "{head}"
        );
        assert!(!head.contains(HUAWEI_PASSWORD), "{head}");
    }
    assert!(s
        .cloud
        .requests()
        .iter()
        .any(|r| r.path.contains("/v3/auth/tokens")));

    // CCE on loopback, IAM on its default: the token and the kubeconfig
    // never pass the proxy.
    let proxy = RecordingProxy::start();
    let token = s.cloud.issue_token();
    let out = through_proxy(&s, &proxy)
        .env_remove("KUBEFETCH_IAM_ENDPOINT")
        .env("OS_AUTH_TOKEN", &token)
        .args(cce)
        .args(["--project-id", HUAWEI_PROJECT_CN_NORTH_4])
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert!(proxy.heads().is_empty(), "{:?}", proxy.heads());
}

// ------------------------------------------------------------------- stdout

fn to_dev_full(cmd: &mut std::process::Command) -> std::process::Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    cmd.stdout(full).output().unwrap()
}

#[test]
fn a_failed_write_to_stdout_is_exit_6() {
    let s = Sandbox::new();
    for (extra, what) in [
        (&["--kubeconfig", "-"][..], "the kubeconfig"),
        (&["--output", "json"][..], "the JSON summary"),
    ] {
        let out = to_dev_full(s.command().args(TKE).args(extra));
        assert_code(&out, 6);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("cannot write {what} to stdout"))
                && err.contains("No space left"),
            "{err}"
        );
        assert!(!err.contains("Wrote context"), "{err}");
    }
}

#[test]
fn the_kubeconfig_and_the_json_summary_cannot_share_stdout() {
    let s = Sandbox::new();
    let out = s.run(&[&TKE[..], &["--kubeconfig", "-", "--output", "json"][..]].concat());
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("--kubeconfig - and --output json"),
        "{}",
        stderr(&out)
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary[0]["error"]["kind"], "usage");
    assert!(s.cloud.requests().is_empty());
}
