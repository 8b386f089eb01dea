//! Everything from outside the process that the program reads: environment
//! variables, the home directory and the clock. Tests build their own `Env`
//! so they never touch the real `$HOME`, the real environment or real time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct Env {
    vars: HashMap<String, String>,
    home: Option<PathBuf>,
    fixed_now: Option<DateTime<Utc>>,
}

impl Env {
    /// The real process environment and home directory, with the real clock.
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            home: dirs::home_dir(),
            fixed_now: None,
        }
    }

    /// An environment made of exactly these variables and this home directory.
    pub fn new<I, K, V>(vars: I, home: Option<PathBuf>) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            home,
            fixed_now: None,
        }
    }

    /// The same environment with the clock stopped at `now`.
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.fixed_now = Some(now);
        self
    }

    /// A variable's value; an empty value counts as unset, as in most CLIs.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The first of these variables that is set, with its name.
    pub fn first_var<'a>(&self, names: &[&'a str]) -> Option<(&'a str, &str)> {
        names
            .iter()
            .find_map(|name| self.var(name).map(|value| (*name, value)))
    }

    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.fixed_now.unwrap_or_else(Utc::now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_variables_count_as_unset() {
        let env = Env::new([("A", ""), ("B", "b")], None);
        assert_eq!(env.var("A"), None);
        assert_eq!(env.var("B"), Some("b"));
        assert_eq!(env.first_var(&["A", "B"]), Some(("B", "b")));
        assert_eq!(env.first_var(&["C"]), None);
    }

    #[test]
    fn a_fixed_clock_stays_fixed() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let env = Env::new(Vec::<(String, String)>::new(), None).with_now(t);
        assert_eq!(env.now(), t);
    }
}
