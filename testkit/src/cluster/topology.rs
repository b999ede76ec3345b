//! What the cluster looks like from each node, and whether it has settled:
//! parsing `CLUSTER NODES`, and the check the fixture polls after every change
//! (every running node is `cluster_state:ok` with all slots served, every node
//! has the same picture of who is primary of what with which slots and config
//! epoch, nobody suspects a running node, every slot is served by a running
//! primary, and every replica of a running primary has its link up).

use super::node::ClusterNode;
use super::slot::SLOTS;
use redwire_resp::Frame;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How long one poll waits for a node before calling it a problem.
const POLL_TIMEOUT: Duration = Duration::from_secs(1);

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) id: String,
    pub(crate) flags: Vec<String>,
    pub(crate) primary: Option<String>,
    pub(crate) epoch: u64,
    /// Inclusive ranges; the `[slot->-id]` migration markers are left out.
    pub(crate) slots: Vec<(u16, u16)>,
}

impl Entry {
    fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// One node as the cluster agrees on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape {
    /// `None` for a primary.
    pub(crate) primary: Option<String>,
    /// The config epoch, for primaries (a replica's is only a copy).
    pub(crate) epoch: Option<u64>,
    pub(crate) slots: Vec<(u16, u16)>,
}

/// The whole cluster as every running node agreed on it, by node id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) nodes: BTreeMap<String, Shape>,
}

impl Layout {
    pub(crate) fn is_primary(&self, id: &str) -> bool {
        self.nodes.get(id).is_some_and(|s| s.primary.is_none())
    }

    pub(crate) fn owner(&self, slot: u16) -> Option<&str> {
        self.nodes.iter().find_map(|(id, shape)| {
            (shape.primary.is_none() && shape.slots.iter().any(|&(a, b)| a <= slot && slot <= b))
                .then_some(id.as_str())
        })
    }
}

/// Parses the text of `CLUSTER NODES`.
pub(crate) fn parse_nodes(text: &str) -> Result<Vec<Entry>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            parse_line(line).ok_or_else(|| format!("unreadable CLUSTER NODES line {line:?}"))
        })
        .collect()
}

fn parse_line(line: &str) -> Option<Entry> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 8 {
        return None;
    }
    let mut slots = Vec::new();
    for field in &fields[8..] {
        if field.starts_with('[') {
            continue;
        }
        let range = match field.split_once('-') {
            Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
            None => {
                let slot = field.parse().ok()?;
                (slot, slot)
            }
        };
        slots.push(range);
    }
    slots.sort_unstable();
    Some(Entry {
        id: fields[0].to_string(),
        flags: fields[2].split(',').map(str::to_string).collect(),
        primary: (fields[3] != "-").then(|| fields[3].to_string()),
        epoch: fields[6].parse().ok()?,
        slots,
    })
}

/// A `key:value` field of `INFO` or `CLUSTER INFO` text.
pub(crate) fn info_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// The text of a bulk, verbatim or simple string reply.
pub(crate) fn text_of(frame: Frame) -> Result<String, String> {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Verbatim { data: b, .. } => {
            Ok(String::from_utf8_lossy(&b).into_owned())
        }
        other => Err(format!("expected text, got {other:?}")),
    }
}

