//! One node's timers: typed tags, at most one queued event per tag.

use crate::contract::Time;

/// What a popped timer event turned out to be.
pub(crate) enum Popped {
    /// Not the node's pending event for that tag (replaced by an earlier deadline, or lost in a
    /// crash), or the timer was cancelled.
    Stale,
    /// The timer was set again, to a later deadline, after this event was queued: queue it again.
    Rearm(Time),
    /// The timer is due now.
    Due,
}

/// One timer tag of one node: the deadline the node wants, and the one event in the queue for it.
struct TimerEntry<T> {
    tag: T,
    /// When the node wants it to fire; `None` once cancelled or fired.
    deadline: Option<Time>,
    /// The queued event for this tag: its time and generation.
    queued: Option<(Time, u64)>,
}

/// One node's timers.
///
/// Protocols re-set timers far more often than they fire them (a follower pushes its election
/// timeout back on every heartbeat). Rather than queueing an event per set and skipping the stale
/// ones, each tag keeps at most one queued event: setting a later deadline only records it, and when
/// the early event pops it is re-armed for the recorded deadline. Only a set to an *earlier* time
/// queues a new event. Tags are typed and few per node, so a small vector scanned linearly beats a
/// tree, and it keeps its capacity: steady-state timer traffic allocates nothing.
pub(crate) struct Timers<T> {
    entries: Vec<TimerEntry<T>>,
}

impl<T> Default for Timers<T> {
    fn default() -> Self {
        Timers {
            entries: Vec::new(),
        }
    }
}

impl<T: PartialEq + Clone> Timers<T> {
    fn find(&mut self, tag: &T) -> Option<usize> {
        self.entries.iter().position(|e| e.tag == *tag)
    }

    fn forget_if_idle(&mut self, i: usize) {
        let e = &self.entries[i];
        if e.deadline.is_none() && e.queued.is_none() {
            self.entries.swap_remove(i);
        }
    }

    /// Sets `tag` to fire at `at`. True if an event must be queued (then call [`Timers::queued`]).
    pub(crate) fn set(&mut self, tag: &T, at: Time) -> bool {
        let i = match self.find(tag) {
            Some(i) => i,
            None => {
                self.entries.push(TimerEntry {
                    tag: tag.clone(),
                    deadline: None,
                    queued: None,
                });
                self.entries.len() - 1
            }
        };
        let e = &mut self.entries[i];
        e.deadline = Some(at);
        !matches!(e.queued, Some((queued_at, _)) if queued_at <= at)
    }

    /// Records the event queued for `tag`.
    pub(crate) fn queued(&mut self, tag: &T, at: Time, generation: u64) {
        if let Some(i) = self.find(tag) {
            self.entries[i].queued = Some((at, generation));
        }
    }

    pub(crate) fn cancel(&mut self, tag: &T) {
        if let Some(i) = self.find(tag) {
            self.entries[i].deadline = None;
            self.forget_if_idle(i);
        }
    }

    /// Classifies a popped event for `tag`.
    pub(crate) fn popped(&mut self, tag: &T, generation: u64, now: Time) -> Popped {
        let Some(i) = self.find(tag) else {
            return Popped::Stale;
        };
        let e = &mut self.entries[i];
        if e.queued.map(|(_, g)| g) != Some(generation) {
            return Popped::Stale;
        }
        e.queued = None;
        match e.deadline {
            None => {
                self.forget_if_idle(i);
                Popped::Stale
            }
            Some(at) if at > now => Popped::Rearm(at),
            Some(_) => Popped::Due,
        }
    }

    /// Whether `tag` is due and waiting (a timer that came due while its node was paused).
    pub(crate) fn is_due(&mut self, tag: &T, now: Time) -> bool {
        self.find(tag).is_some_and(|i| {
            let e = &self.entries[i];
            e.queued.is_none() && e.deadline.is_some_and(|at| at <= now)
        })
    }

