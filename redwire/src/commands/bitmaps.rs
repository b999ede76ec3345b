//! Bitmap commands: single bits, counts and searches over ranges, `BITOP`,
//! and `BITFIELD` with its builder of integer fields.

use super::handle::Commands;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};

/// A range of a string for `BITCOUNT` and `BITPOS`: inclusive ends, counted
/// in bytes or in bits (negative ends count from the end).
///
/// ```
/// use redwire::commands::BitRange;
/// let first_two_bytes = BitRange::bytes(0, 1);
/// let first_twelve_bits = BitRange::bits(0, 11);
/// # let _ = (first_two_bytes, first_twelve_bits);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitRange {
    start: i64,
    end: i64,
    bits: bool,
}

impl BitRange {
    /// From byte `start` to byte `end`, inclusive (the server's default unit).
    pub fn bytes(start: i64, end: i64) -> Self {
        BitRange {
            start,
            end,
            bits: false,
        }
    }

    /// `BIT`: from bit `start` to bit `end`, inclusive (Redis 7.0+).
    pub fn bits(start: i64, end: i64) -> Self {
        BitRange {
            start,
            end,
            bits: true,
        }
    }
}

impl ToArg for BitRange {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(self.start).push_arg(self.end);
        // Bytes are the default: leaving `BYTE` out keeps older servers happy.
        if self.bits {
            cmd.push_arg("BIT");
        }
    }
}

/// The operation of `BITOP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    /// `AND` of every source.
    And,
    /// `OR` of every source.
    Or,
    /// `XOR` of every source.
    Xor,
    /// `NOT` of the one source.
    Not,
}

impl ToArg for BitOp {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(match self {
            BitOp::And => "AND",
            BitOp::Or => "OR",
            BitOp::Xor => "XOR",
            BitOp::Not => "NOT",
        });
    }
}

/// The type of a `BITFIELD` integer: signed up to 64 bits, unsigned up to 63.
///
/// ```
/// use redwire::commands::BitType;
/// let byte = BitType::unsigned(8);
/// let counter = BitType::signed(32);
/// # let _ = (byte, counter);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitType {
    signed: bool,
    bits: u8,
}

impl BitType {
    /// `iN`: a signed integer of `bits` bits (1 to 64).
    pub fn signed(bits: u8) -> Self {
        BitType { signed: true, bits }
    }

    /// `uN`: an unsigned integer of `bits` bits (1 to 63).
    pub fn unsigned(bits: u8) -> Self {
        BitType {
            signed: false,
            bits,
        }
    }
}

impl ToArg for BitType {
    fn write_args(&self, cmd: &mut Cmd) {
        let sign = if self.signed { "i" } else { "u" };
        cmd.push_arg(format!("{sign}{}", self.bits));
    }
}

/// Where a `BITFIELD` integer starts. A plain `u64` is a bit offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOffset {
    /// At this bit.
    Bit(u64),
    /// `#N`: the `N`th integer of the field's type, at bit `N × width`.
    Index(u64),
}

impl From<u64> for BitOffset {
    fn from(bit: u64) -> Self {
        BitOffset::Bit(bit)
    }
}

impl ToArg for BitOffset {
    fn write_args(&self, cmd: &mut Cmd) {
        match *self {
            BitOffset::Bit(n) => cmd.push_arg(n),
            BitOffset::Index(n) => cmd.push_arg(format!("#{n}")),
        };
    }
}

/// What `BITFIELD`'s `SET` and `INCRBY` do when a value does not fit its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// `WRAP`: wrap around (the default).
    Wrap,
    /// `SAT`: stop at the type's minimum or maximum.
    Sat,
    /// `FAIL`: change nothing, and answer `None` for that operation.
    Fail,
}

/// One subcommand of a [`BitField`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BitFieldOp {
    Get(BitType, BitOffset),
    Set(BitType, BitOffset, i64),
    IncrBy(BitType, BitOffset, i64),
    Overflow(Overflow),
}

/// The subcommands of one `BITFIELD`, run in order: each `GET`, `SET` and
/// `INCRBY` gives one entry of the reply; `OVERFLOW` applies to the `SET`s
/// and `INCRBY`s after it.
///
/// ```
/// use redwire::commands::{BitField, BitOffset, BitType, Overflow};
/// let ops = BitField::new()
///     .set(BitType::unsigned(8), 0, 200)
///     .overflow(Overflow::Sat)
///     .incr_by(BitType::unsigned(8), 0, 100)
///     .get(BitType::signed(4), BitOffset::Index(3));
/// # let _ = ops;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BitField {
    ops: Vec<BitFieldOp>,
}

impl BitField {
    /// No subcommands yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `GET type offset`: the integer there.
    #[must_use]
    pub fn get(mut self, ty: BitType, offset: impl Into<BitOffset>) -> Self {
        self.ops.push(BitFieldOp::Get(ty, offset.into()));
        self
    }

    /// `SET type offset value`: stores an integer; its entry is the old one.
    #[must_use]
    pub fn set(mut self, ty: BitType, offset: impl Into<BitOffset>, value: i64) -> Self {
        self.ops.push(BitFieldOp::Set(ty, offset.into(), value));
        self
    }

    /// `INCRBY type offset increment`: adds to an integer; its entry is the
    /// new one.
    #[must_use]
    pub fn incr_by(mut self, ty: BitType, offset: impl Into<BitOffset>, increment: i64) -> Self {
        self.ops
            .push(BitFieldOp::IncrBy(ty, offset.into(), increment));
        self
    }

