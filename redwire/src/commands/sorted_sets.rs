//! Sorted set commands: `ZADD` and its options, ranges by rank, score or
//! member (`ZRANGE` and its bounds), scores and ranks, pops (blocking too),
//! and the set algebra of `ZUNION`/`ZINTER`/`ZDIFF`.

use super::handle::Commands;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::value::FromValue;
use bytes::Bytes;

/// The options of `ZADD`: a condition on the member's existence
/// (`NX`/`XX`), a condition on the score (`GT`/`LT`), and `CH` (count changed
/// members, not only added ones). The last of each kind set wins. Redis
/// refuses `NX` together with `GT` or `LT`.
///
/// ```
/// use redwire::commands::ZAddOptions;
/// let only_raise = ZAddOptions::new().xx().gt().ch();
/// # let _ = only_raise;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZAddOptions {
    existence: Option<&'static str>,
    comparison: Option<&'static str>,
    ch: bool,
}

impl ZAddOptions {
    /// No condition: every member is added or has its score replaced.
    pub fn new() -> Self {
        Self::default()
    }

    /// `NX`: only add new members, never update existing ones.
    #[must_use]
    pub fn nx(mut self) -> Self {
        self.existence = Some("NX");
        self
    }

    /// `XX`: only update existing members, never add new ones.
    #[must_use]
    pub fn xx(mut self) -> Self {
        self.existence = Some("XX");
        self
    }

    /// `GT`: update a member only when the new score is greater.
    #[must_use]
    pub fn gt(mut self) -> Self {
        self.comparison = Some("GT");
        self
    }

    /// `LT`: update a member only when the new score is less.
    #[must_use]
    pub fn lt(mut self) -> Self {
        self.comparison = Some("LT");
        self
    }

    /// `CH`: the reply counts the members changed (added or given a new
    /// score), not only those added.
    #[must_use]
    pub fn ch(mut self) -> Self {
        self.ch = true;
        self
    }
}

impl ToArg for ZAddOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(self.existence).push_arg(self.comparison);
        if self.ch {
            cmd.push_arg("CH");
        }
    }
}

/// One end of a score range: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`.
///
/// ```
/// use redwire::commands::ScoreBound;
/// // 1 < score <= 5
/// let (min, max) = (ScoreBound::Exclusive(1.0), ScoreBound::Inclusive(5.0));
/// # let _ = (min, max);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScoreBound {
    /// The score itself is in the range.
    Inclusive(f64),
    /// The score itself is not in the range: `(score`.
    Exclusive(f64),
    /// Below every score: `-inf`.
    NegInf,
    /// Above every score: `+inf`.
    PosInf,
}

impl ToArg for ScoreBound {
    fn write_args(&self, cmd: &mut Cmd) {
        match *self {
            ScoreBound::Inclusive(score) => {
                cmd.push_arg(score);
            }
            ScoreBound::Exclusive(score) if score.is_infinite() => {
                // Nothing is beyond an infinity: exclusive is the same range.
                cmd.push_arg(score);
            }
            ScoreBound::Exclusive(score) => {
                cmd.write_arg(format!("({score}").as_bytes());
            }
            ScoreBound::NegInf => cmd.write_arg(b"-inf"),
            ScoreBound::PosInf => cmd.write_arg(b"+inf"),
        }
    }
}

/// One end of a range of members by name (`BYLEX`, `ZLEXCOUNT`): `[a`,
/// `(a` (exclusive), `-`, `+`. Meaningful when all members have the same
/// score.
///
/// ```
/// use redwire::commands::LexBound;
/// // from "b" included up to "d" excluded
/// let (min, max) = (LexBound::incl("b"), LexBound::excl("d"));
/// # let _ = (min, max);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// The member itself is in the range: `[member`.
    Inclusive(Bytes),
    /// The member itself is not in the range: `(member`.
    Exclusive(Bytes),
    /// Below every member: `-`.
    Lowest,
    /// Above every member: `+`.
    Highest,
}

