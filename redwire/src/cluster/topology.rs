//! The slot map: which primary (and which replicas) serve each of the 16,384
//! slots, read from `CLUSTER SHARDS` (Redis 7) or, on older servers,
//! `CLUSTER SLOTS`, in either protocol; and changed one slot at a time when a
//! `MOVED` redirection says so.
//!
//! A node's address is its preferred endpoint as the server reports it; an
//! unknown one (`?` or empty, as a node that does not know its own address
//! answers) is the address the map was read from.

use super::slot::SLOTS;
use crate::error::{Error, Result};
use crate::value::convert::pairs;
use crate::value::{FromValue, Value};
use std::collections::HashMap;
use std::fmt;

/// A node's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NodeAddr {
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl NodeAddr {
    /// Reads `host:port` (as `MOVED` and `ASK` give it), or `[v6]:port`.
    pub(crate) fn parse(text: &str, fallback_host: &str) -> Option<NodeAddr> {
        let (host, port) = text.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = if host.is_empty() || host == "?" {
            fallback_host
        } else {
            host
        };
        Some(NodeAddr {
            host: host.to_string(),
            port: port.parse().ok()?,
        })
    }
}

/// One range of slots and who serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Range {
    start: u16,
    end: u16,
    primary: NodeAddr,
    replicas: Vec<NodeAddr>,
}

/// A primary, the slots it serves and its replicas: the map's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) primary: NodeAddr,
    /// Inclusive ranges, in order.
    pub(crate) slots: Vec<(u16, u16)>,
    pub(crate) replicas: Vec<NodeAddr>,
}

/// Who serves every slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SlotMap {
    /// Per slot, an index into `ranges`.
    owner: Vec<Option<u32>>,
    ranges: Vec<Range>,
}

impl SlotMap {
    fn from_ranges(ranges: Vec<Range>) -> SlotMap {
        let mut owner = vec![None; SLOTS as usize];
        for (i, r) in ranges.iter().enumerate() {
            for slot in r.start..=r.end.min(SLOTS - 1) {
                owner[slot as usize] = Some(i as u32);
            }
        }
        SlotMap { owner, ranges }
    }

    /// The primary serving `slot`, if any does.
    pub(crate) fn primary(&self, slot: u16) -> Option<&NodeAddr> {
        let i = (*self.owner.get(slot as usize)?)?;
        Some(&self.ranges[i as usize].primary)
    }

    /// The replicas of `slot`'s primary.
    pub(crate) fn replicas(&self, slot: u16) -> &[NodeAddr] {
        match self.owner.get(slot as usize).copied().flatten() {
            Some(i) => &self.ranges[i as usize].replicas,
            None => &[],
        }
    }

    /// Every primary, once each.
    pub(crate) fn primaries(&self) -> Vec<&NodeAddr> {
        let mut all: Vec<&NodeAddr> = self.ranges.iter().map(|r| &r.primary).collect();
        all.sort();
        all.dedup();
        all
    }

    /// How many slots are served.
    pub(crate) fn served(&self) -> usize {
        self.owner.iter().filter(|o| o.is_some()).count()
    }

    /// Every primary with the slot ranges it serves (from the owner of each
    /// slot, so a slot learned from `MOVED` counts where it went) and its
    /// replicas, in address order.
    pub(crate) fn shape(&self) -> Vec<Shard> {
        let mut shards: Vec<Shard> = Vec::new();
        let mut slot = 0usize;
        while slot < self.owner.len() {
            let Some(i) = self.owner[slot] else {
                slot += 1;
                continue;
            };
            let range = &self.ranges[i as usize];
            let start = slot;
            while slot + 1 < self.owner.len()
                && self.owner[slot + 1]
                    .is_some_and(|j| self.ranges[j as usize].primary == range.primary)
            {
                slot += 1;
            }
            let span = (start as u16, slot as u16);
            match shards.iter_mut().find(|s| s.primary == range.primary) {
                Some(shard) => {
                    shard.slots.push(span);
                    for r in &range.replicas {
                        if !shard.replicas.contains(r) {
                            shard.replicas.push(r.clone());
                        }
                    }
                }
                None => shards.push(Shard {
                    primary: range.primary.clone(),
                    slots: vec![span],
                    replicas: range.replicas.clone(),
                }),
            }
            slot += 1;
        }
        shards.sort_by(|a, b| a.primary.cmp(&b.primary));
        shards
    }

    /// True when every slot is served.
    pub(crate) fn is_complete(&self) -> bool {
        self.owner.len() == SLOTS as usize && self.owner.iter().all(Option::is_some)
    }

    /// `MOVED slot addr`: that slot is served by `addr` from now on.
    pub(crate) fn moved(&mut self, slot: u16, addr: NodeAddr) {
        if self.owner.len() != SLOTS as usize {
            self.owner = vec![None; SLOTS as usize];
        }
        self.ranges.push(Range {
            start: slot,
            end: slot,
            primary: addr,
            replicas: Vec::new(),
        });
        self.owner[slot as usize] = Some(self.ranges.len() as u32 - 1);
    }

