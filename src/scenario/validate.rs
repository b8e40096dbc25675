//! Semantic checks on a parsed scenario, before anything runs: node ids in range, probabilities in
//! `[0, 1_000_000]` ppm, times in order and within the run, exactly one action per fault.

use super::locate::Seg;
use super::{
    CLOCKS_NODES_MAX, DRIFT_PPM_MAX, DRIFT_PPM_MIN, FaultAction, FaultSpec, MAX_EVENTS_LIMIT,
    MAX_MEMORY_MB_LIMIT, MAX_TIME_MS_LIMIT, NODES_MAX, NetworkSpec, SCHEMA_VERSION, Scenario,
    Target,
};

/// A field path and what is wrong there.
pub type Problem = (Vec<Seg>, String);

const PPM_MAX: u32 = 1_000_000;

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn at<T>(path: Vec<Seg>, msg: impl Into<String>) -> Result<T, Problem> {
    Err((path, msg.into()))
}

/// Checks everything that can be checked without knowing the protocol.
pub fn validate(s: &Scenario) -> Result<(), Problem> {
    if s.schema > SCHEMA_VERSION {
        return at(
            vec![key("schema")],
            format!(
                "scenario schema {} is newer than this build of distsim reads ({SCHEMA_VERSION}): upgrade distsim",
                s.schema
            ),
        );
    }
    if s.schema == 0 {
        return at(
            vec![key("schema")],
            format!("schema versions start at 1 (this build reads {SCHEMA_VERSION})"),
        );
    }
    if s.name.trim().is_empty() {
        return at(vec![key("name")], "must not be empty");
    }
    if s.nodes == 0 {
        return at(vec![key("nodes")], "a run needs at least one server");
    }
    if u64::from(s.nodes) + u64::from(s.clients) > u64::from(NODES_MAX) {
        return at(
            vec![key("clients")],
            format!("nodes + clients must be at most {NODES_MAX}"),
        );
    }
    if s.max_time_ms == 0 || s.max_time_ms > MAX_TIME_MS_LIMIT {
        return at(
            vec![key("max_time_ms")],
            format!("must be between 1 and {MAX_TIME_MS_LIMIT}"),
        );
    }
    if s.max_events == 0 || s.max_events > MAX_EVENTS_LIMIT {
        return at(
            vec![key("max_events")],
            format!("must be between 1 and {MAX_EVENTS_LIMIT}"),
        );
    }
    if let Some(mb) = s.max_memory_mb
        && (mb == 0 || mb > MAX_MEMORY_MB_LIMIT)
    {
        return at(
            vec![key("max_memory_mb")],
            format!("must be between 1 and {MAX_MEMORY_MB_LIMIT}"),
        );
    }
    if s.clocks && s.nodes + s.clients > CLOCKS_NODES_MAX {
        return at(
            vec![key("clocks")],
            format!(
                "vector clocks are kept for at most {CLOCKS_NODES_MAX} nodes (servers and clients); \
                 this scenario has {}",
                s.nodes + s.clients
            ),
        );
    }
    validate_network(&s.network)?;
    let total = s.nodes + s.clients;
    let mut last_ms = 0;
    let mut last_fault_ms = None;
    for (i, f) in s.faults.iter().enumerate() {
        let base = vec![key("faults"), Seg::Index(i)];
        let field = |k: &str| {
            let mut p = base.clone();
            p.push(key(k));
            p
        };
        if f.at_ms > s.max_time_ms {
            return at(
                field("at_ms"),
                format!("{} is after max_time_ms ({})", f.at_ms, s.max_time_ms),
            );
        }
        if f.at_ms < last_ms {
            return at(
                field("at_ms"),
                format!(
                    "faults must be in time order: {} comes after {last_ms}",
                    f.at_ms
                ),
            );
        }
        last_ms = f.at_ms;
        last_fault_ms = Some(f.at_ms);
        validate_fault(f, &base, s.nodes, total)?;
    }
    if let Some(l) = &s.liveness {
        let from = last_fault_ms.unwrap_or(0);
        for (name, v) in [
            ("leader_within_ms", l.leader_within_ms),
            ("ops_complete_within_ms", l.ops_complete_within_ms),
        ] {
            if let Some(v) = v {
                let path = vec![key("liveness"), key(name)];
                if v == 0 {
                    return at(path, "must be above zero");
                }
                if from.saturating_add(v) > s.max_time_ms {
                    return at(
                        path,
                        format!(
                            "the deadline (last fault at {from} ms + {v} ms) falls after max_time_ms ({}): \
                             the run would end before it could be judged",
                            s.max_time_ms
                        ),
                    );
                }
            }
        }
    }
    if let Some(sw) = &s.swarm {
        super::swarm::validate(sw, s)?;
    }
    if let Some(e) = &s.expect
        && e.violation.trim().is_empty()
    {
        return at(
            vec![key("expect"), key("violation")],
            "name a checker, or \"any\"",
        );
    }
    Ok(())
}

