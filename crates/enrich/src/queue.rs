//! The operator's element queue: slots for elements in flight or waiting to be emitted, and the
//! order in which they may leave (Flink's `OrderedStreamElementQueue` and
//! `UnorderedStreamElementQueue`). No I/O, no futures: the operator drives it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::outcome::{Completed, Event, Outcome};

/// One element in the queue.
pub(crate) struct Slot<T, O, E> {
    pub(crate) input: T,
    /// Arrival order, for `snapshot` and `drain` in input order.
    pub(crate) seq: u64,
    /// The unordered queue's segment the element belongs to.
    segment: u64,
    pub(crate) arrived: Instant,
    pub(crate) deadline: Option<Instant>,
    pub(crate) attempts: u32,
    pub(crate) retries: u32,
    outcome: Option<Outcome<O, E>>,
    finished: Option<Instant>,
}

enum Entry<M> {
    Record(usize),
    Marker(M),
}

struct Segment<M> {
    /// Finished elements, in completion order.
    ready: VecDeque<usize>,
    /// Elements of this segment not finished yet.
    pending: usize,
    /// The marker that ends the segment, once it has arrived.
    closing: Option<M>,
}

enum Order<M> {
    Ordered(VecDeque<Entry<M>>),
    Unordered {
        front: u64,
        segments: VecDeque<Segment<M>>,
    },
}

/// Slots plus emission order. `len()` is Flink's queue size: elements in flight, finished
/// elements not yet emitted, and markers not yet emitted.
pub(crate) struct Queue<T, O, E, M> {
    slots: Vec<Option<Slot<T, O, E>>>,
    free: Vec<usize>,
    order: Order<M>,
    next_seq: u64,
    records: usize,
    markers: usize,
    finished_waiting: usize,
}

impl<T, O, E, M> Queue<T, O, E, M> {
    pub(crate) fn new(ordered: bool, capacity: usize) -> Self {
        let order = if ordered {
            Order::Ordered(VecDeque::with_capacity(capacity))
        } else {
            Order::Unordered {
                front: 0,
                segments: VecDeque::new(),
            }
        };
        Self {
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
            order,
            next_seq: 0,
            records: 0,
            markers: 0,
            finished_waiting: 0,
        }
    }