/// Asks every running node for its view and returns the layout they all agree
/// on, or what is not settled yet.
pub(crate) fn observe(nodes: &[ClusterNode]) -> Result<Layout, String> {
    let all_ids: BTreeSet<&str> = nodes.iter().map(ClusterNode::id).collect();
    let running: Vec<&ClusterNode> = nodes.iter().filter(|n| n.is_running()).collect();
    let running_ids: BTreeSet<&str> = running.iter().map(|n| n.id()).collect();
    let mut agreed: Option<(&ClusterNode, Layout)> = None;
    for node in running {
        let layout = view_of(node, &all_ids, &running_ids)
            .map_err(|problem| format!("node {} ({}) {problem}", node.addr(), short(node.id())))?;
        match &agreed {
            None => agreed = Some((node, layout)),
            Some((first, first_layout)) => {
                if let Some(diff) = difference(first_layout, &layout) {
                    return Err(format!(
                        "nodes {} and {} disagree: {diff}",
                        first.addr(),
                        node.addr()
                    ));
                }
            }
        }
    }
    let (_, layout) = agreed.ok_or_else(|| "no node of the cluster is running".to_string())?;
    // Right after a primary is killed every other node still agrees on the old
    // layout; it has settled only once a running node serves those slots.
    for (id, shape) in &layout.nodes {
        if shape.primary.is_none() && !shape.slots.is_empty() && !running_ids.contains(id.as_str())
        {
            return Err(format!(
                "primary {} serves slots {:?} but is not running (no replica has taken over yet)",
                short(id),
                shape.slots
            ));
        }
    }
    Ok(layout)
}

/// Checks that every running node knows every node of the fixture, with no
/// handshake left; the step before CLUSTER REPLICATE.
pub(crate) fn all_known(nodes: &[ClusterNode]) -> Result<(), String> {
    let all_ids: BTreeSet<&str> = nodes.iter().map(ClusterNode::id).collect();
    for node in nodes.iter().filter(|n| n.is_running()) {
        let entries = cluster_nodes(node)?;
        check_known(&entries, &all_ids)
            .map_err(|problem| format!("node {} {problem}", node.addr()))?;
    }
    Ok(())
}

fn cluster_nodes(node: &ClusterNode) -> Result<Vec<Entry>, String> {
    let mut conn = node
        .connect(POLL_TIMEOUT)
        .map_err(|e| format!("node {} does not answer: {e}", node.addr()))?;
    let reply = conn
        .command(&["CLUSTER", "NODES"])
        .map_err(|e| e.to_string())?;
    parse_nodes(&text_of(reply)?)
}

fn check_known(entries: &[Entry], all_ids: &BTreeSet<&str>) -> Result<(), String> {
    if let Some(e) = entries.iter().find(|e| e.has_flag("handshake")) {
        return Err(format!("is still in a handshake with {}", short(&e.id)));
    }
    let seen: BTreeSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    if &seen != all_ids {
        let missing: Vec<&str> = all_ids.difference(&seen).map(|id| short(id)).collect();
        let unknown: Vec<&str> = seen.difference(all_ids).map(|id| short(id)).collect();
        return Err(format!(
            "does not know nodes {missing:?} yet (and knows unexpected nodes {unknown:?})"
        ));
    }
    Ok(())
}

/// One node's view, checked on its own and turned into a [`Layout`].
fn view_of(
    node: &ClusterNode,
    all_ids: &BTreeSet<&str>,
    running_ids: &BTreeSet<&str>,
) -> Result<Layout, String> {
    let mut conn = node
        .connect(POLL_TIMEOUT)
        .map_err(|e| format!("does not answer: {e}"))?;
    let mut ask = |args: &[&str]| -> Result<String, String> {
        let reply = conn.command(args).map_err(|e| e.to_string())?;
        text_of(reply).map_err(|e| format!("{}: {e}", args.join(" ")))
    };
    let info = ask(&["CLUSTER", "INFO"])?;
    match info_field(&info, "cluster_state") {
        Some("ok") => {}
        state => return Err(format!("reports cluster_state:{}", state.unwrap_or("?"))),
    }
    let slots_ok = info_field(&info, "cluster_slots_ok").unwrap_or("?");
    if slots_ok != SLOTS.to_string() {
        return Err(format!("reports cluster_slots_ok:{slots_ok}"));
    }

    let entries = parse_nodes(&ask(&["CLUSTER", "NODES"])?)?;
    check_known(&entries, all_ids)?;
    let me = entries
        .iter()
        .find(|e| e.has_flag("myself"))
        .ok_or("lists no `myself` in CLUSTER NODES")?;
    if me.id != node.id() {
        return Err(format!("calls itself {}", short(&me.id)));
    }
    for entry in entries
        .iter()
        .filter(|e| running_ids.contains(e.id.as_str()))
    {
        if let Some(flag) = ["fail", "fail?", "noaddr"]
            .into_iter()
            .find(|f| entry.has_flag(f))
        {
            return Err(format!(
                "still flags running node {} as {flag}",
                short(&entry.id)
            ));
        }
    }
    if let Some(primary) = &me.primary {
        if running_ids.contains(primary.as_str()) {
            let info = ask(&["INFO", "replication"])?;
            let link = info_field(&info, "master_link_status").unwrap_or("?");
            if link != "up" {
                return Err(format!(
                    "is a replica of {} with master_link_status:{link}",
                    short(primary)
                ));
            }
        }
    }

    let nodes = entries
        .into_iter()
        .map(|e| {
            let shape = Shape {
                epoch: e.primary.is_none().then_some(e.epoch),
                primary: e.primary,
                slots: e.slots,
            };
            (e.id, shape)
        })
        .collect();
    Ok(Layout { nodes })
}

