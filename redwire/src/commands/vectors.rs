//! Vector set commands (Redis 8.0+): `VADD`, `VSIM` and the rest of the
//! `V…` family, their options, and the typed replies they read
//! ([`VectorSetInfo`], [`RawEmbedding`]).
//!
//! # Design
//!
//! - A vector goes in as a [`Vector`]: a borrowed `&[f32]` sent as `VALUES`
//!   (decimal text, readable in `MONITOR`) or as an `FP32` blob (4 bytes a
//!   component, little-endian: smaller and exact), or bytes already packed.
//!   Vector sets store 32-bit floats, so `f32` is what goes in and what
//!   [`vemb`](VectorSetCommands::vemb) gives back.
//! - `VSIM`'s query and options are one builder, [`VSim`], shaped like
//!   [`GeoSearch`](super::GeoSearch): a start (an element or a vector) and
//!   options, the last setting of each kind winning. `WITHSCORES` changes
//!   the reply, so it is its own method, as `HRANDFIELD … WITHVALUES` is.
//! - `VADD`'s options are [`VAddOptions`]; `REDUCE`, which the server wants
//!   before the vector, is written there by `vadd` itself.
//! - Similarity scores are `f64`, from RESP2's text and RESP3's doubles
//!   alike, and scored replies are `Vec<(T, f64)>` in the server's order,
//!   from RESP2's flat arrays and RESP3's maps alike: the same Rust value on
//!   both protocols.
//! - Attributes are JSON text (`Option<String>`). With the `serde_json`
//!   feature, [`vgetattr_json`](VectorSetCommands::vgetattr_json) parses them
//!   into a `serde_json::Value`, [`vgetattr_as`](VectorSetCommands::vgetattr_as)
//!   into any `T: DeserializeOwned` (wrapped in [`Json`], the reply type that
//!   does the parsing), and a `serde_json::Value` is an argument (its compact
//!   text) for `VSETATTR`.
//! - Answers about a missing key or element are `None` (`VEMB`, `VINFO`,
//!   `VLINKS`, `VGETATTR`) or `false`/`0` where the server says so; `VDIM`
//!   of a missing key and `VSIM … ELE` of a missing element are server
//!   errors, as the server sends them.

use super::handle::Commands;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::error::{Error, Result};
use crate::value::convert::{elements, pairs};
use crate::value::{FromValue, Value};
use bytes::Bytes;
use std::collections::HashMap;

/// A vector for `VADD` and `VSIM`.
///
/// ```
/// use redwire::commands::Vector;
/// let embedding = [0.1_f32, 0.7, -0.2];
/// let as_text = Vector::Values(&embedding); // VALUES 3 0.1 0.7 -0.2
/// let as_blob = Vector::Fp32(&embedding); // FP32 <12 bytes>
/// # let _ = (as_text, as_blob);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Vector<'a> {
    /// `VALUES n x…`: the components as decimal text.
    Values(&'a [f32]),
    /// `FP32 blob`: the components as 32-bit little-endian floats.
    Fp32(&'a [f32]),
    /// `FP32 blob`: bytes already packed as 32-bit little-endian floats
    /// (the data of an `f32` [`RawEmbedding`], say).
    Fp32Bytes(&'a [u8]),
}

impl ToArg for Vector<'_> {
    fn write_args(&self, cmd: &mut Cmd) {
        match *self {
            Vector::Values(xs) => {
                cmd.push_arg("VALUES").push_arg(xs.len());
                for x in xs {
                    cmd.push_arg(x);
                }
            }
            Vector::Fp32(xs) => {
                let blob: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
                cmd.push_arg("FP32").push_arg(blob);
            }
            Vector::Fp32Bytes(blob) => {
                cmd.push_arg("FP32").push_arg(blob);
            }
        }
    }
}

/// How a vector set stores its vectors, chosen by the first `VADD` to a
/// key (later ones must agree): an argument of [`VAddOptions`], and what
/// [`VectorSetInfo::quantization`] and [`RawEmbedding`] report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quantization {
    /// `NOQUANT`: 32-bit floats (reported as `f32`).
    NoQuant,
    /// `Q8`: signed 8-bit integers, the default (reported as `int8`).
    Q8,
    /// `BIN`: one bit a component (reported as `bin`).
    Bin,
}