impl LexBound {
    /// `[member`: from or up to this member, included.
    pub fn incl(member: impl AsRef<[u8]>) -> Self {
        LexBound::Inclusive(Bytes::copy_from_slice(member.as_ref()))
    }

    /// `(member`: from or up to this member, excluded.
    pub fn excl(member: impl AsRef<[u8]>) -> Self {
        LexBound::Exclusive(Bytes::copy_from_slice(member.as_ref()))
    }
}

impl ToArg for LexBound {
    fn write_args(&self, cmd: &mut Cmd) {
        let (prefix, member) = match self {
            LexBound::Inclusive(m) => (b'[', m),
            LexBound::Exclusive(m) => (b'(', m),
            LexBound::Lowest => return cmd.write_arg(b"-"),
            LexBound::Highest => return cmd.write_arg(b"+"),
        };
        let mut arg = Vec::with_capacity(member.len() + 1);
        arg.push(prefix);
        arg.extend_from_slice(member);
        cmd.write_arg(&arg);
    }
}

/// What a `ZRANGE` selects: ranks, scores (`BYSCORE`) or members (`BYLEX`),
/// optionally reversed (`REV`) and paged (`LIMIT`, with scores or members).
///
/// Bounds are always given low first; with [`rev`](Self::rev) the range
/// is read from the high end, and the bounds are sent high first as Redis
/// wants. Ranks count from 0; negative ranks count from the end.
///
/// ```
/// use redwire::commands::{ScoreBound, ZRange};
/// let top_three = ZRange::ranks(0, 2).rev();
/// let cheap = ZRange::by_score(ScoreBound::NegInf, ScoreBound::Exclusive(10.0)).limit(0, 20);
/// # let _ = (top_three, cheap);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ZRange {
    span: Span,
    rev: bool,
    limit: Option<(i64, i64)>,
}

/// The kind of a `ZRange` and its two ends, low first.
#[derive(Clone, Debug, PartialEq)]
enum Span {
    Ranks(i64, i64),
    Scores(ScoreBound, ScoreBound),
    Members(LexBound, LexBound),
}

impl ZRange {
    /// Members by rank, `start` to `stop` inclusive (`0, -1` is all).
    /// With [`rev`](Self::rev), rank 0 is the highest score.
    pub fn ranks(start: i64, stop: i64) -> Self {
        Self::of(Span::Ranks(start, stop))
    }

    /// Every member, lowest score first.
    pub fn all() -> Self {
        Self::ranks(0, -1)
    }

    /// `BYSCORE`: the members whose scores are between `min` and `max`.
    pub fn by_score(min: ScoreBound, max: ScoreBound) -> Self {
        Self::of(Span::Scores(min, max))
    }

    /// `BYLEX`: the members between `min` and `max` by name (all with the
    /// same score).
    pub fn by_lex(min: LexBound, max: LexBound) -> Self {
        Self::of(Span::Members(min, max))
    }

    fn of(span: Span) -> Self {
        ZRange {
            span,
            rev: false,
            limit: None,
        }
    }

    /// `REV`: from the highest score (or last member) down.
    #[must_use]
    pub fn rev(mut self) -> Self {
        self.rev = true;
        self
    }

    /// `LIMIT`: skip `offset` members, then take at most `count` (a
    /// negative count takes all the rest). Only with `by_score` or `by_lex`.
    #[must_use]
    pub fn limit(mut self, offset: i64, count: i64) -> Self {
        self.limit = Some((offset, count));
        self
    }
}

