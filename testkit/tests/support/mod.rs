//! Blocking helpers the testkit's own tests share: a raw client that speaks
//! RESP through the codec, and polling for a condition with a deadline.

#![allow(dead_code)] // each test binary uses its own subset

use bytes::BytesMut;
use redwire_resp::{encode_command, Decoder, Frame};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A raw connection with a generous read timeout, so a broken test fails
/// instead of hanging.
pub struct Client {
    pub stream: TcpStream,
    decoder: Decoder,
    buf: BytesMut,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            decoder: Decoder::new(),
            buf: BytesMut::new(),
        }
    }

    pub fn send(&mut self, args: &[&str]) {
        let mut out = BytesMut::new();
        encode_command(&mut out, args.iter());
        self.stream.write_all(&out).expect("write");
    }

    pub fn read_frame(&mut self) -> io::Result<Frame> {
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(frame) = self
                .decoder
                .decode(&mut self.buf)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
            {
                return Ok(frame);
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub fn call(&mut self, args: &[&str]) -> Frame {
        self.send(args);
        self.read_frame().expect("reply")
    }

    /// Reads exactly `n` bytes, raw.
    pub fn read_raw(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        self.stream.read_exact(&mut out).expect("read raw bytes");
        out
    }

    pub fn set_read_timeout(&self, timeout: Duration) {
        self.stream.set_read_timeout(Some(timeout)).unwrap();
    }
}

pub fn simple(text: &str) -> Frame {
    Frame::Simple(text.to_string().into())
}

pub fn bulk(text: &str) -> Frame {
    Frame::Bulk(text.to_string().into())
}

/// True for the errors a read gives when its timeout passes.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Polls `cond` until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a process exists and is not a zombie (a zombie has already died).
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.trim().chars().next());
            state != Some('Z')
        }
        Err(_) => false,
    }
}

pub fn int(n: i64) -> Frame {
    Frame::Integer(n)
}