impl Quantization {
    /// The quantization a server's name stands for: `f32`, `int8` and
    /// `bin` as `VINFO` and `VEMB … RAW` say them (and `fp32`, `q8`,
    /// `noquant`), in any case; `None` for another name.
    ///
    /// ```
    /// use redwire::commands::Quantization;
    /// assert_eq!(Quantization::from_name("int8"), Some(Quantization::Q8));
    /// assert_eq!(Quantization::from_name("f32"), Some(Quantization::NoQuant));
    /// assert_eq!(Quantization::from_name("q4"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Quantization> {
        match name.to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "noquant" => Some(Quantization::NoQuant),
            "int8" | "q8" => Some(Quantization::Q8),
            "bin" => Some(Quantization::Bin),
            _ => None,
        }
    }
}

impl ToArg for Quantization {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(match self {
            Quantization::NoQuant => "NOQUANT",
            Quantization::Q8 => "Q8",
            Quantization::Bin => "BIN",
        });
    }
}

/// The options of `VADD`: `REDUCE`, `CAS`, the quantization, `EF`,
/// `SETATTR` and `M`. The last setting of each kind wins.
///
/// ```
/// use redwire::commands::{Quantization, VAddOptions};
/// let options = VAddOptions::new()
///     .quantization(Quantization::NoQuant)
///     .setattr(r#"{"year": 1950}"#)
///     .m(32);
/// # let _ = options;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VAddOptions<'a> {
    reduce: Option<u64>,
    cas: bool,
    quantization: Option<Quantization>,
    ef: Option<u64>,
    setattr: Option<&'a str>,
    m: Option<u64>,
}

impl<'a> VAddOptions<'a> {
    /// No options: `Q8`, the server's `EF` and `M`, no attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// `REDUCE dim`: a random projection down to `dim` dimensions (on the
    /// set's first `VADD`; `VDIM` then answers `dim`).
    #[must_use]
    pub fn reduce(mut self, dim: u64) -> Self {
        self.reduce = Some(dim);
        self
    }

    /// `CAS`: the neighbours are searched in a background thread and the
    /// insertion checked and made in the main one.
    #[must_use]
    pub fn cas(mut self) -> Self {
        self.cas = true;
        self
    }

    /// `NOQUANT`, `Q8` or `BIN`: how the set stores vectors (a set's first
    /// `VADD` chooses; a later one that asks for another is an error).
    #[must_use]
    pub fn quantization(mut self, quantization: Quantization) -> Self {
        self.quantization = Some(quantization);
        self
    }

    /// `EF`: the exploration factor when linking the new element (the
    /// server's default is 200).
    #[must_use]
    pub fn ef(mut self, ef: u64) -> Self {
        self.ef = Some(ef);
        self
    }

    /// `SETATTR`: the element's attributes, a JSON object as text (what
    /// [`vsetattr`](VectorSetCommands::vsetattr) would set).
    #[must_use]
    pub fn setattr(mut self, json: &'a str) -> Self {
        self.setattr = Some(json);
        self
    }

    /// `M`: the most links a node has to others (the server's default is
    /// 16; twice that on layer 0).
    #[must_use]
    pub fn m(mut self, m: u64) -> Self {
        self.m = Some(m);
        self
    }

