//! The user's kubeconfig: its format, how a provider's answer becomes safe
//! renamed entries, how those merge into a file, and how the file is found,
//! locked and replaced atomically.

pub mod certificate;
pub mod model;
pub mod normalize;
