//! Alibaba Cloud credentials and region, from the places the aliyun CLI and
//! the SDKs look: environment, aliyun CLI profiles (`~/.aliyun/config.json`),
//! the SDK credentials file (`~/.alibabacloud/credentials.ini`), then the
//! keyless sources of DESIGN.md section 11: an OIDC token (STS
//! `AssumeRoleWithOIDC`) and the ECS instance's RAM role (metadata).
//! `ALIBABA_CLOUD_ROLE_ARN` without an OIDC provider asks to assume that role
//! with whatever credential was found.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::credentials::{resolve, CredentialError, Found, Lookup, Source};
use crate::env::Env;
use crate::keyless::{session_name, TokenFile};
use crate::secret::Secret;

const PROVIDER: &str = "Alibaba Cloud";
const ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
const OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
const OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
const SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
pub const ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
const ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
const IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
/// STS's default session length, which every role allows.
pub const DEFAULT_DURATION_SECONDS: u64 = 3600;

/// Keys to sign with.
#[derive(Debug, Clone)]
pub struct AlibabaCredential {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// Present with STS credentials; sent as `x-acs-security-token`.
    pub security_token: Option<Secret>,
}

impl AlibabaCredential {
    /// Who signs: the AccessKey id (never the secret).
    pub fn identity(&self) -> String {
        format!("access-key-id {}", self.access_key_id)
    }
}

/// What the chain found: keys, or a recipe exchanged for temporary keys
/// once, before the first request.
#[derive(Debug, Clone)]
pub enum Credential {
    Keys(AlibabaCredential),
    /// STS `AssumeRoleWithOIDC` (not signed).
    Oidc(OidcRole),
    /// The ECS instance's RAM role, from the metadata service.
    Instance(InstanceRole),
    /// STS `AssumeRole`, signed with the keys `from` yields.
    AssumeRole {
        from: Box<Credential>,
        role: RoleToAssume,
    },
}

impl Credential {
    /// Who the requests act as, never a secret: the keys, or the role they
    /// end up as (the exec cache key: two roles never share an entry).
    pub fn identity(&self) -> String {
        match self {
            Credential::Keys(keys) => keys.identity(),
            Credential::Oidc(oidc) => format!("role {}", oidc.role.arn),
            Credential::Instance(instance) => format!("ecs-role {}", instance.name),
            Credential::AssumeRole { role, .. } => format!("role {}", role.arn),
        }
    }

    /// Everything that decides what an exchange gives, never a secret (the
    /// default session name aside, which only labels the session).
    pub fn recipe(&self) -> String {
        match self {
            Credential::Keys(keys) => keys.identity(),
            Credential::Oidc(oidc) => format!(
                "oidc {} {} {} {}",
                oidc.role.arn,
                oidc.role.duration_seconds,
                oidc.provider_arn,
                oidc.token_file.path.display()
            ),
            Credential::Instance(instance) => {
                format!("ecs-role {} {}", instance.name, instance.imdsv1_disabled)
            }
            Credential::AssumeRole { from, role } => format!(
                "role {} {} from ({})",
                role.arn,
                role.duration_seconds,
                from.recipe()
            ),
        }
    }

    /// Whether getting keys takes an STS call / the metadata service.
    pub fn uses_sts(&self) -> bool {
        match self {
            Credential::Keys(_) => false,
            Credential::Instance(_) => false,
            Credential::Oidc(_) | Credential::AssumeRole { .. } => true,
        }
    }

    pub fn uses_metadata(&self) -> bool {
        match self {
            Credential::Keys(_) | Credential::Oidc(_) => false,
            Credential::Instance(_) => true,
            Credential::AssumeRole { from, .. } => from.uses_metadata(),
        }
    }
}

/// A RAM role to assume, and where it was named (for hints).
#[derive(Debug, Clone)]
pub struct RoleToAssume {
    pub arn: String,
    pub session_name: String,
    pub duration_seconds: u64,
    /// "ALIBABA_CLOUD_ROLE_ARN", "aliyun CLI profile 'ci'".
    pub origin: String,
}