    /// The options that follow the element.
    fn write_tail(&self, cmd: &mut Cmd) {
        if self.cas {
            cmd.push_arg("CAS");
        }
        cmd.push_arg(self.quantization);
        if let Some(ef) = self.ef {
            cmd.push_arg("EF").push_arg(ef);
        }
        if let Some(json) = self.setattr {
            cmd.push_arg("SETATTR").push_arg(json);
        }
        if let Some(m) = self.m {
            cmd.push_arg("M").push_arg(m);
        }
    }
}

/// What `VSIM` looks for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Query<'a, E> {
    Element(E),
    Vector(Vector<'a>),
}

/// A `VSIM` search: what to compare with (an element of the set, `ELE`, or
/// a vector) and the options `COUNT`, `EPSILON`, `EF`, `FILTER`,
/// `FILTER-EF`, `TRUTH` and `NOTHREAD`. The last setting of each kind wins.
///
/// ```
/// use redwire::commands::{Vector, VSim};
/// let like_apple = VSim::element("apple").count(5);
/// let query = [0.1_f32, 0.7, -0.2];
/// let recent = VSim::vector(Vector::Fp32(&query))
///     .filter(".year >= 2000")
///     .filter_ef(1000)
///     .ef(200);
/// # let _ = (like_apple, recent);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VSim<'a, E = &'a str> {
    query: Query<'a, E>,
    count: Option<u64>,
    epsilon: Option<f64>,
    ef: Option<u64>,
    filter: Option<&'a str>,
    filter_ef: Option<u64>,
    truth: bool,
    nothread: bool,
}

impl<'a> VSim<'a> {
    /// Elements similar to this vector.
    pub fn vector(vector: Vector<'a>) -> Self {
        VSim::with_query(Query::Vector(vector))
    }
}

impl<'a, E: ToArg> VSim<'a, E> {
    /// `ELE`: elements similar to this element of the set (the element
    /// itself first); a missing element is a server error.
    pub fn element(element: E) -> Self {
        VSim::with_query(Query::Element(element))
    }
}

impl<'a, E> VSim<'a, E> {
    fn with_query(query: Query<'a, E>) -> Self {
        VSim {
            query,
            count: None,
            epsilon: None,
            ef: None,
            filter: None,
            filter_ef: None,
            truth: false,
            nothread: false,
        }
    }

    /// `COUNT n`: at most `n` elements (the server's default is 10).
    #[must_use]
    pub fn count(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }

    /// `EPSILON d`: only elements within distance `d` of the query, the
    /// distance being 1 − the cosine of their angle (0 to 2): a score of
    /// at least `1 - d / 2`.
    #[must_use]
    pub fn epsilon(mut self, distance: f64) -> Self {
        self.epsilon = Some(distance);
        self
    }

    /// `EF`: the search's exploration factor (larger: slower, better
    /// recall).
    #[must_use]
    pub fn ef(mut self, ef: u64) -> Self {
        self.ef = Some(ef);
        self
    }

    /// `FILTER expr`: only elements whose attributes pass the expression
    /// (`.year > 1950 and .genre == "jazz"`); elements without attributes
    /// never do.
    #[must_use]
    pub fn filter(mut self, expression: &'a str) -> Self {
        self.filter = Some(expression);
        self
    }

    /// `FILTER-EF`: how many candidates a filtered search may look at.
    #[must_use]
    pub fn filter_ef(mut self, effort: u64) -> Self {
        self.filter_ef = Some(effort);
        self
    }

    /// `TRUTH`: a linear scan of every element instead of the graph: the
    /// exact answer, in O(N).
    #[must_use]
    pub fn truth(mut self) -> Self {
        self.truth = true;
        self
    }

    /// `NOTHREAD`: search in the server's main thread (which blocks it
    /// meanwhile) instead of a background one.
    #[must_use]
    pub fn nothread(mut self) -> Self {
        self.nothread = true;
        self
    }
}

