//! The user's kubeconfig: its format, how a provider's answer becomes safe
//! renamed entries, how those merge into a file, and how the file is found,
//! locked and replaced atomically.

pub mod certificate;
pub mod locate;
pub mod merge;
pub mod model;
pub mod normalize;
pub mod provenance;
mod schema;

pub use schema::type_name;
pub mod set;
pub mod store;

pub use certificate::CertError;
pub use locate::{locate, LocateError};
pub use merge::{merge, EntryKind, MergeError, MergeOptions, MergeReport};
pub use model::{Kubeconfig, ModelError};
pub use normalize::{normalize, standalone, Fetched, NormalizeError, NormalizeInput};
pub use provenance::{owned_by_kubefetch, Provenance};
pub use store::{update, StoreError, StoreOptions, Written};
