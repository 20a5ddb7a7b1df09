//! The frame header wire format (RFC 6455 §5.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               | Masking-key, if MASK set to 1 |
//! +-------------------------------+-------------------------------+
//! ```
//!
//! This module only delimits frames and checks the rules a header carries on
//! its own. Rules that need context (reserved bits allowed by extensions,
//! masking direction, size limits, continuation order) live in
//! `decoder.rs` and `assembler.rs`.

use super::error::ProtocolError;

/// The longest possible header: 2 fixed bytes, 8 length bytes, 4 mask bytes.
pub const MAX_HEADER_LEN: usize = 14;

/// RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
pub(crate) const MAX_CONTROL_PAYLOAD: usize = 125;

const FIN: u8 = 0x80;
const RSV_BITS: u8 = 0x70;
/// The reserved bit permessage-deflate gives a meaning (RFC 7692 §6).
pub(crate) const RSV1: u8 = 0x40;
const OPCODE_BITS: u8 = 0x0F;
const MASK_BIT: u8 = 0x80;
const LEN_BITS: u8 = 0x7F;
const LEN_16: u8 = 126;
const LEN_64: u8 = 127;

/// What a frame carries (RFC 6455 §5.2, "Opcode").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// A later fragment of a fragmented message.
    Continuation,
    /// The first frame of a UTF-8 text message.
    Text,
    /// The first frame of a binary message.
    Binary,
    /// The closing handshake.
    Close,
    /// A keepalive or liveness probe; the peer must answer with a pong.
    Ping,
    /// The answer to a ping, or an unsolicited heartbeat.
    Pong,
}

impl OpCode {
    /// Decodes the 4-bit opcode; `None` for the reserved values 0x3–0x7 and 0xB–0xF.
    ///
    /// ```
    /// use hyperws::proto::internals::OpCode;
    /// assert_eq!(OpCode::from_u8(0x1), Some(OpCode::Text));
    /// assert_eq!(OpCode::from_u8(0x3), None);
    /// ```
    #[must_use]
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            0x0 => Some(Self::Continuation),
            0x1 => Some(Self::Text),
            0x2 => Some(Self::Binary),
            0x8 => Some(Self::Close),
            0x9 => Some(Self::Ping),
            0xA => Some(Self::Pong),
            _ => None,
        }
    }

    /// The 4-bit wire value.
    #[must_use]
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, ping and pong are control frames (opcodes with the high bit set).
    #[must_use]
    pub const fn is_control(self) -> bool {
        self.as_u8() & 0x8 != 0
    }
}

/// One decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// This is the final fragment of its message.
    pub fin: bool,
    /// The three reserved bits, in their wire position (`0x40` is RSV1).
    pub rsv: u8,
    /// What the frame carries.
    pub opcode: OpCode,
    /// The masking key; clients must mask every frame, servers never do.
    pub mask: Option<[u8; 4]>,
    /// Length of the payload that follows the header.
    pub payload_len: u64,
}

impl FrameHeader {
    /// A final, unmasked frame with no reserved bits set.
    #[must_use]
    pub const fn new(opcode: OpCode, payload_len: u64) -> Self {
        Self {
            fin: true,
            rsv: 0,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// Parses a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` does not yet hold the whole header, and
    /// otherwise the header with the number of bytes it took.
    ///
    /// # Errors
    /// A reserved opcode, a fragmented or oversized control frame, a 64-bit
    /// length with its most significant bit set, or a length not written in
    /// the fewest bytes that hold it.
    ///
    /// ```
    /// use hyperws::proto::internals::{FrameHeader, OpCode};
    /// let (header, len) = FrameHeader::parse(&[0x81, 0x05, b'h']).unwrap().unwrap();
    /// assert_eq!((header.opcode, header.payload_len, len), (OpCode::Text, 5, 2));
    /// assert!(FrameHeader::parse(&[0x81]).unwrap().is_none());
    /// ```
    pub fn parse(buf: &[u8]) -> Result<Option<(Self, usize)>, ProtocolError> {
        let [first, second, ..] = *buf else {
            return Ok(None);
        };
        let fin = first & FIN != 0;
        let raw_opcode = first & OPCODE_BITS;
        let opcode = OpCode::from_u8(raw_opcode).ok_or(ProtocolError::ReservedOpcode(raw_opcode))?;
        let short_len = second & LEN_BITS;
        if opcode.is_control() {
            check_control(fin, short_len)?;
        }
        let Some((payload_len, mut pos)) = payload_len(buf, short_len)? else {
            return Ok(None);
        };
        let mask = if second & MASK_BIT == 0 {
            None
        } else {
            match buf.get(pos..pos + 4).and_then(|s| <[u8; 4]>::try_from(s).ok()) {
                Some(key) => {
                    pos += 4;
                    Some(key)
                }
                None => return Ok(None),
            }
        };
        let header = Self {
            fin,
            rsv: first & RSV_BITS,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, pos)))
    }

