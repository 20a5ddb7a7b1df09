//! The sending half of permessage-deflate (RFC 7692 §7.2.1): one raw
//! DEFLATE stream across messages, each ended with a sync flush whose
//! `00 00 ff ff` tail is cut off.
//!
//! Between messages a socket keeps its context in one of three ways
//! ([`Context`]); only a held one costs a whole compressor.

use flate2::FlushCompress;

use super::history::History;
use super::pool::{self, Setting, Workspace};
use super::TAIL;

/// Compressed output at least this large leaves as its own buffer (no copy);
/// smaller output is copied into the write queue and the buffer is reused.
const HAND_OVER_AT: usize = 8 << 10;

/// Where the compression context lives between messages.
#[derive(Debug)]
enum Context {
    /// Nowhere (no context takeover): every message is a fresh stream from
    /// the thread's shared compressor.
    Fresh,
    /// As the last bytes sent: the next message primes the thread's shared
    /// compressor with them.
    Parked(History),
    /// In a compressor of the socket's own, dropped when the socket is quiet.
    Held,
}

/// Our compressor. Starting afresh is always allowed: RFC 7692 §7.2.1 lets
/// a sender reset at any message, whose output then refers to nothing the
/// peer's window lacks; a parked context is a shorter window, equally so.
#[derive(Debug)]
pub(crate) struct Deflater {
    setting: Setting,
    context: Context,
    /// The compressor in use across calls: a streamed message's, or a held one.
    live: Option<Box<Workspace>>,
    /// Whether a message went out since the clocks last looked: a socket
    /// is quiet only after a whole heartbeat interval without one.
    sent_since_check: bool,
}

/// One compressed message's payload, RSV1 to be set on its frame.
pub(crate) enum Compressed<'a> {
    /// Small: to be copied out now.
    Borrowed(&'a [u8]),
    /// Large: handed over whole.
    Owned(Vec<u8>),
}

/// How a socket keeps its compression context between messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeptContext {
    /// None: every message starts afresh.
    None,
    /// The last this many bytes sent.
    Parked(usize),
    /// The socket's own compressor.
    Held,
}

impl Deflater {
    pub(crate) fn new(level: u32, window_bits: u8, kept: KeptContext) -> Self {
        let context = match kept {
            KeptContext::None => Context::Fresh,
            KeptContext::Parked(bytes) => Context::Parked(History::new(bytes.min(1 << window_bits))),
            KeptContext::Held => Context::Held,
        };
        Self {
            setting: (level, window_bits),
            context,
            live: None,
            sent_since_check: false,
        }
    }

    /// Compresses one whole message and hands its payload to `queue`.
    pub(crate) fn compress<R>(&mut self, payload: &[u8], queue: impl FnOnce(Compressed<'_>) -> R) -> R {
        self.compress_fragment(payload, true, true, queue)
    }

    /// Compresses one fragment of a message, each ended with a sync flush
    /// so the peer can inflate it as it comes. RFC 7692 §7.2.1's tail is
    /// cut from the last fragment only: the earlier ones keep theirs, which
    /// is DEFLATE data (an empty stored block) like any other.
    pub(crate) fn compress_fragment<R>(
        &mut self,
        payload: &[u8],
        first: bool,
        last: bool,
        queue: impl FnOnce(Compressed<'_>) -> R,
    ) -> R {
        let mut workspace = match self.live.take() {
            Some(workspace) => workspace,
            None => self.begin_stream(),
        };
        self.sent_since_check = true;
        deflate_sync(&mut workspace, payload);
        cut_tail(&mut workspace.out, first, last);
        if let Context::Parked(history) = &mut self.context {
            history.record(payload);
        }
        let queued = if workspace.out.len() >= HAND_OVER_AT {
            queue(Compressed::Owned(std::mem::take(&mut workspace.out)))
        } else {
            queue(Compressed::Borrowed(&workspace.out))
        };
        if last && !matches!(self.context, Context::Held) {
            pool::give_back_compressor(workspace);
        } else {
            self.live = Some(workspace);
        }
        queued
    }

    /// A compressor for the next message: the thread's, primed with the
    /// parked context if there is one.
    fn begin_stream(&mut self) -> Box<Workspace> {
        let mut workspace = pool::lend_compressor(self.setting);
        if let Context::Parked(history) = &mut self.context {
            if !history.bytes().is_empty() && workspace.stream.set_dictionary(history.bytes()).is_err() {
                // Not primed: the message starts afresh, which is always allowed.
                history.clear();
            }
        }
        workspace
    }

    /// The setting whose fresh-stream output this socket can send, if it
    /// keeps no compressor of its own: a shared message is then compressed
    /// once for every such socket. Records the message as sent.
    pub(crate) fn share(&mut self, payload: &[u8]) -> Option<Setting> {
        self.sent_since_check = true;
        match &mut self.context {
            Context::Held => None,
            Context::Parked(history) => {
                // The peer's window now holds it, so our next message may refer to it.
                history.record(payload);
                Some(self.setting)
            }
            Context::Fresh => Some(self.setting),
        }
    }

    /// Whether this socket holds memory for compressing now: a compressor
    /// of its own (lent or held) or a parked context.
    pub(crate) fn holds_memory(&self) -> bool {
        self.live.is_some() || matches!(&self.context, Context::Parked(history) if history.capacity() > 0)
    }

    /// The clocks looked: gives the compressor and the context back if no
    /// message went out since they last did (a socket that sends every few
    /// seconds keeps them; a quiet one holds nothing).
    pub(crate) fn release_if_quiet(&mut self) {
        if std::mem::take(&mut self.sent_since_check) {
            return;
        }
        self.release();
    }

    /// Gives the compressor and the context back; the next message starts
    /// a fresh stream.
    pub(crate) fn release(&mut self) {
        if let Some(workspace) = self.live.take() {
            pool::give_back_compressor(workspace);
        }
        if let Context::Parked(history) = &mut self.context {
            history.clear();
        }
    }
}

impl Drop for Deflater {
    /// A closing socket's compressor serves the thread's next message.
    fn drop(&mut self) {
        self.release();
    }
}

/// Compresses `input` onto `workspace.out` (cleared first), ended with a
/// sync flush.
fn deflate_sync(workspace: &mut Workspace, mut input: &[u8]) {
    let Workspace { stream, out, .. } = workspace;
    out.clear();
    out.reserve(input.len() / 2 + 64);
    loop {
        let before = stream.total_in();
        let status = stream.compress_vec(input, out, FlushCompress::Sync);
        input = &input[(stream.total_in() - before) as usize..];
        // The flush is complete once everything was taken and room was
        // left over. (Only a misused stream fails; ours never is.)
        let flushed = input.is_empty() && out.len() < out.capacity();
        if flushed || status.is_err() {
            break;
        }
        out.reserve(out.capacity().max(1 << 10));
    }
}

/// RFC 7692 §7.2.1, "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from
/// the tail end", on a message's last fragment.
fn cut_tail(out: &mut Vec<u8>, first: bool, last: bool) {
    if !last {
        // Keeps its tail (or nothing, when nothing was new).
    } else if out.is_empty() && !first {
        // The fragments before ended at a flush: nothing more is needed.
    } else if out.is_empty() {
        // Nothing new since the last flush (an empty message): zlib writes
        // nothing. RFC 7692 §7.2.3.6 sends an empty message as one 0x00
        // byte, which the tail completes into an empty stored block.
        out.push(0x00);
    } else {
        debug_assert!(out.ends_with(&TAIL), "a sync flush ends with an empty stored block");
        out.truncate(out.len().saturating_sub(TAIL.len()));
    }
}
