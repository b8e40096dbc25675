//! The search for a linearization of one part of a history (Wing & Gong, with Lowe's memoisation).
//!
//! The completed operations' call and return points form one list in history order. The search walks
//! the list from its head: at a call, it tries to place that operation next (the model must accept it in
//! the current state); if it can, and the configuration reached — the set of placed operations and the
//! model state — was never seen before, it *lifts* the operation (its call and its return leave the list,
//! the operation goes on a stack) and starts again from the head. Meeting a return means the operation
//! that ended there has not been placed although everything left began after it ended: the last placement
//! was wrong, so the search pops it, puts its entries back exactly where they were (the list is doubly
//! linked and indices never move, so undoing is O(1)) and tries the next candidate after it.
//!
//! The memo of configurations (Lowe) is what makes this fast: two orders that place the same operations
//! and end in the same state have the same future, so the second is never explored. Configurations are
//! keyed on the set of placed operations, hashed incrementally (one random word per operation, XORed in
//! and out), together with the state's hash; the memo stores only the set's live window past the prefix
//! of operations that are all placed, so its size follows the history's concurrency, not its length.
//! Operations of unknown outcome are kept in a set of their own (hash-consed) and compared by inclusion:
//! a configuration is covered by one with the same completed operations, the same state and fewer unknown
//! ones placed (see the memo module).
//!
//! Three refinements of our own, all of which keep the search complete:
//!
//! - **Operations of unknown outcome** have no return point: nothing forces them to be placed, so the
//!   search succeeds as soon as every operation that did complete is placed, and the unknown ones left
//!   over are taken never to have happened. They sit in a second list and are tried only after every
//!   completed candidate, so the search does not wander through placements nobody asked for.
//! - **A read-only operation** (one that changes no state, whatever the state: a read, a failed
//!   compare-and-set; see [`Model::read_only`]) that can be placed now is placed without trying
//!   alternatives: if any linearization exists from here, one exists that places it first (it began
//!   before every unplaced operation returned, so real time allows it; it fits the current state; and
//!   taking it out of its later place changes no state any other operation sees). So when it fails, or
//!   reaches an explored configuration, the configuration before it fails too. Reads are most of a
//!   history; this removes their branching. (A write that happens to leave the current state as it was
//!   does not qualify: at its later place it may have changed the state.)
//!
//! - **A blind write of unknown outcome** (one that every state accepts and whose result does not depend on
//!   the state before: a write, a put; see [`Model::blind_write`]) is placed only where it changes the
//!   state and the very next operation placed is not a blind write and accepts the state it leaves. Take
//!   any linearization and delete every unknown blind write that is followed by a blind write or by
//!   nothing, or that leaves the state as it was: the state every other operation sees is unchanged, and
//!   unknown operations need not happen, so it is still a linearization, and in it every unknown blind
//!   write is followed by an operation that observes it. The search looks only for such linearizations.
//!   This composes with the rule for read-only operations (moving a read to the front can leave at most
//!   one unknown blind write unobserved, which is then deleted) and with the memo (a configuration
//!   records whether its next operation must observe). So an unknown write is tried only just before an
//!   operation that could see it, and when every such operation fits one state only (a read, a
//!   compare-and-set: [`Model::only_state`]) only writes that leave that state are tried at all: this is
//!   what makes histories with hundreds of timed-out writes cheap.
//!
//! The search is deterministic: same operations, same model, same budget — same answer, same witness,
//! same count of explored states. Only the opt-in wall-clock deadline can change the answer (to
//! "unknown").

use super::memo::{Config, MAP_SLOT_BYTES, Memo, UnknownSets};
use crate::contract::{Model, Step};
use crate::wall_clock::Deadline;
use std::hash::{Hash, Hasher};

/// No node.
pub(crate) const NIL: u32 = u32::MAX;
/// The head sentinel of the completed operations' list.
const HEAD: u32 = 0;
/// How many loop turns between two looks at the clock.
const CLOCK_EVERY_TURNS: u64 = 4096;

/// One operation of the part being searched.
pub(crate) struct PartOp<'a, O> {
    /// The model's form of the operation.
    pub(crate) op: &'a O,
    /// Its invoke's position in the history.
    pub(crate) call: usize,
    /// Its completion's position, or `None` when the outcome is unknown.
    pub(crate) ret: Option<usize>,
}

/// How much the search may do.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    /// The most configurations it may explore.
    pub(crate) states_max: u64,
    /// The most steps (candidates tried in the model) it may take.
    pub(crate) steps_max: u64,
    /// The most bytes its memo and stack may hold, counted from sizes (deterministic).
    pub(crate) bytes_max: u64,
    /// When it must stop, if ever.
    pub(crate) deadline: Option<Deadline>,
}