    /// How many bytes [`encode`](Self::encode) writes for this header.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        let len_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        let mask_bytes = if self.mask.is_some() { 4 } else { 0 };
        2 + len_bytes + mask_bytes
    }

    /// Writes the header, choosing the shortest length form as RFC 6455 §5.2
    /// requires, and returns how many bytes of `out` it used.
    ///
    /// ```
    /// use hyperws::proto::internals::{FrameHeader, OpCode, MAX_HEADER_LEN};
    /// let mut out = [0; MAX_HEADER_LEN];
    /// let len = FrameHeader::new(OpCode::Binary, 300).encode(&mut out);
    /// assert_eq!(&out[..len], &[0x82, 126, 0x01, 0x2C]);
    /// ```
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (if self.fin { FIN } else { 0 }) | (self.rsv & RSV_BITS) | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { MASK_BIT } else { 0 };
        let mut pos = 2;
        match self.payload_len {
            len @ 0..=125 => out[1] = mask_bit | len as u8,
            len @ 126..=0xFFFF => {
                out[1] = mask_bit | LEN_16;
                out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                pos = 4;
            }
            len => {
                out[1] = mask_bit | LEN_64;
                out[2..10].copy_from_slice(&len.to_be_bytes());
                pos = 10;
            }
        }
        if let Some(key) = self.mask {
            out[pos..pos + 4].copy_from_slice(&key);
            pos += 4;
        }
        pos
    }
}

/// The rules a control frame's first two bytes carry.
#[inline]
fn check_control(fin: bool, short_len: u8) -> Result<(), ProtocolError> {
    // RFC 6455 §5.5: "Control frames themselves MUST NOT be fragmented."
    if !fin {
        return Err(ProtocolError::FragmentedControlFrame);
    }
    // RFC 6455 §5.5: control frames "MUST have a payload length of 125 bytes or less".
    if usize::from(short_len) > MAX_CONTROL_PAYLOAD {
        return Err(ProtocolError::ControlFrameTooLarge);
    }
    Ok(())
}

/// The payload length and where the bytes after it start; `None` until the
/// extended length has arrived.
#[inline]
fn payload_len(buf: &[u8], short_len: u8) -> Result<Option<(u64, usize)>, ProtocolError> {
    let (len, pos) = match short_len {
        LEN_16 => match buf.get(2..4) {
            Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
            _ => return Ok(None),
        },
        LEN_64 => match buf.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            // RFC 6455 §5.2: "the most significant bit MUST be 0".
            Some(bytes) if bytes[0] & 0x80 != 0 => return Err(ProtocolError::InvalidLength),
            Some(bytes) => (u64::from_be_bytes(bytes), 10),
            None => return Ok(None),
        },
        len => (u64::from(len), 2),
    };
    // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode
    // the length, for example, the length of a 124-byte-long string
    // can't be encoded as the sequence 126, 0, 124."
    if (pos == 4 && len < 126) || (pos == 10 && len <= 0xFFFF) {
        return Err(non_minimal(len));
    }
    Ok(Some((len, pos)))
}

