//! Tencent Cloud credentials and region, from the places tccli and the SDKs
//! look: environment, tccli profiles, `~/.tencentcloud/credentials`, then
//! the keyless sources of DESIGN.md section 11 (a CI job's OIDC token, the
//! CVM's role), and a role to assume with whatever was found.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::credentials::{resolve, CredentialError, Found, Lookup, Source};
use crate::env::Env;
use crate::keyless::TokenFile;
use crate::secret::Secret;

/// Keys to sign with; `token` comes with temporary keys (`X-TC-Token`).
#[derive(Debug, Clone)]
pub struct TencentCredential {
    pub secret_id: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
}

/// What the chain found: keys, or a recipe exchanged for keys once per run,
/// and maybe a role to assume with them.
#[derive(Debug, Clone)]
pub struct TencentSource {
    pub origin: Origin,
    pub assume: Option<AssumeRole>,
}

#[derive(Debug, Clone)]
pub enum Origin {
    Keys(TencentCredential),
    /// STS `AssumeRoleWithWebIdentity` with a CI job's OIDC token.
    WebIdentity(WebIdentity),
    /// The CVM's role, from the instance metadata service.
    CvmRole(String),
}

#[derive(Debug, Clone)]
pub struct WebIdentity {
    pub role_arn: String,
    pub provider_id: String,
    pub token_file: TokenFile,
    /// `TKE_REGION`: the STS region, when it differs from the command's.
    pub region: Option<String>,
}

/// STS `AssumeRole` with the credential found.
#[derive(Debug, Clone)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    /// Where the role was asked for, for hints: a variable or a profile key.
    pub asked_by: String,
}

impl TencentSource {
    fn keys(credential: TencentCredential) -> Self {
        TencentSource {
            origin: Origin::Keys(credential),
            assume: None,
        }
    }

    /// Who asks, never a secret: the role acted as, else the SecretId.
    pub fn identity(&self) -> String {
        match (&self.assume, &self.origin) {
            (Some(assume), _) => format!("role {}", assume.role_arn),
            (None, Origin::WebIdentity(web)) => format!("role {}", web.role_arn),
            (None, Origin::CvmRole(role)) => format!("cvm-role {role}"),
            (None, Origin::Keys(keys)) => format!("secret-id {}", keys.secret_id),
        }
    }
}

/// The tccli profile in use: `--profile`, else `TCCLI_PROFILE`, else `default`.
pub fn profile_name<'a>(env: &'a Env, explicit: Option<&'a str>) -> &'a str {
    explicit
        .or_else(|| env.var("TCCLI_PROFILE"))
        .unwrap_or("default")
}

/// With an explicit `--profile` only that profile counts (as with the aws
/// CLI); otherwise env, then the tccli profile, then the SDK file, then
/// OIDC, then the CVM's role. `TENCENTCLOUD_ASSUME_ROLE_ARN` then asks to
/// assume a role with what was found (over a profile's own `role-arn`).
pub fn load(
    env: &Env,
    explicit_profile: Option<&str>,
) -> Result<Found<TencentSource>, CredentialError> {
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
    let found = if explicit_profile.is_some() {
        resolve("Tencent Cloud", vec![tccli_source])?
    } else {
        resolve(
            "Tencent Cloud",
            vec![
                Source::new(
                    "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY)",
                    || from_env(env).map(TencentSource::keys),
                ),
                tccli_source,
                Source::new("~/.tencentcloud/credentials", || {
                    from_sdk_file(env.home().map(|h| h.join(".tencentcloud/credentials")))
                        .map(TencentSource::keys)
                }),
                Source::new(
                    "OIDC (TKE_ROLE_ARN, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE)",
                    || from_oidc(env),
                ),
                Source::new("CVM role (TENCENTCLOUD_CAM_ROLE_NAME)", || {
                    from_cvm_role(env)
                }),
            ],
        )?
    };
    with_assumed_role(env, found)
}