fn validate_network(n: &NetworkSpec) -> Result<(), Problem> {
    let p = |k: &str| vec![key("network"), key(k)];
    if n.delay_ms_min > n.delay_ms_max {
        return at(
            p("delay_ms_min"),
            format!(
                "{} is above delay_ms_max ({})",
                n.delay_ms_min, n.delay_ms_max
            ),
        );
    }
    if n.delay_ms_max > MAX_TIME_MS_LIMIT {
        return at(p("delay_ms_max"), "latency too large");
    }
    for (name, v) in [("loss_ppm", n.loss_ppm), ("duplicate_ppm", n.duplicate_ppm)] {
        if v > PPM_MAX {
            return at(p(name), format!("{v} is above 1000000 (parts per million)"));
        }
    }
    if n.in_flight_max == 0 {
        return at(p("in_flight_max"), "must be at least 1");
    }
    if let Some(t) = &n.tail {
        let tp = |k: &str| vec![key("network"), key("tail"), key(k)];
        if t.ppm > PPM_MAX {
            return at(
                tp("ppm"),
                format!("{} is above 1000000 (parts per million)", t.ppm),
            );
        }
        if t.delay_ms_max < n.delay_ms_max || t.delay_ms_max > MAX_TIME_MS_LIMIT {
            return at(
                tp("delay_ms_max"),
                "the tail must reach at least the link's delay_ms_max, and stay below a week",
            );
        }
    }
    Ok(())
}

/// Which node ids are servers and which are clients, for messages: `servers are 0 to 2, clients 3 to 4`.
fn id_ranges(servers: u32, total: u32) -> String {
    let span = |from: u32, to: u32| {
        if from == to {
            format!("{from}")
        } else {
            format!("{from} to {to}")
        }
    };
    let servers_text = format!(
        "server{} {}",
        if servers == 1 { " is" } else { "s are" },
        span(0, servers.saturating_sub(1))
    );
    if total > servers {
        format!(
            "{servers_text}, client{} {}",
            if total - servers == 1 { " is" } else { "s are" },
            span(servers, total - 1)
        )
    } else {
        format!("{servers_text}, and there are no clients")
    }
}