/// Why the search stopped without an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exhausted {
    /// The explored-states budget ran out.
    States,
    /// The steps budget ran out.
    Steps,
    /// The memory budget ran out.
    Bytes,
    /// The wall-clock deadline passed.
    Deadline,
}

/// The deepest dead end the search met, in the part's own operation indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeadEnd {
    /// The operations placed, in order.
    pub(crate) prefix: Vec<u32>,
    /// The operation whose return was reached without it being placed.
    pub(crate) blocked: u32,
    /// Other operations that could have been placed next (begun before that return), in history order.
    pub(crate) candidates: Vec<u32>,
    /// Which of the starting states the prefix starts from (an index into the search's `starts`).
    pub(crate) start: u32,
}

/// One state a linearization of the whole part can end in (see [`search_ends`]).
#[derive(Clone, Debug)]
pub(crate) struct End<S> {
    /// The state.
    pub(crate) state: S,
    /// The starting state the linearization began from (an index into `starts`).
    pub(crate) start: u32,
    /// The linearization that first reached it: the part's operations, in order.
    pub(crate) path: Vec<u32>,
}

/// The search's answer for one part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Linearizable,
    NotLinearizable(DeadEnd),
    Unknown(Exhausted),
}

/// The answer and the work done.
#[derive(Clone, Debug)]
pub(crate) struct SearchResult {
    pub(crate) outcome: Outcome,
    pub(crate) explored_states: u64,
    /// The most bytes the search held at once, counted from sizes.
    pub(crate) peak_bytes: u64,
    /// The steps it took (candidates tried in the model).
    pub(crate) steps: u64,
}

/// A multiply-rotate hasher (the Fx design) for model states: fast on the small keys states are made of.
/// Its quality is enough because its output goes through a final mix before it is used.
#[derive(Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// SplitMix64's finaliser: spreads every input bit over the whole word.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[inline]
fn state_hash<S: Hash>(state: &S) -> u64 {
    let mut hasher = FxHasher::default();
    state.hash(&mut hasher);
    mix64(hasher.finish())
}

/// The call/return lists, as parallel arrays indexed by node. Node [`HEAD`] heads the list of completed
/// operations' calls and returns; node [`UNKNOWN_HEAD`] heads the list of unknown operations' calls (they
/// have no return).
struct Entries {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The operation of each node.
    op: Vec<u32>,
    /// Each node's position in the history (`usize::MAX` for the heads).
    pos: Vec<usize>,
    /// For a call node, its return node (`NIL` for an operation of unknown outcome); for a return, `NIL`.
    partner: Vec<u32>,
    is_call: Vec<bool>,
}

/// The head of the unknown operations' list.
const UNKNOWN_HEAD: u32 = 1;

impl Entries {
    fn build<O>(ops: &[PartOp<'_, O>]) -> Self {
        // (position in the history, operation, is it the call)
        let mut points: Vec<(usize, u32, bool)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            points.push((op.call, i as u32, true));
            if let Some(ret) = op.ret {
                points.push((ret, i as u32, false));
            }
        }
        // Positions are distinct event indices, so this order is total.
        points.sort_unstable_by_key(|&(pos, op, is_call)| (pos, !is_call, op));
        let nodes = points.len() + 2;
        let mut entries = Entries {
            next: vec![NIL; nodes],
            prev: vec![NIL; nodes],
            op: vec![NIL; nodes],
            pos: vec![usize::MAX; nodes],
            partner: vec![NIL; nodes],
            is_call: vec![false; nodes],
        };
        let mut tails = [HEAD, UNKNOWN_HEAD];
        let mut call_node = vec![NIL; ops.len()];
        for (k, &(pos, op, is_call)) in points.iter().enumerate() {
            let node = k as u32 + 2;
            let n = node as usize;
            entries.op[n] = op;
            entries.pos[n] = pos;
            entries.is_call[n] = is_call;
            if is_call {
                call_node[op as usize] = node;
            } else {
                entries.partner[call_node[op as usize] as usize] = node;
            }
            let list = usize::from(ops[op as usize].ret.is_none());
            entries.next[tails[list] as usize] = node;
            entries.prev[n] = tails[list];
            tails[list] = node;
        }
        entries
    }

    /// Whether `node` is a node (not `NIL`) that comes before the return `ret` (`NIL`: the end).
    #[inline]
    fn before(&self, node: u32, ret: u32) -> bool {
        node != NIL && (ret == NIL || self.pos[node as usize] < self.pos[ret as usize])
    }

