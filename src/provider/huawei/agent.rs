//! `kubefetch ucs-agent`: the one-time proxy-agent bundle of a cluster
//! attached to UCS. UCS hands the agent's certificate out once; whatever
//! arrives is irreplaceable. So the destination is checked and a temporary
//! file beside it created BEFORE the request, the bundle is renamed into
//! place atomically (mode 0600), and if that still fails it goes to a
//! recovery file whose path is printed.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use crate::env::Env;
use crate::error::{ErrorKind, Failure};
use crate::fsx::{AtomicFile, CommitError, Replace};
use crate::http::Response;
use crate::provider::error::{ApiError, Verdict};
use crate::provider::SetupError;
use crate::settings::HttpSettings;
use crate::ui::Ui;
use crate::yaml;

use super::api::{self, Subject};
use super::auth::url_with;

/// The answer UCS gives instead of the bundle once it was downloaded.
const DOWNLOADED_MARKER: &str = "Downloaded";

/// `ucs-agent`'s validated options.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    pub cluster_id: String,
    pub out: PathBuf,
    pub force: bool,
    /// `vpcendpoint` and `region`, for private-network access.
    pub private_access: Option<(IpAddr, String)>,
    pub endpoint: reqwest::Url,
    pub http: HttpSettings,
}

/// Where the bundle ended up.
#[derive(Debug)]
pub struct Saved {
    pub path: PathBuf,
    /// The answer was not the expected list of manifests and was saved as received.
    pub verbatim: bool,
}

/// A UCS client for one agent download.
pub struct Agent {
    client: super::Client,
}

impl Agent {
    pub fn new(settings: &AgentSettings, env: Arc<Env>, ui: Ui) -> Result<Self, SetupError> {
        Ok(Agent {
            client: super::ucs_client(settings.endpoint.clone(), &settings.http, env, ui)?,
        })
    }

    /// Downloads the bundle of `settings.cluster_id` into the prepared destination.
    pub async fn download(
        &self,
        settings: &AgentSettings,
        destination: Destination,
    ) -> Result<Saved, Failure> {
        let client = &self.client;
        let id = settings.cluster_id.as_str();
        let failed = |e: ApiError| Failure::api("ucs-agent", id, e);
        let session = client.session().await.map_err(failed)?;
        let query: Vec<(String, String)> = match &settings.private_access {
            Some((ip, region)) => vec![
                ("vpcendpoint".to_string(), ip.to_string()),
                ("region".to_string(), region.clone()),
            ],
            None => Vec::new(),
        };
        let url = url_with(
            &client.endpoint,
            &format!("/v1/clusters/{id}/accessinfo"),
            &query,
        );
        let subject = Subject {
            service: "UCS",
            cluster_id: Some(id),
            credential_hint: session.credential_hint,
        };
        let body = client
            .http
            .send(
                || session.request(Method::GET, &url, b"", &client.env),
                |response| judge(response, &subject),
            )
            .await
            .map_err(|e| failed(e.into()))?;
        let (bytes, verbatim) = match manifests_yaml(&body) {
            Some(yaml) => (yaml.into_bytes(), false),
            None => (body, true),
        };
        match destination.commit(&bytes) {
            Ok(path) => Ok(Saved { path, verbatim }),
            Err(error) => Err(rescue(id, &settings.out, error.io(), &bytes)),
        }
    }
}

/// The one-time answer: 200 with the manifests; 410 or the marker once
/// downloaded; 400 for a cluster that is not an attached one.
fn judge(response: Response, subject: &Subject<'_>) -> Verdict<Vec<u8>> {
    let cluster_id = subject.cluster_id.unwrap_or_default();
    let already = || {
        ApiError::new(
            ErrorKind::NotFound,
            format!("the agent bundle of cluster {cluster_id} was already downloaded"),
        )
        .request_id(api::request_id(&response))
        .hint("UCS hands it out only once: re-register the cluster in UCS (remove it and attach it again) to get a new bundle")
    };
    match response.status {
        200 if is_marker(&response.body) => Verdict::Fail(already()),
        200 => Verdict::Done(response.body),
        410 => Verdict::Fail(already().status(410)),
        400 => match api::failure::<Vec<u8>>(&response, subject) {
            Verdict::Fail(e) => Verdict::Fail(e.hint(
                "ucs-agent is for clusters attached to UCS from elsewhere; for CCE clusters use `kubefetch cce`",
            )),
            other => other,
        },
        _ => api::failure(&response, subject),
    }
}

