//! A Redlock client: acquires the lock on a majority of the lock servers, works, writes to storage,
//! releases; again, `holds_per_client` times.
//!
//! One acquisition: note the local time `start`, send `Lock` with a fresh random value to every lock
//! server, and count grants. With a majority of grants, the lock is valid until
//! `start + TTL - drift allowance` on the client's clock (Redlock's `TTL - elapsed - drift`, measured
//! from before the first request, so the servers' TTLs started no earlier). No validity left, or no
//! majority within the round: unlock everywhere and retry after a random backoff.
//!
//! With fencing, a second round fixes the token: the client takes one more than the highest counter
//! its majority reported and commits it on the servers still holding its lock; a majority of commits
//! makes it the holder. Any later acquisition's majority meets this one's commit majority on some
//! server, which either committed first (so the later token is higher) or had already given the lock
//! to the later acquirer (so this commit fails there): tokens only increase.
//!
//! Holding: the client checks its validity covers the work, does the work (`work_ms`), then writes
//! without looking at the clock again. That gap is where a stop-the-world pause hurts: a client that
//! sleeps through its validity wakes and writes as if it still held the lock.

use super::LockActor;
use super::message::{LockTimer, Msg};
use super::note::LockNote;
use crate::contract::{Ctx, Duration, EventKind, Func, NodeId, Time, Value};
use std::collections::{BTreeMap, BTreeSet};

/// History function: take the lock (its `ok` value is the token).
pub const ACQUIRE: Func = Func::from_static("acquire");
/// History function: release the lock (its value is the token).
pub const RELEASE: Func = Func::from_static("release");

/// What a client needs to know.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The lock servers.
    pub lock_servers: Vec<NodeId>,
    /// The storage node.
    pub storage: NodeId,
    /// The TTL asked of the servers.
    pub ttl: Duration,
    /// The drift allowance subtracted from the validity (zero under `lock.no_drift_allowance`).
    pub drift_allowance: Duration,
    /// How long one round waits.
    pub round_timeout: Duration,
    /// Backoff range after a failed acquisition.
    pub backoff: (Duration, Duration),
    /// The work between the validity check and the write.
    pub work: Duration,
    /// Think range after a release.
    pub think: (Duration, Duration),
    /// How long to wait for storage.
    pub write_timeout: Duration,
    /// How many holds to do.
    pub holds: u32,
    /// Whether to run the fencing round.
    pub fencing: bool,
}

/// Where a client stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Thinking or backing off.
    Idle,
    /// Waiting for grants.
    Locking {
        nonce: u64,
        start: Time,
        grants: BTreeMap<NodeId, u64>,
        replied: BTreeSet<NodeId>,
    },
    /// Waiting for the fencing token to be committed.
    Committing {
        nonce: u64,
        start: Time,
        token: u64,
        granted: Vec<NodeId>,
        acks: BTreeSet<NodeId>,
        replied: BTreeSet<NodeId>,
    },
    /// Holding the lock, working.
    Working { nonce: u64, token: u64 },
    /// Holding the lock, waiting for storage.
    Writing { nonce: u64, token: u64 },
    /// All holds done.
    Done,
}

/// A lock client.
#[derive(Clone, Debug)]
pub struct Client {
    config: ClientConfig,
    phase: Phase,
    /// The acquisition it believes it holds, and until when on its own clock.
    belief: Option<(u64, Time)>,
}

impl Client {
    /// A client that has not started.
    pub fn new(config: ClientConfig) -> Client {
        Client {
            config,
            phase: Phase::Idle,
            belief: None,
        }
    }

    /// Whether it believes it holds the lock.
    pub fn believes_held(&self) -> bool {
        self.belief.is_some()
    }

    fn process(ctx: &Ctx<'_, LockActor>) -> u64 {
        (u64::from(ctx.id()) << 32) | ctx.durable().client_generation
    }

    fn majority(&self) -> usize {
        self.config.lock_servers.len() / 2 + 1
    }

