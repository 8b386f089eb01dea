//! The fixed credentials, accounts and clusters of every fake cloud. They are test
//! values, not real accounts.

use crate::model::{Cluster, Provider};

pub const TENCENT_SECRET_ID: &str = "AKIDfakecloudTENCENT000000000000001";
pub const TENCENT_SECRET_KEY: &str = "fakecloudTencentSecretKey0000001";
/// A temporary Tencent credential: accepted only with `X-TC-Token: TENCENT_TMP_TOKEN`.
pub const TENCENT_TMP_SECRET_ID: &str = "AKIDfakecloudTENCENTtmp0000000000002";
pub const TENCENT_TMP_SECRET_KEY: &str = "fakecloudTencentTmpSecretKey0002";
pub const TENCENT_TMP_TOKEN: &str = "fakecloud-tencent-session-token-0002";
pub const TENCENT_REGION: &str = "ap-guangzhou";
/// The account uin TKE names the kubeconfig user after.
pub const TENCENT_UIN: &str = "100012345678";

pub const ALIBABA_ACCESS_KEY_ID: &str = "LTAIfakecloudALIBABA0001";
pub const ALIBABA_ACCESS_KEY_SECRET: &str = "fakecloudAlibabaSecret000000000001";
pub const ALIBABA_STS_ACCESS_KEY_ID: &str = "STS.fakecloudALIBABAtmp0002";
pub const ALIBABA_STS_ACCESS_KEY_SECRET: &str = "fakecloudAlibabaTmpSecret00002";
pub const ALIBABA_STS_TOKEN: &str = "fakecloud-alibaba-sts-token-0002";
pub const ALIBABA_REGION: &str = "cn-hangzhou";
/// The account uid ACK names the kubeconfig user after.
pub const ALIBABA_ACCOUNT_UID: &str = "2718281828459045";

/// The RAM role CI assumes (AssumeRole with the fixed keys, or AssumeRoleWithOIDC).
pub const ALIBABA_ROLE_ARN: &str = "acs:ram::2718281828459045:role/kubefetch-ci";
/// Another role the fake's STS lets CI assume (two roles, two identities).
pub const ALIBABA_SECOND_ROLE_ARN: &str = "acs:ram::2718281828459045:role/kubefetch-deploy";
pub const ALIBABA_OIDC_PROVIDER_ARN: &str =
    "acs:ram::2718281828459045:oidc-provider/github-actions";
/// The RAM role attached to the fake ECS instance.
pub const ALIBABA_ECS_ROLE: &str = "kubefetch-ecs-role";

/// The CAM role CI assumes (AssumeRole, AssumeRoleWithWebIdentity).
pub const TENCENT_ROLE_ARN: &str = "qcs::cam::uin/100012345678:roleName/kubefetch-ci";
/// The OIDC identity provider registered in CAM.
pub const TENCENT_PROVIDER_ID: &str = "github-actions";
/// The CAM role attached to the fake CVM instance.
pub const TENCENT_CVM_ROLE: &str = "kubefetch-cvm-role";

/// The identity provider registered in IAM for OIDC id tokens.
pub const HUAWEI_IDP_ID: &str = "github-actions";
/// The agency CI assumes, in the fake account.
pub const HUAWEI_AGENCY_NAME: &str = "kubefetch-ci-agency";

pub const HUAWEI_AK: &str = "HWFAKECLOUDAK0000001";
pub const HUAWEI_SK: &str = "fakecloudHuaweiSecretKey000000000000001";
pub const HUAWEI_USER: &str = "fakeuser";
pub const HUAWEI_PASSWORD: &str = "fakecloudHuaweiPassword1!";
pub const HUAWEI_DOMAIN_NAME: &str = "fakedomain";
pub const HUAWEI_DOMAIN_ID: &str = "d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f";
pub const HUAWEI_USER_ID: &str = "e1f2a3b4c5d6e7f8091a2b3c4d5e6f70";
pub const HUAWEI_REGION: &str = "cn-north-4";
pub const HUAWEI_PROJECT_CN_NORTH_4: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub const HUAWEI_PROJECT_EU_DE: &str = "1b2c3d4e5f60718293a4b5c6d7e8f90a";
/// A region name that two projects share, so a lookup by name is ambiguous.
pub const HUAWEI_AMBIGUOUS_REGION: &str = "ap-dup";
pub const HUAWEI_PROJECTS_AP_DUP: [&str; 2] = [
    "2c3d4e5f60718293a4b5c6d7e8f90a1b",
    "3d4e5f60718293a4b5c6d7e8f90a1b2c",
];

/// (project id, region name) of every project of the fake Huawei account.
pub const HUAWEI_PROJECTS: [(&str, &str); 4] = [
    (HUAWEI_PROJECT_CN_NORTH_4, HUAWEI_REGION),
    (HUAWEI_PROJECT_EU_DE, "eu-de"),
    (HUAWEI_PROJECTS_AP_DUP[0], HUAWEI_AMBIGUOUS_REGION),
    (HUAWEI_PROJECTS_AP_DUP[1], HUAWEI_AMBIGUOUS_REGION),
];

pub const TKE_CLUSTER: &str = "cls-65r1c5nu";
pub const TKE_CLUSTERS: [&str; 4] = [TKE_CLUSTER, "cls-a", "cls-b", "cls-c"];
pub const ACK_CLUSTER: &str = "c5b5e80b0b64a4bf6939d2d8fbbc5";
/// A CCE cluster with a public (EIP) and a private endpoint.
pub const CCE_CLUSTER: &str = "4d5e6f70-1a2b-11ee-8c90-0255ac100001";
/// A CCE cluster with only a private endpoint.
pub const CCE_PRIVATE_CLUSTER: &str = "4d5e6f70-1a2b-11ee-8c90-0255ac100002";
pub const UCS_CLUSTER: &str = "5e6f7081-2b3c-11ee-9da1-0255ac100011";
/// A UCS attached cluster whose agent bundle (accessinfo) can be downloaded once.
pub const UCS_ATTACHED_CLUSTER: &str = "5e6f7081-2b3c-11ee-9da1-0255ac100012";

/// The clusters every new fake cloud serves.
pub fn default_clusters() -> Vec<Cluster> {
    let mut clusters: Vec<Cluster> = TKE_CLUSTERS
        .iter()
        .map(|id| Cluster::new(Provider::Tke, *id))
        .collect();
    clusters.push(Cluster::new(Provider::Ack, ACK_CLUSTER));
    clusters.push(Cluster::new(Provider::Cce, CCE_CLUSTER));
    clusters.push(Cluster {
        has_public: false,
        ..Cluster::new(Provider::Cce, CCE_PRIVATE_CLUSTER)
    });
    clusters.push(Cluster::new(Provider::Ucs, UCS_CLUSTER));
    clusters.push(Cluster {
        agent_bundle: true,
        ..Cluster::new(Provider::Ucs, UCS_ATTACHED_CLUSTER)
    });
    clusters
}