/// Applies `TENCENTCLOUD_ASSUME_ROLE_ARN` to the credential found, and
/// says in the source's name which role, if any, is assumed.
fn with_assumed_role(
    env: &Env,
    mut found: Found<TencentSource>,
) -> Result<Found<TencentSource>, CredentialError> {
    const VAR: &str = "TENCENTCLOUD_ASSUME_ROLE_ARN";
    let Some(arn) = env.var(VAR) else {
        if found.value.assume.is_some() {
            found.source = format!("{}, assuming its role-arn", found.source);
        }
        return Ok(found);
    };
    check_role_arn(arn, VAR).map_err(|reason| CredentialError::Broken {
        source_name: VAR.to_string(),
        reason,
    })?;
    found.value.assume = Some(AssumeRole {
        role_arn: arn.to_string(),
        session_name: env
            .var("TENCENTCLOUD_ASSUME_ROLE_SESSION_NAME")
            .map(str::to_string),
        asked_by: VAR.to_string(),
    });
    found.source = format!("{}, assuming the role in {VAR}", found.source);
    Ok(found)
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

/// A tccli profile's keys, and the role tccli assumes with them when the
/// profile has a `role-arn`.
fn from_tccli(dir: Option<&Path>, profile: &str, strict: bool) -> Lookup<TencentSource> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct CredentialFile {
        secret_id: Option<String>,
        secret_key: Option<String>,
        token: Option<String>,
        #[serde(rename = "role-arn")]
        role_arn: Option<String>,
        #[serde(rename = "role-session-name")]
        role_session_name: Option<String>,
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
    let credential = match (non_empty(file.secret_id), non_empty(file.secret_key)) {
        (Some(secret_id), Some(key)) => TencentCredential {
            secret_id,
            secret_key: Secret::new(key),
            token: non_empty(file.token).map(Secret::new),
        },
        _ => return Lookup::Broken(format!("{} lacks secretId or secretKey", path.display())),
    };
    let asked_by = format!("role-arn in {}", path.display());
    let assume = match non_empty(file.role_arn) {
        Some(arn) => match check_role_arn(&arn, &asked_by) {
            Ok(()) => Some(AssumeRole {
                role_arn: arn,
                session_name: non_empty(file.role_session_name),
                asked_by,
            }),
            Err(reason) => return Lookup::Broken(reason),
        },
        None => None,
    };
    Lookup::Found(TencentSource {
        origin: Origin::Keys(credential),
        assume,
    })
}

/// The TKE OIDC variables of the SDKs' OIDC provider: all three or none.
fn from_oidc(env: &Env) -> Lookup<TencentSource> {
    const ROLE: &str = "TKE_ROLE_ARN";
    const PROVIDER: &str = "TKE_PROVIDER_ID";
    const TOKEN_FILE: &str = "TKE_WEB_IDENTITY_TOKEN_FILE";
    let (role_arn, provider_id) = match (env.var(ROLE), env.var(PROVIDER), env.var(TOKEN_FILE)) {
        (None, None, None) => return Lookup::NotHere(format!("{ROLE} is not set")),
        (Some(role), Some(provider), Some(_)) => (role, provider),
        _ => {
            let missing: Vec<&str> = [ROLE, PROVIDER, TOKEN_FILE]
                .into_iter()
                .filter(|var| env.var(var).is_none())
                .collect();
            return Lookup::Broken(format!(
                "{} must be set together with the other TKE OIDC variables",
                missing.join(" and ")
            ));
        }
    };
    if let Err(reason) = check_role_arn(role_arn, ROLE) {
        return Lookup::Broken(reason);
    }
    if provider_id.trim().is_empty() {
        return Lookup::Broken(format!("{PROVIDER} is empty"));
    }
    let region = match env.var("TKE_REGION") {
        Some(region) if super::validate_region(region).is_err() => {
            return Lookup::Broken(format!(
                "TKE_REGION '{}' is not a region (e.g. ap-guangzhou)",
                region.escape_debug()
            ))
        }
        region => region.map(str::to_string),
    };
    let token_file = match TokenFile::from_env(env, TOKEN_FILE) {
        Lookup::Found(file) => file,
        Lookup::NotHere(reason) | Lookup::Broken(reason) => return Lookup::Broken(reason),
    };
    Lookup::Found(TencentSource {
        origin: Origin::WebIdentity(WebIdentity {
            role_arn: role_arn.to_string(),
            provider_id: provider_id.to_string(),
            token_file,
            region,
        }),
        assume: None,
    })
}

/// The CVM's role, asked of the metadata service only when named.
fn from_cvm_role(env: &Env) -> Lookup<TencentSource> {
    const VAR: &str = "TENCENTCLOUD_CAM_ROLE_NAME";
    let Some(role) = env.var(VAR) else {
        return Lookup::NotHere(format!("{VAR} is not set"));
    };
    if !is_role_name(role) {
        return Lookup::Broken(format!(
            "{VAR} '{}' is not a CAM role name (letters, digits and +=,.@_- only)",
            role.escape_debug()
        ));
    }
    Lookup::Found(TencentSource {
        origin: Origin::CvmRole(role.to_string()),
        assume: None,
    })
}

/// A CAM role ARN: `qcs::cam::uin/<account>:roleName/<name>` (or
/// `:role/<role id>`), checked here so that a typo fails before any request.
fn check_role_arn(arn: &str, asked_by: &str) -> Result<(), String> {
    let well_formed = arn
        .strip_prefix("qcs::cam::uin/")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(account, role)| {
            !account.is_empty()
                && account.bytes().all(|b| b.is_ascii_digit())
                && role
                    .strip_prefix("roleName/")
                    .or_else(|| role.strip_prefix("role/"))
                    .is_some_and(is_role_name)
        });
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "{asked_by} '{}' is not a CAM role ARN (qcs::cam::uin/<account id>:roleName/<role name>)",
            arn.escape_debug()
        ))
    }
}

