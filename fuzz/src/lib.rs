//! What the fuzz targets share: arbitrary connection settings, and a frame
//! reader written from RFC 6455 §5.2 alone (not the crate's decoder), so
//! that what a `Connection` writes is checked by a second opinion.

use std::time::Duration;

use arbitrary::Arbitrary;
use hyperws::proto::Role;
use hyperws::{Config, DeflateConfig, DeflateParams};

/// Limits small enough that a fuzzer reaches them with short inputs.
#[derive(Arbitrary, Debug, Clone)]
pub struct Settings {
    pub client: bool,
    /// 2^(1 + n % 16) bytes.
    pub max_frame_log: u8,
    pub max_message_log: u8,
    pub read_chunk: u16,
    pub write_buffer: u16,
    pub heartbeat: Option<(u16, u16)>,
    pub idle_ms: Option<u16>,
    pub close_ms: u16,
    pub deflate: Option<DeflateSettings>,
}

/// Both what was agreed and how this side compresses.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct DeflateSettings {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u8>,
    pub client_max_window_bits: Option<u8>,
    pub level: u8,
    pub threshold: u8,
}

impl Settings {
    pub fn role(&self) -> Role {
        if self.client {
            Role::Client
        } else {
            Role::Server
        }
    }

    pub fn peer_role(&self) -> Role {
        if self.client {
            Role::Server
        } else {
            Role::Client
        }
    }

    /// The config, or `None` where `ConfigBuilder::build` refuses it.
    pub fn config(&self) -> Option<Config> {
        let ms = |n: u16| Duration::from_millis(u64::from(n));
        let mut builder = Config::builder()
            .max_frame_size(1 << (1 + self.max_frame_log % 16))
            .max_message_size(1 << (1 + self.max_message_log % 18))
            .read_buffer_size(usize::from(self.read_chunk))
            .write_buffer_size(usize::from(self.write_buffer))
            .max_write_buffer_size(usize::from(self.write_buffer) * 4 + 1024)
            .close_timeout(ms(self.close_ms))
            .idle_timeout(self.idle_ms.map(ms));
        builder = match self.heartbeat {
            Some((interval, timeout)) => builder.heartbeat(ms(interval), ms(timeout)),
            None => builder.no_heartbeat(),
        };
        builder.build().ok()
    }

    /// What the handshake agreed and how this side compresses, if it did.
    pub fn deflate(&self) -> Option<(DeflateParams, DeflateConfig)> {
        self.deflate.as_ref().map(DeflateSettings::agreed)
    }
}

impl DeflateSettings {
    /// What the handshake agreed (windows 8 to 15 bits) and how this side compresses.
    pub fn agreed(&self) -> (DeflateParams, DeflateConfig) {
        let bits = |b: Option<u8>| b.map(|b| 8 + b % 8);
        let params = DeflateParams {
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: bits(self.server_max_window_bits),
            client_max_window_bits: bits(self.client_max_window_bits),
        };
        let config = DeflateConfig::default()
            .level(u32::from(self.level % 10))
            .threshold(usize::from(self.threshold));
        (params, config)
    }
}

/// One frame as the wire carries it, unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireFrame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    /// The length used the fewest bytes that can hold it (RFC 6455 §5.2).
    pub minimal_length: bool,
    pub payload: Vec<u8>,
}

impl WireFrame {
    pub fn is_close(&self) -> bool {
        self.opcode == 0x8
    }

    /// A close frame's code; `None` for an empty close body.
    pub fn close_code(&self) -> Option<u16> {
        (self.is_close() && self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Reads every whole frame of `wire`; returns them and the bytes of an
/// unfinished one.
pub fn read_frames(wire: &[u8]) -> (Vec<WireFrame>, &[u8]) {
    let mut frames = Vec::new();
    let mut rest = wire;
    while let Some((frame, used)) = read_frame(rest) {
        frames.push(frame);
        rest = &rest[used..];
    }
    (frames, rest)
}

fn read_frame(b: &[u8]) -> Option<(WireFrame, usize)> {
    let (first, second) = (*b.first()?, *b.get(1)?);
    let masked = second & 0x80 != 0;
    let (len, mut pos, minimal_length) = match second & 0x7f {
        126 => {
            let len = u64::from(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?));
            (len, 4, len >= 126)
        }
        127 => {
            let len = u64::from_be_bytes(b.get(2..10)?.try_into().ok()?);
            (len, 10, len > 0xffff)
        }
        n => (u64::from(n), 2, true),
    };
    let key = if masked {
        let key: [u8; 4] = b.get(pos..pos + 4)?.try_into().ok()?;
        pos += 4;
        key
    } else {
        [0; 4]
    };
    let end = pos.checked_add(usize::try_from(len).ok()?)?;
    let payload = b
        .get(pos..end)?
        .iter()
        .enumerate()
        .map(|(i, byte)| byte ^ key[i % 4])
        .collect();
    let frame = WireFrame {
        fin: first & 0x80 != 0,
        rsv: first & 0x70,
        opcode: first & 0x0f,
        masked,
        minimal_length,
        payload,
    };
    Some((frame, end))
}

/// Writes one frame as `role` would (masked from a client), with `key`.
pub fn write_frame(role: Role, fin: bool, rsv: u8, opcode: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv & 0x70) | (opcode & 0x0f)];
    let mask_bit = if role == Role::Client { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if role == Role::Client {
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, byte)| byte ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// Everything `conn` has queued to write, without taking it (`None` in the
/// unlikely case it lists more slices than one call can return).
pub fn pending_output(conn: &hyperws::proto::Connection) -> Option<Vec<u8>> {
    let mut slices = vec![std::io::IoSlice::new(&[]); 4096];
    let n = conn.poll_transmit(&mut slices);
    let out = slices[..n].iter().flat_map(|slice| slice.iter().copied()).collect();
    (n < slices.len()).then_some(out)
}

/// Takes up to `limit` queued bytes, as a transport that accepts that many would.
pub fn take_output(conn: &mut hyperws::proto::Connection, limit: usize) -> Vec<u8> {
    let mut slices = vec![std::io::IoSlice::new(&[]); 64];
    let n = conn.poll_transmit(&mut slices);
    let mut taken: Vec<u8> = slices[..n].iter().flat_map(|slice| slice.iter().copied()).collect();
    taken.truncate(limit);
    conn.handle_written(taken.len());
    taken
}

/// A `DeflateConfig` from arbitrary numbers, or `None` where a config
/// with it would not build.
pub fn deflate_config(
    level: u8,
    window: u8,
    peer_window: u8,
    takeover: bool,
    peer_takeover: Option<bool>,
) -> Option<DeflateConfig> {
    let mut config = DeflateConfig::default()
        .level(u32::from(level % 12))
        .window_bits(7 + window % 10)
        .peer_window_bits(7 + peer_window % 10)
        .context_takeover(takeover);
    if let Some(keep) = peer_takeover {
        config = config.peer_context_takeover(keep);
    }
    Config::builder().deflate(config.clone()).build().ok()?;
    Some(config)
}
