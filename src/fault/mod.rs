//! Faults. A scenario schedules them (`"faults"`: each with `at_ms` and one action); the engine
//! applies them at that virtual time (see `sim::world`). Roles are resolved when a fault fires, so
//! `"isolate": "leader"` hits whoever leads at that moment.

/// Every fault kind a scenario can schedule, with one line each.
pub const FAULT_KINDS: &[(&str, &str)] = &[
    (
        "partition",
        "split servers into groups that cannot reach each other: [[0,1],[2,3,4]]",
    ),
    ("cut", "one-way cut: {\"from\": [0], \"to\": [1, 2]}"),
    (
        "isolate",
        "cut a node (or a role: \"leader\") off from every other node",
    ),
    ("heal", "remove every partition, cut and isolation: true"),
    (
        "crash",
        "stop a node (or a role); volatile state lost, disk kept",
    ),
    (
        "restart",
        "restart a crashed node (or \"all\") from its disk",
    ),
    (
        "pause",
        "stop-the-world pause: the node handles nothing until resumed",
    ),
    (
        "resume",
        "resume a paused node (or \"all\"); it catches up on what arrived",
    ),
    (
        "clock",
        "jump a node's clock (offset_ms) and/or set its drift (drift_ppm)",
    ),
    ("link", "change latency, loss or duplication on some links"),
    (
        "byzantine",
        "make a server silent or forge its messages (mode: silent, forge, honest)",
    ),
];
