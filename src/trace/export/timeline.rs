//! The data behind the space-time diagram, gathered from a trace in two bounded streaming passes.
//!
//! A run can have millions of events; a page can draw some tens of thousands. So the timeline holds:
//! - for the whole run, per time bucket and per lane, how many messages were sent or delivered there
//!   ([`Aggregates`], `buckets` × lanes numbers), plus every fault, role change and the violation
//!   (each list capped);
//! - in full detail (messages with their bodies, notes, timers, client operations), only the events of
//!   one window of time, at most `detail_items_max` of them. Unless a window is asked for, the window
//!   is chosen so that it fits the budget: the stretch leading up to the violation if there is one,
//!   else the start of the run.
//!
//! Pass one finds the end, the violation and how many detail items fall in each of
//! [`FINE_BUCKETS`] slices of time; pass two collects. The size of the result, and so of the page,
//! is bounded by the options, never by the length of the run.

use super::{TimeWindow, cut, fault_action, json_cut, message_kind_raw, node_label, note_kind};
use crate::trace::reader::TraceReadError;
use crate::trace::scan::{TraceEvent, TraceHeader, TraceScan, parsed};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// How finely pass one counts detail items over time to choose the window.
pub const FINE_BUCKETS: usize = 4096;
/// The most lanes drawn; events on nodes past this are counted, not drawn.
pub const LANES_MAX: u32 = 512;
/// The most distinct message kinds told apart; the rest are drawn as `other`.
pub const KINDS_MAX: usize = 48;
/// The most faults kept (the whole run).
pub const FAULTS_MAX: usize = 10_000;
/// The most role changes kept (the whole run).
pub const ROLES_MAX: usize = 20_000;
/// The longest text kept for a note, an operation or a fault label.
pub const LABEL_CHARS_MAX: usize = 160;

/// What to gather.
#[derive(Clone, Debug)]
pub struct TimelineOptions {
    /// The window shown in detail; [`TimeWindow::ALL`] lets the budget choose it.
    pub window: TimeWindow,
    /// The most detail items (message copies, notes, timers, starts, client operations).
    pub detail_items_max: usize,
    /// The longest message body kept for the hover card, in characters.
    pub body_chars_max: usize,
    /// How many time buckets the whole-run aggregates have.
    pub buckets: usize,
}

impl Default for TimelineOptions {
    fn default() -> Self {
        TimelineOptions {
            window: TimeWindow::ALL,
            detail_items_max: 10_000,
            body_chars_max: 300,
            buckets: 1000,
        }
    }
}

/// Everything the page draws. Compact tuples keep the embedded JSON small; their fields are listed
/// on each type.
#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    /// About the run and the bounds applied.
    pub meta: Meta,
    /// One lane per node and client.
    pub lanes: Vec<Lane>,
    /// Message kinds; a message's `kind` indexes this.
    pub kinds: Vec<String>,
    /// Detailed message copies.
    pub msgs: Vec<Msg>,
    /// Notes, timers and starts in the window.
    pub marks: Vec<Mark>,
    /// Client operations invoked in the window.
    pub ops: Vec<Op>,
    /// Every role change (capped at [`ROLES_MAX`]).
    pub roles: Vec<RoleChange>,
    /// Every fault (capped at [`FAULTS_MAX`]).
    pub faults: Vec<FaultBand>,
    /// The violation, if any.
    pub violation: Option<ViolationView>,
    /// Whole-run counts per bucket.
    pub agg: Aggregates,
}

/// About the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Meta {
    /// The scenario's name.
    pub name: String,
    /// The protocol.
    pub protocol: String,
    /// The scenario's description.
    pub description: String,
    /// The seed.
    pub seed: u64,
    /// Servers (node ids `0..servers`).
    pub servers: u32,
    /// Clients (node ids after the servers).
    pub clients: u32,
    /// The last time in the trace, ns.
    pub end_ns: u64,
    /// The closing line's outcome (`pass`, `fail`, `undecided`), empty if the trace has none.
    pub outcome: String,
    /// Why the run stopped.
    pub end_reason: String,
    /// The closing line's violation text.
    pub end_violation: Option<String>,
    /// Lines read, header included.
    pub lines: usize,
    /// Events by line kind, for the whole run.
    pub counts: BTreeMap<String, u64>,
    /// The window shown in detail, ns.
    pub detail_from_ns: u64,
    /// The window shown in detail, ns (the last detail item's time when the budget ran out).
    pub detail_to_ns: u64,
    /// Detail items embedded.
    pub detail_items: usize,
    /// The budget.
    pub detail_items_max: usize,
    /// Items in the window left out because the budget ran out.
    pub detail_items_left_out: u64,
    /// Events on nodes past [`LANES_MAX`], not drawn.
    pub events_off_lanes: u64,
    /// Whether faults or role changes were left out (past their caps).
    pub capped: bool,
}

