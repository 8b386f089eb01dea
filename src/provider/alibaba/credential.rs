//! Alibaba Cloud credentials and region, from the places the aliyun CLI and
//! the SDKs look: environment, aliyun CLI profiles (`~/.aliyun/config.json`),
//! the SDK credentials file (`~/.alibabacloud/credentials.ini`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::credentials::{resolve, CredentialError, Found, Lookup, Source};
use crate::env::Env;
use crate::secret::Secret;

const PROVIDER: &str = "Alibaba Cloud";

#[derive(Debug, Clone)]
pub struct AlibabaCredential {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// Present with STS credentials; sent as `x-acs-security-token`.
    pub security_token: Option<Secret>,
}

/// `~/.aliyun/config.json` as the aliyun CLI writes it (unknown keys ignored).
#[derive(Deserialize)]
struct CliConfig {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<CliProfile>,
}

#[derive(Deserialize)]
struct CliProfile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
    #[serde(default)]
    region_id: String,
}

/// With an explicit `--profile` only the named profile counts (aliyun CLI
/// first, then the same-named section of the SDK file); otherwise the
/// environment, then the aliyun CLI profile, then the SDK file.
pub fn load(
    env: &Env,
    explicit_profile: Option<&str>,
) -> Result<Found<AlibabaCredential>, CredentialError> {
    let config_path = cli_config_path(env);
    let config = read_cli_config(config_path.as_deref());
    let cli_profile = cli_profile_name(
        env,
        explicit_profile,
        config.as_ref().ok().and_then(Option::as_ref),
    );
    let ini_profile = explicit_profile
        .or_else(|| env.var("ALIBABA_CLOUD_PROFILE"))
        .unwrap_or("default")
        .to_string();
    let cli_source = Source::new(
        format!("aliyun CLI profile '{cli_profile}' (~/.aliyun/config.json)"),
        move || from_cli_config(config, &cli_profile),
    );
    let (ini_path, ini_name) = sdk_file(env);
    let ini_source = Source::new(format!("{ini_name} [{ini_profile}]"), move || {
        from_sdk_file(ini_path, &ini_profile)
    });
    if explicit_profile.is_some() {
        return resolve(PROVIDER, vec![cli_source, ini_source]);
    }
    resolve(
        PROVIDER,
        vec![
            Source::new(
                "environment (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET)",
                || from_env(env),
            ),
            cli_source,
            ini_source,
        ],
    )
}

/// The `region_id` of the aliyun CLI profile in use, if it has one.
pub fn profile_region(env: &Env, explicit_profile: Option<&str>) -> Option<String> {
    let config = read_cli_config(cli_config_path(env).as_deref()).ok()??;
    let name = cli_profile_name(env, explicit_profile, Some(&config));
    config
        .profiles
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| p.region_id)
        .filter(|r| !r.is_empty())
}

/// `--profile`, else `ALIBABA_CLOUD_PROFILE`, else the CLI's `current`, else `default`.
fn cli_profile_name(env: &Env, explicit: Option<&str>, config: Option<&CliConfig>) -> String {
    explicit
        .or_else(|| env.var("ALIBABA_CLOUD_PROFILE"))
        .or_else(|| config.map(|c| c.current.as_str()).filter(|c| !c.is_empty()))
        .unwrap_or("default")
        .to_string()
}

fn cli_config_path(env: &Env) -> Option<PathBuf> {
    env.home().map(|h| h.join(".aliyun").join("config.json"))
}

