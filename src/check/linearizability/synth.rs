//! Linearizable key-value histories of any size, for benchmarks and tests.
//!
//! Each client runs operations one after another with random durations and gaps; each operation takes
//! effect at a random instant strictly inside its interval, and results come from running a sequential
//! store in the order of those instants. The history is therefore linearizable by construction, with as
//! much overlap as the durations give. Some operations may end in `Info` (outcome unknown): those take
//! effect or not at random, and the client goes on under a fresh process id, as Jepsen's do.

use crate::contract::{EventKind, Func, History, HistoryEvent, Value};

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct SyntheticKv {
    /// How many operations in all.
    pub operations: usize,
    /// How many concurrent clients.
    pub clients: u64,
    /// How many keys.
    pub keys: u64,
    /// Out of 1000, how many operations end with an unknown outcome.
    pub unknown_per_mille: u64,
    /// Out of 1000, how many operations go to key `"0"` (the hot key) rather than a key drawn uniformly.
    pub hot_key_per_mille: u64,
    /// The seed: same seed, same history.
    pub seed: u64,
}

impl Default for SyntheticKv {
    fn default() -> Self {
        SyntheticKv {
            operations: 10_000,
            clients: 10,
            keys: 100,
            unknown_per_mille: 0,
            hot_key_per_mille: 0,
            seed: 1,
        }
    }
}

/// SplitMix64: a small seeded generator, enough for test data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        super::search::mix64(self.0)
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

struct Planned {
    process: u64,
    f: Func,
    key: String,
    argument: Value,
    invoke_ns: u64,
    effect_ns: u64,
    return_ns: u64,
    unknown: bool,
    /// For an unknown outcome: whether it took effect.
    happened: bool,
    result: Value,
}

/// Generates a linearizable key-value history (get / put / append on string keys, absent reads `""`).
pub fn synthetic_kv_history(spec: &SyntheticKv) -> History {
    let mut rng = SplitMix(spec.seed ^ 0xd1b5_4a32_d192_ed03);
    let clients = spec.clients.max(1);
    let keys = spec.keys.max(1);
    let mut planned: Vec<Planned> = Vec::with_capacity(spec.operations);
    let mut clock_ns = vec![0u64; clients as usize];
    let mut process_of: Vec<u64> = (0..clients).collect();
    let mut next_process = clients;
    for n in 0..spec.operations {
        let client = (rng.next() % clients) as usize;
        let invoke_ns = clock_ns[client] + rng.between(1, 10) * 1_000;
        let duration_ns = rng.between(2, 50) * 1_000;
        let effect_ns = invoke_ns + rng.between(1, duration_ns - 1);
        let return_ns = invoke_ns + duration_ns;
        clock_ns[client] = return_ns;
        // No draw when there is no hot key, so that such histories stay what they were.
        let key = if spec.hot_key_per_mille > 0 && rng.next() % 1000 < spec.hot_key_per_mille {
            "0".to_string()
        } else {
            (rng.next() % keys).to_string()
        };
        let (f, argument) = match rng.next() % 10 {
            0..=3 => (Func::GET, Value::Nil),
            4..=5 => (Func::PUT, Value::Str(format!("x {client} {n} y"))),
            _ => (Func::APPEND, Value::Str(format!("x {client} {n} y"))),
        };
        let unknown = rng.next() % 1000 < spec.unknown_per_mille;
        let happened = !unknown || rng.next().is_multiple_of(2);
        planned.push(Planned {
            process: process_of[client],
            f,
            key,
            argument,
            invoke_ns,
            effect_ns,
            return_ns,
            unknown,
            happened,
            result: Value::Nil,
        });
        if unknown {
            process_of[client] = next_process;
            next_process += 1;
        }
    }

    // Run the sequential store in the order the operations took effect.
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| (planned[i].effect_ns, i));
    let mut store: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for i in order {
        let op = &mut planned[i];
        if !op.happened {
            continue;
        }
        let Value::Str(arg) = &op.argument else {
            op.result = Value::Str(store.get(&op.key).cloned().unwrap_or_default());
            continue;
        };
        match op.f.as_str() {
            "put" => {
                store.insert(op.key.clone(), arg.clone());
            }
            _ => store.entry(op.key.clone()).or_default().push_str(arg),
        }
        op.result = op.argument.clone();
    }

    lay_out(&planned, true)
}