/// A lane.
#[derive(Clone, Debug, Serialize)]
pub struct Lane {
    /// The node id.
    pub id: u32,
    /// `n3`, `c6`.
    pub label: String,
    /// Whether it is a client.
    pub client: bool,
    /// Its group, if the trace names groups.
    pub group: Option<String>,
}

/// A message copy: `[send_ns, from, to, kind, fate, end_ns, id, duplicate, body, drop_reason]`,
/// where `fate` is 0 delivered, 1 dropped, 2 still in flight when the trace ends (then `end_ns` is
/// 0), `body` is the message as JSON cut to the body bound, and `drop_reason` is empty unless
/// dropped.
#[derive(Clone, Debug, Serialize)]
pub struct Msg(
    pub u64,
    pub u32,
    pub u32,
    pub u16,
    pub u8,
    pub u64,
    pub u64,
    pub u8,
    pub String,
    pub String,
);

/// A mark on a lane: `[ns, node, class, text]`; class 0 note, 1 timer, 2 start.
#[derive(Clone, Debug, Serialize)]
pub struct Mark(pub u64, pub u32, pub u8, pub String);

/// A client operation: `[client, invoke_ns, end_ns or null, outcome, text]`; outcome is `ok`,
/// `fail`, `info` or `open`.
#[derive(Clone, Debug, Serialize)]
pub struct Op(pub u32, pub u64, pub Option<u64>, pub String, pub String);

/// A role change: `[ns, node, role or null]`.
#[derive(Clone, Debug, Serialize)]
pub struct RoleChange(pub u64, pub u32, pub Option<String>);

/// A fault, as a band over some lanes from `from_ns` to `to_ns` (`None`: until the end), or an
/// instant when `instant`.
#[derive(Clone, Debug, Serialize)]
pub struct FaultBand {
    /// `partition`, `isolate`, `cut`, `crash`, `pause`, `byzantine`, `clock`, `link`, `heal`, ...
    pub action: String,
    /// When it began.
    pub from_ns: u64,
    /// When it ended.
    pub to_ns: Option<u64>,
    /// The lanes it covers (all lanes if empty).
    pub nodes: Vec<u32>,
    /// The trace's words for it.
    pub label: String,
    /// A moment rather than a period (clock jumps, link changes, heals, restarts).
    pub instant: bool,
}

/// The violation.
#[derive(Clone, Debug, Serialize)]
pub struct ViolationView {
    /// When, ns.
    pub t: u64,
    /// The event index.
    pub e: u64,
    /// The node, if any.
    pub node: Option<u32>,
    /// The checker.
    pub checker: String,
    /// Its explanation.
    pub message: String,
}

/// Whole-run counts per time bucket.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Aggregates {
    /// The width of a bucket, ns.
    pub bucket_ns: u64,
    /// Per lane, per bucket: messages sent from or delivered to that lane.
    pub lanes: Vec<Vec<u32>>,
    /// Per bucket: messages dropped.
    pub drops: Vec<u32>,
}

impl Timeline {
    /// Gathers the timeline of the trace at `path`.
    pub fn from_file(path: &Path, options: &TimelineOptions) -> Result<Timeline, TraceReadError> {
        let survey = survey(&mut TraceScan::open(path)?)?;
        let window = choose_window(&survey, options);
        collect(&mut TraceScan::open(path)?, options, &survey, window)
    }

    /// Gathers the timeline of a trace held in memory (`name` names it in errors).
    pub fn from_bytes(
        trace: &[u8],
        name: &str,
        options: &TimelineOptions,
    ) -> Result<Timeline, TraceReadError> {
        let survey = survey(&mut TraceScan::new(trace, name)?)?;
        let window = choose_window(&survey, options);
        collect(&mut TraceScan::new(trace, name)?, options, &survey, window)
    }

    /// How many detail items the timeline holds.
    pub fn detail_items(&self) -> usize {
        self.msgs.len() + self.marks.len() + self.ops.len()
    }
}

/// What pass one learns.
struct Survey {
    end_ns: u64,
    violation_ns: Option<u64>,
    fine: FineCounts,
    lanes: u32,
}

