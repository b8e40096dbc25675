//! The generic durable-state checker: the fields a protocol declares monotonic never go back on a
//! node's disk, and a choice made once per epoch is never changed or forgotten within that epoch,
//! across crashes and restarts included (the ghost record outlives the node's volatile state).
//!
//! It reads the disk after every event a node handles, so a restart that rewrites the disk in its
//! `on_start` is judged at that very event.

use crate::contract::{Actor, Checker, DurableInvariant, Failure, NodeId, Observation};

/// The property it judges.
pub const PROPERTY: &str = "durable_state";

/// Holds every node's disk to the protocol's declared [`DurableInvariant`]s.
pub struct DurableState<A: Actor> {
    invariants: Vec<DurableInvariant<A::Durable>>,
    /// Per node, per invariant: what the disk last said.
    seen: Vec<Vec<Option<Seen>>>,
}

/// What a node's disk last said of one invariant: monotonic, the value; once per epoch, the epoch and
/// the choice made in it.
type Seen = (u64, Option<u64>);

impl<A: Actor> DurableState<A> {
    /// A checker of `invariants` (from [`crate::contract::Protocol::durable_invariants`]).
    pub fn new(invariants: Vec<DurableInvariant<A::Durable>>) -> Self {
        DurableState {
            invariants,
            seen: Vec::new(),
        }
    }

    fn check(&mut self, node: NodeId, durable: &A::Durable) -> Result<(), String> {
        let i = node as usize;
        if self.seen.len() <= i {
            self.seen.resize(i + 1, vec![None; self.invariants.len()]);
        }
        for (inv, seen) in self.invariants.iter().zip(self.seen[i].iter_mut()) {
            match inv {
                DurableInvariant::Monotonic { name, get } => {
                    let Some(now) = get(durable) else { continue };
                    if let Some((before, _)) = *seen
                        && now < before
                    {
                        return Err(format!(
                            "node {node}'s durable {name} went back from {before} to {now}"
                        ));
                    }
                    *seen = Some((now, None));
                }
                DurableInvariant::OncePerEpoch { name, epoch, value } => {
                    let Some(epoch_now) = epoch(durable) else {
                        continue;
                    };
                    let value_now = value(durable);
                    if let Some((epoch_before, Some(chosen))) = *seen
                        && epoch_before == epoch_now
                        && value_now != Some(chosen)
                    {
                        let now = value_now.map_or("nothing".to_string(), |v| v.to_string());
                        return Err(format!(
                            "node {node}'s durable {name} in epoch {epoch_now} changed from \
                             {chosen} to {now}"
                        ));
                    }
                    *seen = Some((epoch_now, value_now));
                }
            }
        }
        Ok(())
    }
}

impl<A: Actor> Checker<A> for DurableState<A> {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        PROPERTY
    }

    fn observe(&mut self, obs: &Observation<'_, A>) -> Result<(), Failure> {
        self.check(obs.node, obs.durable).map_err(Failure::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Cluster, Ctx, NodeId, Time};

    #[derive(Clone, Debug, Default)]
    struct Disk {
        term: u64,
        vote: Option<u64>,
    }

    struct Dummy;

    impl Actor for Dummy {
        type Msg = ();
        type Timer = ();
        type Durable = Disk;
        type Note = crate::protocols::pingpong::Note;
        fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
        fn on_msg(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
    }

    fn checker() -> DurableState<Dummy> {
        DurableState::new(vec![
            DurableInvariant::Monotonic {
                name: "term",
                get: |d: &Disk| Some(d.term),
            },
            DurableInvariant::OncePerEpoch {
                name: "vote",
                epoch: |d: &Disk| Some(d.term),
                value: |d: &Disk| d.vote,
            },
        ])
    }

    fn disk(term: u64, vote: Option<u64>) -> Disk {
        Disk { term, vote }
    }

    #[test]
    fn a_term_that_grows_and_votes_made_once_per_term_pass() {
        let mut c = checker();
        for (node, d) in [
            (0, disk(0, None)),
            (1, disk(0, None)),
            (0, disk(1, None)),
            (0, disk(1, Some(2))),
            (0, disk(1, Some(2))),
            (1, disk(3, Some(1))),
            (0, disk(2, None)),
            (0, disk(2, Some(0))),
        ] {
            assert_eq!(c.check(node, &d), Ok(()), "{node} {d:?}");
        }
    }

    #[test]
    fn a_term_that_goes_back_fails_even_on_another_node_first() {
        let mut c = checker();
        assert_eq!(c.check(0, &disk(5, None)), Ok(()));
        assert_eq!(c.check(1, &disk(1, None)), Ok(()), "nodes are judged apart");
        let err = c.check(0, &disk(4, None)).unwrap_err();
        assert!(err.contains("term went back from 5 to 4"), "{err}");
    }

    #[test]
    fn a_vote_forgotten_or_changed_in_its_term_fails() {
        let mut c = checker();
        assert_eq!(c.check(0, &disk(3, Some(1))), Ok(()));
        let err = c.check(0, &disk(3, None)).unwrap_err();
        assert!(
            err.contains("vote in epoch 3 changed from 1 to nothing"),
            "{err}"
        );
        let mut c = checker();
        assert_eq!(c.check(0, &disk(3, Some(1))), Ok(()));
        let err = c.check(0, &disk(3, Some(2))).unwrap_err();
        assert!(err.contains("changed from 1 to 2"), "{err}");
    }

    #[test]
    fn fields_that_do_not_apply_are_skipped() {
        let mut c = DurableState::<Dummy>::new(vec![DurableInvariant::Monotonic {
            name: "term",
            get: |_| None,
        }]);
        assert_eq!(c.check(0, &disk(5, None)), Ok(()));
        assert_eq!(c.check(0, &disk(1, None)), Ok(()));
    }

    #[test]
    fn as_a_checker_it_reads_the_disk_after_each_event_and_names_its_property() {
        let mut c = checker();
        let mut observe = |node: NodeId, d: Disk| {
            c.observe(&Observation {
                event_index: 0,
                now: Time::ZERO,
                node,
                state: &Dummy,
                durable: &d,
                notes: &[],
                cluster: &Cluster::new(2, 0),
            })
        };
        assert_eq!(observe(0, disk(2, Some(1))), Ok(()));
        assert_eq!(observe(1, disk(1, None)), Ok(()));
        let failure = observe(0, disk(1, None)).unwrap_err();
        assert!(
            failure.message.contains("went back from 2 to 1"),
            "{failure:?}"
        );
        // The engine reports a failure with no property under the checker's name, which is the
        // name scenarios use in `expect`.
        assert_eq!(failure.property, None);
        assert_eq!(Checker::<Dummy>::name(&checker()), PROPERTY);
        assert_eq!(PROPERTY, "durable_state");
    }
}