#[derive(Debug, Clone)]
pub struct OidcRole {
    pub role: RoleToAssume,
    pub provider_arn: String,
    pub token_file: TokenFile,
}

#[derive(Debug, Clone)]
pub struct InstanceRole {
    pub name: String,
    /// What asked for the metadata service, named when it does not answer.
    pub origin: String,
    /// `ALIBABA_CLOUD_IMDSV1_DISABLED`: no read without a metadata token.
    pub imdsv1_disabled: bool,
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
    #[serde(default)]
    ram_role_arn: String,
    #[serde(default)]
    ram_session_name: String,
    #[serde(default)]
    expired_seconds: u64,
    #[serde(default)]
    source_profile: String,
    #[serde(default)]
    ram_role_name: String,
    #[serde(default)]
    oidc_provider_arn: String,
    #[serde(default)]
    oidc_token_file: String,
}

/// With an explicit `--profile` only the named profile counts (aliyun CLI
/// first, then the same-named section of the SDK file); otherwise the
/// environment, then the aliyun CLI profile, then the SDK file, then OIDC,
/// then the ECS instance's role. `ALIBABA_CLOUD_ROLE_ARN` (without
/// `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`) is then assumed with what was found.
pub fn load(
    env: &Env,
    explicit_profile: Option<&str>,
) -> Result<Found<Credential>, CredentialError> {
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
        move || from_cli_config(env, config, &cli_profile),
    );
    let (ini_path, ini_name) = sdk_file(env);
    let ini_source = Source::new(format!("{ini_name} [{ini_profile}]"), move || {
        from_sdk_file(env, ini_path, &ini_profile)
    });
    let found = if explicit_profile.is_some() {
        resolve(PROVIDER, vec![cli_source, ini_source])?
    } else {
        resolve(
            PROVIDER,
            vec![
                Source::new(
                    "environment (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET)",
                    || from_env(env),
                ),
                cli_source,
                ini_source,
                Source::new(
                    format!("OIDC ({ROLE_ARN}, {OIDC_PROVIDER_ARN}, {OIDC_TOKEN_FILE})"),
                    || from_oidc_env(env),
                ),
                Source::new(format!("ECS instance role ({ECS_METADATA})"), || {
                    from_ecs_env(env)
                }),
            ],
        )?
    };
    assume_env_role(env, found)
}

/// `ALIBABA_CLOUD_ROLE_ARN` belongs to OIDC when an OIDC provider is named;
/// otherwise it is assumed with the credential found.
fn assume_env_role(
    env: &Env,
    found: Found<Credential>,
) -> Result<Found<Credential>, CredentialError> {
    let (Some(arn), None) = (env.var(ROLE_ARN), env.var(OIDC_PROVIDER_ARN)) else {
        return Ok(found);
    };
    check_arn(arn, "role").map_err(|reason| CredentialError::Broken {
        source_name: ROLE_ARN.to_string(),
        reason,
    })?;
    Ok(Found {
        value: Credential::AssumeRole {
            from: Box::new(found.value),
            role: RoleToAssume {
                arn: arn.to_string(),
                session_name: session_name(env, Some(SESSION_NAME)),
                duration_seconds: DEFAULT_DURATION_SECONDS,
                origin: ROLE_ARN.to_string(),
            },
        },
        source: format!("{}, assuming the role in {ROLE_ARN}", found.source),
    })
}

/// A RAM ARN of this kind: `acs:ram::<account id>:<kind>/<name>`.
fn check_arn(arn: &str, kind: &str) -> Result<(), String> {
    let name_ok = |name: &str| {
        !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
    };
    let shaped = arn
        .strip_prefix("acs:ram::")
        .and_then(|rest| rest.split_once(':'))
        .and_then(|(account, resource)| {
            let name = resource.strip_prefix(kind)?.strip_prefix('/')?;
            let account_ok = !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit());
            (account_ok && name_ok(name)).then_some(())
        });
    match shaped {
        Some(()) => Ok(()),
        None => Err(format!(
            "'{}' is not a RAM {kind} ARN (acs:ram::<account id>:{kind}/<name>)",
            arn.escape_debug()
        )),
    }
}

