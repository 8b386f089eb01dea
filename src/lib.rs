//! kubefetch: fetch a managed cluster's kubeconfig, rename it so it cannot
//! collide, and merge it safely into the user's kubeconfig.

pub mod credentials;
pub mod env;
pub mod error;
pub mod kubeconfig;
pub mod secret;
pub mod sign;
