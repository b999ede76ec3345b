//! The exit codes of `redwire cli` and `redwire bench`, as documented in
//! cli/README.md.

/// Every reply was a success.
pub const EXIT_OK: u8 = 0;
/// The server answered (at least one command) with an error reply.
pub const EXIT_ERROR_REPLY: u8 = 1;
/// The command line was wrong.
pub const EXIT_USAGE: u8 = 2;
/// No server, or the connection failed.
pub const EXIT_FAILURE: u8 = 3;
