//! The exec-credential cache (DESIGN.md section 8): one JSON file per
//! credential, `<provider>-<cluster id>[-private]-<16 hex>.json` in
//! `$KUBECACHEDIR/kubefetch` (else `~/.kube/cache/kubefetch`), 0600 in a
//! 0700 directory. The hex digests everything that selects the credential,
//! the identity included, so two identities never share an entry. Entries
//! are written atomically; `<entry>.lock` (the kubeconfig's lock, with its
//! stale-lock recovery) makes concurrent cold calls fetch once.

use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::env::Env;
use crate::fsx::lock::{self, Acquired, LockError};
use crate::fsx::{AtomicFile, CommitError, Replace};
use crate::kubeconfig::model::AuthInfo;
use crate::kubeconfig::provenance::Provenance;
use crate::provider::ProviderConfig;
use crate::secret::Secret;

/// How long a call waits for another process fetching the same entry.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);
/// An entry is served while more than this much of it remains, at least.
const MIN_REMAINING: TimeDelta = TimeDelta::minutes(5);
/// Larger than any credential: a bigger file is not an entry.
const MAX_ENTRY_BYTES: u64 = 1 << 20;

/// Which entry holds a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    stem: String,
}

impl Key {
    /// The key of what a fetch with `config` gets for `cluster_id`: region,
    /// endpoint and identity as in use, never a secret.
    pub fn new(
        config: &ProviderConfig,
        cluster_id: &str,
        region: Option<&str>,
        endpoint: &Url,
        identity: &str,
    ) -> Key {
        let selector = serde_json::json!({
            "provider": config.kind.name(),
            "clusterId": cluster_id,
            "private": config.private,
            "region": region,
            "ttl": config.ttl_minutes,
            "endpoint": endpoint.as_str(),
            "profile": config.profile,
            "projectId": config.project_id,
            "insecure": config.insecure,
            "signature": format!("{:?}", config.signature),
            "identity": identity,
        });
        let digest = Sha256::digest(selector.to_string());
        Key {
            stem: format!(
                "{}-{}",
                config.entry_name(cluster_id),
                hex::encode(&digest[..8])
            ),
        }
    }

    pub fn file_name(&self) -> String {
        format!("{}.json", self.stem)
    }
}

/// A cached client credential, as kubectl gets it: PEM, not base64.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub client_certificate: Option<String>,
    pub client_key: Option<Secret>,
    pub token: Option<Secret>,
    pub fetched_at: DateTime<Utc>,
    /// The API's expiry, else the certificate's notAfter; `None`: never cached.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Credential {
    /// The credential of a fetched user entry (`client-*-data` are base64 of PEM).
    pub fn from_user(
        user: &AuthInfo,
        fetched_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Credential, String> {
        let pem = |data: &str, what: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| format!("the {what} is not base64 of PEM text"))
        };
        let client_certificate = user
            .client_certificate_data
            .as_deref()
            .map(|data| pem(data, "client certificate"))
            .transpose()?;
        let client_key = user
            .client_key_data
            .as_ref()
            .map(|data| pem(data.expose(), "client key").map(Secret::new))
            .transpose()?;
        Ok(Credential {
            client_certificate,
            client_key,
            token: user.token.clone(),
            fetched_at,
            expires_at,
        })
    }

    /// Served only while more than max(20 % of its lifetime, 5 minutes) remains.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        let Some(expires_at) = self.expires_at else {
            return false;
        };
        let lifetime = expires_at - self.fetched_at;
        expires_at - now > (lifetime / 5).max(MIN_REMAINING)
    }

    /// The ExecCredential kubectl reads on stdout.
    pub fn exec_credential(&self, api_version: &str) -> String {
        let mut status = serde_json::Map::new();
        if let (Some(cert), Some(key)) = (&self.client_certificate, &self.client_key) {
            status.insert("clientCertificateData".into(), cert.clone().into());
            status.insert("clientKeyData".into(), key.expose().into());
        }
        if let Some(token) = &self.token {
            status.insert("token".into(), token.expose().into());
        }
        if let Some(at) = self.expires_at {
            status.insert(
                "expirationTimestamp".into(),
                crate::kubeconfig::provenance::format_timestamp(at).into(),
            );
        }
        let credential = serde_json::json!({
            "apiVersion": api_version,
            "kind": "ExecCredential",
            "status": status,
        });
        format!("{credential}\n")
    }
}

/// An entry's file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_certificate_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_key_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    fetched_at: DateTime<Utc>,
    expiration_timestamp: DateTime<Utc>,
}

