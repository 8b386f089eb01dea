use std::process::ExitCode;

use clap::Parser;

use kubefetch::cli::Cli;
use kubefetch::env::Env;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(kubefetch::run::run(cli.command, Env::from_process()));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
