//! Primary-backup replication, written the way a user of distsim writes their own protocol: against
//! `distsim::contract` alone.
//!
//! Server 0 is the primary. A client sends each operation (get, put, compare-and-set) to the server it
//! believes is the primary; a backup answers `NotLeader` with the primary as the hint. The primary
//! appends the operation to its log and sends it to every backup (re-sending until acknowledged); once
//! every backup holds an entry and every entry before it, the primary applies it to its key-value map
//! and answers the client. Each backup applies entries strictly in log order, holding back any that
//! arrive early, so every replica applies the same operations in the same order.
//!
//! Checker `same_order`: every replica applies log index `i` only after `i - 1`, and the same operation
//! at every index. The clients' history must be linearizable against the key-value model.
//! Planted bug `pb.apply_out_of_order`: a backup applies an entry the moment it arrives, so a message
//! that overtakes another breaks the order (the network reorders whenever latencies differ).

use distsim::contract::client::{
    ClientConfig, ClientDisk, ClientLink, ClientOutcome, ClientTimer, KvClient, KvOp, KvResult,
    OpCompleted,
};
use distsim::contract::{
    Actor, Checker, Ctx, Duration, Failure, KvModel, Mutant, NodeId, NoteLabel, Observation, Param,
    Protocol, Role, Setup,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Messages between clients, the primary and the backups.
#[derive(Clone, Debug, Serialize)]
pub enum Msg {
    /// Client to server: please do `op`.
    Request { client: NodeId, seq: u64, op: KvOp },
    /// Server to client: the answer to request `seq`.
    Reply { seq: u64, outcome: ClientOutcome },
    /// Primary to backup: the log entry at `index`.
    Replicate { index: u64, entry: Entry },
    /// Backup to primary: I hold every entry up to `index`.
    Ack { index: u64 },
}

/// A log entry: who asked for what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub client: NodeId,
    pub seq: u64,
    pub op: KvOp,
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The primary re-sends what its backups have not acknowledged.
    Resend,
    /// A client's timers.
    Client(ClientTimerTag),
}

/// The client's timers, serialisable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientTimerTag {
    Think,
    Attempt,
    Deadline,
}

/// What a replica applied, for the checker.
#[derive(Clone, Debug, Serialize)]
pub enum Note {
    Applied {
        index: u64,
        client: NodeId,
        seq: u64,
    },
    OpCompleted {
        process: u64,
        seq: u64,
    },
}

impl NoteLabel for Note {
    fn label(&self) -> &'static str {
        match self {
            Note::Applied { .. } => "applied",
            Note::OpCompleted { .. } => "op_completed",
        }
    }
}

/// The durable part: only clients keep something (their session).
#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub client: ClientDisk,
}

/// A replica (the primary or a backup); volatile, like an in-memory store.
#[derive(Debug)]
pub struct Replica {
    id: NodeId,
    backups: Vec<NodeId>,
    apply_out_of_order: bool,
    // The log and what each backup acknowledged (primary).
    log: Vec<Entry>,
    acked: BTreeMap<NodeId, u64>,
    // Applied state.
    applied: u64,
    kv: BTreeMap<Arc<str>, Arc<str>>,
    answered: BTreeMap<NodeId, (u64, KvResult)>,
    // Entries that arrived early (backup).
    early: BTreeMap<u64, Entry>,
}

/// A node.
pub enum Node {
    Replica(Replica),
    Client(Box<KvClient<Node, Link>>),
}

/// The client's link to this protocol's messages.
pub struct Link;

impl ClientLink<Node> for Link {
    fn request(client: NodeId, seq: u64, op: KvOp) -> Msg {
        Msg::Request { client, seq, op }
    }
    fn timer(timer: ClientTimer) -> Timer {
        Timer::Client(match timer {
            ClientTimer::Think => ClientTimerTag::Think,
            ClientTimer::Attempt => ClientTimerTag::Attempt,
            ClientTimer::Deadline => ClientTimerTag::Deadline,
        })
    }
    fn disk(durable: &Disk) -> &ClientDisk {
        &durable.client
    }
    fn disk_mut(durable: &mut Disk) -> &mut ClientDisk {
        &mut durable.client
    }
    fn completed(done: OpCompleted) -> Option<Note> {
        Some(Note::OpCompleted {
            process: done.process,
            seq: done.seq,
        })
    }
    fn client_timer(timer: &Timer) -> Option<ClientTimer> {
        match timer {
            Timer::Client(ClientTimerTag::Think) => Some(ClientTimer::Think),
            Timer::Client(ClientTimerTag::Attempt) => Some(ClientTimer::Attempt),
            Timer::Client(ClientTimerTag::Deadline) => Some(ClientTimer::Deadline),
            Timer::Resend => None,
        }
    }
    fn reply(msg: Msg) -> Option<(u64, ClientOutcome)> {
        match msg {
            Msg::Reply { seq, outcome } => Some((seq, outcome)),
            _ => None,
        }
    }
}