/// Detail items per slice of time, over a range that doubles as needed.
struct FineCounts {
    width_ns: u64,
    counts: Vec<u64>,
}

impl FineCounts {
    fn new(span_ns: u64) -> Self {
        FineCounts {
            width_ns: span_ns.div_ceil(FINE_BUCKETS as u64).max(1),
            counts: vec![0; FINE_BUCKETS],
        }
    }

    fn add(&mut self, t_ns: u64) {
        while t_ns / self.width_ns >= FINE_BUCKETS as u64 {
            for i in 0..FINE_BUCKETS / 2 {
                self.counts[i] = self.counts[2 * i] + self.counts[2 * i + 1];
            }
            self.counts[FINE_BUCKETS / 2..].fill(0);
            self.width_ns = self.width_ns.saturating_mul(2);
        }
        self.counts[(t_ns / self.width_ns) as usize] += 1;
    }
}

fn is_detail_item(ev: &TraceEvent) -> bool {
    matches!(
        ev,
        TraceEvent::Send { .. }
            | TraceEvent::Duplicate { .. }
            | TraceEvent::Timer { .. }
            | TraceEvent::Note { .. }
            | TraceEvent::Start { .. }
    ) || matches!(ev, TraceEvent::History { event, .. } if event.kind == "invoke")
}

fn nodes_of(ev: &TraceEvent) -> [Option<u32>; 2] {
    match ev {
        TraceEvent::Send { from, to, .. }
        | TraceEvent::Deliver { from, to, .. }
        | TraceEvent::Drop { from, to, .. } => [Some(*from), Some(*to)],
        TraceEvent::Start { node, .. }
        | TraceEvent::Timer { node, .. }
        | TraceEvent::Role { node, .. }
        | TraceEvent::Note { node, .. }
        | TraceEvent::History { node, .. } => [Some(*node), None],
        TraceEvent::Violation { node, .. } => [*node, None],
        _ => [None, None],
    }
}

fn survey<R: std::io::BufRead>(scan: &mut TraceScan<R>) -> Result<Survey, TraceReadError> {
    let header = scan.header().clone();
    let max_time_ns = header
        .scenario
        .get("max_time_ms")
        .and_then(Value::as_u64)
        .unwrap_or(1000)
        .saturating_mul(1_000_000);
    let mut s = Survey {
        end_ns: 0,
        violation_ns: None,
        fine: FineCounts::new(max_time_ns),
        lanes: header.lanes().min(LANES_MAX),
    };
    while let Some(ev) = scan.next_event()? {
        if let Some(t) = ev.time_ns() {
            s.end_ns = s.end_ns.max(t);
            if is_detail_item(&ev) {
                s.fine.add(t);
            }
        }
        if let TraceEvent::Violation { t, .. } = ev {
            s.violation_ns.get_or_insert(t);
        }
        for node in nodes_of(&ev).into_iter().flatten() {
            if node < LANES_MAX {
                s.lanes = s.lanes.max(node + 1);
            }
        }
    }
    Ok(s)
}

/// The detail window: the one asked for, else the stretch before the violation, else the start,
/// sized from the fine counts so that it holds about the budget.
fn choose_window(s: &Survey, options: &TimelineOptions) -> TimeWindow {
    if !options.window.is_all() {
        return options.window;
    }
    let budget = options.detail_items_max as u64;
    let total: u64 = s.fine.counts.iter().sum();
    let w = s.fine.width_ns;
    if total <= budget {
        return TimeWindow {
            from_ns: 0,
            to_ns: s.end_ns,
        };
    }
    match s.violation_ns {
        Some(v) => {
            let last = ((v / w) as usize).min(FINE_BUCKETS - 1);
            let mut first = last;
            let mut sum = s.fine.counts[last];
            while first > 0 && sum + s.fine.counts[first - 1] <= budget {
                first -= 1;
                sum += s.fine.counts[first];
            }
            TimeWindow {
                from_ns: first as u64 * w,
                to_ns: s.end_ns,
            }
        }
        None => {
            let mut last = 0;
            let mut sum = s.fine.counts[0];
            while last + 1 < FINE_BUCKETS && sum + s.fine.counts[last + 1] <= budget {
                last += 1;
                sum += s.fine.counts[last];
            }
            TimeWindow {
                from_ns: 0,
                to_ns: (last as u64 + 1).saturating_mul(w).saturating_sub(1),
            }
        }
    }
}