    /// Starts (or restarts): a fresh history process, then the next hold.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, LockActor>) {
        ctx.durable_mut().client_generation += 1;
        self.schedule_next(ctx, self.config.think);
    }

    fn schedule_next(&mut self, ctx: &mut Ctx<'_, LockActor>, range: (Duration, Duration)) {
        if ctx.durable().holds_done >= self.config.holds {
            self.phase = Phase::Done;
            return;
        }
        self.phase = Phase::Idle;
        let wait = ctx.random_duration(range.0, range.1);
        ctx.set_timer(LockTimer::Attempt, wait);
    }

    fn begin_attempt(&mut self, ctx: &mut Ctx<'_, LockActor>) {
        let nonce = ctx.rng().next_u64();
        let ttl_ms = self.config.ttl.as_millis();
        for &s in &self.config.lock_servers {
            ctx.send(s, Msg::Lock { nonce, ttl_ms });
        }
        ctx.set_timer(LockTimer::RoundTimeout, self.config.round_timeout);
        let process = Self::process(ctx);
        ctx.invoke(process, ACQUIRE, None, Value::Nil);
        ctx.note(LockNote::AttemptStarted { nonce });
        self.phase = Phase::Locking {
            nonce,
            start: ctx.now(),
            grants: BTreeMap::new(),
            replied: BTreeSet::new(),
        };
    }

    /// Until when the lock is valid, on this clock, for an acquisition that started at `start`;
    /// `None` if no validity is left.
    fn valid_until(&self, start: Time, now: Time) -> Option<Time> {
        let ttl = self.config.ttl.as_nanos();
        let allowance = self.config.drift_allowance.as_nanos();
        let until = Time(
            start
                .as_nanos()
                .saturating_add(ttl.saturating_sub(allowance)),
        );
        (ttl > allowance && until > now).then_some(until)
    }

    /// Handles a message.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, LockActor>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Granted { nonce, counter } => {
                if let Phase::Locking {
                    nonce: n,
                    grants,
                    replied,
                    ..
                } = &mut self.phase
                    && *n == nonce
                {
                    grants.insert(from, counter);
                    replied.insert(from);
                    self.check_lock_round(ctx, false);
                }
            }
            Msg::Busy { nonce } => {
                if let Phase::Locking {
                    nonce: n, replied, ..
                } = &mut self.phase
                    && *n == nonce
                {
                    replied.insert(from);
                    self.check_lock_round(ctx, false);
                }
            }
            Msg::Committed { nonce } | Msg::CommitRefused { nonce } => {
                let ok = matches!(msg, Msg::Committed { .. });
                if let Phase::Committing {
                    nonce: n,
                    acks,
                    replied,
                    ..
                } = &mut self.phase
                    && *n == nonce
                {
                    if ok {
                        acks.insert(from);
                    }
                    replied.insert(from);
                    self.check_commit_round(ctx, false);
                }
            }
            Msg::WriteAck { nonce, accepted } => {
                if let Phase::Writing { nonce: n, token } = self.phase
                    && n == nonce
                {
                    ctx.cancel_timer(LockTimer::WriteTimeout);
                    let kind = if accepted {
                        EventKind::Ok
                    } else {
                        EventKind::Fail
                    };
                    let process = Self::process(ctx);
                    let value = Self::write_value(ctx, token);
                    ctx.complete(process, kind, Func::WRITE, None, value);
                    self.release(ctx, nonce, token);
                }
            }
            Msg::Lock { .. } | Msg::Commit { .. } | Msg::Unlock { .. } | Msg::Write { .. } => {}
        }
    }

    fn check_lock_round(&mut self, ctx: &mut Ctx<'_, LockActor>, timed_out: bool) {
        let Phase::Locking {
            nonce,
            start,
            grants,
            replied,
        } = &self.phase
        else {
            return;
        };
        let (nonce, start) = (*nonce, *start);
        let granted = grants.len() as u32;
        if granted as usize >= self.majority() {
            let token = grants.values().max().copied().unwrap_or(0) + 1;
            let Some(_) = self.valid_until(start, ctx.now()) else {
                return self.fail(ctx, nonce, granted);
            };
            if self.config.fencing {
                let granted: Vec<NodeId> = grants.keys().copied().collect();
                for &s in &granted {
                    ctx.send(s, Msg::Commit { nonce, token });
                }
                ctx.set_timer(LockTimer::RoundTimeout, self.config.round_timeout);
                self.phase = Phase::Committing {
                    nonce,
                    start,
                    token,
                    granted,
                    acks: BTreeSet::new(),
                    replied: BTreeSet::new(),
                };
            } else {
                self.hold(ctx, nonce, start, token);
            }
        } else if timed_out || replied.len() == self.config.lock_servers.len() {
            self.fail(ctx, nonce, granted);
        }
    }

    fn check_commit_round(&mut self, ctx: &mut Ctx<'_, LockActor>, timed_out: bool) {
        let Phase::Committing {
            nonce,
            start,
            token,
            granted,
            acks,
            replied,
        } = &self.phase
        else {
            return;
        };
        let (nonce, start, token) = (*nonce, *start, *token);
        if acks.len() >= self.majority() {
            self.hold(ctx, nonce, start, token);
        } else if timed_out || replied.len() == granted.len() {
            let n = acks.len() as u32;
            self.fail(ctx, nonce, n);
        }
    }

    fn hold(&mut self, ctx: &mut Ctx<'_, LockActor>, nonce: u64, start: Time, token: u64) {
        ctx.cancel_timer(LockTimer::RoundTimeout);
        let now = ctx.now();
        let Some(until) = self.valid_until(start, now) else {
            let n = self.majority() as u32;
            return self.fail(ctx, nonce, n);
        };
        let remaining = until.saturating_since(now);
        self.belief = Some((nonce, until));
        ctx.note(LockNote::Acquired {
            nonce,
            token,
            remaining_ns: remaining.as_nanos(),
        });
        let process = Self::process(ctx);
        ctx.complete(
            process,
            EventKind::Ok,
            ACQUIRE,
            None,
            Value::Int(token as i64),
        );
        ctx.set_timer(LockTimer::Expire, remaining);
        // The validity check: only start work that the validity covers. The write at its end does
        // not look at the clock again.
        if remaining.as_nanos() > self.config.work.as_nanos() {
            self.phase = Phase::Working { nonce, token };
            ctx.set_timer(LockTimer::WorkDone, self.config.work);
        } else {
            self.release(ctx, nonce, token);
        }
    }

    /// The value this hold writes: unique per client and hold.
    fn write_number(ctx: &Ctx<'_, LockActor>) -> i64 {
        i64::from(ctx.id()) * 1_000_000 + i64::from(ctx.durable().holds_done)
    }

    /// A write's history value: `[token value]`.
    fn write_value(ctx: &Ctx<'_, LockActor>, token: u64) -> Value {
        let value = Self::write_number(ctx);
        Value::List(vec![Value::Int(token as i64), Value::Int(value)])
    }

    fn fail(&mut self, ctx: &mut Ctx<'_, LockActor>, nonce: u64, grants: u32) {
        ctx.cancel_timer(LockTimer::RoundTimeout);
        for &s in &self.config.lock_servers {
            ctx.send(s, Msg::Unlock { nonce });
        }
        let process = Self::process(ctx);
        ctx.complete(process, EventKind::Fail, ACQUIRE, None, Value::Nil);
        ctx.note(LockNote::AttemptFailed { nonce, grants });
        self.schedule_next(ctx, self.config.backoff);
    }

    fn release(&mut self, ctx: &mut Ctx<'_, LockActor>, nonce: u64, token: u64) {
        for &s in &self.config.lock_servers {
            ctx.send(s, Msg::Unlock { nonce });
        }
        ctx.cancel_timer(LockTimer::Expire);
        self.belief = None;
        ctx.note(LockNote::Released { nonce });
        let process = Self::process(ctx);
        let value = Value::Int(token as i64);
        ctx.invoke(process, RELEASE, None, value.clone());
        ctx.complete(process, EventKind::Ok, RELEASE, None, value);
        ctx.durable_mut().holds_done += 1;
        self.schedule_next(ctx, self.config.think);
    }

    /// Handles a timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, LockActor>, timer: LockTimer) {
        match timer {
            LockTimer::Attempt => {
                if self.phase == Phase::Idle {
                    self.begin_attempt(ctx);
                }
            }
            LockTimer::RoundTimeout => {
                self.check_lock_round(ctx, true);
                self.check_commit_round(ctx, true);
            }
            LockTimer::WorkDone => {
                if let Phase::Working { nonce, token } = self.phase {
                    let storage = self.config.storage;
                    let write = Self::write_value(ctx, token);
                    let value = Self::write_number(ctx);
                    ctx.send(
                        storage,
                        Msg::Write {
                            nonce,
                            token,
                            value,
                        },
                    );
                    let process = Self::process(ctx);
                    ctx.invoke(process, Func::WRITE, None, write);
                    ctx.set_timer(LockTimer::WriteTimeout, self.config.write_timeout);
                    self.phase = Phase::Writing { nonce, token };
                }
            }
            LockTimer::WriteTimeout => {
                if let Phase::Writing { nonce, token } = self.phase {
                    let process = Self::process(ctx);
                    let value = Self::write_value(ctx, token);
                    ctx.complete(process, EventKind::Info, Func::WRITE, None, value);
                    // The write's outcome is unknown: this process stays open for ever.
                    ctx.durable_mut().client_generation += 1;
                    self.release(ctx, nonce, token);
                }
            }
            LockTimer::Expire => {
                if let Some((nonce, _)) = self.belief.take() {
                    ctx.note(LockNote::Expired { nonce });
                }
            }
        }
    }
}
