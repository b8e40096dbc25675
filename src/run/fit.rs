//! What only the protocol can tell about a scenario: that the roles its faults target are roles the
//! protocol's actors take, that a Byzantine `forge` fault has something to forge, that `expect` names
//! one of the run's checkers, and that liveness promises can be judged. A scenario that fails here
//! would run and silently test nothing, so it is refused at validation, with the place.

use crate::protocols::Protocol;
use crate::scenario::{ByzantineMode, Scenario, Seg, Target};

/// A field path and what is wrong there.
type Problem = (Vec<Seg>, String);

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// Checks `scenario` against protocol `P`, built as `protocol`.
pub(crate) fn check<P: Protocol>(scenario: &Scenario, protocol: &P) -> Result<(), Problem> {
    check_roles_and_forging::<P>(scenario)?;
    check_liveness(scenario, protocol.leader_role(), P::NAME)?;
    check_expect(scenario, protocol)
}

fn check_roles_and_forging<P: Protocol>(scenario: &Scenario) -> Result<(), Problem> {
    for (i, f) in scenario.faults.iter().enumerate() {
        let targets = [
            ("isolate", f.isolate.as_ref(), None),
            ("crash", f.crash.as_ref(), None),
            ("pause", f.pause.as_ref(), None),
            ("clock", f.clock.as_ref().map(|c| &c.node), Some("node")),
            (
                "byzantine",
                f.byzantine.as_ref().map(|b| &b.node),
                Some("node"),
            ),
        ];
        for (action, target, inner) in targets {
            let Some(Target::Role(role)) = target else {
                continue;
            };
            if !P::ROLES.contains(&role.as_str()) {
                let mut path = vec![key("faults"), Seg::Index(i), key(action)];
                path.extend(inner.map(key));
                let known = if P::ROLES.is_empty() {
                    format!("protocol {} has no roles: name a node id", P::NAME)
                } else {
                    format!("its roles are {}", P::ROLES.join(", "))
                };
                return Err((
                    path,
                    format!(
                        "no actor of protocol {} ever takes the role {:?}: {known}",
                        P::NAME,
                        crate::text::escaped(role)
                    ),
                ));
            }
        }
        if let Some(b) = &f.byzantine
            && b.mode == ByzantineMode::Forge
            && !P::FORGES
        {
            return Err((
                vec![key("faults"), Seg::Index(i), key("byzantine"), key("mode")],
                format!(
                    "protocol {} cannot forge messages (its actors do not implement `forge`), so this \
                     fault would change nothing; use \"silent\"",
                    P::NAME
                ),
            ));
        }
    }
    Ok(())
}

fn check_liveness(scenario: &Scenario, leader: Option<&str>, name: &str) -> Result<(), Problem> {
    if let Some(l) = &scenario.liveness
        && l.leader_within_ms.is_some()
        && leader.is_none()
    {
        return Err((
            vec![key("liveness"), key("leader_within_ms")],
            format!("protocol {name} has no leader role, so this cannot be judged"),
        ));
    }
    Ok(())
}

/// The names a run of this scenario can report a violation under.
pub(crate) fn checker_names<P: Protocol>(scenario: &Scenario, protocol: &P) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = protocol.checkers().iter().map(|c| c.name()).collect();
    if protocol.history_model().is_some() {
        names.push("linearizability");
    }
    if let Some(l) = &scenario.liveness {
        if l.leader_within_ms.is_some() {
            names.push("leader_within");
        }
        if l.ops_complete_within_ms.is_some() {
            names.push("ops_complete_within");
        }
    }
    names
}

fn check_expect<P: Protocol>(scenario: &Scenario, protocol: &P) -> Result<(), Problem> {
    let Some(expect) = &scenario.expect else {
        return Ok(());
    };
    if expect.violation == "any" {
        return Ok(());
    }
    let names = checker_names(scenario, protocol);
    if names.contains(&expect.violation.as_str()) {
        return Ok(());
    }
    Err((
        vec![key("expect"), key("violation")],
        format!(
            "no checker {:?} in a {} run; its checkers are {} (or \"any\")",
            crate::text::escaped(&expect.violation),
            P::NAME,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ),
    ))
}