impl ToArg for ZRange {
    fn write_args(&self, cmd: &mut Cmd) {
        match &self.span {
            Span::Ranks(start, stop) => {
                cmd.push_arg(start).push_arg(stop);
            }
            Span::Scores(min, max) if self.rev => {
                cmd.push_arg(max).push_arg(min).push_arg("BYSCORE");
            }
            Span::Scores(min, max) => {
                cmd.push_arg(min).push_arg(max).push_arg("BYSCORE");
            }
            Span::Members(min, max) if self.rev => {
                cmd.push_arg(max).push_arg(min).push_arg("BYLEX");
            }
            Span::Members(min, max) => {
                cmd.push_arg(min).push_arg(max).push_arg("BYLEX");
            }
        }
        if self.rev {
            cmd.push_arg("REV");
        }
        if let Some((offset, count)) = self.limit {
            cmd.push_arg("LIMIT").push_arg(offset).push_arg(count);
        }
    }
}

/// How `ZUNION`/`ZINTER` combine the scores of a member found in several
/// sets (after weighting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Aggregate {
    /// `SUM`: add them (the default).
    #[default]
    Sum,
    /// `MIN`: keep the lowest.
    Min,
    /// `MAX`: keep the highest.
    Max,
}

/// The options of `ZUNION`, `ZINTER` and their `STORE` forms: a weight per
/// input set (`WEIGHTS`, each score multiplied by its set's weight) and how
/// the scores combine (`AGGREGATE`).
///
/// ```
/// use redwire::commands::{Aggregate, ZCombineOptions};
/// let best_of_double_a = ZCombineOptions::new().weights([2.0, 1.0]).aggregate(Aggregate::Max);
/// # let _ = best_of_double_a;
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZCombineOptions {
    weights: Vec<f64>,
    aggregate: Option<Aggregate>,
}

impl ZCombineOptions {
    /// Weights 1, scores summed.
    pub fn new() -> Self {
        Self::default()
    }

    /// `WEIGHTS`: one factor per input set, in the order of the keys.
    #[must_use]
    pub fn weights(mut self, weights: impl IntoIterator<Item = f64>) -> Self {
        self.weights = weights.into_iter().collect();
        self
    }

    /// `AGGREGATE`: how the scores of one member combine.
    #[must_use]
    pub fn aggregate(mut self, aggregate: Aggregate) -> Self {
        self.aggregate = Some(aggregate);
        self
    }
}

impl ToArg for ZCombineOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if !self.weights.is_empty() {
            cmd.push_arg("WEIGHTS").push_arg(&self.weights);
        }
        if let Some(aggregate) = self.aggregate {
            let word = match aggregate {
                Aggregate::Sum => "SUM",
                Aggregate::Min => "MIN",
                Aggregate::Max => "MAX",
            };
            cmd.push_arg("AGGREGATE").push_arg(word);
        }
    }
}

/// Which end of a sorted set `ZMPOP`/`BZMPOP` pop from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreEnd {
    /// `MIN`: the lowest scores.
    Min,
    /// `MAX`: the highest scores.
    Max,
}

impl ToArg for ScoreEnd {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(match self {
            ScoreEnd::Min => b"MIN",
            ScoreEnd::Max => b"MAX",
        })
    }
}

/// What `ZMPOP` and `BZMPOP` pop: the key popped from, and each member
/// with its score.
pub type ZPopped<T> = (String, Vec<(T, f64)>);