/// Kept out of line: [`FrameHeader::parse`] is the decoder's hottest code.
#[cold]
fn non_minimal(len: u64) -> ProtocolError {
    ProtocolError::NonMinimalLength(len)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn opcode() -> impl Strategy<Value = OpCode> {
        prop_oneof![
            Just(OpCode::Continuation),
            Just(OpCode::Text),
            Just(OpCode::Binary),
            Just(OpCode::Close),
            Just(OpCode::Ping),
            Just(OpCode::Pong),
        ]
    }

    fn payload_len() -> impl Strategy<Value = u64> {
        // Every length form and each of its edges.
        prop_oneof![
            0..=125u64,
            126..=0xFFFFu64,
            0x1_0000..=(u64::MAX >> 1),
            Just(125),
            Just(126),
            Just(0xFFFF),
            Just(0x1_0000)
        ]
    }

    fn header() -> impl Strategy<Value = FrameHeader> {
        (
            opcode(),
            any::<bool>(),
            0u8..8,
            proptest::option::of(any::<[u8; 4]>()),
            payload_len(),
        )
            .prop_map(|(opcode, fin, rsv, mask, payload_len)| {
                let control = opcode.is_control();
                FrameHeader {
                    fin: fin || control,
                    rsv: rsv << 4,
                    opcode,
                    mask,
                    payload_len: if control { payload_len % 126 } else { payload_len },
                }
            })
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(header in header()) {
            let mut out = [0; MAX_HEADER_LEN];
            let len = header.encode(&mut out);
            prop_assert_eq!(len, header.encoded_len());
            prop_assert_eq!(FrameHeader::parse(&out[..len]).unwrap(), Some((header, len)));
            // Any strict prefix is "need more bytes", never an error or a wrong header.
            for cut in 0..len {
                prop_assert_eq!(FrameHeader::parse(&out[..cut]).unwrap(), None);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            if let Ok(Some((header, len))) = FrameHeader::parse(&bytes) {
                prop_assert!(len <= bytes.len());
                prop_assert_eq!(len, header.encoded_len());
            }
        }
    }

    #[test]
    fn reserved_opcodes_are_rejected() {
        for op in [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
    }

    #[test]
    fn control_frame_rules_are_checked_from_the_first_two_bytes() {
        assert_eq!(
            FrameHeader::parse(&[0x09, 0]),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(
            FrameHeader::parse(&[0x89, 126]),
            Err(ProtocolError::ControlFrameTooLarge)
        );
        assert!(FrameHeader::parse(&[0x89, 125]).unwrap().is_some());
    }

    #[test]
    fn sixty_four_bit_length_with_high_bit_is_rejected() {
        let mut frame = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(FrameHeader::parse(&frame), Err(ProtocolError::InvalidLength));
        frame[2] = 0x7F;
        assert!(FrameHeader::parse(&frame).unwrap().is_some());
    }

    #[test]
    fn a_length_not_in_its_shortest_form_is_rejected() {
        // RFC 6455 §5.2's own example: 124 bytes as 126, 0, 124.
        let cases: [(&[u8], u64); 4] = [
            (&[0x82, 126, 0, 124], 124),
            (&[0x82, 126, 0, 0], 0),
            (&[0x82, 127, 0, 0, 0, 0, 0, 0, 0, 125], 125),
            (&[0x82, 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF], 0xFFFF),
        ];
        for (header, len) in cases {
            assert_eq!(FrameHeader::parse(header), Err(ProtocolError::NonMinimalLength(len)));
        }
        // The smallest length each form may carry.
        assert!(FrameHeader::parse(&[0x82, 126, 0, 126]).unwrap().is_some());
        assert!(FrameHeader::parse(&[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0])
            .unwrap()
            .is_some());
    }

    #[test]
    fn shortest_length_form_is_chosen() {
        assert_eq!(FrameHeader::new(OpCode::Binary, 125).encoded_len(), 2);
        assert_eq!(FrameHeader::new(OpCode::Binary, 126).encoded_len(), 4);
        assert_eq!(FrameHeader::new(OpCode::Binary, 0xFFFF).encoded_len(), 4);
        assert_eq!(FrameHeader::new(OpCode::Binary, 0x1_0000).encoded_len(), 10);
    }
}
