//! The credential chain: each source answers "found", "not here" or
//! "broken". The first found wins; a broken source stops the chain with its
//! reason (a half-written profile must not be skipped silently); when
//! nothing is found the error lists every source tried and why it had
//! nothing.
//!
//! A source gives either keys to sign with or a recipe that must first be
//! exchanged for keys (a password or an OIDC token at IAM or STS, a role to
//! assume, an instance's metadata). [`Exchanged`] holds the outcome of that
//! exchange: made at most once per run, on first use.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::OnceCell;

use crate::provider::error::ApiError;

/// What one source says.
pub enum Lookup<T> {
    Found(T),
    /// Nothing here; the text says why ("TENCENTCLOUD_SECRET_ID is not set").
    NotHere(String),
    /// Something is here but unusable; the text says what is wrong.
    Broken(String),
}

impl<T> Lookup<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Lookup<U> {
        match self {
            Lookup::Found(value) => Lookup::Found(f(value)),
            Lookup::NotHere(reason) => Lookup::NotHere(reason),
            Lookup::Broken(reason) => Lookup::Broken(reason),
        }
    }
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

/// What an exchange gave, or why it was refused: asked once, on first use,
/// and a refusal is remembered so that several clusters in one run never
/// repeat a refused exchange (accounts lock after a few wrong passwords).
pub struct Exchanged<K> {
    cell: OnceCell<Result<K, ApiError>>,
}

impl<K> Default for Exchanged<K> {
    fn default() -> Self {
        Exchanged {
            cell: OnceCell::new(),
        }
    }
}

impl<K> Exchanged<K> {
    /// The keys, running `exchange` if this is the first ask.
    pub async fn get<F>(&self, exchange: impl FnOnce() -> F) -> Result<&K, ApiError>
    where
        F: Future<Output = Result<K, ApiError>>,
    {
        self.cell
            .get_or_init(exchange)
            .await
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The exchange of `recipe` for the whole process: a run may set up several
/// clients with the same recipe (a fleet across regions, a refresh of
/// contexts with different options), and one exchange serves them all.
/// `recipe` names everything that decides the outcome, never a secret.
pub fn shared_exchange<K: Send + Sync + 'static>(recipe: String) -> Arc<Exchanged<K>> {
    type Registry = Mutex<HashMap<(TypeId, String), Arc<dyn Any + Send + Sync>>>;
    static EXCHANGES: OnceLock<Registry> = OnceLock::new();
    let mut exchanges = EXCHANGES
        .get_or_init(Registry::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let entry = exchanges
        .entry((TypeId::of::<K>(), recipe))
        .or_insert_with(|| Arc::new(Exchanged::<K>::default()));
    match Arc::clone(entry).downcast::<Exchanged<K>>() {
        Ok(exchanged) => exchanged,
        // Keyed by the type: another type cannot be under this key.
        Err(_) => Arc::new(Exchanged::default()),
    }
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

    #[tokio::test]
    async fn an_exchange_runs_once_and_its_refusal_is_remembered() {
        let runs = Cell::new(0);
        let exchanged = Exchanged::<u32>::default();
        for _ in 0..3 {
            let got = exchanged
                .get(|| async {
                    runs.set(runs.get() + 1);
                    Err(ApiError::new(crate::error::ErrorKind::Auth, "refused"))
                })
                .await;
            assert_eq!(got.unwrap_err().summary, "refused");
        }
        assert_eq!(runs.get(), 1);
    }

    #[test]
    fn one_recipe_shares_one_exchange_per_process_and_type() {
        let first = shared_exchange::<u32>("credentials::tests recipe".into());
        let again = shared_exchange::<u32>("credentials::tests recipe".into());
        let other = shared_exchange::<u32>("credentials::tests other".into());
        let typed = shared_exchange::<u64>("credentials::tests recipe".into());
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(Arc::strong_count(&typed), 2, "a registry entry of its own");
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