    /// The reply of `CLUSTER SHARDS`, read from `from_host`; `tls`: the
    /// client speaks TLS, so a node's `tls-port` is the one to use (a node
    /// that serves both lists both).
    pub(crate) fn from_shards(reply: Value, from_host: &str, tls: bool) -> Result<SlotMap> {
        let mut ranges = Vec::new();
        for shard in Vec::<Value>::from_value(reply)? {
            let shard = fields(shard)?;
            let slots = Vec::<u16>::from_value(shard.get("slots").cloned().unwrap_or(Value::Nil))?;
            let mut primary = None;
            let mut replicas = Vec::new();
            for node in Vec::<Value>::from_value(shard.get("nodes").cloned().unwrap_or(Value::Nil))?
            {
                let node = fields(node)?;
                let text = |k: &str| {
                    node.get(k)
                        .cloned()
                        .and_then(|v| String::from_value(v).ok())
                        .unwrap_or_default()
                };
                if text("health") == "fail" {
                    continue;
                }
                let (first, second) = if tls {
                    ("tls-port", "port")
                } else {
                    ("port", "tls-port")
                };
                let port = node
                    .get(first)
                    .or_else(|| node.get(second))
                    .cloned()
                    .map(u16::from_value)
                    .transpose()?;
                let Some(port) = port else { continue };
                let endpoint = match text("endpoint") {
                    e if e.is_empty() || e == "?" => from_host.to_string(),
                    e => e,
                };
                let addr = NodeAddr {
                    host: endpoint,
                    port,
                };
                if text("role") == "master" {
                    primary = Some(addr);
                } else {
                    replicas.push(addr);
                }
            }
            let Some(primary) = primary else { continue };
            for pair in slots.chunks(2) {
                if let [start, end] = *pair {
                    ranges.push(Range {
                        start,
                        end,
                        primary: primary.clone(),
                        replicas: replicas.clone(),
                    });
                }
            }
        }
        Ok(SlotMap::from_ranges(ranges))
    }

    /// The reply of `CLUSTER SLOTS`, read from `from_host`.
    pub(crate) fn from_slots(reply: Value, from_host: &str) -> Result<SlotMap> {
        let mut ranges = Vec::new();
        for entry in Vec::<Value>::from_value(reply)? {
            let mut items = Vec::<Value>::from_value(entry)?.into_iter();
            let (Some(start), Some(end)) = (items.next(), items.next()) else {
                return Err(Error::protocol("a CLUSTER SLOTS entry without its range"));
            };
            let (start, end) = (u16::from_value(start)?, u16::from_value(end)?);
            let mut nodes = items.map(|node| -> Result<NodeAddr> {
                let mut parts = Vec::<Value>::from_value(node)?.into_iter();
                let host = parts
                    .next()
                    .map(String::from_value)
                    .transpose()?
                    .unwrap_or_default();
                let port = parts
                    .next()
                    .map(u16::from_value)
                    .transpose()?
                    .ok_or_else(|| Error::protocol("a CLUSTER SLOTS node without a port"))?;
                let host = if host.is_empty() || host == "?" {
                    from_host.to_string()
                } else {
                    host
                };
                Ok(NodeAddr { host, port })
            });
            let Some(primary) = nodes.next().transpose()? else {
                continue;
            };
            let replicas = nodes.collect::<Result<Vec<_>>>()?;
            ranges.push(Range {
                start,
                end,
                primary,
                replicas,
            });
        }
        Ok(SlotMap::from_ranges(ranges))
    }
}

