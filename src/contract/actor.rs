//! The actor API: the only thing a protocol sees of the simulator.
//!
//! A protocol is a pure state machine, as in etcd's raft. It never touches a clock, a socket, a file, a
//! thread or a global random generator. It reacts to three inputs (start, a message, a timer) and writes
//! its effects into a [`Ctx`]: messages to send, timers to set or cancel, notes for checkers and traces,
//! and history records for client operations. The engine applies the effects after the handler returns,
//! in the order they were written, so a crash can never fall in the middle of a handler.
//!
//! Durable state lives in the engine, not in the actor: [`Ctx::durable`] and [`Ctx::durable_mut`] read and
//! write a node's "disk", which survives crashes and is written synchronously, before any message of the
//! same handler leaves the node. Everything else in the actor is volatile: a crash drops the actor, and a
//! restart builds a fresh one that calls [`Actor::on_start`] and reads its disk back.
//!
//! Clients are actors of the same type as the servers (usually one enum with a server and a client
//! variant). Node ids `0..servers` are servers, `servers..servers + clients` are clients.

use crate::contract::history::{EventKind, Func, Value};
use crate::contract::rng::Rng;
use crate::contract::time::{Duration, Time};
use serde::Serialize;
use std::fmt::Debug;
use std::ops::Range;

/// A node's id: servers are `0..servers`, clients follow.
pub type NodeId = u32;

/// A node's role as a short static name ("leader", "follower", "coordinator", "holder"...).
///
/// Roles let a fault target whoever holds a role at the moment it fires ("isolate the leader"), and let
/// reports show role changes. `None` means the node has no role worth reporting.
pub type Role = Option<&'static str>;

/// A short machine name for a protocol note, used in reports and counts ("became_leader", "committed").
pub trait NoteLabel {
    /// The note's kind, snake_case.
    fn label(&self) -> &'static str;
}

/// A protocol's node: a deterministic state machine driven by the engine.
pub trait Actor: Sized + 'static {
    /// Messages between nodes (servers and clients alike).
    type Msg: Clone + Debug + Serialize;
    /// Timer tags. Setting a tag that is already set replaces it.
    type Timer: Clone + Debug + PartialEq + Serialize;
    /// What survives a crash: the node's disk.
    type Durable: Clone + Debug + Default;
    /// Protocol events for checkers and traces (became leader, appended, committed, acquired...).
    type Note: Clone + Debug + Serialize + NoteLabel;

    /// Called when the node starts, and again after each restart (with a fresh actor and the old disk).
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>);
    /// Called when a message from `from` is delivered.
    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Msg);
    /// Called when a timer set with [`Ctx::set_timer`] fires (and was not replaced or cancelled).
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer);

    /// The node's current role, read by the engine after every event it handles.
    fn role(&self) -> Role {
        None
    }
}

/// The most named groups a protocol may declare.
pub const GROUPS_MAX: usize = 8;

/// One named group of servers, as laid out in a run: node ids `first..first + len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GroupRange {
    /// The group's name, as the protocol declares it (`"coordinator"`, `"participants"`).
    pub name: &'static str,
    /// Its first node id.
    pub first: NodeId,
    /// How many nodes it has.
    pub len: u32,
}

impl GroupRange {
    /// Its node ids.
    pub fn ids(&self) -> Range<NodeId> {
        self.first..self.first + self.len
    }
}

/// The shape of the cluster: servers `0..servers`, split into the protocol's named groups in the
/// order it declares them, then clients `servers..servers + clients`. Ids are dense.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// Servers: node ids `0..servers`.
    pub servers: u32,
    /// Clients: node ids `servers..servers + clients`.
    pub clients: u32,
    /// The server groups, in order; `groups[..group_count]` are set.
    #[serde(skip)]
    groups: [GroupRange; GROUPS_MAX],
    #[serde(skip)]
    group_count: u8,
}

