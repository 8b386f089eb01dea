//! `fakecloud`: runs the fake clouds for an offline tour of kubefetch. Prints shell
//! `export` lines (endpoints, fake credentials, the clusters served) on stdout, and
//! into `--env-file PATH` when given, then serves until SIGINT or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fakecloud::{fixtures, Cluster, FakeCloud, Fault, FaultKind, Provider};

const USAGE: &str =
    "usage: fakecloud [--env-file PATH] [--latency-ms MS] [--tke-clusters N] [--fleet-clusters N]
                 [--oidc-token-file PATH]

Starts fake TKE, ACK, CCE, UCS and IAM APIs and a TLS kube API server on 127.0.0.1,
prints the shell export lines that point kubefetch at them, and serves until killed.
  --env-file PATH   also write the export lines to PATH
  --latency-ms MS   delay every API answer by MS milliseconds (benchmarks)
  --tke-clusters N  also serve TKE clusters cls-bench-0 .. cls-bench-<N-1> (benchmarks)
  --fleet-clusters N  also serve N more clusters of each of TKE, ACK, CCE and UCS (benchmarks)
  --oidc-token-file PATH  write an OIDC token the fake STS and IAM accept for 12 hours to PATH
                    (the roles and providers to name with it are among the export lines)
  -h, --help        show this help";

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let cloud = match FakeCloud::try_start() {
        Ok(cloud) => cloud,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for i in 0..options.tke_clusters {
        cloud.add_cluster(Cluster::new(Provider::Tke, format!("cls-bench-{i}")));
    }
    for i in 0..options.fleet_clusters {
        cloud.add_cluster(Cluster::new(Provider::Tke, format!("cls-fleet-{i}")));
        cloud.add_cluster(Cluster::new(Provider::Ack, format!("cfleet{i}")));
        let uuid = |n: usize| format!("7b000000-0000-11ee-8000-{n:012}");
        cloud.add_cluster(Cluster::new(Provider::Cce, uuid(2 * i)));
        cloud.add_cluster(Cluster::new(Provider::Ucs, uuid(2 * i + 1)));
    }
    if let Some(latency) = options.latency {
        cloud.inject(Fault::new(FaultKind::Delay(latency)).times(u32::MAX));
    }
    if let Some(path) = &options.oidc_token_file {
        let token = cloud.oidc_token(chrono::Duration::hours(12));
        if let Err(e) = std::fs::write(path, format!("{token}\n")) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let exports = export_lines(&cloud);
    print!("{exports}");
    if let Some(path) = options.env_file {
        if let Err(e) = std::fs::write(&path, &exports) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "fakecloud: APIs on {}, kube API on {}; stop with Ctrl-C",
        cloud.api_url(),
        cloud.kube_url(false)
    );
    if let Err(e) = wait_for_signal() {
        eprintln!("error: cannot wait for a signal: {e}");
        return ExitCode::FAILURE;
    }
    drop(cloud);
    ExitCode::SUCCESS
}

enum Command {
    Serve(ServeOptions),
    Help,
}

#[derive(Default)]
struct ServeOptions {
    env_file: Option<PathBuf>,
    latency: Option<Duration>,
    oidc_token_file: Option<PathBuf>,
    tke_clusters: usize,
    fleet_clusters: usize,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut options = ServeOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--env-file" => match args.next() {
                Some(path) => options.env_file = Some(PathBuf::from(path)),
                None => return Err("--env-file needs a path".to_string()),
            },
            "--latency-ms" => {
                let ms = number(args.next(), "--latency-ms")?;
                options.latency = Some(Duration::from_millis(ms as u64));
            }
            "--oidc-token-file" => match args.next() {
                Some(path) => options.oidc_token_file = Some(PathBuf::from(path)),
                None => return Err("--oidc-token-file needs a path".to_string()),
            },
            "--tke-clusters" => options.tke_clusters = number(args.next(), "--tke-clusters")?,
            "--fleet-clusters" => options.fleet_clusters = number(args.next(), "--fleet-clusters")?,
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    Ok(Command::Serve(options))
}

fn number(value: Option<String>, flag: &str) -> Result<usize, String> {
    value
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{flag} needs a whole number"))
}

fn export_lines(cloud: &FakeCloud) -> String {
    let mut lines: Vec<String> = cloud
        .env()
        .iter()
        .map(|(k, v)| format!("export {k}={}", shell_quote(v)))
        .collect();
    let clusters = cloud.clusters();
    for provider in [Provider::Tke, Provider::Ack, Provider::Cce, Provider::Ucs] {
        let ids: Vec<&str> = clusters
            .iter()
            .filter(|c| c.provider == provider)
            .map(|c| c.id.as_str())
            .collect();
        lines.push(format!(
            "export FAKECLOUD_{}_CLUSTERS={}",
            provider.name().to_uppercase(),
            shell_quote(&ids.join(" "))
        ));
    }
    // What an OIDC exchange must name, for `--oidc-token-file`.
    let keyless = [
        ("FAKECLOUD_ALIBABA_ROLE_ARN", fixtures::ALIBABA_ROLE_ARN),
        (
            "FAKECLOUD_ALIBABA_OIDC_PROVIDER_ARN",
            fixtures::ALIBABA_OIDC_PROVIDER_ARN,
        ),
        ("FAKECLOUD_TENCENT_ROLE_ARN", fixtures::TENCENT_ROLE_ARN),
        (
            "FAKECLOUD_TENCENT_PROVIDER_ID",
            fixtures::TENCENT_PROVIDER_ID,
        ),
        ("FAKECLOUD_HUAWEI_IDP_ID", fixtures::HUAWEI_IDP_ID),
    ];
    lines.extend(
        keyless
            .iter()
            .map(|(k, v)| format!("export {k}={}", shell_quote(v))),
    );
    lines.join("\n") + "\n"
}

fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn wait_for_signal() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    })
}
