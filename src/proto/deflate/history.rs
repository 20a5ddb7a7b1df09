//! A compression context parked between messages as plain bytes.
//!
//! With context takeover, each side's inflater keeps the last 2^window bytes
//! the other side sent (RFC 7692 §7.2.1, §8.1.1), and the next message may
//! refer back into them. Those bytes, and nothing else, are the context: a
//! fresh stream primed with them as a preset dictionary (RFC 1951 §3.2.5's
//! distances reach into it) continues where the last message left off. So a
//! socket keeps them, at most `limit`, instead of a whole compressor or
//! inflater, and borrows one of the thread's for the next message.

/// The last bytes of the stream so far, at most `limit` of them.
#[derive(Debug)]
pub(crate) struct History {
    bytes: Vec<u8>,
    limit: usize,
}

impl History {
    pub(crate) const fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
        }
    }

    /// Appends `data`, keeping only the last `limit` bytes. The buffer never
    /// grows past `limit`, so a long stream costs at most that.
    pub(crate) fn record(&mut self, data: &[u8]) {
        if data.len() >= self.limit {
            self.bytes.clear();
            self.bytes.extend_from_slice(&data[data.len() - self.limit..]);
            self.bytes.shrink_to(self.limit);
            return;
        }
        let overflow = (self.bytes.len() + data.len()).saturating_sub(self.limit);
        self.bytes.drain(..overflow);
        let wanted = self.bytes.len() + data.len();
        if wanted > self.bytes.capacity() {
            // Grows by doubling, capped at the limit: never a spare tail past it.
            let target = wanted.max(2 * self.bytes.capacity()).min(self.limit);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.bytes.extend_from_slice(data);
    }

    /// The parked bytes, oldest first.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Forgets the context: the stream starts afresh.
    pub(crate) fn clear(&mut self) {
        self.bytes = Vec::new();
    }

    /// Bytes held now.
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::History;

    #[test]
    fn keeps_the_last_limit_bytes_and_never_more_room() {
        let mut history = History::new(10);
        history.record(b"abcdef");
        assert_eq!(history.bytes(), b"abcdef");
        history.record(b"ghijkl");
        assert_eq!(history.bytes(), b"cdefghijkl");
        assert!(history.capacity() <= 10);
        history.record(b"0123456789ABC");
        assert_eq!(history.bytes(), b"3456789ABC");
        assert!(history.capacity() <= 10);
        history.clear();
        assert!(history.bytes().is_empty());
        assert_eq!(history.capacity(), 0);
    }

    #[test]
    fn a_zero_limit_keeps_nothing() {
        let mut history = History::new(0);
        history.record(b"abc");
        assert!(history.bytes().is_empty());
    }
}