impl Cluster {
    /// `servers` servers in one group called `"servers"`, and `clients` clients.
    pub fn new(servers: u32, clients: u32) -> Cluster {
        let mut cluster = Cluster {
            servers,
            clients,
            groups: [GroupRange {
                name: "",
                first: 0,
                len: 0,
            }; GROUPS_MAX],
            group_count: 1,
        };
        cluster.groups[0] = GroupRange {
            name: "servers",
            first: 0,
            len: servers,
        };
        cluster
    }

    /// Servers in named groups of the given sizes, in order, and `clients` clients. `Err` if there
    /// are more than [`GROUPS_MAX`] groups.
    pub fn with_groups(groups: &[(&'static str, u32)], clients: u32) -> Result<Cluster, String> {
        if groups.len() > GROUPS_MAX {
            return Err(format!("at most {GROUPS_MAX} groups"));
        }
        let servers = groups.iter().map(|(_, n)| *n).sum();
        let mut cluster = Cluster::new(servers, clients);
        let mut first = 0;
        for (i, (name, len)) in groups.iter().enumerate() {
            cluster.groups[i] = GroupRange {
                name,
                first,
                len: *len,
            };
            first += len;
        }
        cluster.group_count = groups.len() as u8;
        Ok(cluster)
    }

    /// The server ids.
    pub fn server_ids(&self) -> Range<NodeId> {
        0..self.servers
    }

    /// The client ids.
    pub fn client_ids(&self) -> Range<NodeId> {
        self.servers..self.servers + self.clients
    }

    /// All node ids.
    pub fn node_count(&self) -> u32 {
        self.servers + self.clients
    }

    /// Whether `id` is a server.
    pub fn is_server(&self, id: NodeId) -> bool {
        id < self.servers
    }

    /// The smallest number of servers that is a majority.
    pub fn majority(&self) -> u32 {
        self.servers / 2 + 1
    }

    /// The server groups, in order.
    pub fn groups(&self) -> &[GroupRange] {
        &self.groups[..usize::from(self.group_count)]
    }

    /// The group called `name`: its ids, or `None` if the protocol declares no such group.
    pub fn group(&self, name: &str) -> Option<Range<NodeId>> {
        self.groups()
            .iter()
            .find(|g| g.name == name)
            .map(GroupRange::ids)
    }

    /// The group a server belongs to and its index in it (`("participants", 2)`); `None` for a client.
    pub fn group_of(&self, id: NodeId) -> Option<(&'static str, u32)> {
        self.groups()
            .iter()
            .find(|g| g.ids().contains(&id))
            .map(|g| (g.name, id - g.first))
    }
}

/// A client operation's history record, before the engine stamps it with the true time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    /// The logical process (see [`crate::contract::history`]: a new one after every unknown outcome).
    pub process: u64,
    /// Invoke or how it ended.
    pub kind: EventKind,
    /// The function.
    pub f: Func,
    /// The key, for key-value operations.
    pub key: Option<String>,
    /// Argument or result.
    pub value: Value,
}

/// One effect written by a handler, applied by the engine in order after the handler returns.
#[derive(Clone, Debug)]
pub enum Effect<A: Actor> {
    /// Send `msg` to `to`.
    Send {
        /// Destination.
        to: NodeId,
        /// The message.
        msg: A::Msg,
    },
    /// Set (or replace) a timer to fire after `after` on the node's local clock.
    SetTimer {
        /// The tag.
        timer: A::Timer,
        /// Delay, in local-clock time.
        after: Duration,
    },
    /// Cancel a timer if it is set.
    CancelTimer {
        /// The tag.
        timer: A::Timer,
    },
    /// A protocol event for checkers and the trace.
    Note(A::Note),
    /// A client history record, boxed: records are rare next to sends and timers, and unboxed one
    /// would make every effect of every event as large as a record.
    Record(Box<Record>),
}

/// The context of one handler call: who and when the node is, its random stream and disk, and the
/// effects it writes.
pub struct Ctx<'a, A: Actor> {
    id: NodeId,
    now: Time,
    /// Borrowed: a `Cluster` is a few hundred bytes and the engine builds a context per event.
    cluster: &'a Cluster,
    rng: &'a mut Rng,
    durable: &'a mut A::Durable,
    effects: &'a mut Vec<Effect<A>>,
}