impl<E: ToArg> ToArg for VSim<'_, E> {
    fn write_args(&self, cmd: &mut Cmd) {
        match &self.query {
            Query::Element(e) => cmd.push_arg("ELE").push_arg(e),
            Query::Vector(v) => cmd.push_arg(v),
        };
        if let Some(n) = self.count {
            cmd.push_arg("COUNT").push_arg(n);
        }
        if let Some(d) = self.epsilon {
            cmd.push_arg("EPSILON").push_arg(d);
        }
        if let Some(ef) = self.ef {
            cmd.push_arg("EF").push_arg(ef);
        }
        if let Some(expression) = self.filter {
            cmd.push_arg("FILTER").push_arg(expression);
        }
        if let Some(effort) = self.filter_ef {
            cmd.push_arg("FILTER-EF").push_arg(effort);
        }
        if self.truth {
            cmd.push_arg("TRUTH");
        }
        if self.nothread {
            cmd.push_arg("NOTHREAD");
        }
    }
}

/// The reply of `VINFO`: the set's settings and size, the common fields
/// typed, every field in [`fields`](Self::fields).
///
/// Reads RESP3's map and RESP2's flat array alike. A field this server
/// does not send is 0 (or empty) here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VectorSetInfo {
    /// How vectors are stored, the server's name for it (`quant-type`:
    /// `int8`, `f32`, `bin`); see [`quantization`](Self::quantization).
    pub quant_type: String,
    /// The dimension of the stored vectors, after any `REDUCE`
    /// (`vector-dim`).
    pub vector_dim: u64,
    /// The dimension of the vectors given to a `REDUCE` projection, 0
    /// without one (`projection-input-dim`).
    pub projection_input_dim: u64,
    /// The number of elements (`size`).
    pub size: u64,
    /// The highest layer of the HNSW graph (`max-level`).
    pub max_level: u64,
    /// The graph's `M` (`hnsw-m`).
    pub hnsw_m: u64,
    /// How many elements have attributes (`attributes-count`).
    pub attributes_count: u64,
    /// Every field, by the server's name, numbers as their decimal text.
    pub fields: HashMap<String, String>,
}

impl VectorSetInfo {
    /// [`quant_type`](Self::quant_type) as a [`Quantization`], `None` for a
    /// name this crate does not know.
    pub fn quantization(&self) -> Option<Quantization> {
        Quantization::from_name(&self.quant_type)
    }

    /// One field's text by its server name (`vset-uid`, `hnsw-max-node-uid`…).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

impl FromValue for VectorSetInfo {
    fn from_value(value: Value) -> Result<Self> {
        let fields = pairs(value, "a VINFO reply")?
            .into_iter()
            .map(|(k, v)| Ok((String::from_value(k)?, String::from_value(v)?)))
            .collect::<Result<HashMap<String, String>>>()?;
        let number = |name: &str| -> Result<u64> {
            fields.get(name).map_or(Ok(0), |text| {
                text.parse().map_err(|_| {
                    Error::type_error(format!(
                        "expected a number for {name} in a VINFO reply, got {text:?}"
                    ))
                })
            })
        };
        Ok(VectorSetInfo {
            quant_type: fields.get("quant-type").cloned().unwrap_or_default(),
            vector_dim: number("vector-dim")?,
            projection_input_dim: number("projection-input-dim")?,
            size: number("size")?,
            max_level: number("max-level")?,
            hnsw_m: number("hnsw-m")?,
            attributes_count: number("attributes-count")?,
            fields,
        })
    }
}

/// The reply of `VEMB … RAW`: an element's vector as the set stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct RawEmbedding {
    /// How it is stored, the server's name for it (`f32`, `int8`, `bin`);
    /// see [`quantization`](Self::quantization).
    pub quant_type: String,
    /// The stored components: 4-byte little-endian floats for `f32`, one
    /// signed byte each for `int8`, one bit each for `bin`.
    pub data: Bytes,
    /// The vector's L2 norm before it was normalized: multiply by it to
    /// get the original scale back.
    pub l2_norm: f64,
    /// For `int8`, the range that -127..=127 stands for (a component is
    /// `byte / 127 * range`); `None` for the others.
    pub range: Option<f64>,
}

