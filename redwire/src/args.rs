//! What may be a command's argument, and how it is written: the
//! [`ToArg`](crate::ToArg) implementations of the standard types.
//!
//! Every argument ends up as one RESP bulk string through
//! [`Cmd::write_arg`]. A value may write several: a slice, `Vec`, array or set
//! writes its elements, a tuple its fields, a map its key/value pairs
//! flattened (`HSET h f1 v1 f2 v2`), and `None` nothing. A user type becomes an
//! argument by implementing the one method of [`ToArg`].
//!
//! Numbers are written in decimal as Redis reads them (`inf`/`-inf` for
//! infinite floats); `bool` is `1`/`0`. `u8` alone is not an argument, so that
//! `&[u8]` and `Vec<u8>` stay one binary string rather than a list of numbers.
//!
//! Arguments are read by reference, so their bytes are copied into the
//! command, once (from 4 KiB into a buffer of their own that sending does
//! not copy again). The exception is [`Bytes`]: one of 4 KiB or more is
//! shared, not copied. A `Vec<u8>` cannot give its buffer through a
//! reference; `Bytes::from(vec)` takes it without a copy.

use crate::cmd::{Cmd, ToArg};
use bytes::Bytes;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

impl<T: ToArg + ?Sized> ToArg for &T {
    fn write_args(&self, cmd: &mut Cmd) {
        (**self).write_args(cmd)
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        (**self).as_one_arg()
    }
}

impl<T: ToArg + ?Sized> ToArg for Box<T> {
    fn write_args(&self, cmd: &mut Cmd) {
        (**self).write_args(cmd)
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        (**self).as_one_arg()
    }
}

impl ToArg for str {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self.as_bytes())
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }
}

impl ToArg for String {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self.as_bytes())
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }
}

impl ToArg for Cow<'_, str> {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self.as_bytes())
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }
}

impl ToArg for char {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self.encode_utf8(&mut [0; 4]).as_bytes())
    }
}

impl ToArg for [u8] {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self)
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl<const N: usize> ToArg for [u8; N] {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self)
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl ToArg for Vec<u8> {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self)
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl ToArg for Cow<'_, [u8]> {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self)
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        Some(self)
    }
}

/// A `Bytes` of 4 KiB or more is shared with the command, not copied (see
/// [`Cmd::write_bytes`]).
impl ToArg for Bytes {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_bytes(self)
    }
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        Some(self)
    }
}

macro_rules! to_arg_int {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn write_args(&self, cmd: &mut Cmd) {
                cmd.write_arg(itoa::Buffer::new().format(*self).as_bytes())
            }
        }
    )*};
}
// Not `u8`: a byte slice or `Vec<u8>` is one binary argument, not a list of numbers.
to_arg_int!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

macro_rules! to_arg_float {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn write_args(&self, cmd: &mut Cmd) {
                // Redis reads `inf`, `-inf` and plain decimals; Rust's
                // `Display` never uses an exponent and round-trips.
                if self.is_infinite() {
                    cmd.write_arg(if *self > 0.0 { b"inf" } else { b"-inf" })
                } else {
                    cmd.write_arg(self.to_string().as_bytes())
                }
            }
        }
    )*};
}
to_arg_float!(f32, f64);

impl ToArg for bool {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(if *self { b"1" } else { b"0" })
    }
}

/// A slice or `Vec` adds each element as an argument (`DEL k1 k2 k3`).
impl<T: ToArg> ToArg for [T] {
    fn write_args(&self, cmd: &mut Cmd) {
        for item in self {
            item.write_args(cmd)
        }
    }
}

impl<T: ToArg, const N: usize> ToArg for [T; N] {
    fn write_args(&self, cmd: &mut Cmd) {
        self.as_slice().write_args(cmd)
    }
}

impl<T: ToArg> ToArg for Vec<T> {
    fn write_args(&self, cmd: &mut Cmd) {
        self.as_slice().write_args(cmd)
    }
}