impl Stored {
    /// A credential kubectl can use, or nothing: a corrupt entry is a miss.
    fn credential(self) -> Option<Credential> {
        let certified = self.client_certificate_data.is_some() && self.client_key_data.is_some();
        let usable = (certified || self.token.is_some())
            && self.client_certificate_data.is_some() == self.client_key_data.is_some()
            && self.fetched_at <= self.expiration_timestamp;
        usable.then(|| Credential {
            client_certificate: self.client_certificate_data,
            client_key: self.client_key_data.map(Secret::new),
            token: self.token.map(Secret::new),
            fetched_at: self.fetched_at,
            expires_at: Some(self.expiration_timestamp),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create the cache directory {path}")]
    Dir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("cannot write the cache entry {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: CommitError,
    },
}

/// The name every entry of a context's cluster starts with:
/// `<provider>-<cluster id>[-private]`, whatever the context is called.
pub fn entry_name(provenance: &Provenance) -> String {
    format!(
        "{}-{}{}",
        provenance.provider,
        provenance.cluster_id,
        if provenance.private { "-private" } else { "" }
    )
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// `$KUBECACHEDIR/kubefetch`, else `~/.kube/cache/kubefetch`; `None` without a home.
    pub fn locate(env: &Env) -> Option<Cache> {
        let base = match env.var("KUBECACHEDIR") {
            Some(dir) => PathBuf::from(dir),
            None => env.home()?.join(".kube").join("cache"),
        };
        Some(Cache {
            dir: base.join("kubefetch"),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The entry's credential; a missing, unreadable or corrupt entry is `None`.
    pub fn read(&self, key: &Key) -> Option<Credential> {
        read_entry(&self.path(key))
    }

    /// Takes `<entry>.lock`, creating the directory (0700) if needed.
    pub fn lock(&self, key: &Key, wait: Duration) -> Result<Acquired, CacheError> {
        self.create_dir()?;
        Ok(lock::acquire(&self.path(key), wait)?)
    }

    /// Writes the entry atomically, 0600. A credential without an expiry is not cached.
    pub fn store(&self, key: &Key, credential: &Credential) -> Result<(), CacheError> {
        let Some(expiration_timestamp) = credential.expires_at else {
            return Ok(());
        };
        self.create_dir()?;
        let stored = Stored {
            client_certificate_data: credential.client_certificate.clone(),
            client_key_data: credential
                .client_key
                .as_ref()
                .map(|k| k.expose().to_string()),
            token: credential.token.as_ref().map(|t| t.expose().to_string()),
            fetched_at: credential.fetched_at,
            expiration_timestamp,
        };
        let text = serde_json::to_vec(&stored).expect("an entry is plain data");
        let path = self.path(key);
        let write_error = |source| CacheError::Write {
            path: path.clone(),
            source,
        };
        AtomicFile::beside(&path, &format!(".{}-", key.stem))
            .map_err(|e| write_error(CommitError::Write(e)))?
            .commit(&text, 0o600, Replace::Always)
            .map_err(write_error)?;
        Ok(())
    }

    /// Every entry of a context's cluster (`<entry name>-<16 hex>.json`),
    /// whatever its options or identity.
    pub fn entries_of(&self, entry_name: &str) -> Vec<PathBuf> {
        let Ok(listing) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let prefix = format!("{entry_name}-");
        let mut found: Vec<PathBuf> = listing
            .flatten()
            .filter(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(".json"))
                    .is_some_and(|hash| {
                        hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
                    })
            })
            .map(|entry| entry.path())
            .collect();
        found.sort();
        found
    }

    /// Deletes every entry of a context's cluster: each path, and whether it went.
    pub fn remove_entries_of(&self, entry_name: &str) -> Vec<(PathBuf, io::Result<()>)> {
        self.entries_of(entry_name)
            .into_iter()
            .map(|path| {
                let removed = std::fs::remove_file(&path);
                (path, removed)
            })
            .collect()
    }

    /// The latest expiry among a cluster's entries.
    pub fn latest_expiry(&self, entry_name: &str) -> Option<DateTime<Utc>> {
        self.entries_of(entry_name)
            .iter()
            .filter_map(|path| read_entry(path)?.expires_at)
            .max()
    }

    fn create_dir(&self) -> Result<(), CacheError> {
        let dir_error = |source| CacheError::Dir {
            path: self.dir.clone(),
            source,
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(dir_error)?;
        // A directory made by another tool, or by hand, is made private too.
        let meta = std::fs::metadata(&self.dir).map_err(dir_error)?;
        if meta.mode() & 0o077 != 0 && meta.uid() == current_uid() {
            std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
                .map_err(dir_error)?;
        }
        Ok(())
    }
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

fn read_entry(path: &Path) -> Option<Credential> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice::<Stored>(&bytes).ok()?.credential()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ProviderKind;
    use crate::settings::HttpSettings;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn config(kind: ProviderKind) -> ProviderConfig {
        ProviderConfig::new(
            kind,
            HttpSettings {
                timeout: Duration::from_secs(1),
                retries: 0,
                ca_bundle: None,
            },
        )
    }

    fn key(identity: &str) -> Key {
        let endpoint = Url::parse("https://cs.cn-hangzhou.aliyuncs.com").unwrap();
        let mut ack = config(ProviderKind::Ack);
        ack.ttl_minutes = Some(60);
        Key::new(&ack, "c5b", Some("cn-hangzhou"), &endpoint, identity)
    }

    fn credential(fetched_at: &str, expires_at: &str) -> Credential {
        Credential {
            client_certificate: Some(
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            ),
            client_key: Some(Secret::new(
                "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n",
            )),
            token: None,
            fetched_at: at(fetched_at),
            expires_at: Some(at(expires_at)),
        }
    }

    fn cache(dir: &Path) -> Cache {
        let env = Env::new([("KUBECACHEDIR", dir.to_str().unwrap())], None);
        Cache::locate(&env).unwrap()
    }

    #[test]
    fn the_directory_comes_from_kubecachedir_else_the_home() {
        let env = Env::new([("KUBECACHEDIR", "/c")], Some(PathBuf::from("/home/u")));
        assert_eq!(
            Cache::locate(&env).unwrap().dir(),
            Path::new("/c/kubefetch")
        );
        let env = Env::new(
            Vec::<(String, String)>::new(),
            Some(PathBuf::from("/home/u")),
        );
        assert_eq!(
            Cache::locate(&env).unwrap().dir(),
            Path::new("/home/u/.kube/cache/kubefetch")
        );
        assert!(Cache::locate(&Env::new(Vec::<(String, String)>::new(), None)).is_none());
    }

    #[test]
    fn keys_name_the_cluster_and_tell_every_selector_apart() {
        let name = key("access-key-id LTAI1").file_name();
        assert!(
            name.starts_with("ack-c5b-") && name.ends_with(".json"),
            "{name}"
        );
        assert_eq!(name.len(), "ack-c5b-".len() + 16 + ".json".len());
        assert_eq!(key("access-key-id LTAI1"), key("access-key-id LTAI1"));
        assert_ne!(key("access-key-id LTAI1"), key("access-key-id LTAI2"));
        let endpoint = Url::parse("https://cs.cn-hangzhou.aliyuncs.com").unwrap();
        let mut private = config(ProviderKind::Ack);
        private.private = true;
        private.ttl_minutes = Some(60);
        let private = Key::new(&private, "c5b", Some("cn-hangzhou"), &endpoint, "x");
        assert!(private.file_name().starts_with("ack-c5b-private-"));
        let mut longer = config(ProviderKind::Ack);
        longer.ttl_minutes = Some(120);
        let longer = Key::new(&longer, "c5b", Some("cn-hangzhou"), &endpoint, "x");
        let mut same = config(ProviderKind::Ack);
        same.ttl_minutes = Some(60);
        let same = Key::new(&same, "c5b", Some("cn-hangzhou"), &endpoint, "x");
        assert_ne!(longer, same);
        let elsewhere = Key::new(
            &config(ProviderKind::Ack),
            "c5b",
            Some("cn-beijing"),
            &endpoint,
            "x",
        );
        assert_ne!(elsewhere.file_name(), same.file_name());
    }

    #[test]
    fn an_entry_is_served_until_a_fifth_of_its_lifetime_or_five_minutes_remain() {
        // One hour: served while more than 12 minutes remain.
        let hour = credential("2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z");
        assert!(hour.is_fresh(at("2026-11-22T10:00:00Z")));
        assert!(hour.is_fresh(at("2026-11-22T10:47:59Z")));
        assert!(!hour.is_fresh(at("2026-11-22T10:48:00Z")));
        assert!(!hour.is_fresh(at("2026-11-22T12:00:00Z")));
        // Fifteen minutes: the five-minute floor wins over 3 minutes.
        let short = credential("2026-11-22T10:00:00Z", "2026-11-22T10:15:00Z");
        assert!(short.is_fresh(at("2026-11-22T10:09:59Z")));
        assert!(!short.is_fresh(at("2026-11-22T10:10:00Z")));
        // Shorter than the floor: never served.
        let tiny = credential("2026-11-22T10:00:00Z", "2026-11-22T10:04:00Z");
        assert!(!tiny.is_fresh(at("2026-11-22T10:00:00Z")));
        let unknown = Credential {
            expires_at: None,
            ..hour
        };
        assert!(!unknown.is_fresh(at("2026-11-22T10:00:00Z")));
    }

    #[test]
    fn a_stored_entry_reads_back_with_private_modes() {
        let base = tempfile::tempdir().unwrap();
        let cache = cache(base.path());
        let key = key("access-key-id LTAI1");
        assert_eq!(cache.read(&key), None, "a missing entry is a miss");
        let stored = credential("2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z");
        cache.store(&key, &stored).unwrap();
        assert_eq!(cache.read(&key), Some(stored));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(cache.dir()), 0o700);
        assert_eq!(mode(&cache.path(&key)), 0o600);
        assert_eq!(
            crate::testing::dir_entries(cache.dir()),
            [key.file_name()],
            "no temporary file is left"
        );
        assert_eq!(cache.entries_of("ack-c5b"), [cache.path(&key)]);
        assert!(cache.entries_of("ack-c5").is_empty());
        assert_eq!(
            cache.latest_expiry("ack-c5b"),
            Some(at("2026-11-22T11:00:00Z"))
        );
    }

    #[test]
    fn two_identities_keep_two_entries() {
        let base = tempfile::tempdir().unwrap();
        let cache = cache(base.path());
        let (first, second) = (key("access-key-id LTAI1"), key("access-key-id LTAI2"));
        let one = credential("2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z");
        let two = credential("2026-11-22T10:30:00Z", "2026-11-22T11:30:00Z");
        cache.store(&first, &one).unwrap();
        cache.store(&second, &two).unwrap();
        assert_eq!(cache.read(&first), Some(one));
        assert_eq!(cache.read(&second), Some(two));
        assert_eq!(cache.entries_of("ack-c5b").len(), 2);
        assert_eq!(
            cache.latest_expiry("ack-c5b"),
            Some(at("2026-11-22T11:30:00Z"))
        );
    }

    #[test]
    fn a_corrupt_entry_is_a_miss_and_is_replaced() {
        let base = tempfile::tempdir().unwrap();
        let cache = cache(base.path());
        let key = key("access-key-id LTAI1");
        std::fs::create_dir_all(cache.dir()).unwrap();
        for corrupt in [
            "",
            "{",
            "[]",
            r#"{"fetchedAt":"2026-11-22T10:00:00Z","expirationTimestamp":"2026-11-22T11:00:00Z"}"#,
            r#"{"clientCertificateData":"c","fetchedAt":"2026-11-22T10:00:00Z","expirationTimestamp":"2026-11-22T11:00:00Z"}"#,
            r#"{"token":"t","fetchedAt":"2026-11-22T12:00:00Z","expirationTimestamp":"2026-11-22T11:00:00Z"}"#,
            r#"{"token":"t","fetchedAt":"yesterday","expirationTimestamp":"2026-11-22T11:00:00Z"}"#,
        ] {
            std::fs::write(cache.path(&key), corrupt).unwrap();
            assert_eq!(cache.read(&key), None, "{corrupt}");
        }
        let stored = credential("2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z");
        cache.store(&key, &stored).unwrap();
        assert_eq!(cache.read(&key), Some(stored));
    }

    #[test]
    fn the_exec_credential_carries_pem_and_the_expiry() {
        let text = credential("2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z")
            .exec_credential("client.authentication.k8s.io/v1beta1");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["apiVersion"], "client.authentication.k8s.io/v1beta1");
        assert_eq!(value["kind"], "ExecCredential");
        let status = &value["status"];
        assert!(status["clientCertificateData"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(status["clientKeyData"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        assert_eq!(status["expirationTimestamp"], "2026-11-22T11:00:00Z");
        assert!(text.ends_with("}\n") && text.lines().count() == 1);
    }

    #[test]
    fn a_user_entry_becomes_pem() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let user = AuthInfo {
            client_certificate_data: Some(b64("CERT PEM")),
            client_key_data: Some(Secret::new(b64("KEY PEM"))),
            ..AuthInfo::default()
        };
        let now = at("2026-11-22T10:00:00Z");
        let credential = Credential::from_user(&user, now, None).unwrap();
        assert_eq!(credential.client_certificate.as_deref(), Some("CERT PEM"));
        assert_eq!(credential.client_key.unwrap().expose(), "KEY PEM");
        let broken = AuthInfo {
            client_key_data: Some(Secret::new("%%%")),
            ..user
        };
        let err = Credential::from_user(&broken, now, None).unwrap_err();
        assert!(!err.contains("%%%"), "{err}");
    }
}
