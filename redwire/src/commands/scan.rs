//! Cursor iteration as an async [`Stream`]: `SCAN`, `HSCAN`, `SSCAN`, `ZSCAN`.
//!
//! A [`Scan`] sends one page request at a time, hands out the page's items,
//! and follows the cursor until the server says the iteration is complete
//! (cursor 0). It needs a handle it can send from again and again, so it is
//! available on `&Client` (and the other connection handles), not on a
//! pipeline.
//!
//! SCAN's own contract holds: every element present for the whole iteration
//! is returned at least once, but one may be returned more than once (the
//! table was resized mid-way), and one added or removed meanwhile may or may
//! not be. Deduplicate (collect into a set) if that matters.

use super::handle::Commands;
use super::keys::KeyType;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::error::Result;
use crate::value::convert::{elements, mismatch};
use crate::value::{FromValue, Value};
pub use futures_core::Stream;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The options of a scan: `MATCH`, `COUNT` and, for `SCAN`, `TYPE`.
///
/// ```
/// use redwire::commands::{KeyType, ScanOptions};
/// let users = ScanOptions::new().pattern("user:*").count(500).of_type(KeyType::Hash);
/// # let _ = users;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanOptions {
    pattern: Option<Vec<u8>>,
    count: Option<u64>,
    of_type: Option<KeyType>,
}

impl ScanOptions {
    /// Every element, pages of the server's default size (10).
    pub fn new() -> Self {
        Self::default()
    }

    /// `MATCH`: only elements matching a glob-style pattern. The filter runs
    /// after a page is read, so pages may come back short or empty.
    #[must_use]
    pub fn pattern(mut self, pattern: impl AsRef<[u8]>) -> Self {
        self.pattern = Some(pattern.as_ref().to_vec());
        self
    }

    /// `COUNT`: how much work the server does per page (a hint, not a limit).
    #[must_use]
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// `TYPE` (`SCAN` only): only keys of this type (a module's type as
    /// [`KeyType::Other`]).
    #[must_use]
    pub fn of_type(mut self, key_type: KeyType) -> Self {
        self.of_type = Some(key_type);
        self
    }
}

impl ToArg for ScanOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if let Some(pattern) = &self.pattern {
            cmd.push_arg("MATCH").push_arg(pattern.as_slice());
        }
        if let Some(count) = self.count {
            cmd.push_arg("COUNT").push_arg(count);
        }
        if let Some(of_type) = &self.of_type {
            cmd.push_arg("TYPE").push_arg(of_type);
        }
    }
}

/// One page of a scan: the next cursor (0 when the iteration is complete)
/// and the page's items.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanPage<T> {
    /// Where the next page starts; 0 ends the iteration.
    pub cursor: u64,
    /// The elements of this page (pairs for `HSCAN` and `ZSCAN`).
    pub items: Vec<T>,
}

impl<T: FromValue> FromValue for ScanPage<T> {
    fn from_value(value: Value) -> Result<Self> {
        let wanted = "a scan page [cursor, items]";
        let mut parts = match value {
            Value::Array(parts) if parts.len() == 2 => parts.into_iter(),
            other => return mismatch(&other, wanted),
        };
        let cursor = u64::from_value(parts.next().unwrap_or(Value::Nil))?;
        let items = T::from_elements(elements(parts.next().unwrap_or(Value::Nil), wanted)?)?;
        Ok(ScanPage { cursor, items })
    }
}

/// The page future of a handle `C` (what `C::Reply` is for a page).
type PageFuture<C, T> = <C as Commands>::Reply<ScanPage<T>>;

/// An iteration that follows a cursor to its end: an async [`Stream`] of the
/// elements, one page request at a time.
///
/// ```no_run
/// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
/// use redwire::prelude::*;
///
/// let mut keys = client.scan::<String>(ScanOptions::new().pattern("session:*"));
/// while let Some(key) = keys.next().await {
///     println!("{}", key?);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a scan sends nothing until it is polled"]
pub struct Scan<C: Commands, T: FromValue> {
    handle: C,
    /// The command up to the cursor: `SCAN`, or `HSCAN key`…
    head: Cmd,
    options: ScanOptions,
    /// The next page's cursor; `None` once the server said the end.
    cursor: Option<u64>,
    ready: VecDeque<T>,
    page: Option<Pin<Box<PageFuture<C, T>>>>,
}

