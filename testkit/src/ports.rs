//! Free TCP ports on 127.0.0.1 for servers that must be told their port.

use std::io;
use std::net::{Ipv4Addr, TcpListener};

/// Asks the kernel for a port that is free right now.
///
/// Between this call and the server's bind another process can take the port;
/// callers detect that (the server fails to bind) and try again with a new one.
pub(crate) fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}
