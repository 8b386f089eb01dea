use std::process::ExitCode;

use kubefetch::cli::TopLevel;
use kubefetch::env::Env;
use kubefetch::shell;

fn main() -> ExitCode {
    // A bug must still end with the contract's exit code 1, not Rust's 101.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: kubefetch hit a bug: {info}");
        eprintln!("hint: please report it with the command line (without secrets); rerun with -v for detail");
        std::process::exit(1);
    }));
    let command = match shell::parse_args(std::env::args_os().collect()).command {
        TopLevel::Work(command) => *command,
        TopLevel::Completions { shell } => return print(&shell::completions(shell)),
        TopLevel::Man => return print(&shell::man()),
    };
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
    let code = runtime.block_on(kubefetch::app::run(command, Env::from_process()));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// stdout is data; a reader that stopped early (`| head`) is not an error.
fn print(data: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(data).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write to stdout: {e}");
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    }
}
