//! Human output on stderr. stdout is reserved for data (kubeconfig, JSON).

use std::io::Write;

use crate::settings::Verbosity;

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    verbosity: Verbosity,
}

impl Ui {
    pub fn new(verbosity: Verbosity) -> Self {
        Ui { verbosity }
    }

    /// A result line ("Added context ..."): hidden by `-q`.
    pub fn info(&self, line: &str) {
        if self.verbosity >= Verbosity::Normal {
            eprint_line(line);
        }
    }

    /// A change the user did not name but must know of: shown even with `-q`.
    pub fn note(&self, line: &str) {
        eprint_line(&format!("note: {line}"));
    }

    /// Something the user should act on: shown even with `-q`.
    pub fn warn(&self, line: &str) {
        eprint_line(&format!("warning: {line}"));
    }

    /// Detail for `-v` (requests, retries, credential sources); never secrets.
    pub fn detail(&self, line: &str) {
        if self.verbosity >= Verbosity::Verbose {
            eprint_line(&format!("debug: {line}"));
        }
    }

    pub fn is_verbose(&self) -> bool {
        self.verbosity >= Verbosity::Verbose
    }
}

/// One whole line per write, so lines of concurrent fetches never interleave.
fn eprint_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}
