//! Huawei Cloud / OTC credentials, in the order the SDKs and the OpenStack
//! tools look: AK/SK from the environment, AK/SK from the SDK credentials
//! file, a token (`OS_AUTH_TOKEN`), a password to exchange at IAM, then the
//! keyless sources (an OIDC id token, the ECS's agency). An agency named by
//! `HW_ASSUME_ROLE_*` is then assumed with whatever was found.

use std::path::PathBuf;

use crate::credentials::{read_ini, resolve, CredentialError, Found, Lookup, Source};
use crate::env::Env;
use crate::keyless::TokenFile;
use crate::secret::Secret;

/// The variable that lets kubefetch ask the ECS metadata service.
pub const ECS_METADATA_VAR: &str = "KUBEFETCH_HUAWEI_ECS_METADATA";
const AGENCY_VARS: [&str; 2] = ["HW_ASSUME_ROLE_AGENCY_NAME", "HW_ASSUME_ROLE_DOMAIN_NAME"];

#[derive(Debug, Clone)]
pub enum HuaweiCredential {
    AkSk(AkSk),
    /// An IAM token, sent as `X-Auth-Token`.
    Token(Secret),
    /// Exchanged at IAM for a token before the first request.
    Password {
        user: String,
        password: Secret,
        /// The account (IAM domain) name.
        domain: String,
    },
    /// An OIDC id token exchanged at IAM for an unscoped token, then for
    /// temporary AK/SK, as the SDK does.
    Oidc {
        idp_id: String,
        token_file: TokenFile,
    },
    /// The temporary AK/SK of the ECS's agency, from the metadata service.
    EcsMetadata,
    /// Temporary AK/SK of an agency, obtained with another credential.
    Agency {
        agency: Agency,
        with: Box<HuaweiCredential>,
    },
}

/// An agency (Huawei's role) of an account.
#[derive(Debug, Clone)]
pub struct Agency {
    pub name: String,
    /// The name of the account that created the agency.
    pub domain: String,
}

