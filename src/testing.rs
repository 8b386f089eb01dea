//! Helpers for unit tests that read files from a home directory.

use crate::env::Env;

/// A temporary home directory holding these files (relative path, content).
pub fn home_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    for (relative, content) in files {
        let path = home.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    home
}

/// An environment of exactly these variables, with `home` as the home directory.
pub fn env_in(vars: &[(&str, &str)], home: &tempfile::TempDir) -> Env {
    Env::new(vars.iter().copied(), Some(home.path().to_path_buf()))
}