/// The first thing two layouts differ in, for the "not settled" message.
fn difference(a: &Layout, b: &Layout) -> Option<String> {
    for (id, shape) in &a.nodes {
        match b.nodes.get(id) {
            Some(other) if other == shape => {}
            Some(other) => {
                return Some(format!(
                    "on node {}: {} vs {}",
                    short(id),
                    describe_shape(shape),
                    describe_shape(other)
                ))
            }
            None => return Some(format!("on whether node {} exists", short(id))),
        }
    }
    (a.nodes.len() != b.nodes.len()).then(|| "on the number of nodes".to_string())
}

fn describe_shape(shape: &Shape) -> String {
    match (&shape.primary, shape.epoch) {
        (Some(primary), _) => format!("replica of {}", short(primary)),
        (None, epoch) => format!(
            "primary (epoch {}) of slots {:?}",
            epoch.unwrap_or(0),
            shape.slots
        ),
    }
}

/// The first 8 digits of a node id, enough to tell nodes apart in messages.
pub(crate) fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "\
07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383 [10923->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001,host myself,master - 0 0 1 connected 0-5460 7
";

    #[test]
    fn cluster_nodes_lines_are_parsed() {
        let entries = parse_nodes(NODES).unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(
            entries[0].primary.as_deref(),
            Some("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca")
        );
        assert!(entries[0].slots.is_empty());
        assert_eq!(entries[1].slots, vec![(5461, 10922)]);
        assert_eq!(entries[2].slots, vec![(10923, 16383)]);
        assert_eq!(entries[3].slots, vec![(0, 5460), (7, 7)]);
        assert!(entries[3].has_flag("myself"));
        assert_eq!(entries[3].epoch, 1);
    }

    #[test]
    fn the_owner_of_a_slot_is_found_in_a_layout() {
        let nodes = parse_nodes(NODES)
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    e.id,
                    Shape {
                        epoch: e.primary.is_none().then_some(e.epoch),
                        primary: e.primary,
                        slots: e.slots,
                    },
                )
            })
            .collect();
        let layout = Layout { nodes };
        assert_eq!(layout.owner(6000).map(short), Some("67ed2db8"));
        assert_eq!(layout.owner(16383).map(short), Some("292f8b36"));
        assert!(layout.is_primary("292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f"));
        assert!(!layout.is_primary("07c37dfeb235213a872192d90877d0cd55635b91"));
    }

    #[test]
    fn info_fields_are_read_by_exact_key() {
        let info = "cluster_state:ok\r\ncluster_slots_ok:16384\r\ncluster_slots_okay:1\r\n";
        assert_eq!(info_field(info, "cluster_state"), Some("ok"));
        assert_eq!(info_field(info, "cluster_slots_ok"), Some("16384"));
        assert_eq!(info_field(info, "cluster_size"), None);
    }
}