fn validate_fault(f: &FaultSpec, base: &[Seg], servers: u32, total: u32) -> Result<(), Problem> {
    let field = |k: &str| {
        let mut p = base.to_vec();
        p.push(key(k));
        p
    };
    let node_list = |path: Vec<Seg>, ids: &[u32], limit: u32| -> Result<(), Problem> {
        for (j, id) in ids.iter().enumerate() {
            if *id >= limit {
                let mut p = path.clone();
                p.push(Seg::Index(j));
                return at(
                    p,
                    format!("node {id} is out of range: {}", id_ranges(servers, total)),
                );
            }
        }
        Ok(())
    };
    let target = |path: Vec<Seg>, t: &Target, role_ok: bool, all_ok: bool| match t {
        Target::Node(n) if *n >= total => at(
            path,
            format!("node {n} is out of range: {}", id_ranges(servers, total)),
        ),
        Target::Role(_) if !role_ok => at(
            path,
            "a role names whoever holds it now; name a node id (or \"all\") here",
        ),
        Target::All if !all_ok => at(path, "\"all\" is not allowed here; name a node or a role"),
        _ => Ok(()),
    };
    let field_of_action = field(f.action.name());
    match &f.action {
        FaultAction::Partition(groups) => {
            let mut seen = vec![false; total as usize];
            for (g, group) in groups.iter().enumerate() {
                let mut gp = field("partition");
                gp.push(Seg::Index(g));
                node_list(gp.clone(), group, total)?;
                for (j, id) in group.iter().enumerate() {
                    if std::mem::replace(&mut seen[*id as usize], true) {
                        let mut p = gp.clone();
                        p.push(Seg::Index(j));
                        return at(p, format!("node {id} is in two groups"));
                    }
                }
            }
            if groups.len() < 2 {
                return at(field("partition"), "a partition needs at least two groups");
            }
        }
        FaultAction::Cut(c) => {
            let mut p = field("cut");
            p.push(key("from"));
            node_list(p, &c.from, total)?;
            let mut p = field("cut");
            p.push(key("to"));
            node_list(p, &c.to, total)?;
        }
        FaultAction::Heal(h) => {
            if !h {
                return at(
                    field("heal"),
                    "write \"heal\": true (there is nothing to un-heal)",
                );
            }
        }
        FaultAction::Isolate(t) | FaultAction::Crash(t) | FaultAction::Pause(t) => {
            target(field_of_action, t, true, false)?;
        }
        FaultAction::Restart(t) | FaultAction::Resume(t) => {
            target(field_of_action, t, false, true)?;
        }
        FaultAction::Clock(c) => {
            let mut p = field("clock");
            p.push(key("node"));
            target(p, &c.node, true, false)?;
            if c.offset_ms.unsigned_abs() > MAX_TIME_MS_LIMIT {
                let mut p = field("clock");
                p.push(key("offset_ms"));
                return at(p, "offset too large");
            }
            if let Some(d) = c.drift_ppm
                && !(DRIFT_PPM_MIN..=DRIFT_PPM_MAX).contains(&d)
            {
                let mut p = field("clock");
                p.push(key("drift_ppm"));
                return at(
                    p,
                    format!("{d} is outside {DRIFT_PPM_MIN}..={DRIFT_PPM_MAX}"),
                );
            }
        }
        FaultAction::Link(l) => {
            let lp = |k: &str| {
                let mut p = field("link");
                p.push(key(k));
                p
            };
            if let Some(ids) = &l.from {
                node_list(lp("from"), ids, total)?;
            }
            if let Some(ids) = &l.to {
                node_list(lp("to"), ids, total)?;
            }
            for (name, v) in [
                ("delay_ms_min", l.delay_ms_min),
                ("delay_ms_max", l.delay_ms_max),
            ] {
                if v.is_some_and(|v| v > MAX_TIME_MS_LIMIT) {
                    return at(lp(name), "latency too large");
                }
            }
            if let (Some(lo), Some(hi)) = (l.delay_ms_min, l.delay_ms_max)
                && lo > hi
            {
                return at(
                    lp("delay_ms_min"),
                    format!("{lo} is above delay_ms_max ({hi})"),
                );
            }
            for (name, v) in [("loss_ppm", l.loss_ppm), ("duplicate_ppm", l.duplicate_ppm)] {
                if let Some(v) = v
                    && v > PPM_MAX
                {
                    return at(
                        lp(name),
                        format!("{v} is above 1000000 (parts per million)"),
                    );
                }
            }
        }
        FaultAction::Byzantine(b) => {
            let mut p = field("byzantine");
            p.push(key("node"));
            target(p, &b.node, true, false)?;
            if let Target::Node(n) = b.node
                && n >= servers
            {
                let mut p = field("byzantine");
                p.push(key("node"));
                return at(
                    p,
                    format!("node {n} is a client; only servers turn Byzantine"),
                );
            }
            if let Some(g) = &b.collude
                && (g.trim().is_empty() || g.len() > crate::fault::action::COLLUDE_NAME_MAX)
            {
                let mut p = field("byzantine");
                p.push(key("collude"));
                return at(
                    p,
                    format!(
                        "a collusion group's name is 1 to {} characters",
                        crate::fault::action::COLLUDE_NAME_MAX
                    ),
                );
            }
        }
    }
    Ok(())
}
