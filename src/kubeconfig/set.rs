//! The kubeconfig files `list`, `refresh` and `remove` work on, read as
//! kubectl merges them: `--kubeconfig PATH`, else every file of
//! `$KUBECONFIG`, else `~/.kube/config`; missing files are skipped.

use std::path::{Path, PathBuf};

use super::locate::LocateError;
use super::model::{Kubeconfig, NamedContext, NamedUser};
use super::provenance::{Provenance, ProvenanceError};
use super::store::{read, StoreError};
use crate::env::Env;

/// The paths of the set, in order, each once.
pub fn paths(explicit: Option<&Path>, env: &Env) -> Result<Vec<PathBuf>, LocateError> {
    if let Some(path) = explicit {
        return Ok(vec![path.to_path_buf()]);
    }
    if let Some(list) = env.var("KUBECONFIG") {
        let mut paths: Vec<PathBuf> = Vec::new();
        for part in list.split(':').filter(|part| !part.is_empty()) {
            let path = PathBuf::from(part);
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        if !paths.is_empty() {
            return Ok(paths);
        }
    }
    let home = env.home().ok_or(LocateError::NoHome)?;
    Ok(vec![home.join(".kube").join("config")])
}

/// One existing file of the set.
#[derive(Debug, Clone)]
pub struct SetFile {
    pub path: PathBuf,
    pub config: Kubeconfig,
}

/// Every existing file of the set, parsed; one invalid file fails the whole set.
#[derive(Debug, Clone, Default)]
pub struct KubeconfigSet {
    pub files: Vec<SetFile>,
}

/// A context as the set shows it: the first of its name, as kubectl does.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub file: &'a SetFile,
    pub context: &'a NamedContext,
    /// `None`: kubefetch did not write it.
    pub provenance: Option<Result<Provenance, ProvenanceError>>,
}

impl KubeconfigSet {
    pub fn load(paths: &[PathBuf]) -> Result<Self, StoreError> {
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            if let Some(config) = read(path)? {
                files.push(SetFile {
                    path: path.clone(),
                    config,
                });
            }
        }
        Ok(KubeconfigSet { files })
    }

    /// The current context: the first file's that sets one, as kubectl reads it.
    pub fn current_context(&self) -> Option<&str> {
        self.files.iter().find_map(|f| {
            f.config
                .current_context
                .as_deref()
                .filter(|c| !c.is_empty())
        })
    }

    /// Every context, first of each name, in file order.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut seen = std::collections::HashSet::new();
        let mut entries = Vec::new();
        for file in &self.files {
            for context in &file.config.contexts {
                if seen.insert(context.name.as_str()) {
                    entries.push(Entry {
                        file,
                        context,
                        provenance: Provenance::of(context),
                    });
                }
            }
        }
        entries
    }

    /// The user entry kubectl would use for this name: the first in the set.
    pub fn user(&self, name: &str) -> Option<&NamedUser> {
        self.files
            .iter()
            .find_map(|f| f.config.users.iter().find(|u| u.name == name))
    }

    pub fn several_files(&self) -> bool {
        self.files.len() > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(kubeconfig: Option<&str>) -> Env {
        Env::new(
            kubeconfig.map(|value| ("KUBECONFIG", value)),
            Some(PathBuf::from("/home/u")),
        )
    }

    #[test]
    fn the_set_is_the_flag_else_the_list_else_the_default() {
        assert_eq!(
            paths(Some(Path::new("/x")), &env(Some("/a:/b"))).unwrap(),
            [Path::new("/x")]
        );
        assert_eq!(
            paths(None, &env(Some("/a::/b:/a"))).unwrap(),
            [Path::new("/a"), Path::new("/b")]
        );
        assert_eq!(
            paths(None, &env(None)).unwrap(),
            [Path::new("/home/u/.kube/config")]
        );
    }

    #[test]
    fn missing_files_are_skipped_and_the_first_name_and_current_context_win() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(
            &a,
            "contexts:\n- name: shared\n  context: {cluster: from-a, user: u}\nusers:\n- name: u\n  user: {token: a}\n",
        )
        .unwrap();
        std::fs::write(
            &b,
            "current-context: shared\ncontexts:\n- name: shared\n  context: {cluster: from-b}\n- name: only-b\n  context: {}\nusers:\n- name: u\n  user: {token: b}\n",
        )
        .unwrap();
        let set = KubeconfigSet::load(&[dir.path().join("missing"), a.clone(), b.clone()]).unwrap();
        assert_eq!(set.files.len(), 2);
        assert!(set.several_files());
        let entries = set.entries();
        let names: Vec<_> = entries.iter().map(|e| e.context.name.as_str()).collect();
        assert_eq!(names, ["shared", "only-b"]);
        assert_eq!(entries[0].file.path, a);
        assert_eq!(set.current_context(), Some("shared"));
        assert_eq!(
            set.user("u").unwrap().user.token.as_ref().unwrap().expose(),
            "a"
        );
    }

    #[test]
    fn an_invalid_file_fails_the_set() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "contexts: [unclosed\n").unwrap();
        assert!(matches!(
            KubeconfigSet::load(&[bad]),
            Err(StoreError::Invalid { .. })
        ));
    }
}
