//! Geospatial commands: `GEOADD`, distances, positions, hashes, and
//! `GEOSEARCH` with its builder and its typed matches.

use super::handle::Commands;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::error::Result;
use crate::value::convert::elements;
use crate::value::{FromValue, Value};

/// The options of `GEOADD`: a condition (`NX`/`XX`, the last set wins) and
/// `CH`.
///
/// ```
/// use redwire::commands::GeoAddOptions;
/// let only_moves = GeoAddOptions::new().xx().ch();
/// # let _ = only_moves;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeoAddOptions {
    condition: Option<&'static str>,
    ch: bool,
}

impl GeoAddOptions {
    /// No condition; the reply counts added members.
    pub fn new() -> Self {
        Self::default()
    }

    /// `NX`: only add new members, never move existing ones.
    #[must_use]
    pub fn nx(mut self) -> Self {
        self.condition = Some("NX");
        self
    }

    /// `XX`: only move existing members, never add new ones.
    #[must_use]
    pub fn xx(mut self) -> Self {
        self.condition = Some("XX");
        self
    }

    /// `CH`: the reply counts changed members (added or moved), not only
    /// added ones.
    #[must_use]
    pub fn ch(mut self) -> Self {
        self.ch = true;
        self
    }
}

impl ToArg for GeoAddOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(self.condition);
        if self.ch {
            cmd.push_arg("CH");
        }
    }
}

/// A unit of distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeoUnit {
    /// `m`: meters.
    Meters,
    /// `km`: kilometers.
    Kilometers,
    /// `ft`: feet.
    Feet,
    /// `mi`: miles.
    Miles,
}

impl ToArg for GeoUnit {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(match self {
            GeoUnit::Meters => "m",
            GeoUnit::Kilometers => "km",
            GeoUnit::Feet => "ft",
            GeoUnit::Miles => "mi",
        });
    }
}

/// Where a search is centred.
#[derive(Clone, Copy, Debug, PartialEq)]
enum GeoOrigin<M> {
    Member(M),
    LonLat(f64, f64),
}

/// What `GEOSEARCH` looks for: a centre (`FROMMEMBER`/`FROMLONLAT`), a shape
/// (`BYRADIUS`/`BYBOX`), an order (`ASC`/`DESC`) and a limit (`COUNT`, with
/// `ANY`). The last setting of each kind wins.
///
/// A search needs a shape: without [`by_radius`](Self::by_radius) or
/// [`by_box`](Self::by_box) the server answers a syntax error.
///
/// ```
/// use redwire::commands::{GeoSearch, GeoUnit};
/// let nearest_three = GeoSearch::from_lonlat(15.0, 37.0)
///     .by_radius(200.0, GeoUnit::Kilometers)
///     .asc()
///     .count(3);
/// let around_home = GeoSearch::from_member("home").by_box(2.0, 1.0, GeoUnit::Miles);
/// # let _ = (nearest_three, around_home);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoSearch<M = &'static str> {
    origin: GeoOrigin<M>,
    shape: Option<(f64, Option<f64>, GeoUnit)>,
    order: Option<&'static str>,
    count: Option<(u64, bool)>,
}

impl GeoSearch {
    /// `FROMLONLAT`: centred on a longitude and latitude.
    pub fn from_lonlat(longitude: f64, latitude: f64) -> Self {
        GeoSearch::with_origin(GeoOrigin::LonLat(longitude, latitude))
    }
}

impl<M: ToArg> GeoSearch<M> {
    /// `FROMMEMBER`: centred on a member of the set.
    pub fn from_member(member: M) -> Self {
        GeoSearch::with_origin(GeoOrigin::Member(member))
    }
}

impl<M> GeoSearch<M> {
    fn with_origin(origin: GeoOrigin<M>) -> Self {
        GeoSearch {
            origin,
            shape: None,
            order: None,
            count: None,
        }
    }

    /// `BYRADIUS`: within a circle of this radius.
    #[must_use]
    pub fn by_radius(mut self, radius: f64, unit: GeoUnit) -> Self {
        self.shape = Some((radius, None, unit));
        self
    }

    /// `BYBOX`: within a rectangle this wide and high, axis-aligned.
    #[must_use]
    pub fn by_box(mut self, width: f64, height: f64, unit: GeoUnit) -> Self {
        self.shape = Some((width, Some(height), unit));
        self
    }

    /// `ASC`: nearest first.
    #[must_use]
    pub fn asc(mut self) -> Self {
        self.order = Some("ASC");
        self
    }