impl RawEmbedding {
    /// [`quant_type`](Self::quant_type) as a [`Quantization`].
    pub fn quantization(&self) -> Option<Quantization> {
        Quantization::from_name(&self.quant_type)
    }
}

impl FromValue for RawEmbedding {
    fn from_value(value: Value) -> Result<Self> {
        let described = value.describe();
        let items = elements(value, "a VEMB RAW reply")?;
        if items.len() < 3 {
            return Err(Error::type_error(format!(
                "expected a VEMB RAW reply of 3 or 4 elements, got {described}"
            )));
        }
        let mut it = items.into_iter();
        let mut next = || it.next().unwrap_or(Value::Nil);
        Ok(RawEmbedding {
            quant_type: String::from_value(next())?,
            data: Bytes::from_value(next())?,
            l2_norm: f64::from_value(next())?,
            range: Option::<f64>::from_value(next())?,
        })
    }
}

/// What [`vlinks_withscores`](VectorSetCommands::vlinks_withscores)
/// answers: an element's neighbours, one list per layer of the graph, each
/// neighbour with its similarity to the element.
pub type ScoredLinks<T> = Vec<Vec<(T, f64)>>;

/// Commands on vector sets (Redis 8.0+; Redis 7 and Valkey 8.0 have none
/// of them).
///
/// Elements are anything [`ToArg`]; the replies that are elements are
/// generic over their Rust type (`vsim::<String>`, `vrandmember::<Bytes>`).
pub trait VectorSetCommands: Commands {
    /// `VADD`: adds `element` with its vector (or gives an existing one a
    /// new vector and the options' attributes); true if it was new.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let embedding = [0.1_f32, 0.7, -0.2];
    /// let options = VAddOptions::new().setattr(r#"{"year": 1950}"#);
    /// let added = client.vadd("films", Vector::Fp32(&embedding), "casablanca", options).await?;
    /// # Ok(()) }
    /// ```
    fn vadd(
        self,
        key: impl ToArg,
        vector: Vector<'_>,
        element: impl ToArg,
        options: VAddOptions<'_>,
    ) -> Self::Reply<bool> {
        let mut c = cmd("VADD").arg(key);
        if let Some(dim) = options.reduce {
            c.push_arg("REDUCE").push_arg(dim);
        }
        c.push_arg(vector).push_arg(element);
        options.write_tail(&mut c);
        self.command(c)
    }

    /// `VSIM`: the elements most similar to the query, most similar first.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let like: Vec<String> = client.vsim("films", VSim::element("casablanca").count(3)).await?;
    /// # Ok(()) }
    /// ```
    fn vsim<T: FromValue>(
        self,
        key: impl ToArg,
        query: VSim<'_, impl ToArg>,
    ) -> Self::Reply<Vec<T>> {
        self.command(cmd("VSIM").arg(key).arg(query))
    }

    /// `VSIM … WITHSCORES`: like [`vsim`](Self::vsim), each element with
    /// its similarity, from 1 (the same direction) to 0 (the opposite).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let query = [0.1_f32, 0.7, -0.2];
    /// let search = VSim::vector(Vector::Values(&query)).filter(".year < 1960");
    /// for (film, score) in client.vsim_withscores::<String>("films", search).await? {
    ///     println!("{film}: {score:.3}");
    /// }
    /// # Ok(()) }
    /// ```
    fn vsim_withscores<T: FromValue>(
        self,
        key: impl ToArg,
        query: VSim<'_, impl ToArg>,
    ) -> Self::Reply<Vec<(T, f64)>> {
        self.command(cmd("VSIM").arg(key).arg(query).arg("WITHSCORES"))
    }

    /// `VREM`: removes the element; true if it was there.
    fn vrem(self, key: impl ToArg, element: impl ToArg) -> Self::Reply<bool> {
        self.command(cmd("VREM").arg(key).arg(element))
    }