/// Commands on sorted sets. Scores are `f64` (`inf` and `-inf` included);
/// members are user data, of any [`FromValue`] type.
pub trait SortedSetCommands: Commands {
    /// `ZADD`: adds members with their scores, given as `(score, member)`
    /// pairs, or gives existing members a new score; returns how many were
    /// added.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let added = client.zadd("scores", [(10.0, "ada"), (7.5, "alan")]).await?;
    /// # Ok(()) }
    /// ```
    fn zadd(self, key: impl ToArg, members: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("ZADD").arg(key).arg(members))
    }

    /// `ZADD` with options: how many members were added, or with `CH` how
    /// many were added or changed.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// // Keep each player's best score.
    /// let improved = client
    ///     .zadd_with("best", [(42.0, "ada")], ZAddOptions::new().gt().ch())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn zadd_with(
        self,
        key: impl ToArg,
        members: impl ToArg,
        options: ZAddOptions,
    ) -> Self::Reply<u64> {
        self.command(cmd("ZADD").arg(key).arg(options).arg(members))
    }

    /// `ZADD … INCR`: adds `by` to one member's score (a missing member
    /// starts at 0); returns the new score, `None` when an option held the
    /// change back.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let score = client.zadd_incr("hits", 1.0, "/home", ZAddOptions::new()).await?;
    /// # Ok(()) }
    /// ```
    fn zadd_incr(
        self,
        key: impl ToArg,
        by: f64,
        member: impl ToArg,
        options: ZAddOptions,
    ) -> Self::Reply<Option<f64>> {
        self.command(
            cmd("ZADD")
                .arg(key)
                .arg(options)
                .arg("INCR")
                .arg(by)
                .arg(member),
        )
    }

    /// `ZINCRBY`: adds `by` to a member's score (a missing member starts at
    /// 0); returns the new score.
    fn zincrby(self, key: impl ToArg, by: f64, member: impl ToArg) -> Self::Reply<f64> {
        self.command(cmd("ZINCRBY").arg(key).arg(by).arg(member))
    }

    /// `ZRANGE`: the members a [`ZRange`] selects, in its order.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let podium: Vec<String> = client.zrange("scores", ZRange::ranks(0, 2).rev()).await?;
    /// let passed: Vec<String> = client
    ///     .zrange("scores", ZRange::by_score(ScoreBound::Inclusive(50.0), ScoreBound::PosInf))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn zrange<T: FromValue>(self, key: impl ToArg, range: ZRange) -> Self::Reply<Vec<T>> {
        self.command(cmd("ZRANGE").arg(key).arg(range))
    }

    /// `ZRANGE … WITHSCORES`: the members a [`ZRange`] selects, each with
    /// its score.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let board: Vec<(String, f64)> = client.zrange_withscores("scores", ZRange::all().rev()).await?;
    /// # Ok(()) }
    /// ```
    fn zrange_withscores<T: FromValue>(
        self,
        key: impl ToArg,
        range: ZRange,
    ) -> Self::Reply<Vec<(T, f64)>> {
        self.command(cmd("ZRANGE").arg(key).arg(range).arg("WITHSCORES"))
    }

    /// `ZRANGESTORE`: stores the members a [`ZRange`] selects from `source`
    /// (with their scores) in `destination`, replacing it; returns how many.
    fn zrangestore(
        self,
        destination: impl ToArg,
        source: impl ToArg,
        range: ZRange,
    ) -> Self::Reply<u64> {
        self.command(cmd("ZRANGESTORE").arg(destination).arg(source).arg(range))
    }

    /// `ZSCORE`: a member's score, `None` if it is not in the set.
    fn zscore(self, key: impl ToArg, member: impl ToArg) -> Self::Reply<Option<f64>> {
        self.read_member("ZSCORE", key, member)
    }

    /// `ZMSCORE`: the scores of many members, `None` where absent.
    fn zmscore(self, key: impl ToArg, members: impl ToArg) -> Self::Reply<Vec<Option<f64>>> {
        self.command(cmd("ZMSCORE").arg(key).arg(members))
    }

    /// `ZRANK`: a member's rank from the lowest score (0 first), `None` if
    /// it is not in the set.
    fn zrank(self, key: impl ToArg, member: impl ToArg) -> Self::Reply<Option<u64>> {
        self.read_member("ZRANK", key, member)
    }

    /// `ZREVRANK`: a member's rank from the highest score (0 first), `None`
    /// if it is not in the set.
    fn zrevrank(self, key: impl ToArg, member: impl ToArg) -> Self::Reply<Option<u64>> {
        self.read_member("ZREVRANK", key, member)
    }

    /// `ZRANK … WITHSCORE` (Redis 7.2+): a member's rank from the lowest
    /// score and its score, `None` if it is not in the set.
    fn zrank_withscore(
        self,
        key: impl ToArg,
        member: impl ToArg,
    ) -> Self::Reply<Option<(u64, f64)>> {
        self.command(cmd("ZRANK").arg(key).arg(member).arg("WITHSCORE"))
    }

    /// `ZREVRANK … WITHSCORE` (Redis 7.2+): a member's rank from the
    /// highest score and its score, `None` if it is not in the set.
    fn zrevrank_withscore(
        self,
        key: impl ToArg,
        member: impl ToArg,
    ) -> Self::Reply<Option<(u64, f64)>> {
        self.command(cmd("ZREVRANK").arg(key).arg(member).arg("WITHSCORE"))
    }

    /// `ZCARD`: the number of members (0 for a missing key).
    fn zcard(self, key: impl ToArg) -> Self::Reply<u64> {
        self.read_key("ZCARD", key)
    }

    /// `ZCOUNT`: the number of members with scores between `min` and `max`.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let above_ten = client.zcount("scores", ScoreBound::Exclusive(10.0), ScoreBound::PosInf).await?;
    /// # Ok(()) }
    /// ```
    fn zcount(self, key: impl ToArg, min: ScoreBound, max: ScoreBound) -> Self::Reply<u64> {
        self.command(cmd("ZCOUNT").arg(key).arg(min).arg(max))
    }

    /// `ZLEXCOUNT`: the number of members between `min` and `max` by name.
    fn zlexcount(self, key: impl ToArg, min: LexBound, max: LexBound) -> Self::Reply<u64> {
        self.command(cmd("ZLEXCOUNT").arg(key).arg(min).arg(max))
    }

    /// `ZREM`: removes members; returns how many were there.
    fn zrem(self, key: impl ToArg, members: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("ZREM").arg(key).arg(members))
    }

    /// `ZREMRANGEBYRANK`: removes the members ranked `start` to `stop`
    /// inclusive (negative counts from the end); returns how many.
    fn zremrangebyrank(self, key: impl ToArg, start: i64, stop: i64) -> Self::Reply<u64> {
        self.command(cmd("ZREMRANGEBYRANK").arg(key).arg(start).arg(stop))
    }

    /// `ZREMRANGEBYSCORE`: removes the members with scores between `min`
    /// and `max`; returns how many.
    fn zremrangebyscore(
        self,
        key: impl ToArg,
        min: ScoreBound,
        max: ScoreBound,
    ) -> Self::Reply<u64> {
        self.command(cmd("ZREMRANGEBYSCORE").arg(key).arg(min).arg(max))
    }

    /// `ZREMRANGEBYLEX`: removes the members between `min` and `max` by
    /// name; returns how many.
    fn zremrangebylex(self, key: impl ToArg, min: LexBound, max: LexBound) -> Self::Reply<u64> {
        self.command(cmd("ZREMRANGEBYLEX").arg(key).arg(min).arg(max))
    }

    /// `ZPOPMIN`: removes and returns up to `count` members with the lowest
    /// scores, lowest first.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let next: Vec<(String, f64)> = client.zpopmin("queue", 1).await?;
    /// # Ok(()) }
    /// ```
    fn zpopmin<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Reply<Vec<(T, f64)>> {
        self.command(cmd("ZPOPMIN").arg(key).arg(count))
    }

    /// `ZPOPMAX`: removes and returns up to `count` members with the
    /// highest scores, highest first.
    fn zpopmax<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Reply<Vec<(T, f64)>> {
        self.command(cmd("ZPOPMAX").arg(key).arg(count))
    }

    /// `ZMPOP`: from the first of `keys` that is not empty, removes and
    /// returns up to `count` members from one end; the key and the members,
    /// `None` when every set is empty.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// if let Some((key, popped)) = client.zmpop::<String>(["urgent", "normal"], ScoreEnd::Min, 10).await? {
    ///     println!("{} from {key}", popped.len());
    /// }
    /// # Ok(()) }
    /// ```
    fn zmpop<T: FromValue>(
        self,
        keys: impl ToArg,
        end: ScoreEnd,
        count: u64,
    ) -> Self::Reply<Option<ZPopped<T>>> {
        self.command(
            cmd("ZMPOP")
                .arg_counted(keys)
                .arg(end)
                .arg("COUNT")
                .arg(count),
        )
    }

    /// `ZRANDMEMBER`: one random member, `None` for a missing key.
    fn zrandmember<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Option<T>> {
        self.command(cmd("ZRANDMEMBER").arg(key))
    }

    /// `ZRANDMEMBER key count`: up to `count` distinct random members; a
    /// negative count returns `-count` members that may repeat.
    fn zrandmember_count<T: FromValue>(self, key: impl ToArg, count: i64) -> Self::Reply<Vec<T>> {
        self.command(cmd("ZRANDMEMBER").arg(key).arg(count))
    }

    /// `ZRANDMEMBER key count WITHSCORES`: random members as
    /// [`zrandmember_count`](Self::zrandmember_count), each with its score.
    fn zrandmember_withscores<T: FromValue>(
        self,
        key: impl ToArg,
        count: i64,
    ) -> Self::Reply<Vec<(T, f64)>> {
        self.command(cmd("ZRANDMEMBER").arg(key).arg(count).arg("WITHSCORES"))
    }

    /// `ZUNIONSTORE`: stores in `destination` the union of the sets at
    /// `keys`; returns its size.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let options = ZCombineOptions::new().weights([1.0, 2.0]).aggregate(Aggregate::Max);
    /// let size = client.zunionstore("all", ["week1", "week2"], options).await?;
    /// # Ok(()) }
    /// ```
    fn zunionstore(
        self,
        destination: impl ToArg,
        keys: impl ToArg,
        options: ZCombineOptions,
    ) -> Self::Reply<u64> {
        self.command(
            cmd("ZUNIONSTORE")
                .arg(destination)
                .arg_counted(keys)
                .arg(options),
        )
    }

    /// `ZINTERSTORE`: stores in `destination` the members in every set at
    /// `keys`; returns its size.
    fn zinterstore(
        self,
        destination: impl ToArg,
        keys: impl ToArg,
        options: ZCombineOptions,
    ) -> Self::Reply<u64> {
        self.command(
            cmd("ZINTERSTORE")
                .arg(destination)
                .arg_counted(keys)
                .arg(options),
        )
    }

    /// `ZDIFFSTORE`: stores in `destination` the members of the first set
    /// that are in none of the others, with their scores; returns its size.
    fn zdiffstore(self, destination: impl ToArg, keys: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("ZDIFFSTORE").arg(destination).arg_counted(keys))
    }

    /// `ZUNION`: the members of any of the sets at `keys`, by combined score.
    fn zunion<T: FromValue>(
        self,
        keys: impl ToArg,
        options: ZCombineOptions,
    ) -> Self::Reply<Vec<T>> {
        self.command(cmd("ZUNION").arg_counted(keys).arg(options))
    }

    /// `ZUNION … WITHSCORES`: the union, each member with its combined score.
    fn zunion_withscores<T: FromValue>(
        self,
        keys: impl ToArg,
        options: ZCombineOptions,
    ) -> Self::Reply<Vec<(T, f64)>> {
        self.command(
            cmd("ZUNION")
                .arg_counted(keys)
                .arg(options)
                .arg("WITHSCORES"),
        )
    }

    /// `ZINTER`: the members in every set at `keys`, by combined score.
    fn zinter<T: FromValue>(
        self,
        keys: impl ToArg,
        options: ZCombineOptions,
    ) -> Self::Reply<Vec<T>> {
        self.command(cmd("ZINTER").arg_counted(keys).arg(options))
    }

    /// `ZINTER … WITHSCORES`: the intersection, each member with its
    /// combined score.
    fn zinter_withscores<T: FromValue>(
        self,
        keys: impl ToArg,
        options: ZCombineOptions,
    ) -> Self::Reply<Vec<(T, f64)>> {
        self.command(
            cmd("ZINTER")
                .arg_counted(keys)
                .arg(options)
                .arg("WITHSCORES"),
        )
    }

    /// `ZDIFF`: the members of the first set at `keys` that are in none of
    /// the others.
    fn zdiff<T: FromValue>(self, keys: impl ToArg) -> Self::Reply<Vec<T>> {
        self.command(cmd("ZDIFF").arg_counted(keys))
    }

    /// `ZDIFF … WITHSCORES`: the difference, each member with its score.
    fn zdiff_withscores<T: FromValue>(self, keys: impl ToArg) -> Self::Reply<Vec<(T, f64)>> {
        self.command(cmd("ZDIFF").arg_counted(keys).arg("WITHSCORES"))
    }

    /// `ZINTERCARD`: the size of the intersection of the sets at `keys`,
    /// counting stopped at `limit` (0: no limit).
    fn zintercard(self, keys: impl ToArg, limit: u64) -> Self::Reply<u64> {
        self.command(cmd("ZINTERCARD").arg_counted(keys).arg("LIMIT").arg(limit))
    }

    /// `BZPOPMIN`: pops the member with the lowest score from the first of
    /// `keys` that is not empty, waiting up to `timeout` seconds (0:
    /// forever) for one; the key, the member and its score, `None` on
    /// timeout.
    ///
    /// Blocking: runs on a dedicated `Connection` (or a pooled one); a shared
    /// `Client` refuses it. If its caller gives up, the connection is closed
    /// so that the server pops nothing for nobody.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// if let Some((key, job, priority)) = conn.bzpopmin::<String>(["jobs"], 5.0).await? {
    ///     println!("{job} ({priority}) from {key}");
    /// }
    /// # Ok(()) }
    /// ```
    fn bzpopmin<T: FromValue>(
        self,
        keys: impl ToArg,
        timeout: f64,
    ) -> Self::Reply<Option<(String, T, f64)>> {
        self.command(cmd("BZPOPMIN").arg(keys).arg(timeout))
    }

    /// `BZPOPMAX`: as [`bzpopmin`](Self::bzpopmin), the member with the
    /// highest score.
    ///
    /// Blocking: runs on a dedicated `Connection` (or a pooled one); a shared
    /// `Client` refuses it. If its caller gives up, the connection is closed
    /// so that the server pops nothing for nobody.
    fn bzpopmax<T: FromValue>(
        self,
        keys: impl ToArg,
        timeout: f64,
    ) -> Self::Reply<Option<(String, T, f64)>> {
        self.command(cmd("BZPOPMAX").arg(keys).arg(timeout))
    }

    /// `BZMPOP`: as [`zmpop`](Self::zmpop), waiting up to `timeout` seconds
    /// (0: forever) for a set to pop from; `None` on timeout.
    ///
    /// Blocking: runs on a dedicated `Connection` (or a pooled one); a shared
    /// `Client` refuses it. If its caller gives up, the connection is closed
    /// so that the server pops nothing for nobody.
    fn bzmpop<T: FromValue>(
        self,
        timeout: f64,
        keys: impl ToArg,
        end: ScoreEnd,
        count: u64,
    ) -> Self::Reply<Option<ZPopped<T>>> {
        self.command(
            cmd("BZMPOP")
                .arg(timeout)
                .arg_counted(keys)
                .arg(end)
                .arg("COUNT")
                .arg(count),
        )
    }
}

impl<C: Commands> SortedSetCommands for C {}