impl<'a, A: Actor> Ctx<'a, A> {
    /// Builds a context. The engine does this for every event; tests and harnesses that drive an actor
    /// by hand (golden scripts) do it too, then read [`Ctx::effects`] back.
    pub fn new(
        id: NodeId,
        now: Time,
        cluster: &'a Cluster,
        rng: &'a mut Rng,
        durable: &'a mut A::Durable,
        effects: &'a mut Vec<Effect<A>>,
    ) -> Self {
        Ctx {
            id,
            now,
            cluster,
            rng,
            durable,
            effects,
        }
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The node's local clock (true time skewed by the node's offset and drift).
    pub fn now(&self) -> Time {
        self.now
    }

    /// The cluster's shape.
    pub fn cluster(&self) -> &'a Cluster {
        self.cluster
    }

    /// The other servers (all servers but this node).
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + use<A> {
        let me = self.id;
        self.cluster.server_ids().filter(move |p| *p != me)
    }

    /// This node's own random stream.
    pub fn rng(&mut self) -> &mut Rng {
        self.rng
    }

    /// A uniform draw in `lo..=hi`.
    pub fn random_between(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng.between(lo, hi)
    }

    /// A uniform duration in `lo..=hi`.
    pub fn random_duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        self.rng.duration_between(lo, hi)
    }

    /// The node's disk, as last written.
    pub fn durable(&self) -> &A::Durable {
        self.durable
    }

    /// Writes the node's disk. Writes are synchronous: they are durable before any message this
    /// handler sends leaves the node.
    pub fn durable_mut(&mut self) -> &mut A::Durable {
        self.durable
    }

    /// Replaces the whole disk.
    pub fn persist(&mut self, durable: A::Durable) {
        *self.durable = durable;
    }

    /// Sends `msg` to `to`.
    pub fn send(&mut self, to: NodeId, msg: A::Msg) {
        self.effects.push(Effect::Send { to, msg });
    }

    /// Sends `msg` to every other server.
    pub fn broadcast(&mut self, msg: A::Msg) {
        for to in self.cluster.server_ids() {
            if to != self.id {
                self.effects.push(Effect::Send {
                    to,
                    msg: msg.clone(),
                });
            }
        }
    }

    /// Sets `timer` to fire after `after` of local time, replacing any timer with the same tag.
    pub fn set_timer(&mut self, timer: A::Timer, after: Duration) {
        self.effects.push(Effect::SetTimer { timer, after });
    }

    /// Cancels `timer` if it is set.
    pub fn cancel_timer(&mut self, timer: A::Timer) {
        self.effects.push(Effect::CancelTimer { timer });
    }

    /// Reports a protocol event to the checkers and the trace.
    pub fn note(&mut self, note: A::Note) {
        self.effects.push(Effect::Note(note));
    }

    /// Records that `process` invokes `f` on `key` with argument `value`.
    pub fn invoke(&mut self, process: u64, f: Func, key: Option<String>, value: Value) {
        self.effects.push(Effect::Record(Box::new(Record {
            process,
            kind: EventKind::Invoke,
            f,
            key,
            value,
        })));
    }

    /// Records how `process`'s open operation ended (`Ok`, `Fail` or `Info`) and its result.
    pub fn complete(
        &mut self,
        process: u64,
        kind: EventKind,
        f: Func,
        key: Option<String>,
        value: Value,
    ) {
        debug_assert!(kind != EventKind::Invoke, "complete() takes an outcome");
        self.effects.push(Effect::Record(Box::new(Record {
            process,
            kind,
            f,
            key,
            value,
        })));
    }

    /// The effects written so far (for harnesses that drive an actor by hand).
    pub fn effects(&self) -> &[Effect<A>] {
        self.effects
    }
}