    /// `VCARD`: the number of elements (0 for a missing key).
    fn vcard(self, key: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("VCARD").arg(key))
    }

    /// `VDIM`: the dimension of the set's vectors (after `REDUCE`); a
    /// missing key is a server error.
    fn vdim(self, key: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("VDIM").arg(key))
    }

    /// `VEMB`: the element's vector, de-quantized and de-normalized, so
    /// close to (not always equal to) the one added; `None` for a missing
    /// element or key.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let vector: Option<Vec<f32>> = client.vemb("films", "casablanca").await?;
    /// # Ok(()) }
    /// ```
    fn vemb(self, key: impl ToArg, element: impl ToArg) -> Self::Reply<Option<Vec<f32>>> {
        self.command(cmd("VEMB").arg(key).arg(element))
    }

    /// `VEMB … RAW`: the element's vector as stored; `None` for a missing
    /// element or key.
    fn vemb_raw(self, key: impl ToArg, element: impl ToArg) -> Self::Reply<Option<RawEmbedding>> {
        self.command(cmd("VEMB").arg(key).arg(element).arg("RAW"))
    }

    /// `VINFO`: the set's settings and size; `None` for a missing key.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// if let Some(info) = client.vinfo("films").await? {
    ///     println!("{} vectors of {} ({})", info.size, info.vector_dim, info.quant_type);
    /// }
    /// # Ok(()) }
    /// ```
    fn vinfo(self, key: impl ToArg) -> Self::Reply<Option<VectorSetInfo>> {
        self.command(cmd("VINFO").arg(key))
    }

    /// `VISMEMBER`: whether the element is in the set (false for a missing
    /// key).
    fn vismember(self, key: impl ToArg, element: impl ToArg) -> Self::Reply<bool> {
        self.command(cmd("VISMEMBER").arg(key).arg(element))
    }

    /// `VLINKS`: the element's neighbours in the HNSW graph, one list per
    /// layer it is on; `None` for a missing element or key.
    fn vlinks<T: FromValue>(
        self,
        key: impl ToArg,
        element: impl ToArg,
    ) -> Self::Reply<Option<Vec<Vec<T>>>> {
        self.command(cmd("VLINKS").arg(key).arg(element))
    }

    /// `VLINKS … WITHSCORES`: like [`vlinks`](Self::vlinks), each neighbour
    /// with its similarity to the element.
    fn vlinks_withscores<T: FromValue>(
        self,
        key: impl ToArg,
        element: impl ToArg,
    ) -> Self::Reply<Option<ScoredLinks<T>>> {
        self.command(cmd("VLINKS").arg(key).arg(element).arg("WITHSCORES"))
    }

    /// `VRANDMEMBER`: one element picked at random; `None` for a missing
    /// key.
    fn vrandmember<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Option<T>> {
        self.command(cmd("VRANDMEMBER").arg(key))
    }

    /// `VRANDMEMBER key count`: up to `count` distinct elements; with a
    /// negative `count`, exactly `-count`, possibly repeated.
    fn vrandmember_count<T: FromValue>(self, key: impl ToArg, count: i64) -> Self::Reply<Vec<T>> {
        self.command(cmd("VRANDMEMBER").arg(key).arg(count))
    }

    /// `VSETATTR`: sets the element's attributes (a JSON object as text;
    /// `""` removes them); false for a missing element or key.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.vsetattr("films", "casablanca", r#"{"year": 1942}"#).await?;
    /// # Ok(()) }
    /// ```
    fn vsetattr(self, key: impl ToArg, element: impl ToArg, json: impl ToArg) -> Self::Reply<bool> {
        self.command(cmd("VSETATTR").arg(key).arg(element).arg(json))
    }

    /// `VGETATTR`: the element's attributes as JSON text; `None` when it
    /// has none, or for a missing element or key.
    fn vgetattr(self, key: impl ToArg, element: impl ToArg) -> Self::Reply<Option<String>> {
        self.command(cmd("VGETATTR").arg(key).arg(element))
    }

    /// `VGETATTR`, parsed (feature `serde_json`): the element's attributes
    /// as a `serde_json::Value`; `None` as [`vgetattr`](Self::vgetattr). Text
    /// that is not JSON is a type error.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// if let Some(attrs) = client.vgetattr_json("films", "casablanca").await? {
    ///     println!("{}", attrs["year"]);
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "serde_json")]
    fn vgetattr_json(
        self,
        key: impl ToArg,
        element: impl ToArg,
    ) -> Self::Reply<Option<serde_json::Value>> {
        self.command(cmd("VGETATTR").arg(key).arg(element))
    }

    /// `VGETATTR`, deserialized (feature `serde_json`): the element's
    /// attributes as any `T: DeserializeOwned`, in a [`Json`]; `None` as
    /// [`vgetattr`](Self::vgetattr).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// use std::collections::HashMap;
    /// // Any `T: DeserializeOwned`: a struct with `#[derive(Deserialize)]`, a map…
    /// let attrs = client.vgetattr_as::<HashMap<String, u16>>("films", "casablanca").await?;
    /// if let Some(Json(film)) = attrs {
    ///     println!("{:?}", film.get("year"));
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "serde_json")]
    fn vgetattr_as<T: serde::de::DeserializeOwned>(
        self,
        key: impl ToArg,
        element: impl ToArg,
    ) -> Self::Reply<Option<Json<T>>> {
        self.command(cmd("VGETATTR").arg(key).arg(element))
    }
}

