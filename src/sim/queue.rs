//! The event queue: a binary heap ordered by `(time, seq)`, where `seq` counts insertions, so that two
//! events at the same virtual time always come out in the order they were scheduled.

use crate::contract::Time;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A heap entry: the ordering key and where the event waits. Kept small so that sifting the heap moves
/// little memory whatever the size of a protocol's messages. `order` packs `(time, seq)` into one
/// integer, time in the high half, so that one comparison orders two entries.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    order: u128,
    slot: u32,
}

impl Key {
    fn time(&self) -> Time {
        Time((self.order >> 64) as u64)
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    // Reversed: BinaryHeap is a max-heap, and the earliest (time, seq) must come out first. `seq` is
    // unique, so `slot` never decides.
    fn cmp(&self, other: &Self) -> Ordering {
        other.order.cmp(&self.order)
    }
}

/// A deterministic priority queue of events.
///
/// Events live in a slab whose slots are reused, so a run in its steady state allocates nothing
/// here; the heap orders only small keys.
pub struct EventQueue<E> {
    heap: BinaryHeap<Key>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    seq_next: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            slab: Vec::with_capacity(1024),
            free: Vec::with_capacity(1024),
            seq_next: 0,
        }
    }

    /// Schedules `event` at `time`.
    pub fn push(&mut self, time: Time, event: E) {
        let seq = self.seq_next;
        self.seq_next += 1;
        let slot = match self.free.pop() {
            Some(i) => {
                debug_assert!(self.slab[i as usize].is_none());
                self.slab[i as usize] = Some(event);
                i
            }
            None => {
                let i = u32::try_from(self.slab.len()).expect("fewer than 2^32 pending events");
                self.slab.push(Some(event));
                i
            }
        };
        let order = (u128::from(time.0) << 64) | u128::from(seq);
        self.heap.push(Key { order, slot });
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(Key::time)
    }

    /// Takes the earliest event.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        let key = self.heap.pop()?;
        let event = self.slab[key.slot as usize].take();
        debug_assert!(event.is_some(), "every key has its event");
        self.free.push(key.slot);
        event.map(|e| (key.time(), e))
    }

    /// Every waiting event with its time, in the order they would come out. Costs a sort: for
    /// harnesses and explorers, not for the event loop.
    pub fn ordered(&self) -> Vec<(Time, &E)> {
        let mut keys: Vec<Key> = self.heap.iter().copied().collect();
        keys.sort_unstable_by_key(|k| k.order);
        keys.iter()
            .filter_map(|k| self.slab[k.slot as usize].as_ref().map(|e| (k.time(), e)))
            .collect()
    }

    /// Takes the earliest event that `matches`, out of turn. Costs a pass over the queue: for
    /// harnesses and explorers that choose what happens next, not for the event loop.
    pub fn take_first(&mut self, matches: impl Fn(&E) -> bool) -> Option<(Time, E)> {
        let key = self
            .heap
            .iter()
            .filter(|k| self.slab[k.slot as usize].as_ref().is_some_and(&matches))
            .min_by_key(|k| k.order)
            .copied()?;
        self.heap.retain(|k| k.slot != key.slot);
        let event = self.slab[key.slot as usize].take();
        self.free.push(key.slot);
        event.map(|e| (key.time(), e))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event waits.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn events_can_be_listed_and_taken_out_of_turn() {
        let mut q = super::EventQueue::new();
        for (t, e) in [(5, 'a'), (1, 'b'), (5, 'c'), (3, 'd')] {
            q.push(super::Time(t), e);
        }
        let order: Vec<char> = q.ordered().iter().map(|(_, e)| **e).collect();
        assert_eq!(order, ['b', 'd', 'a', 'c']);
        assert_eq!(
            q.take_first(|e| *e == 'a' || *e == 'c'),
            Some((super::Time(5), 'a'))
        );
        assert_eq!(q.take_first(|e| *e == 'z'), None);
        assert_eq!(q.len(), 3);
        let rest: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(rest, ['b', 'd', 'c']);
        q.push(super::Time(9), 'e');
        assert_eq!(
            q.pop(),
            Some((super::Time(9), 'e')),
            "freed slots are reused"
        );
    }

    use super::*;

    #[test]
    fn same_time_pops_in_insertion_order() {
        let mut q = EventQueue::new();
        q.push(Time(5), "b");
        q.push(Time(1), "a");
        q.push(Time(5), "c");
        q.push(Time(5), "d");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, vec!["a", "b", "c", "d"]);
    }
}