const PRIMARY: NodeId = 0;
const RESEND: Duration = Duration::from_millis(30);

impl Replica {
    fn is_primary(&self) -> bool {
        self.id == PRIMARY
    }

    /// Applies `entry` as log index `index` (the next one) and returns its result.
    fn apply(&mut self, ctx: &mut Ctx<'_, Node>, index: u64, entry: &Entry) -> KvResult {
        self.applied = index;
        ctx.note(Note::Applied {
            index,
            client: entry.client,
            seq: entry.seq,
        });
        let result = match &entry.op {
            KvOp::Get { key } => KvResult::Read {
                value: self.kv.get(key).cloned(),
            },
            KvOp::Put { key, value } => {
                self.kv.insert(key.clone(), value.clone());
                KvResult::Written
            }
            KvOp::Cas { key, from, to } => {
                if self.kv.get(key) == Some(from) {
                    self.kv.insert(key.clone(), to.clone());
                    KvResult::Swapped
                } else {
                    KvResult::CasFailed {
                        current: self.kv.get(key).cloned(),
                    }
                }
            }
        };
        self.answered
            .insert(entry.client, (entry.seq, result.clone()));
        result
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Node>, client: NodeId, seq: u64, op: KvOp) {
        if !self.is_primary() {
            let outcome = ClientOutcome::NotLeader {
                leader_hint: Some(PRIMARY),
            };
            ctx.send(client, Msg::Reply { seq, outcome });
            return;
        }
        // A retry of an answered request gets the same answer; one still in the log waits for it.
        if let Some((done, result)) = self.answered.get(&client)
            && *done == seq
        {
            let outcome = ClientOutcome::Done(result.clone());
            ctx.send(client, Msg::Reply { seq, outcome });
            return;
        }
        if self.log.iter().any(|e| e.client == client && e.seq == seq) {
            return;
        }
        let entry = Entry { client, seq, op };
        self.log.push(entry.clone());
        let index = self.log.len() as u64;
        for b in self.backups.clone() {
            ctx.send(
                b,
                Msg::Replicate {
                    index,
                    entry: entry.clone(),
                },
            );
        }
        ctx.set_timer(Timer::Resend, RESEND);
        self.commit(ctx);
    }

    /// Applies, in order, every entry all backups hold, and answers its client.
    fn commit(&mut self, ctx: &mut Ctx<'_, Node>) {
        let held = self
            .acked
            .values()
            .copied()
            .min()
            .unwrap_or(self.log.len() as u64);
        while self.applied < held.min(self.log.len() as u64) {
            let index = self.applied + 1;
            let entry = self.log[(index - 1) as usize].clone();
            let result = self.apply(ctx, index, &entry);
            let outcome = ClientOutcome::Done(result);
            ctx.send(
                entry.client,
                Msg::Reply {
                    seq: entry.seq,
                    outcome,
                },
            );
        }
    }

    fn on_replicate(&mut self, ctx: &mut Ctx<'_, Node>, index: u64, entry: Entry) {
        if self.apply_out_of_order {
            // The planted bug: whatever arrives is applied at once, gaps and all.
            if index > self.applied {
                self.apply(ctx, index, &entry);
            }
        } else if index > self.applied {
            self.early.insert(index, entry);
            while let Some(next) = self.early.remove(&(self.applied + 1)) {
                let i = self.applied + 1;
                self.apply(ctx, i, &next);
            }
        }
        ctx.send(
            PRIMARY,
            Msg::Ack {
                index: self.applied,
            },
        );
    }
}

impl Actor for Node {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = Disk;
    type Note = Note;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Node::Client(c) = self {
            c.on_start(ctx);
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (Node::Replica(r), Msg::Request { client, seq, op }) => {
                r.on_request(ctx, client, seq, op)
            }
            (Node::Replica(r), Msg::Replicate { index, entry }) => {
                r.on_replicate(ctx, index, entry)
            }
            (Node::Replica(r), Msg::Ack { index }) if r.is_primary() => {
                let held = r.acked.entry(from).or_insert(0);
                *held = (*held).max(index);
                r.commit(ctx);
            }
            (Node::Client(c), msg) => c.handle_msg(ctx, from, msg),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match (self, timer) {
            (Node::Replica(r), Timer::Resend) => {
                let mut behind = false;
                for b in r.backups.clone() {
                    let held = r.acked.get(&b).copied().unwrap_or(0);
                    for index in held + 1..=r.log.len() as u64 {
                        let entry = r.log[(index - 1) as usize].clone();
                        ctx.send(b, Msg::Replicate { index, entry });
                        behind = true;
                    }
                }
                if behind {
                    ctx.set_timer(Timer::Resend, RESEND);
                }
            }
            (Node::Client(c), timer) => c.handle_timer(ctx, timer),
            _ => {}
        }
    }

