//! Cache nodes and clients.
//!
//! A cache node heartbeats every client and answers reads from its memory, loading a missing key
//! from the (simulated) backing store; its memory dies with it. A client keeps the set of cache
//! nodes it has heard from recently, places every key of its key space on a ring of them, and
//! sends each read to the key's owner. A crash is a leave (the client stops hearing heartbeats), a
//! restart a join (they come back).

use super::ring::{Ring, key_name, modulo_owner, ring_hash};
use crate::contract::{Actor, Ctx, Duration, NodeId, NoteLabel, Role, Time};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A message.
#[derive(Clone, Debug, Serialize)]
pub enum Msg {
    /// A cache node is alive (to every client).
    Alive,
    /// Read key number `key`.
    Get {
        /// The key's index.
        key: u32,
    },
    /// The value of key `key`, and whether the cache held it.
    Value {
        /// The key's index.
        key: u32,
        /// Its value.
        value: u64,
        /// Whether it was cached.
        hit: bool,
    },
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// A cache node's heartbeat.
    Heartbeat,
    /// A client looks for silent cache nodes.
    Check,
    /// A client reads a key.
    Op,
}

/// Notes.
#[derive(Clone, Debug, Serialize)]
pub enum Note {
    /// A client changed its ring: `joined` and `left` members, `moved` keys changed owner.
    Remapped {
        /// Members that joined.
        joined: Vec<NodeId>,
        /// Members that left.
        left: Vec<NodeId>,
        /// Keys whose owner changed.
        moved: u32,
    },
    /// A cache node answered from memory.
    Hit,
    /// A cache node loaded the key from the backing store.
    Miss,
}

impl NoteLabel for Note {
    fn label(&self) -> &'static str {
        match self {
            Note::Remapped { .. } => "remapped",
            Note::Hit => "hit",
            Note::Miss => "miss",
        }
    }
}

/// What every node is built with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Points per member.
    pub vnodes: u32,
    /// Key-space size.
    pub keys: u32,
    /// Heartbeat period.
    pub heartbeat: Duration,
    /// Silence after which a member leaves a client's ring.
    pub leave_timeout: Duration,
    /// Check period.
    pub check: Duration,
    /// Read period.
    pub op: Duration,
    /// The `ch.modulo_hash` mutant.
    pub modulo_hash: bool,
}

/// The backing store's value of a key (what a miss loads).
pub fn stored_value(key: u32) -> u64 {
    ring_hash(&format!("value-{key}"))
}

/// A client's view: who is in its ring and where every key goes.
#[derive(Clone, Debug)]
pub struct ClientView {
    /// The members, sorted.
    pub members: BTreeSet<NodeId>,
    /// Changes so far (bumped at every remap).
    pub version: u64,
    /// The owner of every key, by key index (`None` with no members).
    pub owners: Vec<Option<NodeId>>,
    last_heard: BTreeMap<NodeId, Time>,
    /// Each key's position on the ring, computed once.
    key_hashes: Vec<u64>,
}

/// A node: a cache node or a client.
#[derive(Clone, Debug)]
pub enum ChNode {
    /// A cache node with its memory.
    Cache {
        /// Settings.
        settings: Settings,
        /// Cached values.
        memory: BTreeMap<u32, u64>,
    },
    /// A client.
    Client {
        /// Settings.
        settings: Settings,
        /// Its view of the ring.
        view: ClientView,
        /// Reads answered with the stored value.
        answered: u64,
    },
}

impl ClientView {
    /// Every server a member, as configured at the start.
    pub fn new(settings: &Settings, servers: u32) -> ClientView {
        let key_hashes: Vec<u64> = (0..settings.keys)
            .map(|k| ring_hash(&key_name(k)))
            .collect();
        let mut view = ClientView {
            members: (0..servers).collect(),
            version: 0,
            owners: Vec::new(),
            last_heard: BTreeMap::new(),
            key_hashes,
        };
        view.owners = view.place(settings);
        view
    }

    fn place(&self, settings: &Settings) -> Vec<Option<NodeId>> {
        let members: Vec<NodeId> = self.members.iter().copied().collect();
        if settings.modulo_hash {
            return self
                .key_hashes
                .iter()
                .map(|h| modulo_owner(&members, *h))
                .collect();
        }
        let ring = Ring::new(&members, settings.vnodes);
        self.key_hashes.iter().map(|h| ring.owner(*h)).collect()
    }

