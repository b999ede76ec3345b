//! [`Cached`]: the handle of a [`Client`] whose reads the client-side cache
//! keeps in opt-in mode (see `cache`).

use super::{Client, Sending};
use crate::cmd::{Cmd, ToArg};
use crate::commands::{Commands, ScriptCall};
use crate::value::FromValue;

/// A [`Client`]'s reads marked for the cache ([`Client::cached`]): in
/// [`CacheMode::OptIn`](crate::CacheMode::OptIn) only these are tracked and
/// cached. Every typed command works on it; only the cacheable reads differ.
///
/// ```no_run
/// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
/// use redwire::prelude::*;
/// let name: Option<String> = client.cached().hget("user:7", "name").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy)]
pub struct Cached<'a> {
    pub(super) client: &'a Client,
}

impl std::fmt::Debug for Cached<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Cached").field(self.client).finish()
    }
}

impl<'a> Commands for Cached<'a> {
    type Reply<T: FromValue> = Sending<'a, T>;

    fn command<T: FromValue>(self, cmd: Cmd) -> Sending<'a, T> {
        self.client.cached_read(&cmd)
    }

    fn script<T: FromValue>(self, call: ScriptCall) -> Sending<'a, T> {
        Commands::script(self.client, call)
    }

    fn read_key<T: FromValue>(self, name: &'static str, key: impl ToArg) -> Sending<'a, T> {
        match &self.client.inner.shared.cache {
            Some(cache) => self
                .client
                .read_cached(cache, name, &key, None::<&str>, true),
            None => self.command(crate::cmd::cmd(name).arg(key)),
        }
    }

    fn read_member<T: FromValue>(
        self,
        name: &'static str,
        key: impl ToArg,
        member: impl ToArg,
    ) -> Sending<'a, T> {
        match &self.client.inner.shared.cache {
            Some(cache) => self
                .client
                .read_cached(cache, name, &key, Some(&member), true),
            None => self.command(crate::cmd::cmd(name).arg(key).arg(member)),
        }
    }
}