    /// `DESC`: farthest first.
    #[must_use]
    pub fn desc(mut self) -> Self {
        self.order = Some("DESC");
        self
    }

    /// `COUNT n`: the `n` nearest matches (or farthest, with
    /// [`desc`](Self::desc)).
    #[must_use]
    pub fn count(mut self, n: u64) -> Self {
        self.count = Some((n, false));
        self
    }

    /// `COUNT n ANY`: the first `n` matches found, which need not be the
    /// nearest; faster on large sets. Unsorted unless an order is set.
    #[must_use]
    pub fn count_any(mut self, n: u64) -> Self {
        self.count = Some((n, true));
        self
    }
}

impl<M: ToArg> ToArg for GeoSearch<M> {
    fn write_args(&self, cmd: &mut Cmd) {
        match &self.origin {
            GeoOrigin::Member(m) => cmd.push_arg("FROMMEMBER").push_arg(m),
            GeoOrigin::LonLat(lon, lat) => cmd.push_arg("FROMLONLAT").push_arg(lon).push_arg(lat),
        };
        match self.shape {
            Some((radius, None, unit)) => {
                cmd.push_arg("BYRADIUS").push_arg(radius).push_arg(unit);
            }
            Some((width, Some(height), unit)) => {
                cmd.push_arg("BYBOX")
                    .push_arg(width)
                    .push_arg(height)
                    .push_arg(unit);
            }
            None => {}
        }
        cmd.push_arg(self.order);
        if let Some((n, any)) = self.count {
            cmd.push_arg("COUNT").push_arg(n);
            if any {
                cmd.push_arg("ANY");
            }
        }
    }
}

/// What `GEOSEARCH` adds to each member: `WITHDIST`, `WITHHASH`,
/// `WITHCOORD`.
///
/// ```
/// use redwire::commands::GeoWith;
/// let everything = GeoWith::new().dist().hash().coord();
/// # let _ = everything;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeoWith {
    dist: bool,
    hash: bool,
    coord: bool,
}

impl GeoWith {
    /// Nothing added: the matches carry their members only.
    pub fn new() -> Self {
        Self::default()
    }

    /// `WITHDIST`: each match's distance from the centre, in the search's unit.
    #[must_use]
    pub fn dist(mut self) -> Self {
        self.dist = true;
        self
    }

    /// `WITHHASH`: each match's raw 52-bit geohash (its score in the set).
    #[must_use]
    pub fn hash(mut self) -> Self {
        self.hash = true;
        self
    }

    /// `WITHCOORD`: each match's longitude and latitude.
    #[must_use]
    pub fn coord(mut self) -> Self {
        self.coord = true;
        self
    }
}

impl ToArg for GeoWith {
    fn write_args(&self, cmd: &mut Cmd) {
        if self.dist {
            cmd.push_arg("WITHDIST");
        }
        if self.hash {
            cmd.push_arg("WITHHASH");
        }
        if self.coord {
            cmd.push_arg("WITHCOORD");
        }
    }
}

/// One match of `GEOSEARCH` with [`GeoWith`] options: the member, and what
/// was asked for (`None` for what was not).
///
/// Reads a plain member too (no `WITH…` option), and RESP2's text numbers
/// as well as RESP3's doubles.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoMatch<T = String> {
    /// The member.
    pub member: T,
    /// Its distance from the centre, in the search's unit (`WITHDIST`).
    pub dist: Option<f64>,
    /// Its raw geohash (`WITHHASH`).
    pub hash: Option<i64>,
    /// Its longitude and latitude (`WITHCOORD`).
    pub coord: Option<(f64, f64)>,
}

impl<T: FromValue> FromValue for GeoMatch<T> {
    fn from_value(value: Value) -> Result<Self> {
        if !matches!(value, Value::Array(_) | Value::Set(_) | Value::Map(_)) {
            return Ok(GeoMatch {
                member: T::from_value(value)?,
                dist: None,
                hash: None,
                coord: None,
            });
        }
        let mut items = elements(value, "a GEOSEARCH match")?.into_iter();
        let mut found = GeoMatch {
            member: T::from_value(items.next().unwrap_or(Value::Nil))?,
            dist: None,
            hash: None,
            coord: None,
        };
        // The extras come in the order dist, hash, coord, each only if asked
        // for; their shapes tell them apart.
        for item in items {
            match item {
                Value::Int(hash) => found.hash = Some(hash),
                Value::Array(_) => found.coord = Some(<(f64, f64)>::from_value(item)?),
                other => found.dist = Some(f64::from_value(other)?),
            }
        }
        Ok(found)
    }
}