    pub(crate) fn fired(&mut self, tag: &T) {
        if let Some(i) = self.find(tag) {
            self.entries[i].deadline = None;
            self.forget_if_idle(i);
        }
    }

    /// The timers set now, with their deadlines, in the order they were first set.
    pub(crate) fn armed(&self) -> impl Iterator<Item = (&T, Time)> {
        self.entries
            .iter()
            .filter_map(|e| e.deadline.map(|at| (&e.tag, at)))
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Time = Time(100);

    #[test]
    fn a_timer_fires_once_at_its_deadline() {
        let mut timers = Timers::default();
        assert!(timers.set(&"tick", T), "a new timer queues an event");
        timers.queued(&"tick", T, 1);
        assert!(matches!(timers.popped(&"tick", 1, T), Popped::Due));
        timers.fired(&"tick");
        assert!(timers.entries.is_empty(), "a fired timer is forgotten");
        assert!(matches!(timers.popped(&"tick", 1, T), Popped::Stale));
    }

    #[test]
    fn pushing_a_deadline_back_rearms_the_one_queued_event() {
        let mut timers = Timers::default();
        assert!(timers.set(&"election", T));
        timers.queued(&"election", T, 1);
        assert!(!timers.set(&"election", Time(300)), "later: no new event");
        match timers.popped(&"election", 1, T) {
            Popped::Rearm(at) => assert_eq!(at, Time(300)),
            _ => panic!("the early event re-arms for the new deadline"),
        }
        timers.queued(&"election", Time(300), 2);
        assert!(timers.set(&"election", Time(50)), "earlier: a new event");
        timers.queued(&"election", Time(50), 3);
        assert!(
            matches!(timers.popped(&"election", 2, Time(300)), Popped::Stale),
            "the replaced event is stale"
        );
        assert!(matches!(
            timers.popped(&"election", 3, Time(50)),
            Popped::Due
        ));
    }

    #[test]
    fn a_cancelled_timer_is_stale_and_forgotten() {
        let mut timers = Timers::default();
        timers.set(&"t", T);
        timers.queued(&"t", T, 7);
        timers.cancel(&"t");
        assert_eq!(timers.entries.len(), 1, "its queued event is still tracked");
        assert!(matches!(timers.popped(&"t", 7, T), Popped::Stale));
        assert!(timers.entries.is_empty(), "then it is forgotten");
        timers.cancel(&"never set");
        assert!(timers.entries.is_empty());
    }

    #[test]
    fn a_timer_due_while_paused_waits_until_resumed() {
        let mut timers = Timers::default();
        timers.set(&"t", T);
        timers.queued(&"t", T, 1);
        assert!(!timers.is_due(&"t", T), "its event is still queued");
        assert!(matches!(timers.popped(&"t", 1, T), Popped::Due));
        assert!(timers.is_due(&"t", T), "popped while paused: due");
        assert!(!timers.is_due(&"t", Time(99)), "not before its deadline");
        timers.fired(&"t");
        assert!(!timers.is_due(&"t", T), "fired once");
        timers.set(&"u", T);
        timers.clear();
        assert!(!timers.is_due(&"u", T) && timers.entries.is_empty());
    }

    #[test]
    fn armed_lists_the_timers_set_in_first_set_order() {
        let mut timers = Timers::default();
        timers.set(&"election", Time(300));
        timers.set(&"heartbeat", T);
        timers.set(&"election", Time(250));
        timers.set(&"gone", T);
        timers.cancel(&"gone");
        let armed: Vec<(&&str, Time)> = timers.armed().collect();
        assert_eq!(
            armed,
            [(&"election", Time(250)), (&"heartbeat", T)],
            "each tag once, at its latest deadline; a cancelled one is not armed"
        );
        timers.queued(&"heartbeat", T, 1);
        assert!(matches!(timers.popped(&"heartbeat", 1, T), Popped::Due));
        timers.fired(&"heartbeat");
        assert_eq!(
            timers.armed().count(),
            1,
            "a fired timer is no longer armed"
        );
    }
}
