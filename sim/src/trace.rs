//! The trace of one run: timestamped lines in simulated time, and a hash of
//! them that two runs of one seed must share.

use tokio::time::Instant;

/// The lines of a run, each stamped with simulated microseconds since start.
#[derive(Debug, Clone)]
pub struct Trace {
    start: Instant,
    lines: Vec<String>,
}

impl Trace {
    /// An empty trace starting now.
    pub fn new() -> Trace {
        Trace {
            start: Instant::now(),
            lines: Vec::new(),
        }
    }

    /// Adds a line stamped with the simulated time.
    pub fn note(&mut self, line: &str) {
        let t = self.start.elapsed().as_micros();
        self.lines
            .push(format!("{:>6}.{:03}ms {line}", t / 1000, t % 1000));
    }

    /// The lines.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// FNV-1a over every line: stable across runs, processes and machines.
    pub fn hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for line in &self.lines {
            for b in line.bytes().chain([b'\n']) {
                h ^= b as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}