fn is_marker(body: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => items
            .iter()
            .any(|item| item.as_str().map(str::trim) == Some(DOWNLOADED_MARKER)),
        Ok(Value::String(text)) => text.trim() == DOWNLOADED_MARKER,
        _ => false,
    }
}

/// The JSON array of manifests (objects, or manifest texts) as one
/// multi-document YAML file that `kubectl apply -f` takes; `None` when the
/// answer has another shape.
fn manifests_yaml(body: &[u8]) -> Option<String> {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    if items.is_empty() {
        return None;
    }
    let mut documents = Vec::with_capacity(items.len());
    for item in &items {
        let document = match item {
            Value::Object(_) => yaml::to_block_yaml(item),
            Value::String(text) => yaml::read_all(text)
                .ok()?
                .iter()
                .map(yaml::to_block_yaml)
                .collect::<Vec<_>>()
                .join("---\n"),
            _ => return None,
        };
        documents.push(document);
    }
    Some(documents.join("---\n"))
}

/// A checked destination with its temporary file already created beside it.
#[derive(Debug)]
pub struct Destination {
    temp: AtomicFile,
    force: bool,
}

impl Destination {
    /// Refuses what would make the write fail, since the bundle can be
    /// downloaded only once: a target that is not a regular file (or a
    /// symlink to one), an existing file without `force`, and a missing or
    /// unwritable directory. Symlinks are followed, so a dangling one gets
    /// its file. Nothing is sent before this passes.
    pub fn prepare(path: &Path, force: bool) -> Result<Self, Failure> {
        let shown = path.display();
        let refused = |kind, message: String, hint: &str| {
            Failure::new(kind, format!("ucs-agent: {message}"))
                .with_hint(Some(format!("{hint}; nothing was downloaded")))
        };
        // The path itself first: /dev/stdout names a pipe only through
        // /proc's magic links, which a plain readlink does not follow.
        match std::fs::metadata(path) {
            Ok(meta) => {
                if let Some(kind) = crate::fsx::special_kind(&meta) {
                    return Err(refused(
                        ErrorKind::Kubeconfig,
                        format!("--out {shown} is {kind}, not a regular file"),
                        "name a file, e.g. --out proxy-agent.yaml",
                    ));
                }
                if !force {
                    return Err(refused(
                        ErrorKind::Usage,
                        format!("--out {shown} already exists"),
                        "pass --force to replace it, or choose another --out",
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(refused(
                    ErrorKind::Kubeconfig,
                    format!("cannot check --out {shown}: {e}"),
                    "choose another --out",
                ))
            }
        }
        let target = crate::fsx::resolve_symlinks(path).map_err(|e| {
            refused(
                ErrorKind::Kubeconfig,
                format!("cannot follow --out {shown}: {e}"),
                "fix the symlink or choose another --out",
            )
        })?;
        if !crate::fsx::parent_dir(&target).is_dir() {
            return Err(refused(
                ErrorKind::Usage,
                format!("the directory of --out {shown} does not exist"),
                "create it first",
            ));
        }
        let temp = AtomicFile::beside(&target, ".kubefetch-ucs-agent-").map_err(|e| {
            refused(
                ErrorKind::Usage,
                format!("cannot write in the directory of --out {shown}: {e}"),
                "choose a writable directory",
            )
        })?;
        Ok(Destination { temp, force })
    }

    /// Writes, syncs and renames into place (0600); without `force` a file
    /// that appeared meanwhile is someone else's and is not clobbered.
    pub fn commit(self, bytes: &[u8]) -> Result<PathBuf, CommitError> {
        let replace = if self.force {
            Replace::Always
        } else {
            Replace::Never
        };
        self.temp.commit(bytes, OWNER_ONLY, replace)
    }
}

const OWNER_ONLY: u32 = 0o600;

/// The bundle could not reach `--out`: keep it in a recovery file, or as a
/// last resort on stdout, and say where it is.
fn rescue(cluster_id: &str, out: &Path, error: &std::io::Error, bytes: &[u8]) -> Failure {
    let mut failure = Failure::new(
        ErrorKind::Kubeconfig,
        format!(
            "ucs-agent {cluster_id}: the downloaded bundle could not be written to {}: {error}",
            out.display()
        ),
    );
    match save_recovery(cluster_id, bytes) {
        Ok(path) => {
            failure
                .causes
                .push(format!("the bundle was saved to {}", path.display()));
            failure.hint = Some(format!(
                "move {} where you need it; the bundle cannot be downloaded again",
                path.display()
            ));
        }
        Err(recovery_error) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(bytes).and_then(|_| stdout.flush());
            failure.causes.push(format!(
                "no recovery file could be written either ({recovery_error}); the bundle was printed to stdout"
            ));
            failure.hint =
                Some("save the printed bundle now; it cannot be downloaded again".to_string());
        }
    }
    failure
}

fn save_recovery(cluster_id: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let mut file = tempfile::Builder::new()
        .prefix(&format!("kubefetch-ucs-agent-{cluster_id}-"))
        .suffix(".yaml")
        .tempfile()?;
    use std::os::unix::fs::PermissionsExt;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(OWNER_ONLY))?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    let (_, path) = file.keep().map_err(|e| e.error)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::huawei::api::tests::answer;

    const ID: &str = "5e6f7081-2b3c-11ee-9da1-0255ac100012";
    const SUBJECT: Subject<'static> = Subject {
        service: "UCS",
        cluster_id: Some(ID),
        credential_hint: "check",
    };

