//! Ping-pong: the smallest protocol, for testing and benchmarking the engine itself.
//!
//! Every server, on a timer every `interval_ms`, sends a `Ping` to a peer drawn from its own random
//! stream; a server that receives a `Ping` answers `Pong`. There is no shared state and nothing to get
//! wrong, so one checker can hold it to an exact promise: a `Pong` only ever answers a `Ping` that
//! node actually sent (the `pong_matches_ping` checker; the `pingpong.pong_wrong_seq` mutant breaks it).

use crate::contract::{
    Actor, Checker, Ctx, Duration, Failure, Mutant, NoModel, NodeId, NoteLabel, Observation, Param,
    Protocol, Role, Setup, parse_params,
};
use serde::{Deserialize, Serialize};

/// Parameters (`"params"` in the scenario).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// How often each server pings, in milliseconds.
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
}

fn default_interval_ms() -> u64 {
    10
}

impl Default for Params {
    fn default() -> Self {
        Params {
            interval_ms: default_interval_ms(),
        }
    }
}

/// A message.
#[derive(Clone, Debug, Serialize)]
pub enum Msg {
    /// "Are you there?" with the sender's sequence number.
    Ping {
        /// Sequence number.
        seq: u64,
    },
    /// "Yes", echoing the ping's sequence number.
    Pong {
        /// Sequence number of the ping answered.
        seq: u64,
    },
}

/// The only timer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Timer {
    /// Time to ping.
    Tick,
}

/// Notes.
#[derive(Clone, Debug, Serialize)]
pub enum Note {
    /// A pong arrived for ping `seq` sent to `from`.
    Ponged {
        /// The answering node.
        from: NodeId,
        /// The sequence number it echoed.
        seq: u64,
    },
}

impl NoteLabel for Note {
    fn label(&self) -> &'static str {
        "ponged"
    }
}

/// A ping-pong node.
#[derive(Clone, Debug)]
pub struct Node {
    interval: Duration,
    seq_next: u64,
    wrong_seq: bool,
}

impl Actor for Node {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = ();
    type Note = Note;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.cluster().is_server(ctx.id()) {
            let first = ctx.random_duration(Duration::ZERO, self.interval);
            ctx.set_timer(Timer::Tick, first);
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Ping { seq } => {
                let seq = if self.wrong_seq { seq + 1 } else { seq };
                ctx.send(from, Msg::Pong { seq });
            }
            Msg::Pong { seq } => ctx.note(Note::Ponged { from, seq }),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: Timer) {
        let servers = u64::from(ctx.cluster().servers);
        if servers > 1 {
            // Any server but this one.
            let pick = ctx.random_between(0, servers - 2) as NodeId;
            let to = if pick >= ctx.id() { pick + 1 } else { pick };
            ctx.send(to, Msg::Ping { seq: self.seq_next });
            self.seq_next += 1;
        }
        ctx.set_timer(Timer::Tick, self.interval);
    }

    fn role(&self) -> Role {
        None
    }
}

/// The protocol.
pub struct PingPong {
    params: Params,
    wrong_seq: bool,
}

impl Protocol for PingPong {
    type Actor = Node;
    type Model = NoModel;
    const NAME: &'static str = "pingpong";
    const ABOUT: &'static str =
        "servers ping random peers and count pongs (engine tests and benchmarks)";
    const MUTANTS: &'static [Mutant] = &[Mutant {
        name: "pingpong.pong_wrong_seq",
        about: "a pong echoes the wrong sequence number",
    }];
    const PARAMS: &'static [Param] = &[Param {
        name: "interval_ms",
        default: "10",
        about: "how often each server pings, ms",
    }];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[(
        "pong_matches_ping",
        "every pong echoes a sequence number its receiver used for a ping",
    )];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let params: Params = parse_params(setup.params)?;
        if params.interval_ms == 0 {
            return Err("params.interval_ms: must be at least 1".into());
        }
        Ok(PingPong {
            params,
            wrong_seq: setup.mutants.iter().any(|m| m == "pingpong.pong_wrong_seq"),
        })
    }

    fn new_actor(&self, _id: NodeId) -> Node {
        Node {
            interval: Duration::from_millis(self.params.interval_ms),
            seq_next: 0,
            wrong_seq: self.wrong_seq,
        }
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<Node>>> {
        vec![Box::new(PongMatchesPing::default())]
    }
}

/// Every pong echoes a sequence number the receiving node has already used for a ping.
///
/// A node's `seq_next` is volatile: a restart sets it back to 0 while pongs for the pings it sent before
/// the crash are still in flight. So the checker keeps its own ghost record, per node, of the most pings
/// that node has ever sent (the highest `seq_next` it has seen), which no crash erases.
#[derive(Default)]
pub struct PongMatchesPing {
    /// Per node: one past the highest sequence number it has ever used.
    sent_ever: Vec<u64>,
}

impl Checker<Node> for PongMatchesPing {
    fn name(&self) -> &'static str {
        "pong_matches_ping"
    }

    fn observe(&mut self, obs: &Observation<'_, Node>) -> Result<(), Failure> {
        let i = obs.node as usize;
        if self.sent_ever.len() <= i {
            self.sent_ever.resize(i + 1, 0);
        }
        // A handler either sends a ping or notes a pong, never both, so updating first is exact.
        let sent_ever = &mut self.sent_ever[i];
        *sent_ever = (*sent_ever).max(obs.state.seq_next);
        for note in obs.notes {
            let Note::Ponged { from, seq } = note;
            if *seq >= *sent_ever {
                return Err(format!(
                    "node {} got a pong from {from} for ping {seq}, which it never sent",
                    obs.node
                )
                .into());
            }
        }
        Ok(())
    }
}