/// Geospatial commands: members placed by longitude and latitude in a sorted
/// set.
pub trait GeoCommands: Commands {
    /// `GEOADD`: adds or moves members, given as `(longitude, latitude,
    /// member)`; the number added.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let added = client
    ///     .geoadd("sicily", [(13.361389, 38.115556, "Palermo"), (15.087269, 37.502669, "Catania")])
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn geoadd(self, key: impl ToArg, members: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("GEOADD").arg(key).arg(members))
    }

    /// `GEOADD` with options: the number added, or changed with `CH`.
    fn geoadd_with(
        self,
        key: impl ToArg,
        members: impl ToArg,
        options: GeoAddOptions,
    ) -> Self::Reply<u64> {
        self.command(cmd("GEOADD").arg(key).arg(options).arg(members))
    }

    /// `GEODIST`: the distance between two members in `unit`, `None` when
    /// either is missing.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let km = client.geodist("sicily", "Palermo", "Catania", GeoUnit::Kilometers).await?;
    /// # Ok(()) }
    /// ```
    fn geodist(
        self,
        key: impl ToArg,
        member1: impl ToArg,
        member2: impl ToArg,
        unit: GeoUnit,
    ) -> Self::Reply<Option<f64>> {
        self.command(cmd("GEODIST").arg(key).arg(member1).arg(member2).arg(unit))
    }

    /// `GEOPOS`: each member's `(longitude, latitude)`, `None` where missing.
    fn geopos(self, key: impl ToArg, members: impl ToArg) -> Self::Reply<Vec<Option<(f64, f64)>>> {
        self.command(cmd("GEOPOS").arg(key).arg(members))
    }

    /// `GEOHASH`: each member's 11-character geohash, `None` where missing.
    fn geohash(self, key: impl ToArg, members: impl ToArg) -> Self::Reply<Vec<Option<String>>> {
        self.command(cmd("GEOHASH").arg(key).arg(members))
    }

    /// `GEOSEARCH`: the members within a shape (Redis 6.2+).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let search = GeoSearch::from_lonlat(15.0, 37.0).by_radius(200.0, GeoUnit::Kilometers).asc();
    /// let near: Vec<String> = client.geosearch("sicily", search).await?;
    /// # Ok(()) }
    /// ```
    fn geosearch<T: FromValue>(
        self,
        key: impl ToArg,
        search: GeoSearch<impl ToArg>,
    ) -> Self::Reply<Vec<T>> {
        self.command(cmd("GEOSEARCH").arg(key).arg(search))
    }

    /// `GEOSEARCH … WITHDIST WITHHASH WITHCOORD`: the matches with what
    /// `with` asks for (Redis 6.2+).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let search = GeoSearch::from_member("Palermo").by_radius(200.0, GeoUnit::Kilometers);
    /// let found: Vec<GeoMatch> = client.geosearch_with("sicily", search, GeoWith::new().dist()).await?;
    /// for m in found {
    ///     println!("{} at {:?} km", m.member, m.dist);
    /// }
    /// # Ok(()) }
    /// ```
    fn geosearch_with<T: FromValue>(
        self,
        key: impl ToArg,
        search: GeoSearch<impl ToArg>,
        with: GeoWith,
    ) -> Self::Reply<Vec<GeoMatch<T>>> {
        self.command(cmd("GEOSEARCH").arg(key).arg(search).arg(with))
    }

    /// `GEOSEARCHSTORE`: stores the matches of `source` in `destination` with
    /// their geohashes, so it is a geo set too; the number stored (Redis 6.2+).
    fn geosearchstore(
        self,
        destination: impl ToArg,
        source: impl ToArg,
        search: GeoSearch<impl ToArg>,
    ) -> Self::Reply<u64> {
        self.command(
            cmd("GEOSEARCHSTORE")
                .arg(destination)
                .arg(source)
                .arg(search),
        )
    }

    /// `GEOSEARCHSTORE … STOREDIST`: stores the matches with their distances
    /// from the centre as scores, in the search's unit; the number stored
    /// (Redis 6.2+).
    fn geosearchstore_dist(
        self,
        destination: impl ToArg,
        source: impl ToArg,
        search: GeoSearch<impl ToArg>,
    ) -> Self::Reply<u64> {
        self.command(
            cmd("GEOSEARCHSTORE")
                .arg(destination)
                .arg(source)
                .arg(search)
                .arg("STOREDIST"),
        )
    }
}

impl<C: Commands> GeoCommands for C {}