/// Pass two's state.
struct Collector<'a> {
    options: &'a TimelineOptions,
    window: TimeWindow,
    tl: Timeline,
    kind_ids: BTreeMap<String, u16>,
    /// Message id → indices of its detailed copies not yet delivered or dropped.
    pending: BTreeMap<u64, Vec<usize>>,
    /// Client → index of its open operation.
    open_ops: BTreeMap<u32, usize>,
    /// Open fault bands by (action, node), index into `faults`.
    open_faults: BTreeMap<(String, u32), usize>,
    budget_hit_ns: Option<u64>,
}

fn collect<R: std::io::BufRead>(
    scan: &mut TraceScan<R>,
    options: &TimelineOptions,
    survey: &Survey,
    window: TimeWindow,
) -> Result<Timeline, TraceReadError> {
    let header = scan.header().clone();
    let buckets = options.buckets.max(1);
    let bucket_ns = survey
        .end_ns
        .saturating_add(1)
        .div_ceil(buckets as u64)
        .max(1);
    let mut c = Collector {
        options,
        window,
        tl: Timeline {
            meta: meta_of(&header, survey, options),
            lanes: lanes_of(&header, survey.lanes),
            kinds: Vec::new(),
            msgs: Vec::new(),
            marks: Vec::new(),
            ops: Vec::new(),
            roles: Vec::new(),
            faults: Vec::new(),
            violation: None,
            agg: Aggregates {
                bucket_ns,
                lanes: vec![vec![0; buckets]; survey.lanes as usize],
                drops: vec![0; buckets],
            },
        },
        kind_ids: BTreeMap::new(),
        pending: BTreeMap::new(),
        open_ops: BTreeMap::new(),
        open_faults: BTreeMap::new(),
        budget_hit_ns: None,
    };
    while let Some(ev) = scan.next_event()? {
        c.event(ev);
    }
    let mut tl = c.tl;
    tl.meta.lines = scan.line_no();
    tl.meta.detail_from_ns = window.from_ns.min(survey.end_ns);
    tl.meta.detail_to_ns = c.budget_hit_ns.unwrap_or(window.to_ns).min(survey.end_ns);
    tl.meta.detail_items = tl.detail_items();
    debug_assert!(tl.meta.detail_items <= options.detail_items_max);
    Ok(tl)
}

fn meta_of(header: &TraceHeader, survey: &Survey, options: &TimelineOptions) -> Meta {
    Meta {
        name: header.scenario_str("name").to_string(),
        protocol: header.scenario_str("protocol").to_string(),
        description: cut(header.scenario_str("description"), 600),
        seed: header.seed,
        servers: header.nodes(),
        clients: header.clients(),
        end_ns: survey.end_ns,
        detail_items_max: options.detail_items_max,
        ..Meta::default()
    }
}

fn lanes_of(header: &TraceHeader, lanes: u32) -> Vec<Lane> {
    (0..lanes)
        .map(|id| Lane {
            id,
            label: node_label(id, header.nodes()),
            client: id >= header.nodes(),
            group: header.group_of(id),
        })
        .collect()
}

