//! Tencent Cloud credentials and region, from the places tccli and the SDKs
//! look: environment, tccli profiles, `~/.tencentcloud/credentials`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::credentials::{resolve, CredentialError, Found, Lookup, Source};
use crate::env::Env;
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct TencentCredential {
    pub secret_id: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
}

/// The tccli profile in use: `--profile`, else `TCCLI_PROFILE`, else `default`.
pub fn profile_name<'a>(env: &'a Env, explicit: Option<&'a str>) -> &'a str {
    explicit
        .or_else(|| env.var("TCCLI_PROFILE"))
        .unwrap_or("default")
}

/// With an explicit `--profile` only that profile counts (as with the aws
/// CLI); otherwise env, then the tccli profile, then the SDK file.
pub fn load(
    env: &Env,
    explicit_profile: Option<&str>,
) -> Result<Found<TencentCredential>, CredentialError> {
    let profile = profile_name(env, explicit_profile);
    let tccli = tccli_dir(env);
    let tccli_source = {
        let tccli = tccli.clone();
        let strict = explicit_profile.is_some();
        Source::new(
            format!("tccli profile '{profile}' (~/.tccli/{profile}.credential)"),
            move || from_tccli(tccli.as_deref(), profile, strict),
        )
    };
    if explicit_profile.is_some() {
        return resolve("Tencent Cloud", vec![tccli_source]);
    }
    resolve(
        "Tencent Cloud",
        vec![
            Source::new(
                "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY)",
                || from_env(env),
            ),
            tccli_source,
            Source::new("~/.tencentcloud/credentials", || {
                from_sdk_file(env.home().map(|h| h.join(".tencentcloud/credentials")))
            }),
        ],
    )
}

/// The region of the tccli profile in use (`_sys_param.region` in its `.configure`).
pub fn profile_region(env: &Env, explicit_profile: Option<&str>) -> Option<String> {
    #[derive(Deserialize)]
    struct Configure {
        #[serde(rename = "_sys_param")]
        sys_param: Option<SysParam>,
    }
    #[derive(Deserialize)]
    struct SysParam {
        region: Option<String>,
    }
    let profile = profile_name(env, explicit_profile);
    let path = tccli_dir(env)?.join(format!("{profile}.configure"));
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str::<Configure>(&text)
        .ok()?
        .sys_param?
        .region
        .filter(|r| !r.is_empty())
}

fn tccli_dir(env: &Env) -> Option<PathBuf> {
    env.home().map(|h| h.join(".tccli"))
}

fn from_env(env: &Env) -> Lookup<TencentCredential> {
    match (
        env.var("TENCENTCLOUD_SECRET_ID"),
        env.var("TENCENTCLOUD_SECRET_KEY"),
    ) {
        (Some(id), Some(key)) => Lookup::Found(TencentCredential {
            secret_id: id.to_string(),
            secret_key: Secret::new(key),
            token: env
                .first_var(&["TENCENTCLOUD_TOKEN", "TENCENTCLOUD_SESSION_TOKEN"])
                .map(|(_, t)| Secret::new(t)),
        }),
        (None, None) => Lookup::NotHere("TENCENTCLOUD_SECRET_ID is not set".into()),
        (Some(_), None) => Lookup::Broken(
            "TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not".into(),
        ),
        (None, Some(_)) => Lookup::Broken(
            "TENCENTCLOUD_SECRET_KEY is set but TENCENTCLOUD_SECRET_ID is not".into(),
        ),
    }
}