    #[inline]
    fn unlink(&mut self, n: u32) {
        let (p, x) = (self.prev[n as usize], self.next[n as usize]);
        self.next[p as usize] = x;
        if x != NIL {
            self.prev[x as usize] = p;
        }
    }

    #[inline]
    fn relink(&mut self, n: u32) {
        let (p, x) = (self.prev[n as usize], self.next[n as usize]);
        self.next[p as usize] = n;
        if x != NIL {
            self.prev[x as usize] = n;
        }
    }

    /// Takes a call and its return out of the lists.
    #[inline]
    fn lift(&mut self, call: u32) {
        self.unlink(call);
        let ret = self.partner[call as usize];
        if ret != NIL {
            self.unlink(ret);
        }
    }

    /// Puts them back, in the reverse order of [`Entries::lift`].
    #[inline]
    fn unlift(&mut self, call: u32) {
        let ret = self.partner[call as usize];
        if ret != NIL {
            self.relink(ret);
        }
        self.relink(call);
    }
}

/// Where the search is looking for the next operation to place.
#[derive(Clone, Copy)]
enum Cursor {
    /// At this node of the completed operations' list.
    Completed(u32),
    /// At this node of the unknown operations' list, considering only calls before the return `ret` (the
    /// first return left in the completed list, or `NIL` for none).
    Unknown { node: u32, ret: u32 },
    /// Nothing more to try here: take back the last placement.
    Backtrack,
}

/// One placed operation: its call node and what to restore when it is taken back.
struct Frame<S> {
    node: u32,
    /// For an unknown operation: the return that bounded the scan it was found in.
    ret: u32,
    /// The state before it, when it changed the state.
    state_before: Option<S>,
    state_hash_before: u64,
    /// The id of the set of placed unknown operations before it.
    unknown_before: u32,
    /// Whether the configuration before it had to place an observer next.
    must_observe_before: bool,
    /// The bytes this frame is counted as.
    bytes: u64,
    /// It is read-only, which made it the only candidate its configuration needed to try.
    forced: bool,
}

/// Per-operation facts the search looks up on every try.
struct Traits {
    /// A completed read-only operation: placed without alternatives when it fits.
    read_only: Vec<bool>,
    /// A blind write (see [`Model::blind_write`]), of any outcome.
    blind: Vec<bool>,
    /// For an unknown operation: an identical one invoked earlier (see [`earlier_twins`]).
    earlier_twin: Vec<Option<u32>>,
    /// For a blind write: the hash of the state it leaves (the same from every state).
    target_hash: Vec<u64>,
    /// The hash of the one state the operation fits in, if there is one ([`Model::only_state`]).
    only_hash: Vec<Option<u64>>,
    /// Whether some operation of unknown outcome is not a blind write (so may observe).
    unknown_observers: bool,
}

/// The operations that could observe the state an unknown blind write leaves if it were placed now: the
/// candidates that are not blind writes. Computed once per configuration (`serial` names it), when its
/// unknown candidates are first scanned.
struct Observers {
    serial: u64,
    nodes: Vec<u32>,
    /// The hashes of the states they fit in, when each fits in one state only; `None` when some fits in
    /// more. A blind write whose state is not among them is not worth trying.
    filter: Option<Vec<u64>>,
}

impl Observers {
    fn refresh(&mut self, serial: u64, entries: &Entries, traits: &Traits, ret: u32) {
        if self.serial == serial {
            return;
        }
        self.serial = serial;
        self.nodes.clear();
        let mut filter = Some(Vec::new());
        let mut note = |node: u32| {
            let i = entries.op[node as usize] as usize;
            if traits.blind[i] {
                return;
            }
            self.nodes.push(node);
            match (&mut filter, traits.only_hash[i]) {
                (Some(hashes), Some(h)) => hashes.push(h),
                _ => filter = None,
            }
        };
        let mut at = entries.next[HEAD as usize];
        while at != NIL && entries.is_call[at as usize] {
            note(at);
            at = entries.next[at as usize];
        }
        if traits.unknown_observers {
            let mut at = entries.next[UNKNOWN_HEAD as usize];
            while entries.before(at, ret) {
                note(at);
                at = entries.next[at as usize];
            }
        }
        self.filter = filter;
    }

    /// Whether `target_hash` may be a state some observer fits in.
    fn may_fit(&self, target_hash: u64) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|hashes| hashes.contains(&target_hash))
    }

    /// Whether some observer accepts `state`.
    fn fit<M: Model>(
        &self,
        model: &M,
        ops: &[PartOp<'_, M::Op>],
        entries: &Entries,
        state: &M::State,
    ) -> bool {
        self.nodes.iter().any(|&node| {
            let i = entries.op[node as usize] as usize;
            !matches!(model.step(state, ops[i].op), Step::Illegal)
        })
    }
}