impl Collector<'_> {
    fn event(&mut self, ev: TraceEvent) {
        let kind_name = line_kind(&ev);
        *self
            .tl
            .meta
            .counts
            .entry(kind_name.to_string())
            .or_default() += 1;
        let lanes = self.tl.lanes.len() as u32;
        let is_violation = matches!(ev, TraceEvent::Violation { .. });
        if !is_violation && nodes_of(&ev).iter().flatten().any(|&n| n >= lanes) {
            self.tl.meta.events_off_lanes += 1;
            return;
        }
        match ev {
            TraceEvent::Send {
                t,
                id,
                from,
                to,
                msg,
                ..
            } => {
                self.count(t, from);
                if self.take_item(t) {
                    let kind = self.kind_id(&message_kind_raw(&msg));
                    // The text as written: the writer's field order (the type first) survives.
                    let body = cut(msg.get(), self.options.body_chars_max);
                    self.push_copy(Msg(t, from, to, kind, 2, 0, id, 0, body, String::new()));
                }
            }
            TraceEvent::Duplicate { t, id, .. } => {
                let Some(&first) = self.pending.get(&id).and_then(|v| v.first()) else {
                    return;
                };
                if self.take_item(t) {
                    let mut copy = self.tl.msgs[first].clone();
                    copy.0 = t;
                    copy.7 = 1;
                    self.push_copy(copy);
                }
            }
            TraceEvent::Deliver { t, id, to, .. } => {
                self.count(t, to);
                self.resolve(id, t, 0, None);
            }
            TraceEvent::Drop { t, id, reason, .. } => {
                let bucket = self.bucket(t);
                self.tl.agg.drops[bucket] += 1;
                let reason = reason
                    .as_str()
                    .map_or_else(|| reason.to_string(), str::to_string);
                self.resolve(id, t, 1, Some(reason));
            }
            TraceEvent::Timer { t, node, timer, .. } => {
                self.mark(t, node, 1, json_text(&timer));
            }
            TraceEvent::Start { t, node, .. } => self.mark(t, node, 2, "started".into()),
            TraceEvent::Note { t, node, note, .. } => {
                if self.take_item(t) {
                    let text = note_text(&parsed(&note));
                    self.push_mark(t, node, 0, text);
                }
            }
            TraceEvent::Role { t, node, role, .. } => {
                if self.tl.roles.len() < ROLES_MAX {
                    self.tl.roles.push(RoleChange(t, node, role));
                } else {
                    self.tl.meta.capped = true;
                }
            }
            TraceEvent::Fault {
                t,
                fault,
                nodes,
                effect,
                ..
            } => self.fault(t, &fault, nodes, effect),
            TraceEvent::History { node, event, .. } => {
                let t = event.time_ns;
                let f = json_text(&event.f);
                if event.kind == "invoke" {
                    if self.take_item(t) {
                        let mut text = f;
                        if let Some(k) = &event.key {
                            text = format!("{text} {k}");
                        }
                        if !event.value.is_null() {
                            text = format!("{text} {}", json_text(&event.value));
                        }
                        self.open_ops.insert(node, self.tl.ops.len());
                        self.tl.ops.push(Op(
                            node,
                            t,
                            None,
                            "open".into(),
                            cut(&text, LABEL_CHARS_MAX),
                        ));
                    } else {
                        self.open_ops.remove(&node);
                    }
                } else if let Some(i) = self.open_ops.remove(&node) {
                    let op = &mut self.tl.ops[i];
                    op.2 = Some(t);
                    op.3 = event.kind.clone();
                    if !event.value.is_null() {
                        op.4 = cut(
                            &format!("{} → {}", op.4, json_text(&event.value)),
                            LABEL_CHARS_MAX,
                        );
                    }
                }
            }
            TraceEvent::Violation {
                t,
                e,
                checker,
                node,
                message,
            } => {
                if self.tl.violation.is_none() {
                    self.tl.violation = Some(ViolationView {
                        t,
                        e,
                        node: node.filter(|&n| n < lanes),
                        checker,
                        message,
                    });
                }
            }
            TraceEvent::End {
                outcome,
                end_reason,
                violation,
                ..
            } => {
                let m = &mut self.tl.meta;
                m.outcome = outcome;
                m.end_reason = end_reason;
                m.end_violation = violation;
            }
            TraceEvent::Other => {}
        }
    }

    fn bucket(&self, t: u64) -> usize {
        ((t / self.tl.agg.bucket_ns) as usize).min(self.tl.agg.drops.len() - 1)
    }

    fn count(&mut self, t: u64, node: u32) {
        let b = self.bucket(t);
        self.tl.agg.lanes[node as usize][b] += 1;
    }

    /// Whether one more detail item at `t` is shown; counts the ones the budget leaves out.
    fn take_item(&mut self, t: u64) -> bool {
        if !self.window.contains(t) {
            return false;
        }
        if self.tl.detail_items() < self.options.detail_items_max {
            return true;
        }
        self.budget_hit_ns.get_or_insert(t);
        self.tl.meta.detail_items_left_out += 1;
        false
    }

    fn push_copy(&mut self, m: Msg) {
        self.pending
            .entry(m.6)
            .or_default()
            .push(self.tl.msgs.len());
        self.tl.msgs.push(m);
    }

    fn resolve(&mut self, id: u64, t: u64, fate: u8, reason: Option<String>) {
        let Some(copies) = self.pending.get_mut(&id) else {
            return;
        };
        let i = copies.remove(0);
        if copies.is_empty() {
            self.pending.remove(&id);
        }
        let m = &mut self.tl.msgs[i];
        m.4 = fate;
        m.5 = t;
        if let Some(r) = reason {
            m.9 = r;
        }
    }

    fn mark(&mut self, t: u64, node: u32, class: u8, text: String) {
        if self.take_item(t) {
            self.push_mark(t, node, class, text);
        }
    }

    fn push_mark(&mut self, t: u64, node: u32, class: u8, text: String) {
        self.tl
            .marks
            .push(Mark(t, node, class, cut(&text, LABEL_CHARS_MAX)));
    }

    fn kind_id(&mut self, kind: &str) -> u16 {
        if let Some(&k) = self.kind_ids.get(kind) {
            return k;
        }
        let name = if self.tl.kinds.len() + 1 < KINDS_MAX {
            kind
        } else {
            "other"
        };
        if let Some(&k) = self.kind_ids.get(name) {
            return k;
        }
        let k = self.tl.kinds.len() as u16;
        self.tl.kinds.push(name.to_string());
        self.kind_ids.insert(name.to_string(), k);
        k
    }

    fn fault(&mut self, t: u64, fault: &Value, nodes: Vec<u32>, effect: String) {
        let action = fault_action(fault);
        // A fault ends the bands it undoes, then may open its own.
        let closes: &[&str] = match action.as_str() {
            "heal" => &["partition", "isolate", "cut"],
            "restart" => &["crash"],
            "resume" => &["pause"],
            "byzantine" => &["byzantine"],
            _ => &[],
        };
        let to_close: Vec<(String, u32)> = self
            .open_faults
            .keys()
            .filter(|(a, n)| {
                closes.contains(&a.as_str()) && (action == "heal" || nodes.contains(n))
            })
            .cloned()
            .collect();
        for key in to_close {
            if let Some(i) = self.open_faults.remove(&key) {
                let band = &mut self.tl.faults[i];
                if band.to_ns.is_none() {
                    band.to_ns = Some(t);
                }
            }
        }
        let mode = fault
            .get("byzantine")
            .and_then(|b| b.get("mode"))
            .and_then(Value::as_str);
        let honest = mode == Some("honest");
        let effect = match mode {
            Some(m) if !effect.contains(m) => format!("{effect} ({m})"),
            _ => effect,
        };
        let period = matches!(
            action.as_str(),
            "partition" | "isolate" | "cut" | "crash" | "pause" | "byzantine"
        ) && !honest;
        if self.tl.faults.len() >= FAULTS_MAX {
            self.tl.meta.capped = true;
            return;
        }
        if period {
            for &n in &nodes {
                self.open_faults
                    .insert((action.clone(), n), self.tl.faults.len());
            }
            if nodes.is_empty() {
                self.open_faults
                    .insert((action.clone(), u32::MAX), self.tl.faults.len());
            }
        }
        self.tl.faults.push(FaultBand {
            action,
            from_ns: t,
            to_ns: if period { None } else { Some(t) },
            nodes,
            label: cut(&effect, LABEL_CHARS_MAX),
            instant: !period,
        });
    }
}

