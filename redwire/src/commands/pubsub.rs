//! Publishing and the `PUBSUB` introspection commands. (Subscribing needs a
//! connection of its own and is not here: a shared client refuses
//! `SUBSCRIBE`.)

use super::handle::Commands;
use crate::cmd::cmd;
use crate::cmd::ToArg;
use crate::value::FromValue;

/// Commands that publish messages and look at the server's subscriptions.
pub trait PubSubCommands: Commands {
    /// `PUBLISH`: sends a message to a channel; the number of subscribers
    /// that received it (on this node, in a cluster).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let receivers = client.publish("news", "hello").await?;
    /// # Ok(()) }
    /// ```
    fn publish(self, channel: impl ToArg, message: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("PUBLISH").arg(channel).arg(message))
    }

    /// `SPUBLISH`: sends a message to a shard channel; the number of
    /// subscribers that received it (Redis 7.0+).
    fn spublish(self, shard_channel: impl ToArg, message: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("SPUBLISH").arg(shard_channel).arg(message))
    }

    /// `PUBSUB CHANNELS`: the channels with at least one subscriber
    /// (pattern subscriptions not counted).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let active: Vec<String> = client.pubsub_channels().await?;
    /// let news: Vec<String> = client.pubsub_channels_matching("news.*").await?;
    /// # Ok(()) }
    /// ```
    fn pubsub_channels<T: FromValue>(self) -> Self::Reply<Vec<T>> {
        self.command(cmd("PUBSUB").arg("CHANNELS"))
    }

    /// `PUBSUB CHANNELS pattern`: the active channels matching a glob pattern.
    fn pubsub_channels_matching<T: FromValue>(self, pattern: impl ToArg) -> Self::Reply<Vec<T>> {
        self.command(cmd("PUBSUB").arg("CHANNELS").arg(pattern))
    }

    /// `PUBSUB NUMSUB`: each channel with its number of subscribers, in the
    /// order asked.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let counts: Vec<(String, u64)> = client.pubsub_numsub(["news", "sport"]).await?;
    /// # Ok(()) }
    /// ```
    fn pubsub_numsub<T: FromValue>(self, channels: impl ToArg) -> Self::Reply<Vec<(T, u64)>> {
        self.command(cmd("PUBSUB").arg("NUMSUB").arg(channels))
    }

    /// `PUBSUB NUMPAT`: the number of pattern subscriptions, all clients
    /// together.
    fn pubsub_numpat(self) -> Self::Reply<u64> {
        self.command(cmd("PUBSUB").arg("NUMPAT"))
    }

    /// `PUBSUB SHARDCHANNELS`: the shard channels with at least one
    /// subscriber (Redis 7.0+).
    fn pubsub_shardchannels<T: FromValue>(self) -> Self::Reply<Vec<T>> {
        self.command(cmd("PUBSUB").arg("SHARDCHANNELS"))
    }

    /// `PUBSUB SHARDCHANNELS pattern`: the active shard channels matching a
    /// glob pattern (Redis 7.0+).
    fn pubsub_shardchannels_matching<T: FromValue>(
        self,
        pattern: impl ToArg,
    ) -> Self::Reply<Vec<T>> {
        self.command(cmd("PUBSUB").arg("SHARDCHANNELS").arg(pattern))
    }

    /// `PUBSUB SHARDNUMSUB`: each shard channel with its number of
    /// subscribers, in the order asked (Redis 7.0+).
    fn pubsub_shardnumsub<T: FromValue>(
        self,
        shard_channels: impl ToArg,
    ) -> Self::Reply<Vec<(T, u64)>> {
        self.command(cmd("PUBSUB").arg("SHARDNUMSUB").arg(shard_channels))
    }
}

impl<C: Commands> PubSubCommands for C {}
