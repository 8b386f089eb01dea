//! Alibaba Cloud STS (`AssumeRole`, `AssumeRoleWithOIDC`) and the ECS metadata
//! service.

use crate::alibaba::error;
use crate::state::Shared;
use crate::wire::{ApiRequest, Reply};

pub fn handle(_shared: &Shared, _req: &ApiRequest) -> Reply {
    error(
        404,
        "InvalidAction.NotFound",
        "the specified API does not exist",
    )
}

pub fn metadata(_shared: &Shared, _req: &ApiRequest) -> Reply {
    error(404, "NotFound", "no such metadata path")
}