/// CAM role names: up to 128 of letters, digits and `+=,.@_-`.
fn is_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
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

    fn keys(source: &TencentSource) -> &TencentCredential {
        match &source.origin {
            Origin::Keys(keys) => keys,
            other => panic!("expected keys, got {other:?}"),
        }
    }

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
        assert_eq!(keys(&found.value).secret_id, "E");
        assert_eq!(keys(&found.value).token.clone().unwrap().expose(), "t");
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
        assert_eq!(keys(&found.value).secret_id, "W");
        assert!(keys(&found.value).token.is_none());
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
        assert_eq!(keys(&load(&e, Some("prod")).unwrap().value).secret_id, "P");
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
        assert_eq!(keys(&found.value).secret_id, "S");
        assert_eq!(keys(&found.value).secret_key.expose(), "s");
    }

    #[test]
    fn nothing_found_names_every_source() {
        let home = home_with(&[]);
        match load(&env(&[], &home), None).unwrap_err() {
            CredentialError::NotFound { tried, .. } => {
                assert_eq!(tried.len(), 5);
                assert!(tried[0].source.contains("TENCENTCLOUD_SECRET_ID"));
                assert!(tried[1].source.contains("~/.tccli/default.credential"));
                assert!(tried[2].source.contains("~/.tencentcloud/credentials"));
                assert!(tried[3].source.contains("TKE_ROLE_ARN"));
                assert!(tried[4].source.contains("TENCENTCLOUD_CAM_ROLE_NAME"));
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

    const ARN: &str = "qcs::cam::uin/100012345678:roleName/ci";

    #[test]
    fn oidc_comes_after_the_files_and_before_the_cvm_role() {
        let home = home_with(&[("token", "a.b.c\n")]);
        let token = home.path().join("token");
        let oidc = [
            ("TKE_ROLE_ARN", ARN),
            ("TKE_PROVIDER_ID", "github"),
            ("TKE_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
            ("TKE_REGION", "ap-shanghai"),
            ("TENCENTCLOUD_CAM_ROLE_NAME", "cvm"),
        ];
        let found = load(&env(&oidc, &home), None).unwrap();
        let Origin::WebIdentity(web) = &found.value.origin else {
            panic!("{:?}", found.value);
        };
        assert_eq!(web.region.as_deref(), Some("ap-shanghai"));
        assert_eq!(found.value.identity(), format!("role {ARN}"));
        assert!(
            found.source.starts_with("OIDC (TKE_ROLE_ARN"),
            "{}",
            found.source
        );

        let found = load(&env(&oidc[4..], &home), None).unwrap();
        assert!(matches!(&found.value.origin, Origin::CvmRole(role) if role == "cvm"));
        assert_eq!(found.value.identity(), "cvm-role cvm");

        let mut with_keys = oidc.to_vec();
        with_keys.extend([
            ("TENCENTCLOUD_SECRET_ID", "E"),
            ("TENCENTCLOUD_SECRET_KEY", "e"),
        ]);
        let found = load(&env(&with_keys, &home), None).unwrap();
        assert_eq!(keys(&found.value).secret_id, "E");
    }

    #[test]
    fn half_set_or_malformed_oidc_variables_are_broken() {
        let home = home_with(&[("token", "a.b.c"), ("empty", "")]);
        let token = home.path().join("token");
        let token = token.to_str().unwrap();
        let empty = home.path().join("empty");
        let cases: [(&[(&str, &str)], &str); 4] = [
            (
                &[("TKE_ROLE_ARN", ARN)],
                "TKE_PROVIDER_ID and TKE_WEB_IDENTITY_TOKEN_FILE",
            ),
            (
                &[
                    ("TKE_ROLE_ARN", "ci"),
                    ("TKE_PROVIDER_ID", "p"),
                    ("TKE_WEB_IDENTITY_TOKEN_FILE", token),
                ],
                "TKE_ROLE_ARN 'ci' is not a CAM role ARN",
            ),
            (
                &[
                    ("TKE_ROLE_ARN", ARN),
                    ("TKE_PROVIDER_ID", "p"),
                    ("TKE_WEB_IDENTITY_TOKEN_FILE", empty.to_str().unwrap()),
                ],
                "is empty",
            ),
            (
                &[
                    ("TKE_ROLE_ARN", ARN),
                    ("TKE_PROVIDER_ID", "p"),
                    ("TKE_WEB_IDENTITY_TOKEN_FILE", token),
                    ("TKE_REGION", "Shanghai!"),
                ],
                "TKE_REGION",
            ),
        ];
        for (vars, expected) in cases {
            let err = load(&env(vars, &home), None).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let err = load(&env(&[("TENCENTCLOUD_CAM_ROLE_NAME", "../x")], &home), None).unwrap_err();
        assert!(
            err.to_string().contains("TENCENTCLOUD_CAM_ROLE_NAME"),
            "{err}"
        );
    }

    #[test]
    fn a_role_to_assume_applies_to_the_credential_found() {
        let home = home_with(&[]);
        let e = env(
            &[
                ("TENCENTCLOUD_SECRET_ID", "E"),
                ("TENCENTCLOUD_SECRET_KEY", "e"),
                ("TENCENTCLOUD_ASSUME_ROLE_ARN", ARN),
                ("TENCENTCLOUD_ASSUME_ROLE_SESSION_NAME", "deploy"),
            ],
            &home,
        );
        let found = load(&e, None).unwrap();
        let assume = found.value.assume.as_ref().unwrap();
        assert_eq!(assume.session_name.as_deref(), Some("deploy"));
        assert_eq!(keys(&found.value).secret_id, "E");
        assert_eq!(found.value.identity(), format!("role {ARN}"));
        assert!(found
            .source
            .ends_with("assuming the role in TENCENTCLOUD_ASSUME_ROLE_ARN"));

        let bad = env(
            &[
                ("TENCENTCLOUD_SECRET_ID", "E"),
                ("TENCENTCLOUD_SECRET_KEY", "e"),
                ("TENCENTCLOUD_ASSUME_ROLE_ARN", "arn:aws:iam::1:role/x"),
            ],
            &home,
        );
        let err = load(&bad, None).unwrap_err();
        assert!(
            err.to_string().contains("TENCENTCLOUD_ASSUME_ROLE_ARN"),
            "{err}"
        );
        let alone = env(&[("TENCENTCLOUD_ASSUME_ROLE_ARN", ARN)], &home);
        assert!(matches!(
            load(&alone, None),
            Err(CredentialError::NotFound { .. })
        ));
    }

    #[test]
    fn a_tccli_profile_role_arn_is_assumed_with_the_profiles_keys() {
        let home = home_with(&[(
            ".tccli/ci.credential",
            r#"{"secretId":"P","secretKey":"p","role-arn":"qcs::cam::uin/1:roleName/deploy","role-session-name":""}"#,
        )]);
        let found = load(&env(&[], &home), Some("ci")).unwrap();
        let assume = found.value.assume.as_ref().unwrap();
        assert_eq!(assume.role_arn, "qcs::cam::uin/1:roleName/deploy");
        assert_eq!(assume.session_name, None);
        assert!(assume.asked_by.starts_with("role-arn in "));
        assert_eq!(keys(&found.value).secret_id, "P");
        assert_eq!(
            found.source,
            "tccli profile 'ci' (~/.tccli/ci.credential), assuming its role-arn"
        );
    }

    #[test]
    fn role_arns_are_checked_locally() {
        for good in [ARN, "qcs::cam::uin/1:role/4611686018427397920"] {
            check_role_arn(good, "V").unwrap();
        }
        for bad in [
            "",
            "qcs::cam::uin/:roleName/x",
            "qcs::cam::uin/12a:roleName/x",
            "qcs::cam::uin/1:roleName/",
            "qcs::cam::uin/1:user/x",
            "qcs::cam::uin/1:roleName/a b",
        ] {
            let reason = check_role_arn(bad, "V").unwrap_err();
            assert!(reason.starts_with("V '"), "{reason}");
        }
    }
}