/// What register history to generate: reads and writes of distinct values on one register.
#[derive(Clone, Copy, Debug)]
pub struct SyntheticRegister {
    /// How many operations in all.
    pub operations: usize,
    /// How many concurrent clients (1: a sequential history).
    pub clients: u64,
    /// Out of 1000, how many operations are writes (the rest are reads).
    pub writes_per_mille: u64,
    /// Out of 1000, how many writes end with an unknown outcome (`Info`).
    pub unknown_writes_per_mille: u64,
    /// The seed: same seed, same history.
    pub seed: u64,
}

impl Default for SyntheticRegister {
    fn default() -> Self {
        SyntheticRegister {
            operations: 1_000,
            clients: 5,
            writes_per_mille: 500,
            unknown_writes_per_mille: 200,
            seed: 1,
        }
    }
}

/// Generates a linearizable single-register history (Jepsen's register: reads, and writes of distinct
/// integers). A write of unknown outcome takes effect or not at random, at an instant inside its interval,
/// and ends in `Info`; its client goes on under a fresh process id. Reads return what the register held
/// at their own instant, so every write that took effect and was read before being overwritten is seen.
pub fn synthetic_register_history(spec: &SyntheticRegister) -> History {
    let mut rng = SplitMix(spec.seed ^ 0x2545_f491_4f6c_dd1d);
    let clients = spec.clients.max(1);
    let mut planned: Vec<Planned> = Vec::with_capacity(spec.operations);
    let mut clock_ns = vec![0u64; clients as usize];
    let mut process_of: Vec<u64> = (0..clients).collect();
    let mut next_process = clients;
    for n in 0..spec.operations {
        let client = (rng.next() % clients) as usize;
        let invoke_ns = clock_ns[client] + rng.between(1, 10) * 1_000;
        let duration_ns = rng.between(2, 50) * 1_000;
        let effect_ns = invoke_ns + rng.between(1, duration_ns - 1);
        let return_ns = invoke_ns + duration_ns;
        clock_ns[client] = return_ns;
        let write = rng.next() % 1000 < spec.writes_per_mille;
        let (f, argument) = if write {
            (Func::WRITE, Value::Int(n as i64 + 1))
        } else {
            (Func::READ, Value::Nil)
        };
        let unknown = write && rng.next() % 1000 < spec.unknown_writes_per_mille;
        let happened = !unknown || rng.next().is_multiple_of(2);
        planned.push(Planned {
            process: process_of[client],
            f,
            key: String::new(),
            argument,
            invoke_ns,
            effect_ns,
            return_ns,
            unknown,
            happened,
            result: Value::Nil,
        });
        if unknown {
            process_of[client] = next_process;
            next_process += 1;
        }
    }
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| (planned[i].effect_ns, i));
    let mut register = Value::Nil;
    for i in order {
        let op = &mut planned[i];
        if !op.happened {
            continue;
        }
        if op.f == Func::WRITE {
            register = op.argument.clone();
            op.result = op.argument.clone();
        } else {
            op.result = register.clone();
        }
    }
    lay_out(&planned, false)
}

/// The events of planned operations in time order; ties keep invoke-before-return within the time, then
/// plan order. Unknown operations end in `Info`.
fn lay_out(planned: &[Planned], with_keys: bool) -> History {
    // Lay out the events in time order; ties keep invoke-before-return within the time, then plan order.
    let mut events: Vec<(u64, u8, usize, HistoryEvent)> = Vec::with_capacity(planned.len() * 2);
    for (i, op) in planned.iter().enumerate() {
        let key = with_keys.then(|| op.key.clone());
        events.push((
            op.invoke_ns,
            0,
            i,
            HistoryEvent {
                time_ns: op.invoke_ns,
                process: op.process,
                kind: EventKind::Invoke,
                f: op.f.clone(),
                key: key.clone(),
                value: op.argument.clone(),
            },
        ));
        let (kind, value) = if op.unknown {
            (EventKind::Info, op.argument.clone())
        } else {
            (EventKind::Ok, op.result.clone())
        };
        events.push((
            op.return_ns,
            1,
            i,
            HistoryEvent {
                time_ns: op.return_ns,
                process: op.process,
                kind,
                f: op.f.clone(),
                key,
                value,
            },
        ));
    }
    events.sort_by_key(|e| (e.0, e.1, e.2));
    History {
        events: events.into_iter().map(|e| e.3).collect(),
    }
}
