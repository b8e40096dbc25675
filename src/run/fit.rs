//! What only the protocol can tell about a scenario: that the roles its faults target are roles the
//! protocol's actors take, that a Byzantine `forge` or `equivocate` fault has an adversary to do it, that `expect` names
//! one of the run's checkers, and that liveness promises can be judged. A scenario that fails here
//! would run and silently test nothing, so it is refused at validation, with the place.

use crate::check::assemble::checkers_for;
use crate::contract::Protocol;
use crate::fault::{ByzantineMode, FaultAction, Target};
use crate::scenario::{Scenario, Seg};

/// A field path and what is wrong there.
type Problem = (Vec<Seg>, String);

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// Checks `scenario` against protocol `P`, built as `protocol`.
pub(crate) fn check<P: Protocol>(scenario: &Scenario, protocol: &P) -> Result<(), Problem> {
    check_roles_and_forging(scenario, protocol)?;
    check_liveness(scenario, protocol.leader_role(), P::NAME)?;
    check_expect(scenario, protocol)
}

fn check_roles_and_forging<P: Protocol>(scenario: &Scenario, protocol: &P) -> Result<(), Problem> {
    for (i, f) in scenario.faults.iter().enumerate() {
        for (inner, target) in f.action.targets() {
            let Target::Role(role) = target else {
                continue;
            };
            if !P::ROLES.contains(&role.as_str()) {
                let mut path = vec![key("faults"), Seg::Index(i), key(f.action.name())];
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
        // A mode that needs the protocol's adversary would silently change nothing without one.
        if let FaultAction::Byzantine(b) = &f.action
            && matches!(b.mode, ByzantineMode::Forge | ByzantineMode::Equivocate)
            && protocol.adversary(0).is_none()
        {
            return Err((
                vec![key("faults"), Seg::Index(i), key("byzantine"), key("mode")],
                format!(
                    "protocol {} has no Byzantine adversary, so this mode would change nothing; \
                     use \"silent\"",
                    P::NAME
                ),
            ));
        }
    }
    // The same for the modes a swarm sweep may draw.
    let modes = scenario.swarm.iter().flat_map(|sw| &sw.byzantine_modes);
    for (i, mode) in modes.enumerate() {
        if matches!(mode, ByzantineMode::Forge | ByzantineMode::Equivocate)
            && protocol.adversary(0).is_none()
        {
            return Err((
                vec![key("swarm"), key("byzantine_modes"), Seg::Index(i)],
                format!(
                    "protocol {} has no Byzantine adversary, so this mode would change nothing",
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

/// The names a run of this scenario can report a violation under: every property of every checker
/// the run assembles.
pub(crate) fn checker_names<P: Protocol>(scenario: &Scenario, protocol: &P) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = checkers_for(protocol, scenario)
        .iter()
        .flat_map(|c| c.properties())
        .collect();
    if scenario.clocks {
        names.push(crate::check::clocks::PROPERTY);
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
