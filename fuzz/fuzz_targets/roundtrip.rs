//! Differential round trips: what one `Connection` encodes, the other
//! decodes to the same messages, for arbitrary messages, roles, masks,
//! permessage-deflate parameters and cuts of the byte stream; and a frame
//! header encodes to bytes that both `FrameHeader::parse` and a reader
//! written from RFC 6455 §5.2 alone read back as the same header.
#![no_main]

use std::time::Instant;

use arbitrary::Arbitrary;
use hyperws::proto::internals::{FrameHeader, OpCode, MAX_HEADER_LEN};
use hyperws::proto::{Connection, Role, SharedMessage};
use hyperws::{CloseCode, CloseFrame, Config, Message};
use hyperws_fuzz::{read_frames, take_output, DeflateSettings};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    client_sends: bool,
    deflate: Option<DeflateSettings>,
    /// Kind, payload, repeats, and how it is sent: 1 uncompressed, 2 as a
    /// `SharedMessage` (data only), else `send`.
    messages: Vec<(u8, Vec<u8>, u8, u8)>,
    close: Option<(u16, String)>,
    cuts: Vec<u16>,
    header: (bool, u8, u8, Option<[u8; 4]>, u64),
}

fuzz_target!(|input: Input| {
    header_round_trip(input.header);
    connection_round_trip(&input);
});

fn header_round_trip((fin, rsv, opcode, mask, len): (bool, u8, u8, Option<[u8; 4]>, u64)) {
    let Some(opcode) = [
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ]
    .get(usize::from(opcode % 6))
    .copied() else {
        return;
    };
    // RFC 6455 §5.2: lengths are 63 bits; control frames carry at most 125.
    let len = if opcode.is_control() { len % 126 } else { len >> 1 };
    let header = FrameHeader {
        fin: fin || opcode.is_control(),
        rsv: rsv & 0x70,
        opcode,
        mask,
        payload_len: len,
    };
    let mut out = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut out);
    assert_eq!(n, header.encoded_len());
    assert_eq!(FrameHeader::parse(&out[..n]), Ok(Some((header, n))));
    assert_eq!(
        FrameHeader::parse(&out[..n - 1]),
        Ok(None),
        "a cut header is incomplete"
    );
    if len < 4096 {
        let mut wire = out[..n].to_vec();
        wire.resize(n + len as usize, 0);
        let (frames, rest) = read_frames(&wire);
        assert!(rest.is_empty() && frames.len() == 1 && frames[0].minimal_length);
        assert_eq!(
            (frames[0].opcode, frames[0].masked, frames[0].rsv),
            (opcode.as_u8(), mask.is_some(), rsv & 0x70)
        );
    }
}

fn connection_round_trip(input: &Input) {
    let now = Instant::now();
    let config = Config::builder()
        .max_message_size(1 << 22)
        .max_frame_size(1 << 22)
        .no_heartbeat()
        .build()
        .unwrap();
    let (sender_role, receiver_role) = if input.client_sends {
        (Role::Client, Role::Server)
    } else {
        (Role::Server, Role::Client)
    };
    let mut sender = Connection::new(sender_role, &config, now);
    let mut receiver = Connection::new(receiver_role, &config, now);
    if let Some((params, deflate)) = input.deflate.as_ref().map(DeflateSettings::agreed) {
        sender = sender.with_deflate(params, &deflate);
        receiver = receiver.with_deflate(params, &deflate);
    }
    let mut expected = Vec::new();
    for (kind, payload, repeat, how) in input.messages.iter().take(32) {
        let payload = payload.repeat(usize::from(*repeat % 16) + 1);
        let message = match kind % 4 {
            0 => Message::text(String::from_utf8_lossy(&payload).into_owned()),
            1 => Message::binary(payload),
            2 => Message::Ping(payload.into()),
            _ => Message::Pong(payload.into()),
        };
        let sent = match (how, SharedMessage::new(message.clone())) {
            (1, _) => sender.send_uncompressed(message.clone()),
            (2, Ok(shared)) => sender.send_shared(&shared),
            _ => sender.send(message.clone()),
        };
        if sent.is_ok() {
            expected.push(message);
        }
    }
    if let Some((code, reason)) = &input.close {
        let frame = CloseFrame {
            code: CloseCode::from(*code),
            reason: reason.as_str().into(),
        };
        if sender.close(Some(frame.clone()), now).is_ok() {
            expected.push(Message::Close(Some(frame)));
        }
    }
    let mut wire = Vec::new();
    while sender.buffered_amount() > 0 {
        wire.extend(take_output(&mut sender, usize::MAX));
    }
    let mut received = Vec::new();
    let mut rest = &wire[..];
    let mut cuts = input.cuts.iter().copied().cycle();
    while !rest.is_empty() {
        let n = usize::from(cuts.next().unwrap_or(u16::MAX)).clamp(1, rest.len());
        receiver.handle_bytes(&rest[..n], now);
        rest = &rest[n..];
        received.extend(std::iter::from_fn(|| receiver.poll_message()));
    }
    assert_eq!(receiver.error().map(|e| e.to_string()), None);
    assert!(
        received == expected,
        "sent {} messages, received {}",
        expected.len(),
        received.len()
    );
}