/// No arguments: the empty key list of `EVAL`/`FCALL` (`()`).
impl ToArg for () {
    fn write_args(&self, _: &mut Cmd) {}
}

impl<T: ToArg> ToArg for Option<T> {
    fn write_args(&self, cmd: &mut Cmd) {
        if let Some(v) = self {
            v.write_args(cmd)
        }
    }
}

impl<T: ToArg, S> ToArg for HashSet<T, S> {
    fn write_args(&self, cmd: &mut Cmd) {
        for item in self {
            item.write_args(cmd)
        }
    }
}

impl<T: ToArg> ToArg for BTreeSet<T> {
    fn write_args(&self, cmd: &mut Cmd) {
        for item in self {
            item.write_args(cmd)
        }
    }
}

/// A map adds its pairs flattened: key, value, key, value (`HSET`, `MSET`).
impl<K: ToArg, V: ToArg, S> ToArg for HashMap<K, V, S> {
    fn write_args(&self, cmd: &mut Cmd) {
        for (k, v) in self {
            k.write_args(cmd);
            v.write_args(cmd);
        }
    }
}

impl<K: ToArg, V: ToArg> ToArg for BTreeMap<K, V> {
    fn write_args(&self, cmd: &mut Cmd) {
        for (k, v) in self {
            k.write_args(cmd);
            v.write_args(cmd);
        }
    }
}

macro_rules! to_arg_tuple {
    ($($t:ident $i:tt),+) => {
        /// A tuple adds its fields in order (a field/value pair, a member and its score).
        impl<$($t: ToArg),+> ToArg for ($($t,)+) {
            fn write_args(&self, cmd: &mut Cmd) {
                $(self.$i.write_args(cmd);)+
            }
        }
    };
}
to_arg_tuple!(A 0);
to_arg_tuple!(A 0, B 1);
to_arg_tuple!(A 0, B 1, C 2);
to_arg_tuple!(A 0, B 1, C 2, D 3);
to_arg_tuple!(A 0, B 1, C 2, D 3, E 4);
to_arg_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);

#[cfg(test)]
mod tests {
    use crate::cmd;

    fn args(c: &crate::Cmd) -> Vec<String> {
        c.args_iter()
            .skip(1)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    #[test]
    fn scalars_are_written_as_redis_reads_them() {
        let c = cmd("X")
            .arg(-7i64)
            .arg(u128::MAX)
            .arg(1.5f64)
            .arg(f64::INFINITY)
            .arg(f32::NEG_INFINITY)
            .arg(true)
            .arg(false)
            .arg('é')
            .arg(std::borrow::Cow::Borrowed("cow"));
        assert_eq!(
            args(&c),
            [
                "-7",
                "340282366920938463463374607431768211455",
                "1.5",
                "inf",
                "-inf",
                "1",
                "0",
                "é",
                "cow"
            ]
        );
    }

    #[test]
    fn collections_write_each_element_and_maps_their_pairs() {
        let c = cmd("X")
            .arg(vec![1, 2])
            .arg([3u32; 2])
            .arg(std::collections::BTreeSet::from(["s"]))
            .arg(std::collections::HashMap::from([("k", "v")]))
            .arg(vec![("f", 1.5)])
            .arg(None::<i32>)
            .arg(Some("some"));
        assert_eq!(
            args(&c),
            ["1", "2", "3", "3", "s", "k", "v", "f", "1.5", "some"]
        );
        let c = cmd("X")
            .arg(Box::new("boxed"))
            .arg(std::collections::HashSet::from(["only"]))
            .arg(std::borrow::Cow::Borrowed(&b"cow"[..]))
            .arg(());
        assert_eq!(args(&c), ["boxed", "only", "cow"]);
        // Bytes stay one argument however they are held.
        let c = cmd("X")
            .arg(vec![0u8, 1])
            .arg([2u8, 3])
            .arg(&b"ab"[..])
            .arg(bytes::Bytes::from_static(b"cd"));
        assert_eq!(c.arg_count(), 5);
    }
}
