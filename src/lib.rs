#![warn(missing_docs)]
//! distsim: a deterministic discrete-event simulator for distributed algorithms.
//!
//! One seed plus one JSON scenario fixes a whole run, byte for byte. A virtual network delays, drops,
//! duplicates and reorders messages, cuts partitions, crashes, restarts and pauses nodes, and skews
//! their clocks. Protocols run as sans-IO actors ([`contract::Actor`]); checkers catch safety violations
//! as they happen and liveness failures after the faults heal; every run can write a JSONL trace that
//! replays alone.
//!
//! # The determinism contract
//!
//! The same binary, scenario and seed give the same trace, byte for byte, in debug and release, on any
//! machine. Inside a run:
//! - every consumer draws from its own ChaCha8 stream derived from the master seed by name
//!   ([`contract::Rng::stream`]), so one more draw in one place never shifts another;
//! - events are ordered by `(time, seq)`, `seq` counting insertions ([`sim::queue::EventQueue`]);
//! - no hash-ordered collection, wall clock, OS randomness or thread is visible (enforced by
//!   `clippy.toml`); probabilities are integer parts per million; floats never decide anything;
//! - parallelism only ever runs separate seeds, never the inside of one run.
//!
//! # Files
//!
//! Every file distsim writes goes through [`output::OutputFile`] (a unique temporary file renamed into
//! place when complete; devices, pipes and the standard streams written directly; symlinks followed;
//! temporaries removed on SIGINT or SIGTERM), and every file it reads is capped ([`input`]). Text from
//! input is escaped before it is printed ([`text::escaped`]).
//!
//! # Your own protocol
//!
//! Implement [`contract::Actor`] for the nodes and [`contract::Protocol`] for the setup, then run any
//! scenario with [`run::run_protocol`]:
//!
//! ```
//! use distsim::contract::{
//!     Actor, Checker, Ctx, Duration, Mutant, NoModel, NodeId, NoteLabel, Protocol, Setup,
//! };
//! use distsim::run::{RunOptions, run_protocol};
//! use serde::Serialize;
//!
//! /// Node 0 tells everyone a number once; the others note what they heard.
//! struct Shout;
//! #[derive(Clone, Debug, Serialize)]
//! struct Heard(u64);
//! impl NoteLabel for Heard {
//!     fn label(&self) -> &'static str { "heard" }
//! }
//! impl Actor for Shout {
//!     type Msg = u64;
//!     type Timer = ();
//!     type Durable = ();
//!     type Note = Heard;
//!     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
//!         if ctx.id() == 0 {
//!             ctx.set_timer((), Duration::from_millis(5));
//!         }
//!     }
//!     fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: u64) {
//!         ctx.note(Heard(msg));
//!     }
//!     fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: ()) {
//!         ctx.broadcast(42);
//!     }
//! }
//! struct ShoutProtocol;
//! impl Protocol for ShoutProtocol {
//!     type Actor = Shout;
//!     type Model = NoModel;
//!     const NAME: &'static str = "shout";
//!     const ABOUT: &'static str = "one node shouts";
//!     const MUTANTS: &'static [Mutant] = &[];
//!     fn setup(_: &Setup<'_>) -> Result<Self, String> { Ok(ShoutProtocol) }
//!     fn new_actor(&self, _id: NodeId) -> Shout { Shout }
//!     fn checkers(&self) -> Vec<Box<dyn Checker<Shout>>> { Vec::new() }
//! }
//!
//! let (scenario, source) = distsim::scenario::parse(
//!     br#"{"name": "shout", "protocol": "shout", "seed": 1, "nodes": 3, "max_time_ms": 100}"#,
//!     "inline.json",
//! ).unwrap();
//! let out = run_protocol::<ShoutProtocol>(&scenario, Some(&source), &RunOptions::default()).unwrap();
//! assert_eq!(out.report.notes["heard"], 2);
//! assert_eq!(out.report.counts.messages_sent, 2);
//! ```

pub mod check;
pub mod cli;
pub mod contract;
pub mod fault;
pub mod input;
pub mod net;
pub mod output;
pub mod protocols;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod testing;
pub mod text;
pub mod trace;
mod wall_clock;
