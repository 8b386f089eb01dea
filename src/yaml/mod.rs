//! YAML with kubectl's meaning: one reader for every kubeconfig kubefetch
//! reads (the user's files and the providers' answers) and one writer.
//! The tree is JSON, because that is what kubectl makes of YAML.

mod decode;
mod emit;
mod fast;
mod read;
mod resolve;

pub use decode::{decode, DecodeError};
pub use emit::{to_block_yaml, BlockWriter};
pub(crate) use read::is_go_base64;
pub use read::{
    position_of, read_all, read_first, PathDisplay, Position, ReadError, Segment, MAX_ALIAS_NODES,
    MAX_DEPTH,
};
