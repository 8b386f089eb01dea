//! Which file to write, the way kubectl chooses: `--kubeconfig`, else the
//! `$KUBECONFIG` list, else `~/.kube/config`.

use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::yaml;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocateError {
    #[error(
        "no home directory is known to find ~/.kube/config: set KUBECONFIG or pass --kubeconfig"
    )]
    NoHome,
}

/// The target kubeconfig. In a `$KUBECONFIG` list, the file that already
/// holds one of `names` wins (so a re-fetch replaces the entry where it
/// is), else the file kubectl writes new entries to (client-go
/// `GetDefaultFilename`): the first that exists, else the last.
pub fn locate(
    explicit: Option<&Path>,
    env: &Env,
    names: &[String],
) -> Result<PathBuf, LocateError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    if let Some(list) = env.var("KUBECONFIG") {
        let files: Vec<&str> = list.split(':').filter(|part| !part.is_empty()).collect();
        if let [.., last] = files.as_slice() {
            // With one file there is nothing to choose: skip reading it.
            let holder = if files.len() == 1 {
                None
            } else {
                files.iter().find(|file| holds_any(Path::new(file), names))
            };
            let chosen = holder
                .or_else(|| files.iter().find(|file| Path::new(file).exists()))
                .unwrap_or(last);
            return Ok(PathBuf::from(chosen));
        }
    }
    let home = env.home().ok_or(LocateError::NoHome)?;
    Ok(home.join(".kube").join("config"))
}

/// A missing, unreadable or unparseable file holds nothing: the lookup
/// moves on, and the write reports any real problem with the chosen file.
fn holds_any(file: &Path, names: &[String]) -> bool {
    let Ok(bytes) = std::fs::read(file) else {
        return false;
    };
    let Ok(text) = yaml::decode(&bytes) else {
        return false;
    };
    let Ok(tree) = yaml::read_first(&text) else {
        return false;
    };
    tree["contexts"].as_array().is_some_and(|contexts| {
        contexts
            .iter()
            .filter_map(|context| context["name"].as_str())
            .any(|name| names.iter().any(|wanted| wanted == name))
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn env_with(kubeconfig: Option<&str>, home: Option<&Path>) -> Env {
        Env::new(
            kubeconfig.map(|value| ("KUBECONFIG", value)),
            home.map(Path::to_path_buf),
        )
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn explicit_path_wins() {
        let env = env_with(Some("/a:/b"), Some(Path::new("/home/u")));
        let found = locate(Some(Path::new("/x/config")), &env, &names(&["c"])).unwrap();
        assert_eq!(found, Path::new("/x/config"));
    }

    #[test]
    fn home_config_without_kubeconfig() {
        let env = env_with(None, Some(Path::new("/home/u")));
        assert_eq!(
            locate(None, &env, &[]).unwrap(),
            Path::new("/home/u/.kube/config")
        );
        let only_separators = env_with(Some("::"), Some(Path::new("/home/u")));
        assert_eq!(
            locate(None, &only_separators, &[]).unwrap(),
            Path::new("/home/u/.kube/config")
        );
        assert_eq!(
            locate(None, &env_with(None, None), &[]),
            Err(LocateError::NoHome)
        );
    }

    #[test]
    fn the_file_holding_the_name_wins_else_the_first_existing_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        fs::write(path("broken"), "contexts: [unclosed\n").unwrap();
        fs::write(
            path("other"),
            "contexts:\n- name: someone-else\n  context: {}\n",
        )
        .unwrap();
        fs::write(
            path("holder"),
            "contexts:\n- name: x\n- name: tke-a\n  context: {cluster: tke-a}\n",
        )
        .unwrap();
        let list = format!(
            "{}::{}:{}:{}:{}",
            path("missing"),
            path("broken"),
            path("other"),
            path("holder"),
            path("after")
        );
        let env = env_with(Some(&list), None);

        let found = locate(None, &env, &names(&["tke-b", "tke-a"])).unwrap();
        assert_eq!(found, Path::new(&path("holder")));
        // As kubectl: the first file that exists, not the first entry.
        let fallback = locate(None, &env, &names(&["nowhere"])).unwrap();
        assert_eq!(fallback, Path::new(&path("broken")));
    }

    #[test]
    fn with_no_file_existing_the_last_entry_is_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        let list = format!("{}:{}:", path("first"), path("last"));
        let env = env_with(Some(&list), None);
        let found = locate(None, &env, &names(&["tke-a"])).unwrap();
        assert_eq!(found, Path::new(&path("last")));
    }
}