/// Searches for a linearization of `ops` (one part of a history) under `model`.
///
/// At each configuration the candidates are the calls that come before the first return left in the
/// list. Completed operations are tried first and unknown ones after: every candidate is still tried (so
/// the search stays complete), but in linearizable histories the answer comes far sooner when the
/// operations nothing forces to be placed are placed last.
pub(crate) fn search<M: Model>(
    model: &M,
    ops: &[PartOp<'_, M::Op>],
    budget: &Budget,
) -> SearchResult {
    search_core(model, ops, &[model.init()], false, None, budget)
}

/// Searches for a linearization of `ops` from any of the states `starts`, tried in order (an earlier one
/// first, as a search over the history before them would reach them): what the online check does with
/// the window left open at the end of a history. With `after_cut`, the starts are states that a search
/// over the history before `ops` would have remembered (see [`search_ends`]).
pub(crate) fn search_from<M: Model>(
    model: &M,
    ops: &[PartOp<'_, M::Op>],
    starts: &[M::State],
    after_cut: bool,
    budget: &Budget,
) -> SearchResult {
    search_core(model, ops, starts, after_cut, None, budget)
}

/// Finds every state a linearization of `ops` from one of `starts` can end in, each once, in the order
/// a depth-first search over the starts in order first reaches them. `ops` must all have completed
/// (a window closed by a cut holds no operation of unknown outcome).
///
/// It is the same search with one change: where [`search`] stops at the first linearization, this one
/// notes the state it ends in and backtracks. Each end state is noted once, since the configuration
/// "everything placed, in this state" enters the memo the first time it is reached. Placing a
/// read-only operation without alternatives keeps every end state reachable (moving a read to the
/// front of a linearization changes no state the others see, so the end state stays). The outcome is
/// [`Outcome::Linearizable`] when some state was found, with the deepest dead end otherwise.
///
/// With `after_cut` (the starts are the end states of an earlier window), each start enters the memo
/// before the search leaves it, as the configuration "everything before the cut placed, in this state"
/// would have in one search over the whole history: so a configuration of this window that it covers
/// is pruned exactly as there, and the search, its dead ends and its witness are the same.
pub(crate) fn search_ends<M: Model>(
    model: &M,
    ops: &[PartOp<'_, M::Op>],
    starts: &[M::State],
    after_cut: bool,
    budget: &Budget,
) -> (SearchResult, Vec<End<M::State>>) {
    debug_assert!(ops.iter().all(|op| op.ret.is_some()));
    let mut ends = Vec::new();
    let result = search_core(model, ops, starts, after_cut, Some(&mut ends), budget);
    (result, ends)
}

fn search_core<M: Model>(
    model: &M,
    ops: &[PartOp<'_, M::Op>],
    starts: &[M::State],
    after_cut: bool,
    mut ends: Option<&mut Vec<End<M::State>>>,
    budget: &Budget,
) -> SearchResult {
    assert!(!starts.is_empty(), "a search needs a state to start from");
    let mut completed_left = ops.iter().filter(|op| op.ret.is_some()).count();
    if completed_left == 0 {
        // Nothing is known to have happened: the empty order explains everything, from every start.
        if let Some(ends) = ends {
            ends.extend(starts.iter().enumerate().map(|(k, s)| End {
                state: s.clone(),
                start: k as u32,
                path: Vec::new(),
            }));
        }
        return SearchResult {
            outcome: Outcome::Linearizable,
            explored_states: 0,
            peak_bytes: 0,
            steps: 0,
        };
    }
    // The memo indexes its entries with `u32`: a larger budget could not be honoured anyway.
    let states_max = budget.states_max.min(u64::from(u32::MAX - 1));
    // What does not grow during the search, known before it is built: the lists (two heads, a call for
    // every operation and a return for every completed one; 25 bytes a node), the per-operation facts
    // and bitsets, and the witness's prefix and candidates (at most one `u32` an operation each).
    let nodes = 2 + ops.len() + completed_left;
    let fixed_bytes = (nodes * 25
        + ops.len() * (4 + 1 + 8 + 3 + 8 + 8)
        + (ops.len().div_ceil(64) + 1) * 8) as u64;
    if fixed_bytes > budget.bytes_max {
        return SearchResult {
            outcome: Outcome::Unknown(Exhausted::Bytes),
            explored_states: 0,
            peak_bytes: 0,
            steps: 0,
        };
    }
    let mut entries = Entries::build(ops);
    debug_assert_eq!(entries.next.len(), nodes);
    let traits = Traits {
        // Only completed read-only operations are placed without alternatives: an unknown one need not
        // be placed at all, so placing it first is not always as good as leaving it out.
        read_only: ops
            .iter()
            .map(|op| op.ret.is_some() && model.read_only(op.op))
            .collect(),
        blind: ops.iter().map(|op| model.blind_write(op.op)).collect(),
        earlier_twin: earlier_twins(ops),
        target_hash: Vec::new(),
        only_hash: ops
            .iter()
            .map(|op| model.only_state(op.op).map(|s| state_hash(&s)))
            .collect(),
        unknown_observers: ops
            .iter()
            .any(|op| op.ret.is_none() && !model.blind_write(op.op)),
    };
    let init = model.init();
    let target_hash = ops
        .iter()
        .zip(&traits.blind)
        .map(|(op, &blind)| match (blind, model.step(&init, op.op)) {
            (false, _) | (true, Step::Illegal) => 0,
            (true, Step::Unchanged) => state_hash(&init),
            (true, Step::Changed(s)) => state_hash(&s),
        })
        .collect();
    let traits = Traits {
        target_hash,
        ..traits
    };
    let mut observers = Observers {
        serial: u64::MAX,
        nodes: Vec::new(),
        filter: None,
    };
    // Names the current configuration for `observers`: it changes on every placement and every undo.
    let mut serial = 0u64;
    let mut placed = Placed::new(ops);
    let mut sets = UnknownSets::new(placed.unknown.len());
    let mut memo: Memo<M::State> = Memo::new(!placed.unknown.is_empty());
    let mut start = 0usize;
    let mut state = starts[start].clone();
    let mut state_h = state_hash(&state);
    // Remembers a start as explored (see `search_ends`); it was counted where it was reached.
    let remember_start =
        |memo: &mut Memo<M::State>, placed: &mut Placed, state: &M::State, h: u64| {
            if !after_cut {
                return;
            }
            let (hash, unknown_hash, unknown) =
                (placed.hash, placed.unknown_hash, placed.unknown_id);
            let (low, window) = placed.window();
            let config = Config {
                group_hash: hash ^ h,
                unknown_hash,
                low,
                window,
                unknown,
                must_observe: false,
                state,
            };
            memo.insert(&config, model.state_heap_bytes(state));
        };
    remember_start(&mut memo, &mut placed, &state, state_h);
    let mut must_observe = false;
    let mut stack: Vec<Frame<M::State>> = Vec::new();
    let mut stack_bytes = 0u64;
    let mut peak_bytes = fixed_bytes;
    let mut explored_states = 0u64;
    let mut dead_end: Option<DeadEnd> = None;
    // How many of the stack's first frames are known to match the dead end's prefix: a deeper dead end
    // copies only the frames past them, so noting dead ends costs O(1) a placement, not O(depth).
    let mut dead_agree = 0usize;
    let mut turns = 0u64;
    // Candidates tried in the model: what the steps budget counts.
    let mut steps = 0u64;

    let mut cursor = Cursor::Completed(entries.next[HEAD as usize]);
    loop {
        turns += 1;
        if turns.is_multiple_of(CLOCK_EVERY_TURNS) && budget.deadline.is_some_and(|d| d.passed()) {
            return SearchResult {
                outcome: Outcome::Unknown(Exhausted::Deadline),
                explored_states,
                peak_bytes,
                steps,
            };
        }

        // The candidate to try now, and the return bounding an unknown operation's scan.
        let (node, ret) = match cursor {
            Cursor::Completed(node) if node != NIL && entries.is_call[node as usize] => (node, NIL),
            Cursor::Completed(ret) => {
                // Every completed candidate was tried: now the unknown ones that began before this return.
                cursor = Cursor::Unknown {
                    node: entries.next[UNKNOWN_HEAD as usize],
                    ret,
                };
                continue;
            }
            Cursor::Unknown { node, ret } if entries.before(node, ret) => (node, ret),
            Cursor::Unknown { ret, .. } => {
                // Dead end: the operation returning at `ret` had to be placed by now and cannot be. Note
                // the deepest dead end for the witness, then take back the last placement.
                if ret != NIL
                    && dead_end
                        .as_ref()
                        .is_none_or(|d| stack.len() > d.prefix.len())
                {
                    let d = dead_end.get_or_insert_with(|| DeadEnd {
                        prefix: Vec::new(),
                        blocked: 0,
                        candidates: Vec::new(),
                        start: 0,
                    });
                    d.start = start as u32;
                    d.prefix.truncate(dead_agree);
                    d.prefix.extend(
                        stack[dead_agree..]
                            .iter()
                            .map(|f| entries.op[f.node as usize]),
                    );
                    dead_agree = stack.len();
                    describe_dead_end(&entries, ret, d);
                }
                cursor = Cursor::Backtrack;
                continue;
            }
            Cursor::Backtrack => {
                let Some(frame) = stack.pop() else {
                    if start + 1 < starts.len() {
                        // Everything from this start is explored: the next one, with the same memo (a
                        // configuration's future does not depend on how it was reached).
                        start += 1;
                        state = starts[start].clone();
                        state_h = state_hash(&state);
                        must_observe = false;
                        serial += 1;
                        remember_start(&mut memo, &mut placed, &state, state_h);
                        cursor = Cursor::Completed(entries.next[HEAD as usize]);
                        continue;
                    }
                    if ends.as_ref().is_some_and(|e| !e.is_empty()) {
                        return SearchResult {
                            outcome: Outcome::Linearizable,
                            explored_states,
                            peak_bytes,
                            steps,
                        };
                    }
                    let dead_end = dead_end.unwrap_or(DeadEnd {
                        prefix: Vec::new(),
                        blocked: 0,
                        candidates: Vec::new(),
                        start: 0,
                    });
                    return SearchResult {
                        outcome: Outcome::NotLinearizable(dead_end),
                        explored_states,
                        peak_bytes,
                        steps,
                    };
                };
                serial += 1;
                dead_agree = dead_agree.min(stack.len());
                let i = entries.op[frame.node as usize] as usize;
                placed.toggle(i);
                if ops[i].ret.is_none() {
                    placed.unknown_id = frame.unknown_before;
                }
                must_observe = frame.must_observe_before;
                stack_bytes -= frame.bytes;
                let forced = frame.forced;
                if let Some(before) = frame.state_before {
                    state = before;
                }
                state_h = frame.state_hash_before;
                entries.unlift(frame.node);
                if ops[i].ret.is_some() {
                    completed_left += 1;
                }
                let after = entries.next[frame.node as usize];
                cursor = if forced {
                    // It is read-only, so it was the only candidate worth trying (see above): its failure
                    // is its parent's.
                    Cursor::Backtrack
                } else if ops[i].ret.is_some() {
                    Cursor::Completed(after)
                } else {
                    Cursor::Unknown {
                        node: after,
                        ret: frame.ret,
                    }
                };
                continue;
            }
        };

        let i = entries.op[node as usize] as usize;
        let skip = |entries: &Entries| {
            let after = entries.next[node as usize];
            if ops[i].ret.is_some() {
                Cursor::Completed(after)
            } else {
                Cursor::Unknown { node: after, ret }
            }
        };
        if let Some(twin) = traits.earlier_twin[i]
            && !placed.contains(twin as usize)
        {
            // An identical unknown operation that began earlier is still unplaced: placing this one now
            // is the same as placing that one, which is (or was) tried instead.
            cursor = skip(&entries);
            continue;
        }
        if must_observe && traits.blind[i] {
            // The unknown blind write placed last must be observed by the next operation (see the
            // module's docs): a blind write cannot be next.
            cursor = skip(&entries);
            continue;
        }
        let unknown_blind = ops[i].ret.is_none() && traits.blind[i];
        if unknown_blind {
            observers.refresh(serial, &entries, &traits, ret);
            if !observers.may_fit(traits.target_hash[i]) {
                cursor = skip(&entries);
                continue;
            }
        }
        steps += 1;
        if steps > budget.steps_max {
            return SearchResult {
                outcome: Outcome::Unknown(Exhausted::Steps),
                explored_states,
                peak_bytes,
                steps,
            };
        }
        let forced = traits.read_only[i];
        let changed = match model.step(&state, ops[i].op) {
            Step::Illegal => {
                cursor = skip(&entries);
                continue;
            }
            Step::Unchanged => None,
            Step::Changed(next) => Some(next),
        };
        if unknown_blind {
            // Worth placing only where it changes the state and some candidate could observe the
            // change next; anywhere else it could be deleted without anyone noticing.
            let observed = changed
                .as_ref()
                .is_some_and(|next| observers.fit(model, ops, &entries, next));
            if !observed {
                cursor = skip(&entries);
                continue;
            }
        }
        let next_h = changed.as_ref().map_or(state_h, state_hash);
        let unknown_before = placed.unknown_id;
        placed.toggle(i);
        if ops[i].ret.is_none() {
            placed.unknown_id = sets.intern(placed.unknown_hash, &placed.unknown);
        }
        let fresh = {
            let (hash, unknown_hash, unknown_id) =
                (placed.hash, placed.unknown_hash, placed.unknown_id);
            let (low, window) = placed.window();
            let config = Config {
                group_hash: hash ^ next_h ^ if unknown_blind { OBSERVE_SALT } else { 0 },
                unknown_hash,
                low,
                window,
                unknown: unknown_id,
                must_observe: unknown_blind,
                state: changed.as_ref().unwrap_or(&state),
            };
            if memo.contains(&config, &sets) {
                None
            } else if explored_states >= states_max {
                return SearchResult {
                    outcome: Outcome::Unknown(Exhausted::States),
                    explored_states,
                    peak_bytes,
                    steps,
                };
            } else {
                let state_heap = changed.as_ref().map_or(0, |s| model.state_heap_bytes(s));
                let frame_bytes = (std::mem::size_of::<Frame<M::State>>() + state_heap) as u64;
                let entry_bytes = Memo::<M::State>::entry_bytes(
                    window.len(),
                    model.state_heap_bytes(config.state),
                ) + MAP_SLOT_BYTES;
                let bytes = fixed_bytes
                    + memo.bytes()
                    + sets.bytes()
                    + stack_bytes
                    + entry_bytes
                    + frame_bytes;
                if bytes > budget.bytes_max {
                    return SearchResult {
                        outcome: Outcome::Unknown(Exhausted::Bytes),
                        explored_states,
                        peak_bytes,
                        steps,
                    };
                }
                peak_bytes = peak_bytes.max(bytes);
                memo.insert(&config, model.state_heap_bytes(config.state));
                Some(frame_bytes)
            }
        };
        let Some(frame_bytes) = fresh else {
            // Placed this way, the operations end in a configuration already explored (and failed), or
            // covered by one: skip it.
            placed.toggle(i);
            placed.unknown_id = unknown_before;
            // A read-only operation could go first in any linearization from here, so here fails with it.
            cursor = if forced {
                Cursor::Backtrack
            } else {
                skip(&entries)
            };
            continue;
        };
        explored_states += 1;
        serial += 1;
        let state_before = changed.map(|next| std::mem::replace(&mut state, next));
        stack.push(Frame {
            node,
            ret,
            state_before,
            state_hash_before: state_h,
            unknown_before,
            must_observe_before: must_observe,
            bytes: frame_bytes,
            forced,
        });
        stack_bytes += frame_bytes;
        state_h = next_h;
        must_observe = unknown_blind;
        entries.lift(node);
        if ops[i].ret.is_some() {
            completed_left -= 1;
            if completed_left == 0 {
                if let Some(ends) = ends.as_deref_mut() {
                    // Note where this linearization ends and look for the others.
                    ends.push(End {
                        state: state.clone(),
                        start: start as u32,
                        path: stack.iter().map(|f| entries.op[f.node as usize]).collect(),
                    });
                    cursor = Cursor::Backtrack;
                    continue;
                }
                return SearchResult {
                    outcome: Outcome::Linearizable,
                    explored_states,
                    peak_bytes,
                    steps,
                };
            }
        }
        cursor = Cursor::Completed(entries.next[HEAD as usize]);
    }
}

/// Told apart from the same configuration without the constraint to observe next.
const OBSERVE_SALT: u64 = 0x6a09_e667_f3bc_c908;

/// The set of placed operations: completed ones and unknown ones in two bitsets, each with an incremental
/// hash (one random word per operation, XORed in and out).
///
/// The completed bitset is full-length, but the memo only ever stores its *window* ([`Placed::window`]):
/// the words from the first one not entirely placed to the last one with anything placed.
struct Placed {
    /// Each operation's bit index within its own bitset.
    slot: Vec<u32>,
    /// Whether each operation is of unknown outcome.
    is_unknown: Vec<bool>,
    zobrist: Vec<u64>,
    completed: Vec<u64>,
    unknown: Vec<u64>,
    /// How many completed operations there are (bits in `completed`).
    completed_count: usize,
    /// Every word of `completed` below this one is full.
    low: usize,
    /// Every word of `completed` from this one up is empty, once `low` is taken into account (kept as an
    /// upper bound and trimmed when the window is read).
    high: usize,
    /// The hash of `completed`.
    hash: u64,
    /// The hash of `unknown`.
    unknown_hash: u64,
    /// The id of `unknown` in the search's [`UnknownSets`].
    unknown_id: u32,
}

impl Placed {
    fn new<O>(ops: &[PartOp<'_, O>]) -> Self {
        let mut counts = [0u32; 2];
        let mut slot = Vec::with_capacity(ops.len());
        let mut is_unknown = Vec::with_capacity(ops.len());
        for op in ops {
            let class = usize::from(op.ret.is_none());
            slot.push(counts[class]);
            counts[class] += 1;
            is_unknown.push(class == 1);
        }
        let zobrist = (0..ops.len() as u64)
            .map(|i| mix64(i.wrapping_add(0x9e37_79b9_7f4a_7c15)))
            .collect();
        Placed {
            slot,
            is_unknown,
            zobrist,
            completed: vec![0; (counts[0] as usize).div_ceil(64)],
            unknown: vec![0; (counts[1] as usize).div_ceil(64)],
            completed_count: counts[0] as usize,
            low: 0,
            high: 0,
            hash: 0,
            unknown_hash: 0,
            unknown_id: 0,
        }
    }

    /// The value of word `w` of `completed` when every operation in it is placed.
    #[inline]
    fn full_word(&self, w: usize) -> u64 {
        let rest = self.completed_count - w * 64;
        if rest >= 64 { !0 } else { (1u64 << rest) - 1 }
    }

    /// Places operation `i`, or takes it back. The caller keeps `unknown_id` up to date.
    #[inline]
    fn toggle(&mut self, i: usize) {
        let s = self.slot[i] as usize;
        let bit = 1u64 << (s % 64);
        if self.is_unknown[i] {
            self.unknown[s / 64] ^= bit;
            self.unknown_hash ^= self.zobrist[i];
            return;
        }
        let w = s / 64;
        self.completed[w] ^= bit;
        self.hash ^= self.zobrist[i];
        if self.completed[w] & bit != 0 {
            self.high = self.high.max(w + 1);
            while self.low < self.completed.len()
                && self.completed[self.low] == self.full_word(self.low)
            {
                self.low += 1;
            }
        } else if w < self.low {
            // The words between `w` and the old `low` are full, so not empty.
            self.high = self.high.max(self.low);
            self.low = w;
        }
    }

    /// The placed completed operations as the memo keeps them: every word below `low` is full, and the
    /// slice holds the words from `low` to the last non-empty one.
    #[inline]
    fn window(&mut self) -> (u32, &[u64]) {
        let mut high = self.high.max(self.low);
        while high > self.low && self.completed[high - 1] == 0 {
            high -= 1;
        }
        self.high = high;
        (self.low as u32, &self.completed[self.low..high])
    }

    #[inline]
    fn contains(&self, i: usize) -> bool {
        let s = self.slot[i] as usize;
        let words = if self.is_unknown[i] {
            &self.unknown
        } else {
            &self.completed
        };
        words[s / 64] & (1u64 << (s % 64)) != 0
    }
}

/// For each operation of unknown outcome, the latest earlier-invoked unknown operation identical to it.
///
/// Identical unknown operations are interchangeable: neither has a return, so whichever began first can
/// stand in wherever the other is placed. Placing them only in invoke order keeps the search complete and
/// cuts the orders it must consider (Jepsen histories hold many identical timed-out writes).
fn earlier_twins<O: PartialEq>(ops: &[PartOp<'_, O>]) -> Vec<Option<u32>> {
    let mut twins = vec![None; ops.len()];
    let mut unknown: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].ret.is_none()).collect();
    unknown.sort_unstable_by_key(|&i| ops[i].call);
    for (k, &i) in unknown.iter().enumerate() {
        twins[i] = unknown[..k]
            .iter()
            .rev()
            .find(|&&j| ops[j].op == ops[i].op)
            .map(|&j| j as u32);
    }
    twins
}

/// Notes, in `dead_end` (whose prefix is already the stack's), the operation returning at `ret_node` and
/// the candidates that began before it.
fn describe_dead_end(entries: &Entries, ret_node: u32, dead_end: &mut DeadEnd) {
    let blocked = entries.op[ret_node as usize];
    let bound = entries.pos[ret_node as usize];
    let mut candidates = Vec::new();
    for head in [HEAD, UNKNOWN_HEAD] {
        let mut at = entries.next[head as usize];
        while at != NIL && entries.pos[at as usize] < bound {
            if entries.is_call[at as usize] && entries.op[at as usize] != blocked {
                candidates.push((entries.pos[at as usize], entries.op[at as usize]));
            }
            at = entries.next[at as usize];
        }
    }
    candidates.sort_unstable();
    dead_end.blocked = blocked;
    dead_end.candidates = candidates.into_iter().map(|(_, op)| op).collect();
}