    /// Elements and markers held (the number capacity limits).
    pub(crate) fn len(&self) -> usize {
        self.records + self.markers
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements whose call has not finished.
    pub(crate) fn in_flight(&self) -> usize {
        self.records - self.finished_waiting
    }

    /// Finished elements that cannot leave yet (head-of-line blocked in ordered mode, or behind
    /// an unfinished segment in unordered mode).
    pub(crate) fn finished_waiting(&self) -> usize {
        self.finished_waiting
    }

    /// Adds an element and returns its slot.
    pub(crate) fn push_record(
        &mut self,
        input: T,
        arrived: Instant,
        deadline: Option<Instant>,
    ) -> usize {
        let segment = match &mut self.order {
            Order::Ordered(_) => 0,
            Order::Unordered { front, segments } => {
                if segments.back().is_none_or(|s| s.closing.is_some()) {
                    segments.push_back(Segment {
                        ready: VecDeque::new(),
                        pending: 0,
                        closing: None,
                    });
                }
                let last = segments.len() - 1;
                if let Some(s) = segments.back_mut() {
                    s.pending += 1;
                }
                *front + last as u64
            }
        };
        let slot = Slot {
            input,
            seq: self.next_seq,
            segment,
            arrived,
            deadline,
            attempts: 0,
            retries: 0,
            outcome: None,
            finished: None,
        };
        self.next_seq += 1;
        self.records += 1;
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(slot);
                index
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        if let Order::Ordered(entries) = &mut self.order {
            entries.push_back(Entry::Record(index));
        }
        index
    }

    /// Adds a marker after every element already queued.
    pub(crate) fn push_marker(&mut self, marker: M) {
        self.markers += 1;
        match &mut self.order {
            Order::Ordered(entries) => entries.push_back(Entry::Marker(marker)),
            Order::Unordered { segments, .. } => match segments.back_mut() {
                Some(last) if last.closing.is_none() => last.closing = Some(marker),
                _ => segments.push_back(Segment {
                    ready: VecDeque::new(),
                    pending: 0,
                    closing: Some(marker),
                }),
            },
        }
    }

    pub(crate) fn get(&self, index: usize) -> Option<&Slot<T, O, E>> {
        self.slots.get(index).and_then(Option::as_ref)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut Slot<T, O, E>> {
        self.slots.get_mut(index).and_then(Option::as_mut)
    }

    /// Records the final outcome of an element still in flight; ignored for an element that
    /// already finished or left (a late completion after `drain`).
    pub(crate) fn finish(&mut self, index: usize, outcome: Outcome<O, E>, now: Instant) {
        let Some(slot) = self.slots.get_mut(index).and_then(Option::as_mut) else {
            return;
        };
        if slot.outcome.is_some() {
            return;
        }
        slot.outcome = Some(outcome);
        slot.finished = Some(now);
        self.finished_waiting += 1;
        if let Order::Unordered { front, segments } = &mut self.order {
            let position = usize::try_from(slot.segment - *front).unwrap_or(usize::MAX);
            if let Some(segment) = segments.get_mut(position) {
                segment.pending -= 1;
                segment.ready.push_back(index);
            }
        }
    }

    /// The next element or marker allowed to leave, if any.
    pub(crate) fn pop_ready(&mut self) -> Option<Event<Completed<T, O, E>, M>> {
        match &mut self.order {
            Order::Ordered(entries) => match entries.front() {
                Some(Entry::Record(index)) => {
                    let index = *index;
                    let done = self.slots[index]
                        .as_ref()
                        .is_some_and(|s| s.outcome.is_some());
                    if !done {
                        return None;
                    }
                    entries.pop_front();
                    self.take(index).map(Event::Record)
                }
                Some(Entry::Marker(_)) => match entries.pop_front() {
                    Some(Entry::Marker(marker)) => {
                        self.markers -= 1;
                        Some(Event::Marker(marker))
                    }
                    _ => None,
                },
                None => None,
            },
            Order::Unordered { front, segments } => {
                let first = segments.front_mut()?;
                if let Some(index) = first.ready.pop_front() {
                    return self.take(index).map(Event::Record);
                }
                if first.pending == 0 && first.closing.is_some() {
                    let marker = segments.pop_front().and_then(|s| s.closing)?;
                    *front += 1;
                    self.markers -= 1;
                    return Some(Event::Marker(marker));
                }
                if first.pending == 0 && segments.len() == 1 {
                    // The open segment is empty: drop it so a new one starts cleanly.
                    segments.pop_front();
                    *front += 1;
                }
                None
            }
        }
    }

    fn take(&mut self, index: usize) -> Option<Completed<T, O, E>> {
        let slot = self.slots.get_mut(index)?.take()?;
        self.free.push(index);
        self.records -= 1;
        self.finished_waiting -= 1;
        let finished = slot.finished.unwrap_or(slot.arrived);
        Some(Completed {
            input: slot.input,
            outcome: slot.outcome?,
            attempts: slot.attempts,
            elapsed: finished.saturating_duration_since(slot.arrived),
        })
    }

    /// The inputs not yet emitted, in arrival order.
    pub(crate) fn snapshot(&self) -> Vec<&T> {
        let mut held: Vec<&Slot<T, O, E>> = self.slots.iter().flatten().collect();
        held.sort_unstable_by_key(|s| s.seq);
        held.into_iter().map(|s| &s.input).collect()
    }

    /// Removes everything and returns the inputs not yet emitted, in arrival order. Markers are
    /// dropped: the source replays them from its own position.
    pub(crate) fn drain(&mut self) -> Vec<T> {
        let mut held: Vec<Slot<T, O, E>> = self.slots.drain(..).flatten().collect();
        held.sort_unstable_by_key(|s| s.seq);
        self.free.clear();
        self.records = 0;
        self.markers = 0;
        self.finished_waiting = 0;
        match &mut self.order {
            Order::Ordered(entries) => entries.clear(),
            Order::Unordered { front, segments } => {
                *front += segments.len() as u64;
                segments.clear();
            }
        }
        held.into_iter().map(|s| s.input).collect()
    }
}

/// How long from `now` until `deadline`, zero when it has passed.
pub(crate) fn remaining(deadline: Option<Instant>, now: Instant) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Q = Queue<&'static str, u32, (), char>;

    fn drain_ready(q: &mut Q) -> Vec<String> {
        std::iter::from_fn(|| q.pop_ready())
            .map(|e| match e {
                Event::Record(c) => c.input.to_string(),
                Event::Marker(m) => format!("|{m}"),
            })
            .collect()
    }

    #[test]
    fn ordered_emits_in_arrival_order_only() {
        let now = Instant::now();
        let mut q = Q::new(true, 8);
        let a = q.push_record("a", now, None);
        let b = q.push_record("b", now, None);
        q.push_marker('w');
        let c = q.push_record("c", now, None);
        assert_eq!(q.len(), 4);
        q.finish(b, Outcome::Ok(2), now);
        q.finish(c, Outcome::Ok(3), now);
        assert_eq!(q.finished_waiting(), 2);
        assert!(drain_ready(&mut q).is_empty(), "b and c wait behind a");
        q.finish(a, Outcome::Ok(1), now);
        assert_eq!(drain_ready(&mut q), ["a", "b", "|w", "c"]);
        assert!(q.is_empty());
    }

    #[test]
    fn unordered_reorders_within_a_segment_only() {
        let now = Instant::now();
        let mut q = Q::new(false, 8);
        let a = q.push_record("a", now, None);
        let b = q.push_record("b", now, None);
        q.push_marker('w');
        let c = q.push_record("c", now, None);
        q.finish(c, Outcome::Ok(3), now);
        assert!(
            drain_ready(&mut q).is_empty(),
            "c may not overtake the marker"
        );
        q.finish(b, Outcome::Ok(2), now);
        assert_eq!(drain_ready(&mut q), ["b"]);
        q.finish(a, Outcome::Ok(1), now);
        assert_eq!(drain_ready(&mut q), ["a", "|w", "c"]);
        assert!(q.is_empty());
    }

    #[test]
    fn consecutive_markers_and_empty_segments() {
        let now = Instant::now();
        let mut q = Q::new(false, 8);
        q.push_marker('x');
        q.push_marker('y');
        let a = q.push_record("a", now, None);
        assert_eq!(drain_ready(&mut q), ["|x", "|y"]);
        q.finish(a, Outcome::Ok(1), now);
        assert_eq!(drain_ready(&mut q), ["a"]);
        q.push_marker('z');
        assert_eq!(drain_ready(&mut q), ["|z"]);
        assert!(q.is_empty());
    }

    #[test]
    fn drain_returns_unemitted_inputs_in_arrival_order() {
        let now = Instant::now();
        let mut q = Q::new(false, 8);
        let a = q.push_record("a", now, None);
        let b = q.push_record("b", now, None);
        let c = q.push_record("c", now, None);
        q.finish(b, Outcome::Ok(2), now);
        assert_eq!(drain_ready(&mut q), ["b"]);
        // Slot reuse must not disturb arrival order.
        let d = q.push_record("d", now, None);
        assert_eq!(d, b);
        q.finish(c, Outcome::Ok(3), now);
        assert_eq!(q.snapshot(), [&"a", &"c", &"d"]);
        assert_eq!(q.drain(), ["a", "c", "d"]);
        assert!(q.is_empty());
        // A late completion for a drained slot is ignored.
        q.finish(a, Outcome::Ok(1), now);
        assert!(q.pop_ready().is_none());
        // And the queue works again afterwards.
        let e = q.push_record("e", now, None);
        q.finish(e, Outcome::Ok(5), now);
        assert_eq!(drain_ready(&mut q), ["e"]);
    }
}