fn from_tccli(dir: Option<&Path>, profile: &str, strict: bool) -> Lookup<TencentCredential> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct CredentialFile {
        secret_id: Option<String>,
        secret_key: Option<String>,
        token: Option<String>,
    }
    let Some(dir) = dir else {
        return Lookup::NotHere("no home directory".into());
    };
    let path = dir.join(format!("{profile}.credential"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !strict => {
            return Lookup::NotHere("no such file".into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Lookup::Broken(format!(
                "profile '{profile}' does not exist ({} is missing); create it with `tccli configure --profile {profile}`",
                path.display()
            ))
        }
        Err(e) => return Lookup::Broken(format!("cannot read {}: {e}", path.display())),
    };
    let file: CredentialFile = match serde_json::from_str(&text) {
        Ok(file) => file,
        Err(e) => {
            return Lookup::Broken(format!(
                "{} is not valid JSON (line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            ))
        }
    };
    match (non_empty(file.secret_id), non_empty(file.secret_key)) {
        (Some(secret_id), Some(key)) => Lookup::Found(TencentCredential {
            secret_id,
            secret_key: Secret::new(key),
            token: non_empty(file.token).map(Secret::new),
        }),
        _ => Lookup::Broken(format!("{} lacks secretId or secretKey", path.display())),
    }
}

fn from_sdk_file(path: Option<PathBuf>) -> Lookup<TencentCredential> {
    let Some(path) = path else {
        return Lookup::NotHere("no home directory".into());
    };
    let ini = match crate::credentials::read_ini(&path) {
        Ok(Some(ini)) => ini,
        Ok(None) => return Lookup::NotHere("no such file".into()),
        Err(reason) => return Lookup::Broken(reason),
    };
    let Some(section) = ini.section(Some("default")) else {
        return Lookup::NotHere("no [default] section".into());
    };
    match (section.get("secret_id"), section.get("secret_key")) {
        (Some(id), Some(key)) if !id.is_empty() && !key.is_empty() => {
            Lookup::Found(TencentCredential {
                secret_id: id.to_string(),
                secret_key: Secret::new(key),
                token: section
                    .get("token")
                    .filter(|t| !t.is_empty())
                    .map(Secret::new),
            })
        }
        _ => Lookup::Broken(format!(
            "{} [default] lacks secret_id or secret_key",
            path.display()
        )),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{env_in as env, home_with};

    #[test]
    fn environment_comes_first_with_either_token_name() {
        let home = home_with(&[(
            ".tccli/default.credential",
            r#"{"secretId":"F","secretKey":"f"}"#,
        )]);
        let e = env(
            &[
                ("TENCENTCLOUD_SECRET_ID", "E"),
                ("TENCENTCLOUD_SECRET_KEY", "e"),
                ("TENCENTCLOUD_SESSION_TOKEN", "t"),
            ],
            &home,
        );
        let found = load(&e, None).unwrap();
        assert_eq!(found.value.secret_id, "E");
        assert_eq!(found.value.token.unwrap().expose(), "t");
        assert!(found.source.starts_with("environment"));
    }

    #[test]
    fn half_set_environment_is_broken_not_skipped() {
        let home = home_with(&[]);
        let err = load(&env(&[("TENCENTCLOUD_SECRET_ID", "E")], &home), None).unwrap_err();
        assert!(
            err.to_string().contains("TENCENTCLOUD_SECRET_KEY is not"),
            "{err}"
        );
    }

    #[test]
    fn tccli_profile_from_env_var_and_its_region() {
        let home = home_with(&[
            (
                ".tccli/work.credential",
                r#"{"secretId":"W","secretKey":"w","token":""}"#,
            ),
            (
                ".tccli/work.configure",
                r#"{"_sys_param":{"region":"ap-shanghai","output":"json"},"tke":{}}"#,
            ),
        ]);
        let e = env(&[("TCCLI_PROFILE", "work")], &home);
        let found = load(&e, None).unwrap();
        assert_eq!(found.value.secret_id, "W");
        assert!(found.value.token.is_none());
        assert_eq!(profile_region(&e, None).as_deref(), Some("ap-shanghai"));
    }

    #[test]
    fn explicit_profile_ignores_environment_and_must_exist() {
        let home = home_with(&[(
            ".tccli/prod.credential",
            r#"{"secretId":"P","secretKey":"p"}"#,
        )]);
        let e = env(
            &[
                ("TENCENTCLOUD_SECRET_ID", "E"),
                ("TENCENTCLOUD_SECRET_KEY", "e"),
            ],
            &home,
        );
        assert_eq!(load(&e, Some("prod")).unwrap().value.secret_id, "P");
        let err = load(&e, Some("nope")).unwrap_err();
        assert!(
            err.to_string().contains("profile 'nope' does not exist"),
            "{err}"
        );
    }

    #[test]
    fn sdk_ini_file_is_the_last_source() {
        let home = home_with(&[(
            ".tencentcloud/credentials",
            "[default]\nsecret_id = S\nsecret_key = s\n",
        )]);
        let found = load(&env(&[], &home), None).unwrap();
        assert_eq!(found.value.secret_id, "S");
        assert_eq!(found.value.secret_key.expose(), "s");
    }

    #[test]
    fn nothing_found_names_every_source() {
        let home = home_with(&[]);
        match load(&env(&[], &home), None).unwrap_err() {
            CredentialError::NotFound { tried, .. } => {
                assert_eq!(tried.len(), 3);
                assert!(tried[0].source.contains("TENCENTCLOUD_SECRET_ID"));
                assert!(tried[1].source.contains("~/.tccli/default.credential"));
                assert!(tried[2].source.contains("~/.tencentcloud/credentials"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_profile_is_reported() {
        let home = home_with(&[(".tccli/default.credential", "{not json")]);
        let err = load(&env(&[], &home), None).unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        assert!(
            !err.to_string().contains("not json"),
            "file content must not be echoed"
        );
    }
}