impl<C: Commands> VectorSetCommands for C {}

/// A reply that is JSON text, deserialized into `T` (feature `serde_json`):
/// what [`vgetattr_as`](VectorSetCommands::vgetattr_as) answers, and a reply
/// type for any command that answers JSON (`client.query::<Json<T>>`).
///
/// ```
/// use redwire::{commands::Json, FromValue, Value};
/// let Json(pair) = Json::<(u8, bool)>::from_value(Value::Bulk("[7, true]".into())).unwrap();
/// assert_eq!(pair, (7, true));
/// assert!(Json::<u8>::from_value(Value::Bulk("{".into())).is_err());
/// ```
#[cfg(feature = "serde_json")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Json<T>(pub T);

#[cfg(feature = "serde_json")]
impl<T> Json<T> {
    /// The deserialized value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

#[cfg(feature = "serde_json")]
impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(feature = "serde_json")]
impl<T: serde::de::DeserializeOwned> FromValue for Json<T> {
    fn from_value(value: Value) -> Result<Self> {
        let text = Bytes::from_value(value)?;
        serde_json::from_slice(&text).map(Json).map_err(|e| {
            Error::type_error(format!(
                "expected JSON for {}, got text that is not: {e}",
                std::any::type_name::<T>()
            ))
        })
    }
}

/// A reply of JSON text, parsed (feature `serde_json`); text that is not
/// JSON is a type error.
#[cfg(feature = "serde_json")]
impl FromValue for serde_json::Value {
    fn from_value(value: Value) -> Result<Self> {
        Json::<serde_json::Value>::from_value(value).map(Json::into_inner)
    }
}

/// A JSON value as one argument, its compact text (feature `serde_json`):
/// attributes for [`vsetattr`](VectorSetCommands::vsetattr).
///
/// ```
/// let attrs = serde_json::json!({"year": 1942});
/// let c = redwire::cmd("VSETATTR").arg("films").arg("casablanca").arg(&attrs);
/// assert_eq!(c.args_iter().nth(3), Some(&br#"{"year":1942}"#[..]));
/// ```
#[cfg(feature = "serde_json")]
impl ToArg for serde_json::Value {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self.to_string().as_bytes());
    }
}
