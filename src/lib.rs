//! kubefetch: fetch a managed cluster's kubeconfig, rename it so it cannot
//! collide, and merge it safely into the user's kubeconfig.

pub mod cli;
pub mod credentials;
pub mod env;
pub mod error;
pub mod http;
pub mod interrupt;
pub mod kubeconfig;
pub mod provider;
pub mod run;
pub mod secret;
pub mod settings;
pub mod sign;
#[cfg(test)]
mod testing;
pub mod ui;