    fn role(&self) -> Role {
        match self {
            Node::Replica(r) if r.is_primary() => Some("primary"),
            Node::Replica(_) => Some("backup"),
            Node::Client(_) => None,
        }
    }
}

/// The protocol.
pub struct PrimaryBackup {
    cluster: distsim::contract::Cluster,
    ops_per_client: u32,
    apply_out_of_order: bool,
}

/// Parameters.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "default_ops")]
    ops_per_client: u32,
}

fn default_ops() -> u32 {
    20
}

impl Protocol for PrimaryBackup {
    type Actor = Node;
    type Model = KvModel;
    const NAME: &'static str = "primary_backup";
    const ABOUT: &'static str = "primary-backup replication (the library example)";
    const MUTANTS: &'static [Mutant] = &[Mutant {
        name: "pb.apply_out_of_order",
        about: "a backup applies entries as they arrive, not in log order",
    }];
    const PARAMS: &'static [Param] = &[Param {
        name: "ops_per_client",
        default: "20",
        about: "operations each client runs",
    }];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[(
        "same_order",
        "every replica applies the same operation at each log index, in index order",
    )];
    const ROLES: &'static [&'static str] = &["primary", "backup"];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        if setup.cluster.servers == 0 {
            return Err("nodes: primary-backup needs a primary".into());
        }
        let params: Params = if setup.params.is_null() {
            Params {
                ops_per_client: default_ops(),
            }
        } else {
            serde_path_to_error::deserialize(setup.params)
                .map_err(|e| format!("params.{}: {}", e.path(), e.inner()))?
        };
        Ok(PrimaryBackup {
            cluster: setup.cluster,
            ops_per_client: params.ops_per_client,
            apply_out_of_order: setup.mutants.iter().any(|m| m == "pb.apply_out_of_order"),
        })
    }

    fn new_actor(&self, id: NodeId) -> Node {
        if self.cluster.is_server(id) {
            Node::Replica(Replica {
                id,
                backups: (1..self.cluster.servers).collect(),
                apply_out_of_order: self.apply_out_of_order,
                log: Vec::new(),
                acked: (1..self.cluster.servers).map(|b| (b, 0)).collect(),
                applied: 0,
                kv: BTreeMap::new(),
                answered: BTreeMap::new(),
                early: BTreeMap::new(),
            })
        } else {
            let cfg = ClientConfig {
                ops_per_client: self.ops_per_client,
                keys: 2,
                get_weight: 1,
                put_weight: 1,
                cas_weight: 1,
                think_min: Duration::ZERO,
                think_max: Duration::from_millis(20),
                attempt_timeout: Duration::from_millis(200),
                op_deadline: Duration::from_millis(2_000),
            };
            Node::Client(Box::new(KvClient::new(id, self.cluster, cfg)))
        }
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<Node>>> {
        vec![Box::new(SameOrder::default())]
    }

    fn history_model(&self) -> Option<KvModel> {
        Some(KvModel)
    }

    fn leader_role(&self) -> Option<&'static str> {
        Some("primary")
    }
}

/// `same_order`: what each replica applied at each index, against the first replica that applied it.
#[derive(Default)]
pub struct SameOrder {
    first: BTreeMap<u64, (NodeId, NodeId, u64)>,
    last: BTreeMap<NodeId, u64>,
}

impl Checker<Node> for SameOrder {
    fn name(&self) -> &'static str {
        "same_order"
    }

    fn observe(&mut self, obs: &Observation<'_, Node>) -> Result<(), Failure> {
        for note in obs.notes {
            let Note::Applied { index, client, seq } = *note else {
                continue;
            };
            let last = self.last.entry(obs.node).or_insert(0);
            if index != *last + 1 {
                return Err(format!(
                    "node {} applied index {index} after {last}: it skipped or repeated entries",
                    obs.node
                )
                .into());
            }
            *last = index;
            match self.first.get(&index) {
                Some(&(who, c, s)) if (c, s) != (client, seq) => {
                    return Err(format!(
                        "index {index}: node {who} applied request {s} of client {c}, node {} \
                         applied request {seq} of client {client}",
                        obs.node
                    )
                    .into());
                }
                Some(_) => {}
                None => {
                    self.first.insert(index, (obs.node, client, seq));
                }
            }
        }
        Ok(())
    }
}
