//! permessage-deflate's inflater with arbitrary parameters and input.
//!
//! - Arbitrary bytes as compressed payload, cut into arbitrary pieces: no
//!   panic, the output never passes the limit by more than the one byte
//!   that shows it broken, in length or in memory reserved, and it grows
//!   geometrically, not once per piece.
//! - Differential: a message compressed by zlib-rs through flate2 (sync
//!   flush, tail cut as RFC 7692 §7.2.1 says) inflates to what went in, or
//!   fails as too large exactly when it is larger than the limit.
#![no_main]

use arbitrary::Arbitrary;
use flate2::{Compress, Compression, FlushCompress};
use hyperws::proto::internals::Inflater;
use hyperws::ProtocolError;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Payload {
    Raw(Vec<u8>),
    Compressed { plain: Vec<u8>, repeat: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    window_bits: u8,
    level: u8,
    reset_each_message: bool,
    max_log: u8,
    cuts: Vec<u8>,
    messages: Vec<Payload>,
}

fuzz_target!(|input: Input| {
    let bits = 8 + input.window_bits % 8;
    let max = 1usize << (input.max_log % 20);
    let mut inflater = Inflater::new(bits, input.reset_each_message);
    let mut compressor =
        Compress::new_with_window_bits(Compression::new(u32::from(input.level % 10)), false, bits.max(9));
    let mut cuts = input.cuts.iter().copied().cycle();
    // After raw bytes inflated without error, a shared window holds junk.
    let mut window_known = true;
    for message in input.messages.into_iter().take(16) {
        let (wire, expected) = match message {
            Payload::Raw(bytes) => {
                window_known = input.reset_each_message;
                (bytes, None)
            }
            Payload::Compressed { plain, repeat } => {
                let plain = plain.repeat(usize::from(repeat % 64) + 1);
                (compress(&mut compressor, &plain, input.reset_each_message), Some(plain))
            }
        };
        let mut out = Vec::new();
        let result = inflate_in_pieces(&mut inflater, &wire, &mut cuts, &mut out, max);
        assert!(
            out.len() <= max + 1 && out.capacity() <= max + 1,
            "{} / {} past {max}",
            out.len(),
            out.capacity()
        );
        if let Err(ProtocolError::MessageTooLarge { size, .. }) = &result {
            assert!(*size as usize > max);
        }
        if let (Some(plain), true) = (expected, window_known) {
            match result {
                Ok(()) => assert!(out == plain, "inflated differently"),
                Err(ProtocolError::MessageTooLarge { .. }) => assert!(plain.len() > max),
                Err(e) => panic!("valid DEFLATE refused: {e}"),
            }
        }
        if result.is_err() {
            // The connection fails there; a new inflater for what follows.
            inflater = Inflater::new(bits, input.reset_each_message);
            compressor.reset();
            window_known = true;
        }
    }
});

fn inflate_in_pieces(
    inflater: &mut Inflater,
    mut wire: &[u8],
    cuts: &mut impl Iterator<Item = u8>,
    out: &mut Vec<u8>,
    max: usize,
) -> Result<(), ProtocolError> {
    // The output grows geometrically, however the input is cut: a handful
    // of reallocations per message, not one per piece.
    let mut growths = 0;
    while !wire.is_empty() {
        let n = usize::from(cuts.next().unwrap_or(255)).clamp(1, wire.len());
        let capacity = out.capacity();
        let result = inflater.inflate(&wire[..n], out, max);
        growths += usize::from(out.capacity() != capacity);
        assert!(growths <= 64, "the output regrew {growths} times");
        result?;
        wire = &wire[n..];
    }
    inflater.finish_message(out, max)
}

/// One message as a permessage-deflate sender writes it.
fn compress(compressor: &mut Compress, plain: &[u8], reset: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(plain.len() + 64);
    let mut input = plain;
    loop {
        let before = compressor.total_in();
        out.reserve(plain.len() / 2 + 64);
        compressor.compress_vec(input, &mut out, FlushCompress::Sync).unwrap();
        input = &input[(compressor.total_in() - before) as usize..];
        if input.is_empty() && out.len() < out.capacity() {
            break;
        }
    }
    if out.is_empty() {
        // zlib writes nothing for an empty flush right after a flush; RFC
        // 7692 §7.2.3.6 sends such an empty message as one 0x00 byte.
        out.push(0);
    } else {
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
        out.truncate(out.len() - 4);
    }
    if reset {
        compressor.reset();
    }
    out
}
