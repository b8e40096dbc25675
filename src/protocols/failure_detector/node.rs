//! A server: heartbeats every peer and judges each one with both detectors.

use super::phi::ArrivalWindow;
use crate::contract::{Actor, Ctx, Duration, NodeId, NoteLabel, Role, Time};
use serde::Serialize;

/// The two detectors every server runs side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// Suspects a peer silent for longer than a fixed timeout.
    Fixed,
    /// Suspects a peer when phi, from its inter-arrival history, exceeds a threshold.
    Phi,
}

/// Both detectors, in a fixed order.
pub const DETECTORS: [Detector; 2] = [Detector::Fixed, Detector::Phi];

/// A message.
#[derive(Clone, Debug, Serialize)]
pub enum Msg {
    /// "I am alive", with the sender's incarnation (its boot count) and a sequence number.
    Heartbeat {
        /// How many times the sender has started.
        incarnation: u64,
        /// Counts heartbeats within an incarnation.
        seq: u64,
    },
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// Send heartbeats.
    Heartbeat,
    /// Judge the peers.
    Check,
}

/// Notes: suspect and trust transitions.
#[derive(Clone, Debug, Serialize)]
pub enum Note {
    /// `detector` began to suspect `peer`, silent for `silent_ms`.
    Suspect {
        /// Which detector.
        detector: Detector,
        /// The peer.
        peer: NodeId,
        /// How long it had been silent, ms.
        silent_ms: u64,
    },
    /// `detector` trusts `peer` again: a heartbeat came.
    Trust {
        /// Which detector.
        detector: Detector,
        /// The peer.
        peer: NodeId,
    },
    /// The node noticed that it had itself been paused for `paused_ms` and judged no peer on the
    /// silence the pause caused.
    SelfPaused {
        /// How late its own check came, ms.
        paused_ms: u64,
    },
}

impl NoteLabel for Note {
    fn label(&self) -> &'static str {
        match self {
            Note::Suspect {
                detector: Detector::Fixed,
                ..
            } => "suspect_fixed",
            Note::Suspect {
                detector: Detector::Phi,
                ..
            } => "suspect_phi",
            Note::Trust {
                detector: Detector::Fixed,
                ..
            } => "trust_fixed",
            Note::Trust {
                detector: Detector::Phi,
                ..
            } => "trust_phi",
            Note::SelfPaused { .. } => "self_paused",
        }
    }
}

/// The settings every node shares.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Heartbeat period.
    pub heartbeat: Duration,
    /// Check period.
    pub check: Duration,
    /// The fixed detector's timeout.
    pub fixed_timeout: Duration,
    /// The phi detector's threshold as a standardised delay (see [`super::phi::y_threshold`]).
    pub y_threshold: f64,
    /// Window length, samples.
    pub window: usize,
    /// Least standard deviation, ns.
    pub min_std_ns: u64,
    /// The longest inter-arrival time recorded.
    pub max_sample: Duration,
    /// The `fd.never_suspect` mutant.
    pub never_suspect: bool,
}

/// What one server knows of one peer.
#[derive(Clone, Debug)]
pub struct PeerView {
    /// When its last heartbeat came (local time), or when this node started.
    pub last_arrival: Time,
    /// Its incarnation, as last heard.
    pub incarnation: Option<u64>,
    /// Its inter-arrival times.
    pub window: ArrivalWindow,
    /// Whether the fixed detector suspects it.
    pub fixed_suspect: bool,
    /// Whether the phi detector suspects it.
    pub phi_suspect: bool,
}

/// A failure-detector server.
#[derive(Clone, Debug)]
pub struct FdNode {
    settings: Settings,
    /// By peer id (this node's own slot is unused).
    peers: Vec<PeerView>,
    seq_next: u64,
    incarnation: u64,
    /// When the next check is due on the local clock: a handler running much later than that means
    /// this node was paused.
    check_due: Time,
    /// The local time at which a pause was last noticed: heartbeats handled at that instant were
    /// queued during the pause and say nothing about their senders' timing.
    resumed_at: Option<Time>,
}

impl FdNode {
    /// A fresh node (at the start and after every restart).
    pub fn new(settings: Settings, servers: u32) -> FdNode {
        let seed_ns = settings.heartbeat.as_nanos();
        let window = settings.window;
        FdNode {
            settings,
            peers: (0..servers)
                .map(|_| PeerView {
                    last_arrival: Time::ZERO,
                    incarnation: None,
                    window: ArrivalWindow::new(window, seed_ns),
                    fixed_suspect: false,
                    phi_suspect: false,
                })
                .collect(),
            seq_next: 0,
            incarnation: 0,
            check_due: Time::ZERO,
            resumed_at: None,
        }
    }

