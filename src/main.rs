use std::process::ExitCode;

use clap::Parser;

use kubefetch::cli::Cli;
use kubefetch::env::Env;

fn main() -> ExitCode {
    // A bug must still end with the contract's exit code 1, not Rust's 101.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: kubefetch hit a bug: {info}");
        eprintln!("hint: please report it with the command line (without secrets); rerun with -v for detail");
        std::process::exit(1);
    }));
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
    let code = runtime.block_on(kubefetch::app::run(cli.command, Env::from_process()));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