    fn remap(&mut self, settings: &Settings, joined: Vec<NodeId>, left: Vec<NodeId>) -> Note {
        let owners = self.place(settings);
        let moved = owners
            .iter()
            .zip(&self.owners)
            .filter(|(a, b)| a != b)
            .count() as u32;
        self.owners = owners;
        self.version += 1;
        Note::Remapped {
            joined,
            left,
            moved,
        }
    }
}

impl ChNode {
    /// A node of either kind.
    pub fn new(settings: Settings, id: NodeId, servers: u32) -> ChNode {
        if id < servers {
            ChNode::Cache {
                settings,
                memory: BTreeMap::new(),
            }
        } else {
            let view = ClientView::new(&settings, servers);
            ChNode::Client {
                settings,
                view,
                answered: 0,
            }
        }
    }

    /// A client's view, `None` for a cache node.
    pub fn client_view(&self) -> Option<&ClientView> {
        match self {
            ChNode::Client { view, .. } => Some(view),
            ChNode::Cache { .. } => None,
        }
    }
}

impl Actor for ChNode {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = ();
    type Note = Note;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            ChNode::Cache { settings, .. } => {
                let first = ctx.random_duration(Duration::ZERO, settings.heartbeat);
                ctx.set_timer(Timer::Heartbeat, first);
            }
            ChNode::Client { settings, view, .. } => {
                let now = ctx.now();
                for m in ctx.cluster().server_ids() {
                    view.last_heard.insert(m, now);
                }
                ctx.set_timer(Timer::Check, settings.check);
                ctx.set_timer(Timer::Op, settings.op);
            }
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (ChNode::Cache { memory, .. }, Msg::Get { key }) => {
                let (value, hit) = match memory.get(&key) {
                    Some(v) => (*v, true),
                    None => {
                        let v = stored_value(key);
                        memory.insert(key, v);
                        (v, false)
                    }
                };
                ctx.note(if hit { Note::Hit } else { Note::Miss });
                ctx.send(from, Msg::Value { key, value, hit });
            }
            (ChNode::Client { settings, view, .. }, Msg::Alive) => {
                if !ctx.cluster().is_server(from) {
                    return;
                }
                view.last_heard.insert(from, ctx.now());
                if view.members.insert(from) {
                    let note = view.remap(settings, vec![from], Vec::new());
                    ctx.note(note);
                }
            }
            // A wrong value would be a cache bug, not a routing one: count only right ones.
            (ChNode::Client { answered, .. }, Msg::Value { key, value, .. })
                if value == stored_value(key) =>
            {
                *answered += 1;
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match (self, timer) {
            (ChNode::Cache { settings, .. }, Timer::Heartbeat) => {
                for c in ctx.cluster().client_ids() {
                    ctx.send(c, Msg::Alive);
                }
                ctx.set_timer(Timer::Heartbeat, settings.heartbeat);
            }
            (ChNode::Client { settings, view, .. }, Timer::Check) => {
                let now = ctx.now();
                let left: Vec<NodeId> = view
                    .members
                    .iter()
                    .copied()
                    .filter(|m| {
                        view.last_heard.get(m).is_none_or(|t| {
                            now.saturating_since(*t).as_nanos() > settings.leave_timeout.as_nanos()
                        })
                    })
                    .collect();
                if !left.is_empty() {
                    for m in &left {
                        view.members.remove(m);
                    }
                    let note = view.remap(settings, Vec::new(), left);
                    ctx.note(note);
                }
                ctx.set_timer(Timer::Check, settings.check);
            }
            (ChNode::Client { settings, view, .. }, Timer::Op) => {
                if settings.keys > 0 {
                    let key = ctx.rng().below(u64::from(settings.keys)) as u32;
                    if let Some(owner) = view.owners[key as usize] {
                        ctx.send(owner, Msg::Get { key });
                    }
                }
                ctx.set_timer(Timer::Op, settings.op);
            }
            _ => {}
        }
    }

    fn role(&self) -> Role {
        match self {
            ChNode::Cache { .. } => Some("cache"),
            ChNode::Client { .. } => None,
        }
    }
}