impl<C, T> Scan<C, T>
where
    C: Commands + Copy,
    T: FromValue,
    PageFuture<C, T>: Future<Output = Result<ScanPage<T>>>,
{
    fn new(handle: C, head: Cmd, options: ScanOptions) -> Self {
        Scan {
            handle,
            head,
            options,
            cursor: Some(0),
            ready: VecDeque::new(),
            page: None,
        }
    }

    /// The next element, `None` at the end; an error ends the scan.
    pub async fn next(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// Every remaining element, in the order the server gave them.
    pub async fn try_collect(mut self) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(item) = self.next().await {
            all.push(item?);
        }
        Ok(all)
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if self.page.is_none() {
                let Some(cursor) = self.cursor else {
                    return Poll::Ready(None);
                };
                let mut request = self.head.clone();
                request.push_arg(cursor).push_arg(&self.options);
                self.page = Some(Box::pin(self.handle.command(request)));
            }
            let page = self.page.as_mut().expect("set above");
            let result = std::task::ready!(page.as_mut().poll(cx));
            self.page = None;
            match result {
                Ok(page) => {
                    self.cursor = (page.cursor != 0).then_some(page.cursor);
                    self.ready.extend(page.items);
                }
                Err(e) => {
                    self.cursor = None;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

impl<C, T> Stream for Scan<C, T>
where
    C: Commands + Copy,
    T: FromValue,
    PageFuture<C, T>: Future<Output = Result<ScanPage<T>>>,
{
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        // Every field is Unpin: the page future is boxed.
        self.get_mut().poll_item(cx)
    }
}

impl<C: Commands, T: FromValue> Unpin for Scan<C, T> {}

/// Iterating keys, and the elements of a hash, set or sorted set, by cursor.
pub trait ScanCommands: Commands + Copy {
    /// `SCAN`: every key of the database, as a [`Stream`]. A key may come
    /// twice (see the module docs).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let hashes: Vec<String> = client
    ///     .scan(ScanOptions::new().of_type(KeyType::Hash).count(1000))
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn scan<T: FromValue>(self, options: ScanOptions) -> Scan<Self, T>
    where
        PageFuture<Self, T>: Future<Output = Result<ScanPage<T>>>,
    {
        Scan::new(self, cmd("SCAN"), options)
    }

    /// `HSCAN`: the field/value pairs of a hash (`T` is a pair, such as
    /// `(String, String)`).
    fn hscan<T: FromValue>(self, key: impl ToArg, options: ScanOptions) -> Scan<Self, T>
    where
        PageFuture<Self, T>: Future<Output = Result<ScanPage<T>>>,
    {
        Scan::new(self, cmd("HSCAN").arg(key), options)
    }

    /// `SSCAN`: the members of a set.
    fn sscan<T: FromValue>(self, key: impl ToArg, options: ScanOptions) -> Scan<Self, T>
    where
        PageFuture<Self, T>: Future<Output = Result<ScanPage<T>>>,
    {
        Scan::new(self, cmd("SSCAN").arg(key), options)
    }

    /// `ZSCAN`: the members of a sorted set with their scores (`T` such as
    /// `(String, f64)`).
    fn zscan<T: FromValue>(self, key: impl ToArg, options: ScanOptions) -> Scan<Self, T>
    where
        PageFuture<Self, T>: Future<Output = Result<ScanPage<T>>>,
    {
        Scan::new(self, cmd("ZSCAN").arg(key), options)
    }
}

impl<C: Commands + Copy> ScanCommands for C {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_a_cursor_and_its_items() {
        let page = ScanPage::<String>::from_value(Value::Array(vec![
            Value::Bulk("17".into()),
            Value::Array(vec![Value::Bulk("k".into())]),
        ]))
        .unwrap();
        assert_eq!(
            page,
            ScanPage {
                cursor: 17,
                items: vec!["k".to_string()]
            }
        );
        let three = Value::Array(vec![
            Value::Bulk("0".into()),
            Value::Array(vec![]),
            Value::Nil,
        ]);
        assert!(ScanPage::<String>::from_value(three).is_err());
    }
}
