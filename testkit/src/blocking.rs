//! A tiny blocking RESP connection, so the kit can talk to a server (readiness
//! checks, `RedisServer::command`) without the client under test.

use bytes::BytesMut;
use redwire_resp::{encode_command, Decoder, Frame};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One blocking connection; every call sends one command and reads one reply.
pub(crate) struct BlockingConn {
    stream: TcpStream,
    decoder: Decoder,
    buf: BytesMut,
}

impl BlockingConn {
    pub(crate) fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(BlockingConn {
            stream,
            decoder: Decoder::new(),
            buf: BytesMut::with_capacity(4096),
        })
    }

    /// Authenticates as the default user; an error reply becomes an I/O error
    /// because nothing useful can follow a failed AUTH.
    pub(crate) fn auth(&mut self, password: &str) -> io::Result<()> {
        match self.command(&["AUTH", password])? {
            Frame::Error(e) => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("AUTH failed: {}", String::from_utf8_lossy(&e)),
            )),
            _ => Ok(()),
        }
    }

    pub(crate) fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Frame> {
        let mut out = BytesMut::new();
        encode_command(&mut out, args.iter().map(AsRef::as_ref));
        self.stream.write_all(&out)?;
        self.read_frame()
    }

    fn read_frame(&mut self) -> io::Result<Frame> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(frame)) => return Ok(frame),
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection before replying",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