    /// `OVERFLOW WRAP|SAT|FAIL`: for the `SET`s and `INCRBY`s that follow.
    #[must_use]
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.ops.push(BitFieldOp::Overflow(overflow));
        self
    }
}

impl ToArg for BitField {
    fn write_args(&self, cmd: &mut Cmd) {
        for op in &self.ops {
            match *op {
                BitFieldOp::Get(ty, offset) => {
                    cmd.push_arg("GET").push_arg(ty).push_arg(offset);
                }
                BitFieldOp::Set(ty, offset, value) => {
                    cmd.push_arg("SET")
                        .push_arg(ty)
                        .push_arg(offset)
                        .push_arg(value);
                }
                BitFieldOp::IncrBy(ty, offset, by) => {
                    cmd.push_arg("INCRBY")
                        .push_arg(ty)
                        .push_arg(offset)
                        .push_arg(by);
                }
                BitFieldOp::Overflow(overflow) => {
                    cmd.push_arg("OVERFLOW").push_arg(match overflow {
                        Overflow::Wrap => "WRAP",
                        Overflow::Sat => "SAT",
                        Overflow::Fail => "FAIL",
                    });
                }
            }
        }
    }
}

/// The `GET`s of one `BITFIELD_RO`: reads only, so it may run on replicas.
///
/// ```
/// use redwire::commands::{BitFieldRo, BitType};
/// let reads = BitFieldRo::new().get(BitType::unsigned(8), 0).get(BitType::signed(8), 8);
/// # let _ = reads;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BitFieldRo {
    gets: Vec<(BitType, BitOffset)>,
}

impl BitFieldRo {
    /// No reads yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `GET type offset`: the integer there.
    #[must_use]
    pub fn get(mut self, ty: BitType, offset: impl Into<BitOffset>) -> Self {
        self.gets.push((ty, offset.into()));
        self
    }
}

impl ToArg for BitFieldRo {
    fn write_args(&self, cmd: &mut Cmd) {
        for (ty, offset) in &self.gets {
            cmd.push_arg("GET").push_arg(ty).push_arg(offset);
        }
    }
}

/// Commands on strings seen as arrays of bits.
pub trait BitmapCommands: Commands {
    /// `SETBIT`: sets or clears the bit at `offset`; the bit it held.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let was_set = client.setbit("seen", 42, true).await?;
    /// # Ok(()) }
    /// ```
    fn setbit(self, key: impl ToArg, offset: u64, value: bool) -> Self::Reply<bool> {
        self.command(cmd("SETBIT").arg(key).arg(offset).arg(value))
    }

    /// `GETBIT`: the bit at `offset` (false past the end or for a missing key).
    fn getbit(self, key: impl ToArg, offset: u64) -> Self::Reply<bool> {
        self.command(cmd("GETBIT").arg(key).arg(offset))
    }

    /// `BITCOUNT`: the number of set bits.
    fn bitcount(self, key: impl ToArg) -> Self::Reply<u64> {
        self.read_key("BITCOUNT", key)
    }

    /// `BITCOUNT start end [BIT]`: the number of set bits within a range.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let in_first_byte = client.bitcount_range("seen", BitRange::bytes(0, 0)).await?;
    /// # Ok(()) }
    /// ```
    fn bitcount_range(self, key: impl ToArg, range: BitRange) -> Self::Reply<u64> {
        self.command(cmd("BITCOUNT").arg(key).arg(range))
    }

    /// `BITPOS`: the position of the first bit equal to `bit`; `-1` when
    /// looking for a set bit in a string without one. A clear bit is found
    /// past the end of the string.
    fn bitpos(self, key: impl ToArg, bit: bool) -> Self::Reply<i64> {
        self.command(cmd("BITPOS").arg(key).arg(bit))
    }

    /// `BITPOS bit start end [BIT]`: the position (counted from the start of
    /// the string, in bits) of the first bit equal to `bit` within a range;
    /// `-1` when there is none.
    fn bitpos_range(self, key: impl ToArg, bit: bool, range: BitRange) -> Self::Reply<i64> {
        self.command(cmd("BITPOS").arg(key).arg(bit).arg(range))
    }

    /// `BITOP`: stores the bitwise operation of `sources` in `destination`;
    /// its length in bytes (that of the longest source).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.bitop(BitOp::And, "both", ["monday", "tuesday"]).await?;
    /// # Ok(()) }
    /// ```
    fn bitop(self, op: BitOp, destination: impl ToArg, sources: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("BITOP").arg(op).arg(destination).arg(sources))
    }

    /// `BITFIELD`: runs the subcommands in order; one entry per `GET`, `SET`
    /// and `INCRBY`, `None` where `OVERFLOW FAIL` refused a change.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let ops = BitField::new()
    ///     .overflow(Overflow::Sat)
    ///     .incr_by(BitType::unsigned(8), BitOffset::Index(2), 1);
    /// let counters: Vec<Option<i64>> = client.bitfield("counters", &ops).await?;
    /// # Ok(()) }
    /// ```
    fn bitfield(self, key: impl ToArg, ops: &BitField) -> Self::Reply<Vec<Option<i64>>> {
        self.command(cmd("BITFIELD").arg(key).arg(ops))
    }

    /// `BITFIELD_RO`: the integers read, one per `GET` (Redis 6.0+).
    fn bitfield_ro(self, key: impl ToArg, gets: &BitFieldRo) -> Self::Reply<Vec<i64>> {
        self.command(cmd("BITFIELD_RO").arg(key).arg(gets))
    }
}

impl<C: Commands> BitmapCommands for C {}
