//! The credential chain: each source answers "found", "not here" or
//! "broken". The first found wins; a broken source stops the chain with its
//! reason (a half-written profile must not be skipped silently); when
//! nothing is found the error lists every source tried and why it had
//! nothing.

use std::fmt;

/// What one source says.
pub enum Lookup<T> {
    Found(T),
    /// Nothing here; the text says why ("TENCENTCLOUD_SECRET_ID is not set").
    NotHere(String),
    /// Something is here but unusable; the text says what is wrong.
    Broken(String),
}

/// A credential with the name of the source it came from (for `-v`).
#[derive(Debug, Clone)]
pub struct Found<T> {
    pub value: T,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    pub source: String,
    pub outcome: String,
}

impl fmt::Display for Tried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.outcome)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("no {provider} credentials found")]
    NotFound {
        provider: &'static str,
        tried: Vec<Tried>,
    },
    #[error("{source_name} cannot be used: {reason}")]
    Broken { source_name: String, reason: String },
}

/// One link of a chain: a description of the source and how to look there.
pub struct Source<'a, T> {
    pub name: String,
    pub lookup: Box<dyn FnOnce() -> Lookup<T> + 'a>,
}

impl<'a, T> Source<'a, T> {
    pub fn new(name: impl Into<String>, lookup: impl FnOnce() -> Lookup<T> + 'a) -> Self {
        Source {
            name: name.into(),
            lookup: Box::new(lookup),
        }
    }
}

/// Asks each source in turn; sources after the first found are not asked.
pub fn resolve<T>(
    provider: &'static str,
    sources: Vec<Source<'_, T>>,
) -> Result<Found<T>, CredentialError> {
    let mut tried = Vec::new();
    for source in sources {
        match (source.lookup)() {
            Lookup::Found(value) => {
                return Ok(Found {
                    value,
                    source: source.name,
                })
            }
            Lookup::NotHere(outcome) => tried.push(Tried {
                source: source.name,
                outcome,
            }),
            Lookup::Broken(reason) => {
                return Err(CredentialError::Broken {
                    source_name: source.name,
                    reason,
                })
            }
        }
    }
    Err(CredentialError::NotFound { provider, tried })
}

/// Reads an INI credentials file: `Ok(None)` when it does not exist.
pub fn read_ini(path: &std::path::Path) -> Result<Option<ini::Ini>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => ini::Ini::load_from_str(&text).map(Some).map_err(|e| {
            format!(
                "{} is not a valid INI file (line {})",
                path.display(),
                e.line
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn first_found_wins_and_later_sources_are_not_asked() {
        let asked = Cell::new(false);
        let found = resolve(
            "test",
            vec![
                Source::new("env", || Lookup::NotHere("A is not set".into())),
                Source::new("file", || Lookup::Found(7)),
                Source::new("other", || {
                    asked.set(true);
                    Lookup::Found(8)
                }),
            ],
        )
        .unwrap();
        assert_eq!((found.value, found.source.as_str()), (7, "file"));
        assert!(!asked.get());
    }

    #[test]
    fn nothing_found_lists_every_source_tried() {
        let err = resolve::<()>(
            "test",
            vec![
                Source::new("env", || Lookup::NotHere("A is not set".into())),
                Source::new("~/.x", || Lookup::NotHere("no such file".into())),
            ],
        )
        .unwrap_err();
        match err {
            CredentialError::NotFound { tried, .. } => {
                let lines: Vec<String> = tried.iter().map(ToString::to_string).collect();
                assert_eq!(lines, ["env: A is not set", "~/.x: no such file"]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_broken_source_stops_the_chain() {
        let err = resolve(
            "test",
            vec![
                Source::new("~/.x", || Lookup::Broken("not JSON".into())),
                Source::new("env", || Lookup::Found(1)),
            ],
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "~/.x cannot be used: not JSON");
    }
}
