//! Tencent Cloud STS (`AssumeRole`, `AssumeRoleWithWebIdentity`) and the CVM
//! metadata service.

use crate::state::Shared;
use crate::tencent::error;
use crate::wire::{ApiRequest, Reply};

/// The STS actions, which share TKE's path "/".
pub fn is_sts_action(action: &str) -> bool {
    matches!(action, "AssumeRole" | "AssumeRoleWithWebIdentity")
}

pub fn handle(_shared: &Shared, _req: &ApiRequest) -> Reply {
    error(200, "InvalidAction", "the specified API does not exist")
}

pub fn metadata(_shared: &Shared, _req: &ApiRequest) -> Reply {
    error(404, "ResourceNotFound", "no such metadata path")
}
