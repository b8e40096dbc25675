//! The one place that maps a scenario's `"protocol"` string to a type. Everything else is generic.
//! Adding a protocol is one line in the `protocols!(...)` list at the bottom.

use crate::contract::{Cluster, GroupSpec, Mutant, Param, Protocol, Setup};

/// Something to do with a protocol type, chosen by name at run time.
pub trait ProtocolVisitor {
    /// The result.
    type Output;
    /// Does it with protocol `P`.
    fn visit<P: Protocol>(self) -> Self::Output;
}

/// A protocol's public face, for `distsim list`.
#[derive(Clone, Debug)]
pub struct ProtocolInfo {
    /// Its scenario name.
    pub name: &'static str,
    /// One line.
    pub about: &'static str,
    /// Its mutants.
    pub mutants: &'static [Mutant],
    /// The properties its checkers judge, with one line each.
    pub checkers: &'static [(&'static str, &'static str)],
    /// Its parameters, with their defaults.
    pub params: &'static [Param],
    /// Its server groups.
    pub groups: &'static [GroupSpec],
    /// The roles its nodes take (what faults may target).
    pub roles: &'static [&'static str],
    /// What its Byzantine adversary does, by mode.
    pub attacks: &'static [(&'static str, &'static str)],
}

/// The description of protocol `P`.
pub fn info<P: Protocol>() -> ProtocolInfo {
    ProtocolInfo {
        name: P::NAME,
        about: P::ABOUT,
        mutants: P::MUTANTS,
        checkers: P::CHECKERS,
        params: P::PARAMS,
        groups: P::GROUPS,
        roles: P::ROLES,
        attacks: P::ATTACKS,
    }
}

/// Something that takes protocol types one at a time (to build a runtime registry of them).
pub trait ProtocolCollector {
    /// Takes protocol `P`.
    fn add<P: Protocol>(&mut self);
}

/// Lists the protocols once; the catalogue, the lookup by name and [`each`] all come from the list.
macro_rules! protocols {
    ($($protocol:ty),* $(,)?) => {
        /// Hands every protocol distsim ships to `collector`, in the catalogue's order.
        pub fn each(collector: &mut impl ProtocolCollector) {
            $(collector.add::<$protocol>();)*
        }

        /// Every protocol distsim ships.
        pub fn catalogue() -> Vec<ProtocolInfo> {
            vec![$(info::<$protocol>()),*]
        }

        /// Calls `visitor` with the protocol called `name`, or returns `None` if there is none.
        pub fn with_protocol<V: ProtocolVisitor>(name: &str, visitor: V) -> Option<V::Output> {
            $(
                if name == <$protocol as Protocol>::NAME {
                    return Some(visitor.visit::<$protocol>());
                }
            )*
            None
        }
    };
}

/// Whether the protocol called `name` declares `role` (false for an unknown protocol).
pub fn declares_role(name: &str, role: &str) -> bool {
    catalogue()
        .iter()
        .any(|p| p.name == name && p.roles.contains(&role))
}

protocols!(
    super::raft::Raft,
    super::pingpong::PingPong,
    super::lock::Lock,
    super::paxos::Paxos,
    super::capkv::CapKv,
    super::twopc::TwoPc,
    super::failure_detector::FailureDetector,
    super::consistent_hashing::ConsistentHashing,
    super::generals::Generals,
    super::crdt::CrdtProtocol,
    super::pbft::Pbft,
    super::mapreduce::MapReduce,
    super::chord::Chord,
    super::pregel::Pregel,
    super::pow::Pow,
);

/// Checks a protocol's self-description against what it does: every documented parameter exists
/// and accepts its documented default, the parser accepts no undocumented one, and its checkers
/// judge only documented properties (with default parameters, and with each parameter set to its
/// default explicitly). `Err` says what disagrees.
pub fn check_description<P: Protocol>() -> Result<(), String> {
    let cluster = Cluster::new(3, 1);
    let documented: Vec<&str> = P::CHECKERS.iter().map(|(n, _)| *n).collect();
    let judged = |params: &serde_json::Value| -> Result<(), String> {
        let setup = Setup {
            cluster,
            params,
            mutants: &[],
        };
        let protocol = P::setup(&setup).map_err(|e| format!("params {params}: {e}"))?;
        for property in protocol.checkers().iter().flat_map(|c| c.properties()) {
            if !documented.contains(&property) {
                return Err(format!("checker property {property} is not in CHECKERS"));
            }
        }
        Ok(())
    };
    judged(&serde_json::Value::Null)?;
    for p in P::PARAMS {
        let default: serde_json::Value = serde_json::from_str(p.default)
            .map_err(|e| format!("param {}: default {:?} is not JSON: {e}", p.name, p.default))?;
        judged(&serde_json::json!({ p.name: default }))?;
    }
    // Attacks are listed exactly when there is an adversary to make them, each under a mode it
    // implements.
    let protocol = P::setup(&Setup {
        cluster,
        params: &serde_json::Value::Null,
        mutants: &[],
    })?;
    if protocol.adversary(0).is_some() == P::ATTACKS.is_empty() {
        return Err("ATTACKS must list what the adversary does, and be empty without one".into());
    }
    if let Some((mode, _)) = P::ATTACKS
        .iter()
        .find(|(mode, _)| !matches!(*mode, "forge" | "equivocate"))
    {
        return Err(format!(
            "attack under {mode:?}: only forge and equivocate reach the adversary"
        ));
    }
    // The parser names what it expects when it meets a field it does not know.
    let probe = serde_json::json!({ "__undocumented__": 0 });
    let setup = Setup {
        cluster,
        params: &probe,
        mutants: &[],
    };
    let Err(refusal) = P::setup(&setup) else {
        return Err("an unknown parameter was accepted".into());
    };
    if !P::PARAMS.is_empty() {
        for p in P::PARAMS {
            if !refusal.contains(&format!("`{}`", p.name)) {
                return Err(format!(
                    "the parser does not know param {}: {refusal}",
                    p.name
                ));
            }
        }
        let expected = refusal.matches('`').count() / 2 - 1; // less the unknown field itself
        if expected != P::PARAMS.len() {
            return Err(format!(
                "the parser knows {expected} params, PARAMS lists {}: {refusal}",
                P::PARAMS.len()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_describes_itself_truly() {
        struct Check;
        impl ProtocolVisitor for Check {
            type Output = Result<(), String>;
            fn visit<P: Protocol>(self) -> Self::Output {
                check_description::<P>()
            }
        }
        let all = catalogue();
        assert!(all.len() >= 2);
        for p in all {
            let verdict = with_protocol(p.name, Check).expect("listed protocols are found");
            assert_eq!(verdict, Ok(()), "{}", p.name);
            assert!(!p.checkers.is_empty(), "{} documents its checkers", p.name);
        }
        assert!(with_protocol("nope", Check).is_none());
    }
}
