//! Where Huawei Cloud and Open Telekom Cloud answer: hosts derived from the
//! region, overridable per service, and the checks on region and cluster id
//! that must pass before anything is sent.

use reqwest::Url;

use crate::env::Env;
use crate::settings::{parse_endpoint, UsageError};

/// Open Telekom Cloud runs the same APIs under its own domain.
const OTC_REGIONS: [&str; 2] = ["eu-de", "eu-nl"];

/// The global UCS service (Huawei Cloud only).
pub const UCS_DEFAULT: &str = "https://ucs.myhuaweicloud.com";

/// IAM for global services when no region is known.
const IAM_GLOBAL: &str = "https://iam.myhuaweicloud.com";

pub fn is_otc(region: &str) -> bool {
    OTC_REGIONS.contains(&region)
}

/// `https://<service>.<region>.myhuaweicloud.com`, or the OTC host.
pub fn regional(service: &str, region: &str) -> String {
    if is_otc(region) {
        format!("https://{service}.{region}.otc.t-systems.com")
    } else {
        format!("https://{service}.{region}.myhuaweicloud.com")
    }
}

/// IAM: `KUBEFETCH_IAM_ENDPOINT`, else the SDK's `HUAWEICLOUD_SDK_IAM_ENDPOINT`,
/// else the region's IAM (the global one without a region). `--endpoint`
/// names the service, never IAM.
pub fn iam(env: &Env, region: Option<&str>) -> Result<Url, UsageError> {
    if let Some((var, url)) =
        env.first_var(&["KUBEFETCH_IAM_ENDPOINT", "HUAWEICLOUD_SDK_IAM_ENDPOINT"])
    {
        return parse_endpoint(url, var);
    }
    let default = region.map_or_else(|| IAM_GLOBAL.to_string(), |r| regional("iam", r));
    parse_endpoint(&default, "the default IAM endpoint")
}

/// Region names end up in host names and IAM queries: only plain names pass.
pub fn validate_region(region: &str) -> Result<(), UsageError> {
    let plain = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-');
    if plain {
        Ok(())
    } else {
        Err(
            UsageError::new(format!("invalid region '{}'", region.escape_debug()))
                .with_hint("regions look like cn-north-4, ap-southeast-1 or eu-de (OTC)"),
        )
    }
}

/// CCE and UCS cluster ids are UUIDs (8-4-4-4-12 hex digits).
pub fn validate_cluster_id(command: &str, id: &str) -> Result<(), UsageError> {
    let groups: Vec<&str> = id.split('-').collect();
    let uuid = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()));
    if uuid {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "malformed {command} cluster id '{}': expected a UUID",
            id.escape_debug()
        ))
        .with_hint(
            "copy the cluster id from the console, e.g. 4d5e6f70-1a2b-11ee-8c90-0255ac100001",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::new(vars.iter().map(|(k, v)| (*k, *v)), None)
    }

    #[test]
    fn otc_regions_use_t_systems_hosts() {
        assert_eq!(
            regional("cce", "cn-north-4"),
            "https://cce.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            regional("cce", "eu-de"),
            "https://cce.eu-de.otc.t-systems.com"
        );
        assert_eq!(
            regional("iam", "eu-nl"),
            "https://iam.eu-nl.otc.t-systems.com"
        );
        assert!(!is_otc("eu-west-101"));
    }

    #[test]
    fn iam_endpoint_prefers_overrides_then_the_region() {
        assert_eq!(
            iam(&env(&[]), Some("cn-north-4")).unwrap().as_str(),
            "https://iam.cn-north-4.myhuaweicloud.com/"
        );
        assert_eq!(
            iam(&env(&[]), None).unwrap().as_str(),
            "https://iam.myhuaweicloud.com/"
        );
        let both = env(&[
            ("KUBEFETCH_IAM_ENDPOINT", "http://127.0.0.1:9/"),
            ("HUAWEICLOUD_SDK_IAM_ENDPOINT", "https://iam.example/"),
        ]);
        assert_eq!(
            iam(&both, Some("eu-de")).unwrap().as_str(),
            "http://127.0.0.1:9/"
        );
        let sdk = env(&[("HUAWEICLOUD_SDK_IAM_ENDPOINT", "https://iam.example/")]);
        assert_eq!(iam(&sdk, None).unwrap().as_str(), "https://iam.example/");
        let plain = env(&[("KUBEFETCH_IAM_ENDPOINT", "http://iam.example/")]);
        assert!(iam(&plain, None).is_err());
    }

    #[test]
    fn regions_are_checked() {
        for ok in ["cn-north-4", "eu-de", "ap-southeast-1"] {
            validate_region(ok).unwrap();
        }
        for bad in ["", "EU-DE", "eu de", "eu.de", "-x", "a/b"] {
            assert!(validate_region(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cluster_ids_must_be_uuids() {
        validate_cluster_id("cce", "4d5e6f70-1a2b-11ee-8c90-0255ac100001").unwrap();
        validate_cluster_id("ucs", "5E6F7081-2B3C-11EE-9DA1-0255AC100011").unwrap();
        for bad in [
            "cls-65r1c5nu",
            "4d5e6f70-1a2b-11ee-8c90-0255ac10000",
            "4d5e6f70-1a2b-11ee-8c90-0255ac1000011",
            "4d5e6f701a2b11ee8c900255ac100001",
            "4d5e6f70-1a2b-11ee-8c90-0255ac10000g",
            "",
        ] {
            let err = validate_cluster_id("cce", bad).unwrap_err();
            assert!(err.message.contains("expected a UUID"), "{bad}");
        }
    }
}
