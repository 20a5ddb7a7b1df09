//! The parked contexts against zlib streams that keep theirs whole: what a
//! peer's inflater (or compressor) does with context takeover.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

use super::compress::{Compressed, Deflater, KeptContext};
use super::{Inflater, TAIL};

/// Chat-like messages of many sizes, each unlike the last but sharing words
/// with earlier ones far back (up to ~100 KiB of history).
fn messages() -> Vec<Vec<u8>> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..300)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = match i % 10 {
                0 => 40_000 + (state % 30_000) as usize,
                1 => 0,
                _ => (state % 3_000) as usize,
            };
            let mut text = Vec::with_capacity(len);
            let mut n = state;
            while text.len() < len {
                n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                text.extend_from_slice(
                    format!("{{\"user\":{},\"says\":\"w{}\"}}", n >> 58, (n >> 40) % 300).as_bytes(),
                );
            }
            text.truncate(len);
            text
        })
        .collect()
}

fn compressed(deflater: &mut Deflater, payload: &[u8]) -> Vec<u8> {
    deflater.compress(payload, |c| match c {
        Compressed::Borrowed(bytes) => bytes.to_vec(),
        Compressed::Owned(bytes) => bytes,
    })
}

/// Our compressor, each way of keeping context, read by one inflater that
/// keeps its whole window across every message, as a peer's does.
#[test]
fn every_kept_context_is_read_by_a_peer_that_keeps_its_window() {
    for kept in [
        KeptContext::None,
        KeptContext::Parked(0),
        KeptContext::Parked(4096),
        KeptContext::Parked(1 << 15),
        KeptContext::Held,
    ] {
        for bits in [9, 12, 15] {
            let mut ours = Deflater::new(1, bits, kept);
            let mut peer = Decompress::new_with_window_bits(false, bits);
            let mut wire = 0;
            for (i, message) in messages().iter().enumerate() {
                let mut payload = compressed(&mut ours, message);
                wire += payload.len();
                payload.extend_from_slice(&TAIL);
                let mut out = Vec::with_capacity(message.len() + 64);
                peer.decompress_vec(&payload, &mut out, FlushDecompress::Sync).unwrap();
                assert!(out == *message, "{kept:?}, window {bits}, message {i}");
                if i == 150 {
                    ours.release(); // quiet: the context goes, the peer reads on
                }
            }
            eprintln!("{kept:?} window {bits}: {wire} bytes");
        }
    }
}

/// A parked context is used: later small messages shrink more than with none.
#[test]
fn a_parked_context_shrinks_later_messages() {
    let chat: Vec<String> = (0..100)
        .map(|i| {
            format!(
                r#"{{"type":"chat","room":"lobby","user":"user{}","text":"hello number {i}"}}"#,
                i % 7
            )
        })
        .collect();
    let total = |kept| {
        let mut ours = Deflater::new(1, 15, kept);
        chat.iter()
            .map(|m| compressed(&mut ours, m.as_bytes()).len())
            .sum::<usize>()
    };
    let (none, parked) = (total(KeptContext::None), total(KeptContext::Parked(4096)));
    assert!(parked < none * 6 / 10, "parked {parked} vs none {none}");
}

/// Our inflater, parking the peer's context between messages, reads a
/// compressor that keeps its whole window and refers back across it.
#[test]
fn a_parked_peer_context_reads_a_compressor_that_keeps_its_window() {
    for bits in [9, 12, 15] {
        let mut peer = Compress::new_with_window_bits(Compression::new(9), false, bits);
        let mut ours = Inflater::new(bits, false);
        for (i, message) in messages().iter().enumerate() {
            let mut payload = Vec::new();
            let start = peer.total_in();
            // (An empty message: zlib writes nothing new; RFC 7692 §7.2.3.6 sends 0x00.)
            while !message.is_empty() && (peer.total_in() - start < message.len() as u64 || !payload.ends_with(&TAIL)) {
                payload.reserve(message.len() + 1024);
                let rest = &message[(peer.total_in() - start) as usize..];
                peer.compress_vec(rest, &mut payload, FlushCompress::Sync).unwrap();
            }
            payload.truncate(payload.len().saturating_sub(TAIL.len()));
            if message.is_empty() {
                payload.push(0x00);
            }
            // In two pieces, as frames arrive.
            let mut out = Vec::new();
            let half = payload.len() / 2;
            ours.inflate(&payload[..half], &mut out, usize::MAX - 1).unwrap();
            ours.inflate(&payload[half..], &mut out, usize::MAX - 1).unwrap();
            ours.finish_message(&mut out, usize::MAX - 1).unwrap();
            assert!(out == *message, "window {bits}, message {i}");
            assert!(
                !ours.is_lent(),
                "the inflater goes back to the thread after each message"
            );
            assert!(ours.parked_bytes() <= 1 << bits, "only the window is parked");
        }
    }
}
