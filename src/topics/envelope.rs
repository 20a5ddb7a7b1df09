//! What a networked broker carries for one publication: the message plus
//! who published it and its place in that publisher's sequence for the
//! topic, so a receiver can drop its own publications, drop duplicates and
//! report gaps. Shared by every broker that crosses the network.
//!
//! Wire form (big-endian): version `1`, node `u64`, stream `u64`, sequence
//! `u64`, kind `u8` (1 text, 2 binary), payload.

use std::collections::HashMap;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::Topic;
use crate::proto::{Message, SharedMessage};
use crate::Utf8Bytes;

const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 8 + 8 + 8 + 1;

/// A publisher keeps a counter per topic; past this many topics it starts a
/// new stream (receivers take a new stream as a fresh start, not a gap), so
/// the counters never outgrow it.
const MAX_COUNTED_TOPICS: usize = 65_536;

/// A receiver remembers at most this many publisher streams per topic.
const MAX_STREAMS_PER_TOPIC: usize = 1024;

/// One node's publications: its id, and its sequence per topic.
#[derive(Debug)]
pub(crate) struct Sequencer {
    node: u64,
    stream: u64,
    next: HashMap<Topic, u64>,
}

impl Sequencer {
    pub(crate) fn new(node: u64) -> Self {
        Self {
            node,
            stream: random_u64(),
            next: HashMap::new(),
        }
    }

    /// The envelope for `message` published to `topic`.
    pub(crate) fn seal(&mut self, topic: &str, message: &SharedMessage) -> Bytes {
        let seq = if let Some(seq) = self.next.get_mut(topic) {
            *seq += 1;
            *seq
        } else {
            if self.next.len() >= MAX_COUNTED_TOPICS {
                self.next.clear();
                self.stream = random_u64();
            }
            self.next.insert(Topic::from(topic), 1);
            1
        };
        let (kind, payload) = if message.is_text() {
            (1, message.payload())
        } else {
            (2, message.payload())
        };
        let mut out = BytesMut::with_capacity(HEADER_LEN + payload.len());
        out.put_u8(VERSION);
        out.put_u64(self.node);
        out.put_u64(self.stream);
        out.put_u64(seq);
        out.put_u8(kind);
        out.put_slice(&payload);
        out.freeze()
    }
}

/// An envelope taken apart.
#[derive(Debug, PartialEq)]
pub(crate) struct Opened {
    pub(crate) node: u64,
    pub(crate) stream: u64,
    pub(crate) seq: u64,
    pub(crate) message: Message,
}

/// Takes an envelope apart; `None` if it is not one (another program's
/// message on the channel, or text that is not UTF-8).
pub(crate) fn open(mut bytes: Bytes) -> Option<Opened> {
    if bytes.len() < HEADER_LEN || bytes[0] != VERSION {
        return None;
    }
    bytes.advance(1);
    let (node, stream, seq) = (bytes.get_u64(), bytes.get_u64(), bytes.get_u64());
    let message = match bytes.get_u8() {
        1 => Message::Text(Utf8Bytes::try_from(bytes).ok()?),
        2 => Message::Binary(bytes),
        _ => return None,
    };
    Some(Opened {
        node,
        stream,
        seq,
        message,
    })
}

/// What a receiver does with an opened envelope.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Deliver it; `gap`: this many of the stream's earlier ones never came.
    Deliver { gap: u64 },
    /// Its own, or one already seen: drop it.
    Drop,
}

/// The last sequence seen per topic and publisher stream.
#[derive(Debug)]
pub(crate) struct GapTracker {
    node: u64,
    last: HashMap<Topic, HashMap<u64, u64>>,
}

impl GapTracker {
    pub(crate) fn new(node: u64) -> Self {
        Self {
            node,
            last: HashMap::new(),
        }
    }

    pub(crate) fn check(&mut self, topic: &Topic, opened: &Opened) -> Verdict {
        if opened.node == self.node {
            return Verdict::Drop;
        }
        let streams = self.last.entry(topic.clone()).or_default();
        if streams.len() >= MAX_STREAMS_PER_TOPIC && !streams.contains_key(&opened.stream) {
            streams.clear();
        }
        match streams.insert(opened.stream, opened.seq) {
            // A stream's first message here: nothing to compare with.
            None => Verdict::Deliver { gap: 0 },
            Some(last) if opened.seq > last => Verdict::Deliver {
                gap: opened.seq - last - 1,
            },
            Some(last) => {
                streams.insert(opened.stream, last);
                Verdict::Drop
            }
        }
    }

    /// After an outage (already reported): every stream starts afresh.
    pub(crate) fn reset(&mut self) {
        self.last.clear();
    }

    /// `topic` has no local subscriber any more: forget it.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn forget(&mut self, topic: &str) {
        self.last.remove(topic);
    }
}

/// A random id, from the same source as masking keys.
pub(crate) fn random_u64() -> u64 {
    crate::proto::random::os_seed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(text: &str) -> SharedMessage {
        SharedMessage::new(Message::text(text)).unwrap()
    }

    #[test]
    fn an_envelope_opens_to_what_was_sealed() {
        let topic = Topic::from("t");
        let mut seq = Sequencer::new(7);
        let first = open(seq.seal(&topic, &shared("héllo"))).unwrap();
        assert_eq!((first.node, first.seq, first.message), (7, 1, Message::text("héllo")));
        let binary = SharedMessage::new(Message::binary(vec![0xff, 0])).unwrap();
        let second = open(seq.seal(&topic, &binary)).unwrap();
        assert_eq!((second.seq, second.message), (2, Message::binary(vec![0xff, 0])));
        assert_eq!(open(Bytes::from_static(b"PING")), None);
    }

    #[test]
    fn gaps_duplicates_and_own_messages() {
        let topic = Topic::from("t");
        let mut publisher = Sequencer::new(1);
        let mut tracker = GapTracker::new(2);
        let sealed: Vec<Opened> = (0..5)
            .map(|i| open(publisher.seal(&topic, &shared(&i.to_string()))).unwrap())
            .collect();
        assert_eq!(tracker.check(&topic, &sealed[0]), Verdict::Deliver { gap: 0 });
        assert_eq!(tracker.check(&topic, &sealed[3]), Verdict::Deliver { gap: 2 });
        assert_eq!(tracker.check(&topic, &sealed[3]), Verdict::Drop, "a duplicate");
        assert_eq!(
            tracker.check(&topic, &sealed[1]),
            Verdict::Drop,
            "late, after the gap was reported"
        );
        assert_eq!(tracker.check(&topic, &sealed[4]), Verdict::Deliver { gap: 0 });
        let mut own = GapTracker::new(1);
        assert_eq!(own.check(&topic, &sealed[0]), Verdict::Drop);
    }
}