fn line_kind(ev: &TraceEvent) -> &'static str {
    match ev {
        TraceEvent::Start { .. } => "start",
        TraceEvent::Send { .. } => "send",
        TraceEvent::Duplicate { .. } => "duplicate",
        TraceEvent::Drop { .. } => "drop",
        TraceEvent::Deliver { .. } => "deliver",
        TraceEvent::Timer { .. } => "timer",
        TraceEvent::Fault { .. } => "fault",
        TraceEvent::Role { .. } => "role",
        TraceEvent::Note { .. } => "note",
        TraceEvent::History { .. } => "history",
        TraceEvent::Violation { .. } => "violation",
        TraceEvent::End { .. } => "end",
        TraceEvent::Other => "other",
    }
}

/// A JSON value as short text: strings bare, everything else as JSON.
fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => json_cut(other, LABEL_CHARS_MAX),
    }
}

/// A note as `kind a=1 b=2`.
fn note_text(note: &Value) -> String {
    let mut text = note_kind(note);
    if let Value::Object(map) = note {
        for (k, v) in map {
            if k != "note" && k != "type" {
                text.push_str(&format!(" {k}={}", json_text(v)));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fine_counts_double_their_range_and_keep_the_total() {
        let mut f = FineCounts::new(FINE_BUCKETS as u64);
        for t in 0..(FINE_BUCKETS as u64 * 5) {
            f.add(t);
        }
        assert_eq!(f.width_ns, 8);
        assert_eq!(f.counts.iter().sum::<u64>(), FINE_BUCKETS as u64 * 5);
        assert_eq!(f.counts[0], 8);
    }
}
