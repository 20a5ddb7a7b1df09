//! Just enough of the frame format for the load generator and the ceiling
//! server, written here so no library under test encodes its own load.

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The header of a final unmasked (server) or masked (client) frame whose
/// first byte is `first` (FIN, RSV and opcode).
fn header(first: u8, len: usize, masked: bool) -> Vec<u8> {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut out = vec![first];
    match len {
        0..=125 => out.push(mask_bit | len as u8),
        126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out
}

/// A masked binary client frame carrying `payload`, built once and sent many times.
pub fn masked_frame(payload: &[u8]) -> Vec<u8> {
    masked_frame_with(0x82, payload)
}

/// A masked client frame whose first byte is `first` (FIN, RSV, opcode).
pub fn masked_frame_with(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = header(first, payload.len(), true);
    frame.extend_from_slice(&KEY);
    frame.extend(payload.iter().zip(KEY.iter().cycle()).map(|(b, k)| b ^ k));
    frame
}

/// The length of the header and payload of the frame at the start of
/// `buf`, if the header is complete: `(header_len, payload_len, masked)`.
pub fn parse_header(buf: &[u8]) -> Option<(usize, usize, bool)> {
    let [_, second, ..] = *buf else { return None };
    let masked = second & 0x80 != 0;
    let (len, at) = match second & 0x7F {
        126 => (u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize, 4),
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize, 10),
        short => (short as usize, 2),
    };
    let header_len = at + if masked { 4 } else { 0 };
    (buf.len() >= header_len).then_some((header_len, len, masked))
}

/// The ceiling's whole protocol: if `input` starts with a whole masked
/// frame, appends it unmasked to `output` and returns the bytes consumed.
pub fn unmask_into(input: &[u8], output: &mut Vec<u8>) -> Option<usize> {
    let (header_len, len, _) = parse_header(input)?;
    let total = header_len + len;
    if input.len() < total {
        return None;
    }
    let key: [u8; 4] = input[header_len - 4..header_len].try_into().unwrap();
    output.push(input[0]);
    output.extend_from_slice(&header(input[0], len, false)[1..]);
    let start = output.len();
    output.extend_from_slice(&input[header_len..total]);
    unmask(&mut output[start..], key);
    Some(total)
}

/// XORs `bytes` with the repeated key, eight bytes at a time.
fn unmask(bytes: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut chunks = bytes.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(chunk.try_into().unwrap()) ^ wide;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    for (b, k) in chunks.into_remainder().iter_mut().zip(key) {
        *b ^= k;
    }
}
