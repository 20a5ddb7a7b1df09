//! Bytes waiting to be written, ready for one vectored write.
//!
//! Small frames are copied into one contiguous tail, so a batch of them goes
//! out in a single syscall; a large payload is kept as its own `Bytes` chunk
//! (no copy) and written with the headers around it as an `IoSlice` list.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

use super::frame::{FrameHeader, MAX_HEADER_LEN};
use super::mask::apply_mask;

/// Payloads at least this large are queued by reference instead of copied.
const ZERO_COPY_THRESHOLD: usize = 8 << 10;

/// Frames encoded elsewhere (shared by many connections) at least this large
/// are queued by reference: copying them would multiply one frame's memory by
/// the number of connections sending it. Smaller ones are copied, so a batch
/// of them still leaves as one slice.
const SHARED_BY_REFERENCE: usize = 256;

/// An empty tail larger than this is given back at once; smaller ones when
/// the socket is quiet.
const RELEASE_AT_ONCE: usize = 2 << 20;

/// Encoded frames not yet written to the transport.
#[derive(Debug, Default)]
pub(crate) struct WriteQueue {
    /// Written first, in order: frozen runs of the tail and large payloads.
    chunks: VecDeque<Bytes>,
    /// Small frames appended after every chunk.
    tail: BytesMut,
    len: usize,
}

impl WriteQueue {
    /// Queues one frame. A masked header masks a copy of the payload (the
    /// caller's bytes may be shared, so they are never changed in place).
    pub(crate) fn push_frame(&mut self, header: &FrameHeader, payload: Bytes) {
        if header.mask.is_some() || payload.len() < ZERO_COPY_THRESHOLD {
            return self.push_frame_copy(header, &payload);
        }
        self.push_header(header);
        self.len += payload.len();
        self.push_chunk(payload);
    }

    /// Queues one frame whose payload is copied in (and masked if the header says so).
    pub(crate) fn push_frame_copy(&mut self, header: &FrameHeader, payload: &[u8]) {
        self.push_header(header);
        self.len += payload.len();
        let start = self.tail.len();
        self.tail.extend_from_slice(payload);
        if let Some(key) = header.mask {
            apply_mask(&mut self.tail[start..], key, 0);
        }
    }

    /// Queues a frame encoded elsewhere (header and payload, unmasked):
    /// copied when tiny, so a batch still leaves in one write, else by reference.
    pub(crate) fn push_encoded(&mut self, frame: Bytes) {
        self.len += frame.len();
        if frame.len() < SHARED_BY_REFERENCE {
            return self.tail.extend_from_slice(&frame);
        }
        self.push_chunk(frame);
    }

    /// Queues `bytes` by reference after everything queued so far.
    fn push_chunk(&mut self, bytes: Bytes) {
        if !self.tail.is_empty() {
            self.chunks.push_back(self.tail.split().freeze());
        }
        self.chunks.push_back(bytes);
    }

    fn push_header(&mut self, header: &FrameHeader) {
        let mut encoded = [0; MAX_HEADER_LEN];
        let header_len = header.encode(&mut encoded);
        self.tail.extend_from_slice(&encoded[..header_len]);
        self.len += header_len;
    }

    /// Bytes queued.
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Fills `dst` with the queued bytes in order; returns how many slices it used.
    pub(crate) fn io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let pieces = self
            .chunks
            .iter()
            .map(|c| &c[..])
            .chain(std::iter::once(&self.tail[..]));
        let mut used = 0;
        for (slot, piece) in dst.iter_mut().zip(pieces.filter(|p| !p.is_empty())) {
            *slot = IoSlice::new(piece);
            used += 1;
        }
        used
    }

    /// Forgets the first `n` bytes, which the transport has taken (at most
    /// all of them: a transport that claims more wrote what it was given).
    pub(crate) fn advance(&mut self, n: usize) {
        let mut n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                self.tail.advance(n);
                break;
            };
            let step = n.min(front.len());
            front.advance(step);
            n -= step;
            if front.is_empty() {
                self.chunks.pop_front();
            }
        }
        if self.len == 0 {
            if self.tail.capacity() > RELEASE_AT_ONCE {
                // A very large batch is written: give its room back now.
                self.tail = BytesMut::new();
            } else {
                // Reuse the whole allocation instead of creeping forward through it.
                self.tail.clear();
            }
        }
    }
}

impl WriteQueue {
    /// Drops everything queued: the transport will never take it.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::frame::OpCode;

    fn drain(write_queue: &mut WriteQueue, step: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while !write_queue.is_empty() {
            let mut slices = [IoSlice::new(&[]); 8];
            let n = write_queue.io_slices(&mut slices);
            let joined: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
            let take = step.min(joined.len());
            out.extend_from_slice(&joined[..take]);
            write_queue.advance(take);
        }
        out
    }

    #[test]
    fn small_and_large_frames_come_out_in_order_however_they_are_written() {
        let big = Bytes::from(vec![7u8; ZERO_COPY_THRESHOLD + 3]);
        let mut expected = Vec::new();
        let mut write_queue = WriteQueue::default();
        for (i, payload) in [Bytes::from_static(b"a"), big.clone(), Bytes::from_static(b"bc")]
            .into_iter()
            .enumerate()
        {
            let header = FrameHeader::new(OpCode::Binary, payload.len() as u64);
            let mut encoded = [0; MAX_HEADER_LEN];
            let header_len = header.encode(&mut encoded);
            expected.extend_from_slice(&encoded[..header_len]);
            expected.extend_from_slice(&payload);
            write_queue.push_frame(&header, payload);
            assert!(write_queue.len() == expected.len(), "frame {i}");
        }
        assert_eq!(drain(&mut write_queue, 5), expected);
        assert!(write_queue.is_empty());
    }

    #[test]
    fn masked_frames_mask_a_copy() {
        let payload = Bytes::from_static(b"Hello");
        let mut header = FrameHeader::new(OpCode::Text, 5);
        header.mask = Some([0x37, 0xfa, 0x21, 0x3d]);
        let mut write_queue = WriteQueue::default();
        write_queue.push_frame(&header, payload.clone());
        // RFC 6455 §5.7, "A single-frame masked text message".
        assert_eq!(
            drain(&mut write_queue, 100),
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        assert_eq!(payload, "Hello");
    }

    #[test]
    fn a_shared_frame_is_queued_by_reference_unless_tiny() {
        let big = Bytes::from(vec![1u8; SHARED_BY_REFERENCE]);
        let mut write_queue = WriteQueue::default();
        write_queue.push_encoded(Bytes::from_static(b"\x81\x01a"));
        write_queue.push_encoded(big.clone());
        write_queue.push_encoded(Bytes::from_static(b"\x81\x01b"));
        let mut slices = [IoSlice::new(&[]); 4];
        assert_eq!(write_queue.io_slices(&mut slices), 3);
        assert_eq!(&*slices[0], b"\x81\x01a");
        assert_eq!(
            slices[1].as_ptr(),
            big.as_ptr(),
            "the very bytes every connection shares"
        );
        assert_eq!(write_queue.len(), 6 + big.len());
    }
}
