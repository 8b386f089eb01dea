//! kubefetch: fetch a managed cluster's kubeconfig, rename it so it cannot
//! collide, and merge it safely into the user's kubeconfig.

pub mod app;
pub mod cache;
pub mod cli;
pub mod credentials;
pub mod env;
pub mod error;
pub mod exec;
pub mod fleet;
pub mod fsx;
pub mod http;
pub mod interrupt;
pub mod keyless;
pub mod kubeconfig;
pub mod provider;
pub mod report;
pub mod secret;
pub mod settings;
pub mod shell;
pub mod sign;
#[cfg(test)]
mod testing;
pub mod ui;
pub mod version;
pub mod yaml;