/// A RESP3 map or a RESP2 flat array, by field name.
fn fields(value: Value) -> Result<HashMap<String, Value>> {
    pairs(value, "a map")?
        .into_iter()
        .map(|(k, v)| Ok((String::from_value(k)?, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
    }

    fn node(endpoint: &str, port: i64, role: &str) -> Value {
        Value::Map(vec![
            (bulk("id"), bulk("abc")),
            (bulk("port"), Value::Int(port)),
            (bulk("ip"), bulk("127.0.0.1")),
            (bulk("endpoint"), bulk(endpoint)),
            (bulk("role"), bulk(role)),
            (bulk("replication-offset"), Value::Int(0)),
            (bulk("health"), bulk("online")),
        ])
    }

    #[test]
    fn a_tls_client_takes_the_tls_port_of_a_node_that_serves_both() {
        let both = |role: &str| {
            Value::Map(vec![
                (bulk("port"), Value::Int(7000)),
                (bulk("tls-port"), Value::Int(7443)),
                (bulk("endpoint"), bulk("10.0.0.1")),
                (bulk("role"), bulk(role)),
            ])
        };
        let tls_only = Value::Map(vec![
            (bulk("tls-port"), Value::Int(8443)),
            (bulk("endpoint"), bulk("10.0.0.2")),
            (bulk("role"), bulk("replica")),
        ]);
        let shards = || {
            Value::Array(vec![Value::Map(vec![
                (
                    bulk("slots"),
                    Value::Array(vec![Value::Int(0), Value::Int(16383)]),
                ),
                (
                    bulk("nodes"),
                    Value::Array(vec![both("master"), tls_only.clone()]),
                ),
            ])])
        };
        let plain = SlotMap::from_shards(shards(), "seed", false).unwrap();
        assert_eq!(plain.primary(0).unwrap().to_string(), "10.0.0.1:7000");
        let tls = SlotMap::from_shards(shards(), "seed", true).unwrap();
        assert_eq!(tls.primary(0).unwrap().to_string(), "10.0.0.1:7443");
        // A node with one port is reached there either way.
        assert_eq!(plain.replicas(0)[0].to_string(), "10.0.0.2:8443");
        assert_eq!(tls.replicas(0)[0].to_string(), "10.0.0.2:8443");
    }

    #[test]
    fn shards_and_slots_give_the_same_map() {
        let shards = Value::Array(vec![
            Value::Map(vec![
                (
                    bulk("slots"),
                    Value::Array(vec![Value::Int(0), Value::Int(8191)]),
                ),
                (
                    bulk("nodes"),
                    Value::Array(vec![
                        node("10.0.0.1", 7000, "master"),
                        node("10.0.0.2", 7001, "replica"),
                    ]),
                ),
            ]),
            Value::Map(vec![
                (
                    bulk("slots"),
                    Value::Array(vec![Value::Int(8192), Value::Int(16383)]),
                ),
                (bulk("nodes"), Value::Array(vec![node("?", 7002, "master")])),
            ]),
        ]);
        let from_shards = SlotMap::from_shards(shards, "seed", false).unwrap();
        let slots = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(8191),
                Value::Array(vec![bulk("10.0.0.1"), Value::Int(7000), bulk("abc")]),
                Value::Array(vec![bulk("10.0.0.2"), Value::Int(7001), bulk("def")]),
            ]),
            Value::Array(vec![
                Value::Int(8192),
                Value::Int(16383),
                Value::Array(vec![bulk("?"), Value::Int(7002), bulk("ghi")]),
            ]),
        ]);
        let from_slots = SlotMap::from_slots(slots, "seed").unwrap();
        for map in [&from_shards, &from_slots] {
            assert!(map.is_complete());
            assert_eq!(map.primary(0).unwrap().to_string(), "10.0.0.1:7000");
            assert_eq!(map.replicas(100)[0].to_string(), "10.0.0.2:7001");
            assert_eq!(map.primary(16383).unwrap().to_string(), "seed:7002");
            assert_eq!(map.primaries().len(), 2);
        }
    }

    #[test]
    fn a_moved_slot_changes_that_slot_only() {
        let slots = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(16383),
            Value::Array(vec![bulk("a"), Value::Int(1)]),
        ])]);
        let mut map = SlotMap::from_slots(slots, "seed").unwrap();
        let b = NodeAddr::parse("b:2", "seed").unwrap();
        map.moved(42, b.clone());
        assert_eq!(map.primary(42), Some(&b));
        assert_eq!(map.primary(41).unwrap().host, "a");
        assert_eq!(
            NodeAddr::parse("[::1]:7000", "x").unwrap().to_string(),
            "[::1]:7000"
        );
        assert_eq!(
            NodeAddr::parse(":7000", "seed").unwrap().to_string(),
            "seed:7000"
        );
        assert!(NodeAddr::parse("nonsense", "x").is_none());
        assert!(!SlotMap::default().is_complete());
        // The last slot is served; a range past it is cut at the end.
        let slots = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(100),
                Value::Array(vec![bulk("a"), Value::Int(1)]),
            ]),
            Value::Array(vec![
                Value::Int(101),
                Value::Int(20000),
                Value::Array(vec![bulk("b"), Value::Int(2)]),
            ]),
        ]);
        let map = SlotMap::from_slots(slots, "seed").unwrap();
        assert!(map.is_complete());
        assert_eq!(map.primary(SLOTS - 1).unwrap().host, "b");
        assert_eq!(map.primary(100).unwrap().host, "a");
    }

    #[test]
    fn the_shape_lists_each_primary_with_its_ranges_and_replicas() {
        let slots = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(99),
                Value::Array(vec![bulk("a"), Value::Int(1)]),
                Value::Array(vec![bulk("r"), Value::Int(3)]),
            ]),
            Value::Array(vec![
                Value::Int(200),
                Value::Int(16383),
                Value::Array(vec![bulk("b"), Value::Int(2)]),
            ]),
        ]);
        let mut map = SlotMap::from_slots(slots, "seed").unwrap();
        assert_eq!(map.served(), 100 + 16184);
        let a = NodeAddr::parse("a:1", "x").unwrap();
        map.moved(300, a.clone());
        let shape = map.shape();
        assert_eq!(shape.len(), 2);
        assert_eq!(shape[0].primary, a);
        assert_eq!(shape[0].slots, [(0, 99), (300, 300)]);
        assert_eq!(shape[0].replicas[0].to_string(), "r:3");
        assert_eq!(shape[1].slots, [(200, 299), (301, 16383)]);
        assert!(shape[1].replicas.is_empty());
        assert!(SlotMap::default().shape().is_empty());
    }
}
