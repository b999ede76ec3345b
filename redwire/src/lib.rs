//! redwire: an async Redis client. The connection actor lands with its own issue;
//! for now this crate re-exports the codec it is built on.

pub use redwire_resp as resp;
