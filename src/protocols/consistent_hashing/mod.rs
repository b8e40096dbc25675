//! Consistent hashing with a distributed cache (Karger et al., 1997): cache nodes, and clients that
//! place every key on a hash ring of the cache nodes they currently hear from (`vnodes` points each,
//! SHA-256 truncated to 64 bits) and read each key from its owner. A crash is a leave, a restart a
//! join. The `ch_minimal_movement` checker holds every client to the ring's promise: when members
//! join or leave, a key moves only from a member that left or to one that joined; its detail gives
//! the fraction of keys moved per change (about 1/N) and the load spread. The mutant
//! `ch.modulo_hash` places keys by `hash mod N` instead, which moves most keys at every change.

pub mod checker;
pub mod node;
pub mod params;
pub mod ring;

use crate::contract::{
    Checker, Duration, GroupSize, GroupSpec, Mutant, NoModel, NodeId, Param, Protocol, Setup,
};
use checker::MinimalMovement;
use node::{ChNode, Settings};
use params::ChParams;

/// The mutant that places keys by hash mod N.
pub const MODULO_HASH: &str = "ch.modulo_hash";

/// The protocol.
pub struct ConsistentHashing {
    settings: Settings,
    servers: u32,
}

impl Protocol for ConsistentHashing {
    type Actor = ChNode;
    type Model = NoModel;
    const NAME: &'static str = "consistent_hashing";
    const ABOUT: &'static str =
        "a cache over a hash ring with virtual nodes: keys moved per join or leave, load spread";
    const MUTANTS: &'static [Mutant] = &[Mutant {
        name: MODULO_HASH,
        about: "clients place keys by hash mod N instead of on the ring",
    }];
    const ROLES: &'static [&'static str] = &["cache"];
    const GROUPS: &'static [GroupSpec] = &[GroupSpec {
        name: "cache",
        about: "the cache nodes",
        size: GroupSize::Rest,
    }];
    const PARAMS: &'static [Param] = &[
        Param {
            name: "vnodes",
            default: "100",
            about: "points each cache node owns on the ring",
        },
        Param {
            name: "keys",
            default: "1000",
            about: "keys in the clients' key space",
        },
        Param {
            name: "heartbeat_ms",
            default: "50",
            about: "how often a cache node tells every client it is alive, ms",
        },
        Param {
            name: "leave_timeout_ms",
            default: "200",
            about: "a client drops a cache node silent this long, ms",
        },
        Param {
            name: "check_ms",
            default: "10",
            about: "how often a client looks for silent cache nodes, ms",
        },
        Param {
            name: "op_ms",
            default: "5",
            about: "how often a client reads a random key, ms",
        },
    ];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[(
        checker::CH_MINIMAL_MOVEMENT,
        "when cache nodes join or leave a client's ring, a key moves only from one that left or to one that joined; the detail gives keys moved per change against 1/N and the load spread",
    )];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let p = ChParams::parse(setup.params)?;
        Ok(ConsistentHashing {
            settings: Settings {
                vnodes: p.vnodes,
                keys: p.keys,
                heartbeat: Duration::from_millis(p.heartbeat_ms),
                leave_timeout: Duration::from_millis(p.leave_timeout_ms),
                check: Duration::from_millis(p.check_ms),
                op: Duration::from_millis(p.op_ms),
                modulo_hash: setup.mutants.iter().any(|m| m == MODULO_HASH),
            },
            servers: setup.cluster.servers,
        })
    }

    fn new_actor(&self, id: NodeId) -> ChNode {
        ChNode::new(self.settings.clone(), id, self.servers)
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<ChNode>>> {
        vec![Box::new(MinimalMovement::default())]
    }
}