impl HuaweiCredential {
    /// Whether the ECS metadata service is to be asked.
    pub fn uses_metadata(&self) -> bool {
        match self {
            HuaweiCredential::EcsMetadata => true,
            HuaweiCredential::Agency { with, .. } => with.uses_metadata(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AkSk {
    pub ak: String,
    pub sk: Secret,
    pub security_token: Option<Secret>,
    /// Given next to the keys, it spares an IAM lookup.
    pub project_id: Option<String>,
    pub domain_id: Option<String>,
}

/// Which section of the credentials file the command prefers: `[basic]`
/// holds project-scoped keys (CCE), `[global]` domain-scoped ones (UCS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Project,
    Global,
}

impl Scope {
    fn sections(self) -> [&'static str; 2] {
        match self {
            Scope::Project => ["basic", "global"],
            Scope::Global => ["global", "basic"],
        }
    }
}

/// The chain's credential, with the agency of `HW_ASSUME_ROLE_*` applied on top.
pub fn load(env: &Env, scope: Scope) -> Result<Found<HuaweiCredential>, CredentialError> {
    let agency = agency_from_env(env)?;
    let found = load_source(env, scope)?;
    Ok(match agency {
        None => found,
        Some(agency) => Found {
            source: format!(
                "{}, assuming the agency ({})",
                found.source,
                AGENCY_VARS.join(", ")
            ),
            value: HuaweiCredential::Agency {
                agency,
                with: Box::new(found.value),
            },
        },
    })
}

fn load_source(env: &Env, scope: Scope) -> Result<Found<HuaweiCredential>, CredentialError> {
    let (file, explicit_file) = match env.var("HUAWEICLOUD_SDK_CREDENTIALS_FILE") {
        Some(path) => (Some(PathBuf::from(path)), true),
        None => (
            env.home().map(|h| h.join(".huaweicloud/credentials")),
            false,
        ),
    };
    let file_name = match (&file, explicit_file) {
        (Some(path), true) => format!("{} (HUAWEICLOUD_SDK_CREDENTIALS_FILE)", path.display()),
        _ => "~/.huaweicloud/credentials".to_string(),
    };
    resolve(
        "Huawei Cloud",
        vec![
            Source::new(
                "environment (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK)",
                || from_env_keys(env),
            ),
            Source::new(file_name, move || from_file(file, explicit_file, scope)),
            Source::new("environment (OS_AUTH_TOKEN)", || {
                match env.var("OS_AUTH_TOKEN") {
                    Some(token) => Lookup::Found(HuaweiCredential::Token(Secret::new(token))),
                    None => Lookup::NotHere("OS_AUTH_TOKEN is not set".into()),
                }
            }),
            Source::new(
                "environment (OS_USERNAME, OS_PASSWORD, OS_DOMAIN_NAME)",
                || from_env_password(env),
            ),
            Source::new(
                "OIDC (HUAWEICLOUD_SDK_IDP_ID, HUAWEICLOUD_SDK_ID_TOKEN_FILE)",
                || from_env_oidc(env),
            ),
            Source::new(format!("ECS metadata ({ECS_METADATA_VAR})"), || {
                from_env_metadata(env)
            }),
        ],
    )
}

/// Both agency variables, or neither.
fn agency_from_env(env: &Env) -> Result<Option<Agency>, CredentialError> {
    match AGENCY_VARS.map(|name| env.var(name)) {
        [Some(name), Some(domain)] => {
            let broken = |reason| CredentialError::Broken {
                source_name: format!("the agency ({})", AGENCY_VARS.join(", ")),
                reason,
            };
            check_name(AGENCY_VARS[0], name).map_err(broken)?;
            check_name(AGENCY_VARS[1], domain).map_err(broken)?;
            Ok(Some(Agency {
                name: name.to_string(),
                domain: domain.to_string(),
            }))
        }
        [None, None] => Ok(None),
        [set, _] => {
            let (given, missing) = if set.is_some() {
                (AGENCY_VARS[0], AGENCY_VARS[1])
            } else {
                (AGENCY_VARS[1], AGENCY_VARS[0])
            };
            Err(CredentialError::Broken {
                source_name: format!("the agency ({})", AGENCY_VARS.join(", ")),
                reason: format!("{given} is set but {missing} is not"),
            })
        }
    }
}

fn from_env_oidc(env: &Env) -> Lookup<HuaweiCredential> {
    const IDP: &str = "HUAWEICLOUD_SDK_IDP_ID";
    const FILE: &str = "HUAWEICLOUD_SDK_ID_TOKEN_FILE";
    match (env.var(IDP), TokenFile::from_env(env, FILE)) {
        (Some(idp_id), Lookup::Found(token_file)) => match check_name(IDP, idp_id) {
            Ok(()) => Lookup::Found(HuaweiCredential::Oidc {
                idp_id: idp_id.to_string(),
                token_file,
            }),
            Err(reason) => Lookup::Broken(reason),
        },
        (_, Lookup::Broken(reason)) => Lookup::Broken(reason),
        (None, Lookup::NotHere(_)) => Lookup::NotHere(format!("{IDP} is not set")),
        (Some(_), Lookup::NotHere(_)) => Lookup::Broken(format!("{IDP} is set but {FILE} is not")),
        (None, Lookup::Found(_)) => Lookup::Broken(format!("{FILE} is set but {IDP} is not")),
    }
}

/// IAM names (identity provider ids, agencies, accounts) are at most 64
/// letters, digits, `-`, `_`, `.` or spaces: anything else is a typo, caught
/// before it reaches a header or a request.
fn check_name(var: &str, value: &str) -> Result<(), String> {
    let plain = value.len() <= 64
        && !value.trim().is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '));
    if plain {
        Ok(())
    } else {
        Err(format!(
            "{var} '{}' is not an IAM name (up to 64 letters, digits, '-', '_', '.' or spaces)",
            value.escape_debug()
        ))
    }
}

fn from_env_metadata(env: &Env) -> Lookup<HuaweiCredential> {
    match env.var(ECS_METADATA_VAR) {
        None => Lookup::NotHere(format!("{ECS_METADATA_VAR} is not set")),
        Some("1" | "true") => Lookup::Found(HuaweiCredential::EcsMetadata),
        Some("0" | "false") => Lookup::NotHere(format!("{ECS_METADATA_VAR} is off")),
        Some(other) => Lookup::Broken(format!(
            "{ECS_METADATA_VAR} must be 1 or true (0 or false: off), not '{}'",
            other.escape_debug()
        )),
    }
}

fn from_env_keys(env: &Env) -> Lookup<HuaweiCredential> {
    match (env.var("HUAWEICLOUD_SDK_AK"), env.var("HUAWEICLOUD_SDK_SK")) {
        (Some(ak), Some(sk)) => Lookup::Found(HuaweiCredential::AkSk(AkSk {
            ak: ak.to_string(),
            sk: Secret::new(sk),
            security_token: env.var("HUAWEICLOUD_SDK_SECURITY_TOKEN").map(Secret::new),
            project_id: env.var("HUAWEICLOUD_SDK_PROJECT_ID").map(str::to_string),
            domain_id: env.var("HUAWEICLOUD_SDK_DOMAIN_ID").map(str::to_string),
        })),
        (None, None) => Lookup::NotHere("HUAWEICLOUD_SDK_AK is not set".into()),
        (Some(_), None) => {
            Lookup::Broken("HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is not".into())
        }
        (None, Some(_)) => {
            Lookup::Broken("HUAWEICLOUD_SDK_SK is set but HUAWEICLOUD_SDK_AK is not".into())
        }
    }
}

fn from_file(path: Option<PathBuf>, explicit: bool, scope: Scope) -> Lookup<HuaweiCredential> {
    let Some(path) = path else {
        return Lookup::NotHere("no home directory".into());
    };
    let ini = match read_ini(&path) {
        Ok(Some(ini)) => ini,
        Ok(None) if explicit => {
            return Lookup::Broken(format!("{} does not exist", path.display()))
        }
        Ok(None) => return Lookup::NotHere("no such file".into()),
        Err(reason) => return Lookup::Broken(reason),
    };
    let Some((name, section)) = scope
        .sections()
        .into_iter()
        .find_map(|name| ini.section(Some(name)).map(|s| (name, s)))
    else {
        return Lookup::NotHere("no [basic] or [global] section".into());
    };
    let value = |key: &str| section.get(key).filter(|v| !v.is_empty());
    match (value("ak"), value("sk")) {
        (Some(ak), Some(sk)) => Lookup::Found(HuaweiCredential::AkSk(AkSk {
            ak: ak.to_string(),
            sk: Secret::new(sk),
            security_token: value("security_token").map(Secret::new),
            project_id: value("project_id").map(str::to_string),
            domain_id: value("domain_id").map(str::to_string),
        })),
        _ => Lookup::Broken(format!("{} [{name}] lacks ak or sk", path.display())),
    }
}

fn from_env_password(env: &Env) -> Lookup<HuaweiCredential> {
    const NAMES: [&str; 3] = ["OS_USERNAME", "OS_PASSWORD", "OS_DOMAIN_NAME"];
    match NAMES.map(|name| env.var(name)) {
        [Some(user), Some(password), Some(domain)] => Lookup::Found(HuaweiCredential::Password {
            user: user.to_string(),
            password: Secret::new(password),
            domain: domain.to_string(),
        }),
        [None, None, None] => Lookup::NotHere("OS_USERNAME is not set".into()),
        values => {
            let missing: Vec<&str> = NAMES
                .iter()
                .zip(values)
                .filter(|(_, value)| value.is_none())
                .map(|(name, _)| *name)
                .collect();
            Lookup::Broken(format!(
                "a password login also needs {}",
                missing.join(" and ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{env_in as env, home_with};

    fn aksk(found: Found<HuaweiCredential>) -> AkSk {
        match found.value {
            HuaweiCredential::AkSk(keys) => keys,
            other => panic!("expected AK/SK, got {other:?}"),
        }
    }

    const FILE: &str = "[basic]\nak = B\nsk = b\nproject_id = p1\n\n\
                        [global]\nak = G\nsk = g\ndomain_id = d1\n";

    #[test]
    fn environment_keys_come_first_with_their_ids() {
        let home = home_with(&[(".huaweicloud/credentials", FILE)]);
        let e = env(
            &[
                ("HUAWEICLOUD_SDK_AK", "E"),
                ("HUAWEICLOUD_SDK_SK", "e"),
                ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "t"),
                ("HUAWEICLOUD_SDK_PROJECT_ID", "p"),
                ("HUAWEICLOUD_SDK_DOMAIN_ID", "d"),
                ("OS_AUTH_TOKEN", "tok"),
            ],
            &home,
        );
        let found = load(&e, Scope::Project).unwrap();
        assert!(found.source.starts_with("environment (HUAWEICLOUD_SDK_AK"));
        let keys = aksk(found);
        assert_eq!(keys.ak, "E");
        assert_eq!(keys.sk.expose(), "e");
        assert_eq!(keys.security_token.unwrap().expose(), "t");
        assert_eq!(keys.project_id.as_deref(), Some("p"));
        assert_eq!(keys.domain_id.as_deref(), Some("d"));
    }

    #[test]
    fn half_set_keys_are_broken_not_skipped() {
        let home = home_with(&[]);
        let err = load(&env(&[("HUAWEICLOUD_SDK_AK", "E")], &home), Scope::Project).unwrap_err();
        assert!(
            err.to_string().contains("HUAWEICLOUD_SDK_SK is not"),
            "{err}"
        );
    }

    #[test]
    fn the_file_section_follows_the_scope() {
        let home = home_with(&[(".huaweicloud/credentials", FILE)]);
        let keys = aksk(load(&env(&[], &home), Scope::Project).unwrap());
        assert_eq!(
            (keys.ak.as_str(), keys.project_id.as_deref()),
            ("B", Some("p1"))
        );
        let keys = aksk(load(&env(&[], &home), Scope::Global).unwrap());
        assert_eq!(
            (keys.ak.as_str(), keys.domain_id.as_deref()),
            ("G", Some("d1"))
        );

        let only_basic = home_with(&[(".huaweicloud/credentials", "[basic]\nak = B\nsk = b\n")]);
        assert_eq!(
            aksk(load(&env(&[], &only_basic), Scope::Global).unwrap()).ak,
            "B"
        );
    }

    #[test]
    fn the_file_can_be_named_and_must_then_exist() {
        let home = home_with(&[("elsewhere.ini", "[basic]\nak = X\nsk = x\n")]);
        let path = home.path().join("elsewhere.ini");
        let e = env(
            &[("HUAWEICLOUD_SDK_CREDENTIALS_FILE", path.to_str().unwrap())],
            &home,
        );
        assert_eq!(aksk(load(&e, Scope::Project).unwrap()).ak, "X");
        let missing = home.path().join("missing.ini");
        let e = env(
            &[(
                "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
                missing.to_str().unwrap(),
            )],
            &home,
        );
        assert!(load(&e, Scope::Project)
            .unwrap_err()
            .to_string()
            .contains("does not exist"));
    }

    #[test]
    fn a_section_without_keys_is_broken() {
        let home = home_with(&[(".huaweicloud/credentials", "[basic]\nak = B\n")]);
        let err = load(&env(&[], &home), Scope::Project).unwrap_err();
        assert!(err.to_string().contains("[basic] lacks ak or sk"), "{err}");
    }

    #[test]
    fn a_token_comes_before_a_password() {
        let home = home_with(&[]);
        let e = env(
            &[
                ("OS_AUTH_TOKEN", "tok"),
                ("OS_USERNAME", "u"),
                ("OS_PASSWORD", "pw"),
                ("OS_DOMAIN_NAME", "acct"),
            ],
            &home,
        );
        match load(&e, Scope::Project).unwrap().value {
            HuaweiCredential::Token(token) => assert_eq!(token.expose(), "tok"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_password_needs_all_three_variables() {
        let home = home_with(&[]);
        let full = env(
            &[
                ("OS_USERNAME", "u"),
                ("OS_PASSWORD", "pw"),
                ("OS_DOMAIN_NAME", "acct"),
            ],
            &home,
        );
        match load(&full, Scope::Project).unwrap().value {
            HuaweiCredential::Password {
                user,
                password,
                domain,
            } => {
                assert_eq!((user.as_str(), domain.as_str()), ("u", "acct"));
                assert_eq!(password.expose(), "pw");
            }
            other => panic!("{other:?}"),
        }
        let partial = env(&[("OS_USERNAME", "u"), ("OS_PASSWORD", "pw")], &home);
        let err = load(&partial, Scope::Project).unwrap_err().to_string();
        assert!(err.contains("also needs OS_DOMAIN_NAME"), "{err}");
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn nothing_found_names_every_source() {
        let home = home_with(&[]);
        match load(&env(&[], &home), Scope::Global).unwrap_err() {
            CredentialError::NotFound { tried, .. } => {
                let sources: Vec<&str> = tried.iter().map(|t| t.source.as_str()).collect();
                assert_eq!(sources.len(), 6);
                assert!(sources[0].contains("HUAWEICLOUD_SDK_AK"));
                assert!(sources[1].contains("~/.huaweicloud/credentials"));
                assert!(sources[2].contains("OS_AUTH_TOKEN"));
                assert!(sources[3].contains("OS_USERNAME"));
                assert!(sources[4].contains("HUAWEICLOUD_SDK_IDP_ID"));
                assert!(sources[5].contains("KUBEFETCH_HUAWEI_ECS_METADATA"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oidc_needs_the_identity_provider_and_a_token_file() {
        let home = home_with(&[("token", "a.b.c\n")]);
        let path = home.path().join("token");
        let path = path.to_str().unwrap();
        let both = env(
            &[
                ("HUAWEICLOUD_SDK_IDP_ID", "idp"),
                ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", path),
            ],
            &home,
        );
        let found = load(&both, Scope::Project).unwrap();
        assert!(found.source.starts_with("OIDC ("), "{}", found.source);
        match found.value {
            HuaweiCredential::Oidc { idp_id, token_file } => {
                assert_eq!(idp_id, "idp");
                assert_eq!(token_file.read().unwrap().expose(), "a.b.c");
            }
            other => panic!("{other:?}"),
        }
        let no_file = env(&[("HUAWEICLOUD_SDK_IDP_ID", "idp")], &home);
        let err = load(&no_file, Scope::Project).unwrap_err().to_string();
        assert!(
            err.contains("HUAWEICLOUD_SDK_ID_TOKEN_FILE is not"),
            "{err}"
        );
        let no_idp = env(&[("HUAWEICLOUD_SDK_ID_TOKEN_FILE", path)], &home);
        let err = load(&no_idp, Scope::Project).unwrap_err().to_string();
        assert!(err.contains("HUAWEICLOUD_SDK_IDP_ID is not"), "{err}");
        assert!(!err.contains("a.b.c"), "{err}");
    }

    #[test]
    fn static_keys_come_before_oidc_and_oidc_before_metadata() {
        let home = home_with(&[("token", "a.b.c")]);
        let path = home.path().join("token");
        let oidc = [
            ("HUAWEICLOUD_SDK_IDP_ID", "idp"),
            ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", path.to_str().unwrap()),
            ("KUBEFETCH_HUAWEI_ECS_METADATA", "1"),
        ];
        let mut with_keys = oidc.to_vec();
        with_keys.extend([("HUAWEICLOUD_SDK_AK", "E"), ("HUAWEICLOUD_SDK_SK", "e")]);
        assert!(matches!(
            load(&env(&with_keys, &home), Scope::Project).unwrap().value,
            HuaweiCredential::AkSk(_)
        ));
        assert!(matches!(
            load(&env(&oidc, &home), Scope::Project).unwrap().value,
            HuaweiCredential::Oidc { .. }
        ));
        let found = load(&env(&oidc[2..], &home), Scope::Project).unwrap();
        assert!(found.value.uses_metadata());
        assert_eq!(found.source, "ECS metadata (KUBEFETCH_HUAWEI_ECS_METADATA)");
    }

    #[test]
    fn metadata_is_asked_only_for_1_or_true() {
        let home = home_with(&[]);
        for yes in ["1", "true"] {
            let e = env(&[("KUBEFETCH_HUAWEI_ECS_METADATA", yes)], &home);
            assert!(load(&e, Scope::Global).unwrap().value.uses_metadata());
        }
        for off in ["0", "false"] {
            let e = env(&[("KUBEFETCH_HUAWEI_ECS_METADATA", off)], &home);
            assert!(matches!(
                load(&e, Scope::Global),
                Err(CredentialError::NotFound { .. })
            ));
        }
        for bad in ["yes", "2"] {
            let e = env(&[("KUBEFETCH_HUAWEI_ECS_METADATA", bad)], &home);
            let err = load(&e, Scope::Global).unwrap_err().to_string();
            assert!(
                err.contains("KUBEFETCH_HUAWEI_ECS_METADATA must be 1 or true"),
                "{err}"
            );
        }
    }

    #[test]
    fn an_agency_is_assumed_with_the_credential_found_and_needs_both_names() {
        let home = home_with(&[]);
        let e = env(
            &[
                ("HUAWEICLOUD_SDK_AK", "E"),
                ("HUAWEICLOUD_SDK_SK", "e"),
                ("HW_ASSUME_ROLE_AGENCY_NAME", "ci"),
                ("HW_ASSUME_ROLE_DOMAIN_NAME", "acct"),
            ],
            &home,
        );
        let found = load(&e, Scope::Project).unwrap();
        assert!(
            found.source.ends_with(
                "assuming the agency (HW_ASSUME_ROLE_AGENCY_NAME, HW_ASSUME_ROLE_DOMAIN_NAME)"
            ),
            "{}",
            found.source
        );
        match found.value {
            HuaweiCredential::Agency { agency, with } => {
                assert_eq!(
                    (agency.name.as_str(), agency.domain.as_str()),
                    ("ci", "acct")
                );
                assert!(matches!(*with, HuaweiCredential::AkSk(_)));
            }
            other => panic!("{other:?}"),
        }
        for (set, missing) in [
            ("HW_ASSUME_ROLE_AGENCY_NAME", "HW_ASSUME_ROLE_DOMAIN_NAME"),
            ("HW_ASSUME_ROLE_DOMAIN_NAME", "HW_ASSUME_ROLE_AGENCY_NAME"),
        ] {
            let e = env(&[("OS_AUTH_TOKEN", "t"), (set, "x")], &home);
            let err = load(&e, Scope::Project).unwrap_err().to_string();
            assert!(
                err.contains(&format!("{set} is set but {missing} is not")),
                "{err}"
            );
        }
        let e = env(
            &[
                ("OS_AUTH_TOKEN", "t"),
                ("HW_ASSUME_ROLE_AGENCY_NAME", "ci\nX-Evil: 1"),
                ("HW_ASSUME_ROLE_DOMAIN_NAME", "acct"),
            ],
            &home,
        );
        let err = load(&e, Scope::Project).unwrap_err().to_string();
        assert!(
            err.contains("HW_ASSUME_ROLE_AGENCY_NAME 'ci\\nX-Evil: 1' is not an IAM name"),
            "{err}"
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let cred = HuaweiCredential::Password {
            user: "u".into(),
            password: Secret::new("hunter2"),
            domain: "d".into(),
        };
        assert!(!format!("{cred:?}").contains("hunter2"));
    }
}