/// A role a file names: `arn` (with the name of its field, for messages)
/// checked; an empty session name or duration takes the default.
fn role_to_assume(
    env: &Env,
    (arn, field): (&str, &str),
    session: &str,
    duration_seconds: u64,
    origin: &str,
) -> Result<RoleToAssume, String> {
    check_arn(arn, "role").map_err(|reason| format!("{field}: {reason}"))?;
    Ok(RoleToAssume {
        arn: arn.to_string(),
        session_name: match session {
            "" => session_name(env, Some(SESSION_NAME)),
            given => given.to_string(),
        },
        duration_seconds: match duration_seconds {
            0 => DEFAULT_DURATION_SECONDS,
            seconds => seconds,
        },
        origin: origin.to_string(),
    })
}

/// A RAM role name, which becomes part of the metadata path.
fn check_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_true(env: &Env, var: &str) -> bool {
    env.var(var)
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The OIDC variables: all three, or none of them with a provider.
fn from_oidc_env(env: &Env) -> Lookup<Credential> {
    let Some(provider_arn) = env.var(OIDC_PROVIDER_ARN) else {
        return Lookup::NotHere(format!("{OIDC_PROVIDER_ARN} is not set"));
    };
    let Some(role_arn) = env.var(ROLE_ARN) else {
        return Lookup::Broken(format!("{OIDC_PROVIDER_ARN} is set but {ROLE_ARN} is not"));
    };
    if env.var(OIDC_TOKEN_FILE).is_none() {
        return Lookup::Broken(format!(
            "{OIDC_PROVIDER_ARN} is set but {OIDC_TOKEN_FILE} is not"
        ));
    }
    let checked = check_arn(role_arn, "role")
        .map_err(|reason| format!("{ROLE_ARN}: {reason}"))
        .and_then(|()| {
            check_arn(provider_arn, "oidc-provider")
                .map_err(|reason| format!("{OIDC_PROVIDER_ARN}: {reason}"))
        });
    if let Err(reason) = checked {
        return Lookup::Broken(reason);
    }
    let token_file = match TokenFile::from_env(env, OIDC_TOKEN_FILE) {
        Lookup::Found(file) => file,
        Lookup::NotHere(reason) => return Lookup::NotHere(reason),
        Lookup::Broken(reason) => return Lookup::Broken(reason),
    };
    Lookup::Found(Credential::Oidc(OidcRole {
        role: RoleToAssume {
            arn: role_arn.to_string(),
            session_name: session_name(env, Some(SESSION_NAME)),
            duration_seconds: DEFAULT_DURATION_SECONDS,
            origin: format!("{ROLE_ARN}, {OIDC_PROVIDER_ARN}, {OIDC_TOKEN_FILE}"),
        },
        provider_arn: provider_arn.to_string(),
        token_file,
    }))
}

/// `ALIBABA_CLOUD_ECS_METADATA` names the instance's role; only then is the
/// metadata service ever asked.
fn from_ecs_env(env: &Env) -> Lookup<Credential> {
    let Some(name) = env.var(ECS_METADATA).filter(|n| !n.is_empty()) else {
        return Lookup::NotHere(format!("{ECS_METADATA} is not set"));
    };
    if is_true(env, ECS_METADATA_DISABLED) {
        return Lookup::NotHere(format!("{ECS_METADATA_DISABLED} is set"));
    }
    instance_role(env, name, ECS_METADATA.to_string())
}

fn instance_role(env: &Env, name: &str, origin: String) -> Lookup<Credential> {
    if !check_role_name(name) {
        return Lookup::Broken(format!(
            "{origin}: '{}' is not a RAM role name",
            name.escape_debug()
        ));
    }
    Lookup::Found(Credential::Instance(InstanceRole {
        name: name.to_string(),
        origin,
        imdsv1_disabled: is_true(env, IMDSV1_DISABLED),
    }))
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

fn from_env(env: &Env) -> Lookup<Credential> {
    match (
        env.var("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        env.var("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ) {
        (Some(id), Some(secret)) => Lookup::Found(Credential::Keys(AlibabaCredential {
            access_key_id: id.to_string(),
            access_key_secret: Secret::new(secret),
            security_token: env.var("ALIBABA_CLOUD_SECURITY_TOKEN").map(Secret::new),
        })),
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
    env: &Env,
    config: Result<Option<CliConfig>, String>,
    profile: &str,
) -> Lookup<Credential> {
    let config = match config {
        Ok(Some(config)) => config,
        Ok(None) => return Lookup::NotHere("no such file".into()),
        Err(reason) => return Lookup::Broken(reason),
    };
    if !config.profiles.iter().any(|p| p.name == profile) {
        return Lookup::NotHere(format!("no profile named '{profile}'"));
    }
    match cli_profile(env, &config, profile, &mut Vec::new()) {
        Ok(credential) => Lookup::Found(credential),
        Err(reason) => Lookup::Broken(reason),
    }
}

/// One profile's credential; `ChainableRamRoleArn` follows `source_profile`
/// (`seen` stops a loop).
fn cli_profile<'a>(
    env: &Env,
    config: &'a CliConfig,
    profile: &'a str,
    seen: &mut Vec<&'a str>,
) -> Result<Credential, String> {
    if seen.contains(&profile) {
        return Err(format!(
            "the source_profile chain {} -> {profile} loops",
            seen.join(" -> ")
        ));
    }
    seen.push(profile);
    let Some(found) = config.profiles.iter().find(|p| p.name == profile) else {
        return Err(format!("source_profile '{profile}' does not exist"));
    };
    // Old CLI versions wrote no mode for plain key profiles.
    let mode = if found.mode.is_empty() {
        "AK"
    } else {
        found.mode.as_str()
    };
    let origin = format!("aliyun CLI profile '{profile}'");
    let keys = |token: Option<Secret>| {
        if found.access_key_id.is_empty() || found.access_key_secret.is_empty() {
            return Err(format!(
                "profile '{profile}' lacks access_key_id or access_key_secret"
            ));
        }
        Ok(Credential::Keys(AlibabaCredential {
            access_key_id: found.access_key_id.clone(),
            access_key_secret: Secret::new(&found.access_key_secret),
            security_token: token,
        }))
    };
    let role = || {
        role_to_assume(
            env,
            (
                &found.ram_role_arn,
                &format!("profile '{profile}' ram_role_arn"),
            ),
            &found.ram_session_name,
            found.expired_seconds,
            &origin,
        )
    };
    match mode {
        "AK" => keys(None),
        "StsToken" if found.sts_token.is_empty() => Err(format!(
            "profile '{profile}' has mode StsToken but no sts_token"
        )),
        "StsToken" => keys(Some(Secret::new(&found.sts_token))),
        "RamRoleArn" => Ok(Credential::AssumeRole {
            from: Box::new(keys(None)?),
            role: role()?,
        }),
        "ChainableRamRoleArn" if found.source_profile.is_empty() => Err(format!(
            "profile '{profile}' has mode ChainableRamRoleArn but no source_profile"
        )),
        "ChainableRamRoleArn" => {
            let role = role()?;
            let from = cli_profile(env, config, &found.source_profile, seen)?;
            Ok(Credential::AssumeRole {
                from: Box::new(from),
                role,
            })
        }
        "EcsRamRole" if is_true(env, ECS_METADATA_DISABLED) => Err(format!(
            "profile '{profile}' has mode EcsRamRole but {ECS_METADATA_DISABLED} is set"
        )),
        "EcsRamRole" => match instance_role(env, &found.ram_role_name, format!("{origin} (ram_role_name)")) {
            Lookup::Found(credential) => Ok(credential),
            Lookup::NotHere(reason) | Lookup::Broken(reason) => Err(reason),
        },
        "OIDC" => {
            let checked = check_arn(&found.oidc_provider_arn, "oidc-provider")
                .map_err(|reason| format!("profile '{profile}' oidc_provider_arn: {reason}"));
            let role = checked.and_then(|()| role())?;
            if found.oidc_token_file.is_empty() {
                return Err(format!("profile '{profile}' has mode OIDC but no oidc_token_file"));
            }
            let token_file = TokenFile {
                var: "oidc_token_file",
                path: PathBuf::from(&found.oidc_token_file),
            };
            token_file.read()?;
            Ok(Credential::Oidc(OidcRole {
                role,
                provider_arn: found.oidc_provider_arn.clone(),
                token_file,
            }))
        }
        other => Err(format!(
            "profile '{profile}' uses mode {other}, which kubefetch does not support yet (AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole and OIDC are)"
        )),
    }
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

fn from_sdk_file(env: &Env, path: Option<PathBuf>, profile: &str) -> Lookup<Credential> {
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
    let place = format!("section [{profile}] of {}", path.display());
    let keys = |token: Option<Secret>| match (get("access_key_id"), get("access_key_secret")) {
        (Some(id), Some(secret)) => Ok(Credential::Keys(AlibabaCredential {
            access_key_id: id.to_string(),
            access_key_secret: Secret::new(secret),
            security_token: token,
        })),
        _ => Err(format!("{place} lacks access_key_id or access_key_secret")),
    };
    let found = match get("type").unwrap_or("access_key") {
        "access_key" => keys(None),
        "sts" => match get("security_token") {
            Some(token) => keys(Some(Secret::new(token))),
            None => Err(format!("{place} has type sts but no security_token")),
        },
        "ram_role_arn" => role_to_assume(
            env,
            (get("role_arn").unwrap_or_default(), &format!("{place} role_arn")),
            get("role_session_name").unwrap_or_default(),
            0,
            &place,
        )
        .and_then(|role| {
            Ok(Credential::AssumeRole {
                from: Box::new(keys(None)?),
                role,
            })
        }),
        "ecs_ram_role" if is_true(env, ECS_METADATA_DISABLED) => Err(format!(
            "{place} has type ecs_ram_role but {ECS_METADATA_DISABLED} is set"
        )),
        "ecs_ram_role" => {
            return instance_role(
                env,
                get("role_name").unwrap_or_default(),
                format!("{place} (role_name)"),
            )
        }
        other => Err(format!(
            "{place} has type {other}, which kubefetch does not support yet (access_key, sts, ram_role_arn and ecs_ram_role are)"
        )),
    };
    match found {
        Ok(credential) => Lookup::Found(credential),
        Err(reason) => Lookup::Broken(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{env_in as env, home_with};

    fn keys(credential: &Credential) -> &AlibabaCredential {
        match credential {
            Credential::Keys(keys) => keys,
            other => panic!("not keys: {}", other.identity()),
        }
    }

    const CLI_CONFIG: &str = r#"{
        "current": "work",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "D", "access_key_secret": "d", "region_id": "cn-beijing"},
            {"name": "work", "mode": "AK", "access_key_id": "W", "access_key_secret": "w", "region_id": "cn-shanghai"},
            {"name": "sts", "mode": "StsToken", "access_key_id": "STS.S", "access_key_secret": "s", "sts_token": "tok"},
            {"name": "sso", "mode": "CloudSSO"},
            {"name": "ram", "mode": "RamRoleArn", "access_key_id": "R", "access_key_secret": "r",
             "ram_role_arn": "acs:ram::123:role/deploy", "ram_session_name": "s1", "expired_seconds": 900},
            {"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "ecs",
             "ram_role_arn": "acs:ram::123:role/chained"},
            {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "node-role"},
            {"name": "loop", "mode": "ChainableRamRoleArn", "source_profile": "loop2", "ram_role_arn": "acs:ram::123:role/a"},
            {"name": "loop2", "mode": "ChainableRamRoleArn", "source_profile": "loop", "ram_role_arn": "acs:ram::123:role/b"},
            {"name": "badarn", "mode": "RamRoleArn", "access_key_id": "R", "access_key_secret": "r",
             "ram_role_arn": "arn:aws:iam::1:role/x"},
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
        assert_eq!(keys(&found.value).access_key_id, "E");
        assert_eq!(keys(&found.value).access_key_secret.expose(), "e");
        assert_eq!(
            keys(&found.value).security_token.as_ref().unwrap().expose(),
            "t"
        );
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
        assert_eq!(keys(&found.value).access_key_id, "W");
        assert!(keys(&found.value).security_token.is_none());
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
        assert_eq!(keys(&load(&e, None).unwrap().value).access_key_id, "D");
    }

    #[test]
    fn sts_token_profiles_carry_their_token_and_modeless_ones_are_keys() {
        let home = home_with(&[(".aliyun/config.json", CLI_CONFIG)]);
        let e = env(&[], &home);
        let sts = keys(&load(&e, Some("sts")).unwrap().value).clone();
        assert_eq!(sts.access_key_id, "STS.S");
        assert_eq!(sts.security_token.unwrap().expose(), "tok");
        assert_eq!(
            keys(&load(&e, Some("legacy")).unwrap().value).access_key_id,
            "L"
        );
    }

    #[test]
    fn unsupported_modes_are_named() {
        let home = home_with(&[(".aliyun/config.json", CLI_CONFIG)]);
        let err = load(&env(&[], &home), Some("sso")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("CloudSSO"), "{text}");
        assert!(text.contains("not support yet"), "{text}");
    }

    #[test]
    fn role_profiles_assume_their_role_with_their_keys_or_source_profile() {
        let home = home_with(&[(".aliyun/config.json", CLI_CONFIG)]);
        let e = env(&[], &home);
        let Credential::AssumeRole { from, role } = load(&e, Some("ram")).unwrap().value else {
            panic!("RamRoleArn is not a role to assume");
        };
        assert_eq!(keys(&from).access_key_id, "R");
        assert_eq!(
            (
                role.arn.as_str(),
                role.session_name.as_str(),
                role.duration_seconds
            ),
            ("acs:ram::123:role/deploy", "s1", 900)
        );
        let chained = load(&e, Some("chain")).unwrap().value;
        assert_eq!(chained.identity(), "role acs:ram::123:role/chained");
        assert!(chained.uses_sts() && chained.uses_metadata());
        let Credential::AssumeRole { from, .. } = chained else {
            panic!("ChainableRamRoleArn is not a role to assume");
        };
        assert_eq!(from.identity(), "ecs-role node-role");
        for (profile, expected) in [("loop", "loops"), ("badarn", "ram_role_arn")] {
            let text = load(&e, Some(profile)).unwrap_err().to_string();
            assert!(text.contains(expected), "{profile}: {text}");
        }
    }

    #[test]
    fn oidc_profiles_read_their_token_file() {
        let home = home_with(&[("token", "a.b.c\n")]);
        let token = home.path().join("token");
        let config = format!(
            r#"{{"profiles": [{{"name": "ci", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/ci",
                "oidc_provider_arn": "acs:ram::1:oidc-provider/gh", "oidc_token_file": "{}"}},
               {{"name": "gone", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/ci",
                "oidc_provider_arn": "acs:ram::1:oidc-provider/gh", "oidc_token_file": "/nonexistent/t"}}]}}"#,
            token.display()
        );
        std::fs::create_dir_all(home.path().join(".aliyun")).unwrap();
        std::fs::write(home.path().join(".aliyun/config.json"), config).unwrap();
        let e = env(&[], &home);
        let Credential::Oidc(oidc) = load(&e, Some("ci")).unwrap().value else {
            panic!("mode OIDC is not OIDC");
        };
        assert_eq!(oidc.provider_arn, "acs:ram::1:oidc-provider/gh");
        assert_eq!(oidc.token_file.read().unwrap().expose(), "a.b.c");
        let text = load(&e, Some("gone")).unwrap_err().to_string();
        assert!(text.contains("/nonexistent/t"), "{text}");
    }

    const ROLE: &str = "acs:ram::2718281828459045:role/kubefetch-ci";
    const OIDC_PROVIDER: &str = "acs:ram::2718281828459045:oidc-provider/github-actions";

    #[test]
    fn oidc_comes_after_the_static_sources_and_before_the_instance_role() {
        let home = home_with(&[("token", "a.b.c")]);
        let token = home.path().join("token");
        let oidc = [
            (ROLE_ARN, ROLE),
            (OIDC_PROVIDER_ARN, OIDC_PROVIDER),
            (OIDC_TOKEN_FILE, token.to_str().unwrap()),
            (SESSION_NAME, "ci-7"),
            (ECS_METADATA, "node-role"),
        ];
        let found = load(&env(&oidc, &home), None).unwrap();
        assert!(found.source.starts_with("OIDC ("), "{}", found.source);
        let Credential::Oidc(role) = found.value else {
            panic!("not OIDC");
        };
        assert_eq!(role.role.session_name, "ci-7");
        assert_eq!(found_identity(&oidc, &home), format!("role {ROLE}"));
        let with_keys = [
            &oidc[..],
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "E"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "e"),
            ],
        ]
        .concat();
        // The role belongs to OIDC here: the keys are used as they are.
        assert_eq!(found_identity(&with_keys, &home), "access-key-id E");
        let instance = [(ECS_METADATA, "node-role"), (IMDSV1_DISABLED, "true")];
        let Credential::Instance(role) = load(&env(&instance, &home), None).unwrap().value else {
            panic!("not the instance role");
        };
        assert!(role.imdsv1_disabled);
        let disabled = [(ECS_METADATA, "node-role"), (ECS_METADATA_DISABLED, "true")];
        assert!(matches!(
            load(&env(&disabled, &home), None),
            Err(CredentialError::NotFound { .. })
        ));
    }

    fn found_identity(vars: &[(&str, &str)], home: &tempfile::TempDir) -> String {
        load(&env(vars, home), None).unwrap().value.identity()
    }

    #[test]
    fn broken_oidc_settings_name_the_variable() {
        let home = home_with(&[("empty", "\n"), ("token", "a.b.c")]);
        let path = |name: &str| home.path().join(name).to_str().unwrap().to_string();
        let (empty, token) = (path("empty"), path("token"));
        let cases: [(Vec<(&str, &str)>, &str); 5] = [
            (
                vec![
                    (OIDC_PROVIDER_ARN, OIDC_PROVIDER),
                    (OIDC_TOKEN_FILE, &token),
                ],
                ROLE_ARN,
            ),
            (
                vec![(ROLE_ARN, ROLE), (OIDC_PROVIDER_ARN, OIDC_PROVIDER)],
                OIDC_TOKEN_FILE,
            ),
            (
                vec![
                    (ROLE_ARN, ROLE),
                    (OIDC_PROVIDER_ARN, OIDC_PROVIDER),
                    (OIDC_TOKEN_FILE, &empty),
                ],
                OIDC_TOKEN_FILE,
            ),
            (
                vec![
                    (ROLE_ARN, "kubefetch-ci"),
                    (OIDC_PROVIDER_ARN, OIDC_PROVIDER),
                    (OIDC_TOKEN_FILE, &token),
                ],
                ROLE_ARN,
            ),
            (
                vec![
                    (ROLE_ARN, ROLE),
                    (OIDC_PROVIDER_ARN, ROLE),
                    (OIDC_TOKEN_FILE, &token),
                ],
                OIDC_PROVIDER_ARN,
            ),
        ];
        for (vars, named) in cases {
            let err = load(&env(&vars, &home), None).unwrap_err();
            assert!(matches!(err, CredentialError::Broken { .. }), "{err}");
            assert!(err.to_string().contains(named), "{named}: {err}");
        }
    }

    #[test]
    fn a_role_without_oidc_provider_is_assumed_with_the_keys_found() {
        let home = home_with(&[]);
        let keys_env = [
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "E"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "e"),
        ];
        let vars = [&keys_env[..], &[(ROLE_ARN, ROLE)]].concat();
        let found = load(&env(&vars, &home), None).unwrap();
        assert!(found.source.contains(ROLE_ARN), "{}", found.source);
        assert_eq!(found.value.identity(), format!("role {ROLE}"));
        let Credential::AssumeRole { from, role } = found.value else {
            panic!("no role assumed");
        };
        assert_eq!(keys(&from).access_key_id, "E");
        assert_eq!(role.duration_seconds, 3600);
        assert!(role.session_name.starts_with("kubefetch-"));
        let bad = [&keys_env[..], &[(ROLE_ARN, "acs:ram::123:user/x")]].concat();
        let err = load(&env(&bad, &home), None).unwrap_err().to_string();
        assert!(err.contains(ROLE_ARN), "{err}");
    }

    #[test]
    fn a_recipe_names_no_secret_and_not_the_default_session_name() {
        let home = home_with(&[]);
        let vars = [
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "E"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "the-secret"),
            (ROLE_ARN, ROLE),
        ];
        let at = |seconds| {
            let now = chrono::DateTime::from_timestamp(seconds, 0).unwrap();
            load(&env(&vars, &home).with_now(now), None).unwrap().value
        };
        let (first, later) = (at(1_700_000_000), at(1_700_000_100));
        assert_eq!(first.recipe(), later.recipe());
        assert_eq!(
            first.recipe(),
            format!("role {ROLE} 3600 from (access-key-id E)")
        );
    }

    #[test]
    fn arns_are_checked_by_shape() {
        check_arn("acs:ram::123:role/a.b-c_d", "role").unwrap();
        check_arn("acs:ram::123:oidc-provider/gh", "oidc-provider").unwrap();
        for bad in [
            "",
            "acs:ram::123:role/",
            "acs:ram::abc:role/x",
            "acs:ram:cn:123:role/x",
            "acs:ram::123:oidc-provider/x",
            "acs:ram::123:role/x y",
        ] {
            assert!(check_arn(bad, "role").is_err(), "{bad}");
        }
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
        assert_eq!(
            keys(&load(&e, Some("default")).unwrap().value).access_key_id,
            "D"
        );
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
                   [ecs]\ntype = ecs_ram_role\nrole_name = r\n\
                   [role]\ntype = ram_role_arn\naccess_key_id = R\naccess_key_secret = r\n\
                   role_arn = acs:ram::1:role/ci\nrole_session_name = ini\n\
                   [rsa]\ntype = rsa_key_pair\n";
        let home = home_with(&[(".alibabacloud/credentials.ini", ini)]);
        let found = load(&env(&[], &home), None).unwrap();
        assert_eq!(keys(&found.value).access_key_id, "I");
        assert_eq!(keys(&found.value).access_key_secret.expose(), "i");
        let temp = keys(
            &load(&env(&[("ALIBABA_CLOUD_PROFILE", "temp")], &home), None)
                .unwrap()
                .value,
        )
        .clone();
        assert_eq!(temp.security_token.unwrap().expose(), "tt");
        assert!(matches!(
            load(&env(&[("ALIBABA_CLOUD_PROFILE", "off")], &home), None),
            Err(CredentialError::NotFound { .. })
        ));
        let profile = |name| load(&env(&[("ALIBABA_CLOUD_PROFILE", name)], &home), None);
        assert_eq!(profile("ecs").unwrap().value.identity(), "ecs-role r");
        let Credential::AssumeRole { from, role } = profile("role").unwrap().value else {
            panic!("ram_role_arn is not a role to assume");
        };
        assert_eq!(keys(&from).access_key_id, "R");
        assert_eq!(
            (role.arn.as_str(), role.session_name.as_str()),
            ("acs:ram::1:role/ci", "ini")
        );
        let err = profile("rsa").unwrap_err();
        assert!(err.to_string().contains("rsa_key_pair"), "{err}");
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
        assert_eq!(keys(&found.value).access_key_id, "X");
        assert!(found.source.contains("ALIBABA_CLOUD_CREDENTIALS_FILE"));
    }

    #[test]
    fn nothing_found_names_every_source() {
        let home = home_with(&[]);
        match load(&env(&[], &home), None).unwrap_err() {
            CredentialError::NotFound { tried, .. } => {
                assert_eq!(tried.len(), 5);
                assert!(tried[0].source.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));
                assert!(tried[1].source.contains("~/.aliyun/config.json"));
                assert_eq!(tried[1].outcome, "no such file");
                assert!(tried[2].source.contains("~/.alibabacloud/credentials.ini"));
                assert_eq!(
                    tried[3].outcome,
                    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN is not set"
                );
                assert_eq!(tried[4].outcome, "ALIBABA_CLOUD_ECS_METADATA is not set");
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