    /// What this node thinks of `peer`.
    pub fn view(&self, peer: NodeId) -> Option<&PeerView> {
        self.peers.get(peer as usize)
    }

    /// Notices a pause of this node itself: a handler running more than a check period after the
    /// check was due. The silence of every peer during the pause is this node's own, so the clocks
    /// of all peers restart now and the heartbeats queued during the pause are not timed.
    fn notice_pause(&mut self, ctx: &mut Ctx<'_, Self>) {
        let now = ctx.now();
        if now.0 > self.check_due.0 + self.settings.check.as_nanos() {
            let paused_ms = now.saturating_since(self.check_due).as_millis();
            self.check_due = now + self.settings.check;
            self.resumed_at = Some(now);
            for p in &mut self.peers {
                p.last_arrival = p.last_arrival.max(now);
            }
            ctx.note(Note::SelfPaused { paused_ms });
        }
    }

    fn check(&mut self, ctx: &mut Ctx<'_, Self>) {
        let now = ctx.now();
        let me = ctx.id();
        for peer in ctx.peers().collect::<Vec<_>>() {
            let s = &self.settings;
            let view = &mut self.peers[peer as usize];
            let silent = now.saturating_since(view.last_arrival);
            let fixed = !s.never_suspect && silent.as_nanos() > s.fixed_timeout.as_nanos();
            let phi = !s.never_suspect
                && view
                    .window
                    .suspects(silent.as_nanos(), s.y_threshold, s.min_std_ns);
            debug_assert!(peer != me);
            for (detector, verdict, state) in [
                (Detector::Fixed, fixed, &mut view.fixed_suspect),
                (Detector::Phi, phi, &mut view.phi_suspect),
            ] {
                if verdict && !*state {
                    *state = true;
                    ctx.note(Note::Suspect {
                        detector,
                        peer,
                        silent_ms: silent.as_millis(),
                    });
                }
            }
        }
    }

    fn heartbeat_from(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, incarnation: u64) {
        let now = ctx.now();
        let window_len = self.settings.window;
        let seed_ns = self.settings.heartbeat.as_nanos();
        let Some(view) = self.peers.get_mut(from as usize) else {
            return;
        };
        if view.incarnation.is_some_and(|i| incarnation < i) {
            return; // a heartbeat of an earlier life, delayed in the network
        }
        if view.incarnation != Some(incarnation) {
            // A new life: its old timing says nothing about this one.
            view.window = ArrivalWindow::new(window_len, seed_ns);
            view.incarnation = Some(incarnation);
        } else {
            let gap = now.saturating_since(view.last_arrival).as_nanos();
            // Gaps of zero are heartbeats queued behind each other (reordering, or this node's own
            // pause); a gap ending at a noticed pause is the pause's, not the peer's; a gap longer
            // than `max_sample` is an outage, which would blind the detector for a whole window.
            if gap > 0 && gap <= self.settings.max_sample.as_nanos() && self.resumed_at != Some(now)
            {
                view.window.push(gap);
            }
        }
        view.last_arrival = view.last_arrival.max(now);
        for (detector, state) in [
            (Detector::Fixed, &mut view.fixed_suspect),
            (Detector::Phi, &mut view.phi_suspect),
        ] {
            if *state {
                *state = false;
                ctx.note(Note::Trust {
                    detector,
                    peer: from,
                });
            }
        }
    }
}

impl Actor for FdNode {
    type Msg = Msg;
    type Timer = Timer;
    /// The boot count.
    type Durable = u64;
    type Note = Note;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        *ctx.durable_mut() += 1;
        self.incarnation = *ctx.durable();
        let now = ctx.now();
        for p in &mut self.peers {
            p.last_arrival = now;
        }
        self.check_due = now + self.settings.check;
        let first = ctx.random_duration(Duration::ZERO, self.settings.heartbeat);
        ctx.set_timer(Timer::Heartbeat, first);
        ctx.set_timer(Timer::Check, self.settings.check);
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.notice_pause(ctx);
        match msg {
            Msg::Heartbeat { incarnation, .. } => self.heartbeat_from(ctx, from, incarnation),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        self.notice_pause(ctx);
        match timer {
            Timer::Heartbeat => {
                ctx.broadcast(Msg::Heartbeat {
                    incarnation: self.incarnation,
                    seq: self.seq_next,
                });
                self.seq_next += 1;
                ctx.set_timer(Timer::Heartbeat, self.settings.heartbeat);
            }
            Timer::Check => {
                self.check(ctx);
                self.check_due = ctx.now() + self.settings.check;
                ctx.set_timer(Timer::Check, self.settings.check);
            }
        }
    }

    fn role(&self) -> Role {
        Some("monitor")
    }
}