/// `Ok(None)` when there is no file; a file that exists but cannot be used
/// is an error, reported by the source that needs it.
fn read_cli_config(path: Option<&Path>) -> Result<Option<CliConfig>, String> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        format!(
            "{} is not valid JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

fn from_env(env: &Env) -> Lookup<AlibabaCredential> {
    match (
        env.var("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        env.var("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ) {
        (Some(id), Some(secret)) => Lookup::Found(AlibabaCredential {
            access_key_id: id.to_string(),
            access_key_secret: Secret::new(secret),
            security_token: env.var("ALIBABA_CLOUD_SECURITY_TOKEN").map(Secret::new),
        }),
        (None, None) => Lookup::NotHere("ALIBABA_CLOUD_ACCESS_KEY_ID is not set".into()),
        (Some(_), None) => Lookup::Broken(
            "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not".into(),
        ),
        (None, Some(_)) => Lookup::Broken(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not".into(),
        ),
    }
}

fn from_cli_config(
    config: Result<Option<CliConfig>, String>,
    profile: &str,
) -> Lookup<AlibabaCredential> {
    let config = match config {
        Ok(Some(config)) => config,
        Ok(None) => return Lookup::NotHere("no such file".into()),
        Err(reason) => return Lookup::Broken(reason),
    };
    let Some(found) = config.profiles.into_iter().find(|p| p.name == profile) else {
        return Lookup::NotHere(format!("no profile named '{profile}'"));
    };
    // Old CLI versions wrote no mode for plain key profiles.
    let mode = if found.mode.is_empty() {
        "AK"
    } else {
        found.mode.as_str()
    };
    let token = match mode {
        "AK" => None,
        "StsToken" if found.sts_token.is_empty() => {
            return Lookup::Broken(format!(
                "profile '{profile}' has mode StsToken but no sts_token"
            ))
        }
        "StsToken" => Some(Secret::new(found.sts_token)),
        other => {
            return Lookup::Broken(format!(
                "profile '{profile}' uses mode {other}, which kubefetch does not support yet (only AK and StsToken)"
            ))
        }
    };
    if found.access_key_id.is_empty() || found.access_key_secret.is_empty() {
        return Lookup::Broken(format!(
            "profile '{profile}' lacks access_key_id or access_key_secret"
        ));
    }
    Lookup::Found(AlibabaCredential {
        access_key_id: found.access_key_id,
        access_key_secret: Secret::new(found.access_key_secret),
        security_token: token,
    })
}

/// The SDK credentials file and how to name it in messages.
fn sdk_file(env: &Env) -> (Option<PathBuf>, String) {
    match env.var("ALIBABA_CLOUD_CREDENTIALS_FILE") {
        Some(path) => (
            Some(PathBuf::from(path)),
            format!("ALIBABA_CLOUD_CREDENTIALS_FILE ({path})"),
        ),
        None => (
            env.home()
                .map(|h| h.join(".alibabacloud").join("credentials.ini")),
            "~/.alibabacloud/credentials.ini".to_string(),
        ),
    }
}

fn from_sdk_file(path: Option<PathBuf>, profile: &str) -> Lookup<AlibabaCredential> {
    let Some(path) = path else {
        return Lookup::NotHere("no home directory".into());
    };
    let ini = match crate::credentials::read_ini(&path) {
        Ok(Some(ini)) => ini,
        Ok(None) => return Lookup::NotHere("no such file".into()),
        Err(reason) => return Lookup::Broken(reason),
    };
    let Some(section) = ini.section(Some(profile)) else {
        return Lookup::NotHere(format!("no section [{profile}]"));
    };
    let get = |key: &str| section.get(key).map(str::trim).filter(|v| !v.is_empty());
    if get("enable").is_some_and(|v| v.eq_ignore_ascii_case("false")) {
        return Lookup::NotHere(format!("section [{profile}] has enable = false"));
    }
    let kind = get("type").unwrap_or("access_key");
    let token = match kind {
        "access_key" => None,
        "sts" => match get("security_token") {
            Some(token) => Some(Secret::new(token)),
            None => {
                return Lookup::Broken(format!(
                    "section [{profile}] of {} has type sts but no security_token",
                    path.display()
                ))
            }
        },
        other => {
            return Lookup::Broken(format!(
                "section [{profile}] of {} has type {other}, which kubefetch does not support yet (only access_key and sts)",
                path.display()
            ))
        }
    };
    match (get("access_key_id"), get("access_key_secret")) {
        (Some(id), Some(secret)) => Lookup::Found(AlibabaCredential {
            access_key_id: id.to_string(),
            access_key_secret: Secret::new(secret),
            security_token: token,
        }),
        _ => Lookup::Broken(format!(
            "section [{profile}] of {} lacks access_key_id or access_key_secret",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{env_in as env, home_with};

    const CLI_CONFIG: &str = r#"{
        "current": "work",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "D", "access_key_secret": "d", "region_id": "cn-beijing"},
            {"name": "work", "mode": "AK", "access_key_id": "W", "access_key_secret": "w", "region_id": "cn-shanghai"},
            {"name": "sts", "mode": "StsToken", "access_key_id": "STS.S", "access_key_secret": "s", "sts_token": "tok"},
            {"name": "role", "mode": "RamRoleArn", "access_key_id": "R", "access_key_secret": "r"},
            {"name": "legacy", "access_key_id": "L", "access_key_secret": "l"}
        ],
        "meta_path": ""
    }"#;

    #[test]
    fn environment_comes_first_with_an_optional_token() {
        let home = home_with(&[(".aliyun/config.json", CLI_CONFIG)]);
        let e = env(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "E"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "e"),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", "t"),
            ],
            &home,
        );
        let found = load(&e, None).unwrap();
        assert_eq!(found.value.access_key_id, "E");
        assert_eq!(found.value.access_key_secret.expose(), "e");
        assert_eq!(found.value.security_token.unwrap().expose(), "t");
        assert!(found.source.contains("environment"));
    }

    #[test]
    fn half_set_environment_is_broken() {
        let home = home_with(&[]);
        let e = env(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "E")], &home);
        let err = load(&e, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"),
            "{err}"
        );
    }

    #[test]
    fn cli_current_profile_supplies_keys_and_region() {
        let home = home_with(&[(".aliyun/config.json", CLI_CONFIG)]);
        let e = env(&[], &home);
        let found = load(&e, None).unwrap();
        assert_eq!(found.value.access_key_id, "W");
        assert!(found.value.security_token.is_none());
        assert!(found.source.contains("'work'"), "{}", found.source);
        assert_eq!(profile_region(&e, None).as_deref(), Some("cn-shanghai"));
        assert_eq!(
            profile_region(&e, Some("default")).as_deref(),
            Some("cn-beijing")
        );
    }

    #[test]
    fn profile_env_var_picks_the_profile() {
        let home = home_with(&[(".aliyun/config.json", CLI_CONFIG)]);
        let e = env(&[("ALIBABA_CLOUD_PROFILE", "default")], &home);
        assert_eq!(load(&e, None).unwrap().value.access_key_id, "D");
    }

    #[test]
    fn sts_token_profiles_carry_their_token_and_modeless_ones_are_keys() {
        let home = home_with(&[(".aliyun/config.json", CLI_CONFIG)]);
        let e = env(&[], &home);
        let sts = load(&e, Some("sts")).unwrap().value;
        assert_eq!(sts.access_key_id, "STS.S");
        assert_eq!(sts.security_token.unwrap().expose(), "tok");
        assert_eq!(load(&e, Some("legacy")).unwrap().value.access_key_id, "L");
    }

    #[test]
    fn unsupported_modes_are_named() {
        let home = home_with(&[(".aliyun/config.json", CLI_CONFIG)]);
        let err = load(&env(&[], &home), Some("role")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("RamRoleArn"), "{text}");
        assert!(text.contains("not support yet"), "{text}");
    }

    #[test]
    fn explicit_profile_ignores_the_environment_and_must_exist() {
        let home = home_with(&[(".aliyun/config.json", CLI_CONFIG)]);
        let e = env(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "E"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "e"),
            ],
            &home,
        );
        assert_eq!(load(&e, Some("default")).unwrap().value.access_key_id, "D");
        match load(&e, Some("nope")).unwrap_err() {
            CredentialError::NotFound { tried, .. } => {
                assert_eq!(tried.len(), 2);
                assert!(tried[0].outcome.contains("no profile named 'nope'"));
                assert!(tried[1].source.contains("credentials.ini [nope]"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sdk_file_sections_and_types() {
        let ini = "[default]\ntype = access_key\naccess_key_id = I\naccess_key_secret = i\n\
                   [temp]\ntype = sts\naccess_key_id = STS.T\naccess_key_secret = t\nsecurity_token = tt\n\
                   [off]\nenable = false\naccess_key_id = O\naccess_key_secret = o\n\
                   [ecs]\ntype = ecs_ram_role\nrole_name = r\n";
        let home = home_with(&[(".alibabacloud/credentials.ini", ini)]);
        let found = load(&env(&[], &home), None).unwrap();
        assert_eq!(found.value.access_key_id, "I");
        assert_eq!(found.value.access_key_secret.expose(), "i");
        let temp = load(&env(&[("ALIBABA_CLOUD_PROFILE", "temp")], &home), None)
            .unwrap()
            .value;
        assert_eq!(temp.security_token.unwrap().expose(), "tt");
        assert!(matches!(
            load(&env(&[("ALIBABA_CLOUD_PROFILE", "off")], &home), None),
            Err(CredentialError::NotFound { .. })
        ));
        let err = load(&env(&[("ALIBABA_CLOUD_PROFILE", "ecs")], &home), None).unwrap_err();
        assert!(err.to_string().contains("ecs_ram_role"), "{err}");
    }

    #[test]
    fn credentials_file_variable_points_elsewhere() {
        let home = home_with(&[(
            "elsewhere.ini",
            "[default]\naccess_key_id = X\naccess_key_secret = x\n",
        )]);
        let file = home.path().join("elsewhere.ini");
        let e = env(
            &[("ALIBABA_CLOUD_CREDENTIALS_FILE", file.to_str().unwrap())],
            &home,
        );
        let found = load(&e, None).unwrap();
        assert_eq!(found.value.access_key_id, "X");
        assert!(found.source.contains("ALIBABA_CLOUD_CREDENTIALS_FILE"));
    }

    #[test]
    fn nothing_found_names_every_source() {
        let home = home_with(&[]);
        match load(&env(&[], &home), None).unwrap_err() {
            CredentialError::NotFound { tried, .. } => {
                assert_eq!(tried.len(), 3);
                assert!(tried[0].source.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));
                assert!(tried[1].source.contains("~/.aliyun/config.json"));
                assert_eq!(tried[1].outcome, "no such file");
                assert!(tried[2].source.contains("~/.alibabacloud/credentials.ini"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_cli_config_is_reported_without_its_content() {
        let home = home_with(&[(".aliyun/config.json", "{\"secretish\": ")]);
        let err = load(&env(&[], &home), None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("not valid JSON"), "{text}");
        assert!(!text.contains("secretish"), "{text}");
    }
}