    const BUNDLE: &str = r#"[
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"proxy-agent","namespace":"kube-system"}},
        {"apiVersion":"v1","kind":"Secret","metadata":{"name":"proxy-agent-cert","namespace":"kube-system"},"data":{"tls.crt":"Q1JU"}}
    ]"#;

    #[test]
    fn the_bundle_becomes_multi_document_yaml() {
        let yaml = manifests_yaml(BUNDLE.as_bytes()).unwrap();
        let docs = yaml::read_all(&yaml).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["kind"], "Deployment");
        assert_eq!(docs[1]["metadata"]["name"], "proxy-agent-cert");
        assert_eq!(docs[1]["data"]["tls.crt"], "Q1JU");
        let texts =
            r#"["kind: Deployment\nmetadata: {name: proxy-agent}\n", "{\"kind\":\"Secret\"}"]"#;
        assert_eq!(
            manifests_yaml(texts.as_bytes()).unwrap(),
            "kind: Deployment\nmetadata:\n  name: proxy-agent\n---\nkind: Secret\n"
        );
        for other in ["{}", "[]", "[1]", "not json"] {
            assert!(manifests_yaml(other.as_bytes()).is_none(), "{other}");
        }
    }

    #[test]
    fn already_downloaded_is_a_clear_error() {
        for response in [
            answer(410, &[("X-Request-Id", "r")], "{}"),
            answer(200, &[("X-Request-Id", "r")], r#"["Downloaded"]"#),
        ] {
            match judge(response, &SUBJECT) {
                Verdict::Fail(e) => {
                    assert!(e.summary.contains("already downloaded"), "{}", e.summary);
                    assert!(e.hint.unwrap().contains("re-register"));
                    assert_eq!(e.request_id.as_deref(), Some("r"));
                }
                _ => panic!("expected a failure"),
            }
        }
        assert!(matches!(
            judge(answer(200, &[], BUNDLE), &SUBJECT),
            Verdict::Done(_)
        ));
    }

    #[test]
    fn a_cce_cluster_is_pointed_at_the_cce_command() {
        match judge(
            answer(400, &[], r#"{"error_code":"UCS.00000400","error_msg":"m"}"#),
            &SUBJECT,
        ) {
            Verdict::Fail(e) => assert!(e.hint.unwrap().contains("kubefetch cce")),
            _ => panic!("expected a failure"),
        }
    }

    #[test]
    fn an_existing_file_needs_force_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("agent.yaml");
        std::fs::write(&out, "old").unwrap();
        let err = Destination::prepare(&out, false).unwrap_err();
        assert!(err.message.contains("already exists"));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
        let destination = Destination::prepare(&out, true).unwrap();
        destination.commit(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "new");
    }

    #[test]
    fn missing_directories_and_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = Destination::prepare(&dir.path().join("no/such/agent.yaml"), false).unwrap_err();
        assert!(err.message.contains("does not exist"), "{}", err.message);
        let err = Destination::prepare(dir.path(), true).unwrap_err();
        assert!(err.message.contains("is a directory"));
        assert_eq!(err.kind, ErrorKind::Kubeconfig);
    }

    #[test]
    fn a_target_that_is_not_a_regular_file_is_refused_even_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c_fifo = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o600) }, 0);
        let link = dir.path().join("stdout");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        for out in [&fifo, &link] {
            let err = Destination::prepare(out, true).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Kubeconfig, "{}", err.message);
            assert!(err.message.contains("a named pipe"), "{}", err.message);
        }
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(crate::testing::dir_entries(dir.path()), ["fifo", "stdout"]);
    }

    #[test]
    fn a_dangling_symlink_gets_its_file_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("bundles/agent.yaml");
        std::fs::create_dir(dir.path().join("bundles")).unwrap();
        let link = dir.path().join("agent.yaml");
        std::os::unix::fs::symlink("bundles/agent.yaml", &link).unwrap();
        let saved = Destination::prepare(&link, false)
            .unwrap()
            .commit(b"kind: Secret\n")
            .unwrap();
        assert_eq!(saved, real);
        assert_eq!(std::fs::read(&link).unwrap(), b"kind: Secret\n");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());

        // Into a directory that does not exist: refused before downloading.
        let nowhere = dir.path().join("nowhere.yaml");
        std::os::unix::fs::symlink("missing/agent.yaml", &nowhere).unwrap();
        let err = Destination::prepare(&nowhere, false).unwrap_err();
        assert!(err.message.contains("does not exist"), "{}", err.message);
    }

    #[cfg(unix)]
    #[test]
    fn an_unwritable_directory_is_refused_before_downloading() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
        let probe = locked.join("probe");
        let writable_anyway = std::fs::write(&probe, "").is_ok(); // root ignores modes
        if !writable_anyway {
            let err = Destination::prepare(&locked.join("agent.yaml"), false).unwrap_err();
            assert!(err.message.contains("cannot write"), "{}", err.message);
        }
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_written_bundle_is_private_and_no_temporary_file_remains() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("agent.yaml");
        Destination::prepare(&out, false)
            .unwrap()
            .commit(b"kind: Secret\n")
            .unwrap();
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("agent.yaml")]);
    }

    #[test]
    fn a_file_that_appears_meanwhile_is_not_clobbered() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("agent.yaml");
        let destination = Destination::prepare(&out, false).unwrap();
        std::fs::write(&out, "theirs").unwrap();
        assert!(destination.commit(b"ours").is_err());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "theirs");
    }

    #[test]
    fn the_recovery_file_keeps_the_bundle() {
        let path = save_recovery(ID, b"kind: Secret\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"kind: Secret\n");
        assert!(path.file_name().unwrap().to_string_lossy().contains(ID));
        std::fs::remove_file(path).unwrap();
    }
}
