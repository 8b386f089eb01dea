//! Huawei IAM's keyless exchanges (`/v3.0/OS-AUTH/id-token/tokens`,
//! `/v3.0/OS-CREDENTIAL/securitytokens`) and the ECS metadata service.

use crate::state::Shared;
use crate::wire::{ApiRequest, Reply};

pub fn handle(_shared: &Shared, _req: &ApiRequest) -> Reply {
    super::no_such_api()
}

pub fn metadata(_shared: &Shared, _req: &ApiRequest) -> Reply {
    super::no_such_api()
}
