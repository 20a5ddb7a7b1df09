//! The compressors and inflaters a thread shares among its sockets, as
//! uWebSockets' shared compressor does: a socket borrows one for a message
//! (compressing is synchronous; inflating lasts while a message arrives)
//! and gives it back, so between messages it holds none. A zlib-rs
//! compressor is about 250–370 KB whatever its window (its hash table alone
//! is 128 KiB), an inflater about 46 KB: held per socket, that is the whole
//! cost of compression at scale.
//!
//! Whatever a socket borrows is reset before it is lent, so it starts a
//! fresh stream and nothing of another socket's data can reach its output.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress};

/// Compression level and window bits: what decides a compressor's output.
pub(crate) type Setting = (u32, u8);

/// At most this many idle inflaters wait per thread: enough for the
/// messages arriving at once, few enough that a burst leaves little behind.
/// Compressors are lent for one call (or one streamed message), so one
/// idle compressor per setting is enough.
const KEPT_PER_THREAD: usize = 8;

/// A compressor and the buffer its output goes to, lent together.
#[derive(Debug)]
pub(crate) struct Workspace {
    pub(crate) setting: Setting,
    pub(crate) stream: Compress,
    pub(crate) out: Vec<u8>,
}

thread_local! {
    // Boxed: a workspace moves between the pool and a socket (8 bytes there) without reboxing.
    #[allow(clippy::vec_box)]
    static COMPRESSORS: RefCell<Vec<Box<Workspace>>> = const { RefCell::new(Vec::new()) };
    static INFLATERS: RefCell<Vec<(u8, Decompress)>> = const { RefCell::new(Vec::new()) };
}

/// A compressor for `setting`, at the start of a fresh stream.
pub(crate) fn lend_compressor(setting: Setting) -> Box<Workspace> {
    let idle = COMPRESSORS.with(|pool| {
        let mut pool = pool.borrow_mut();
        let at = pool.iter().rposition(|w| w.setting == setting)?;
        Some(pool.swap_remove(at))
    });
    match idle {
        Some(mut workspace) => {
            workspace.stream.reset();
            workspace
        }
        None => Box::new(Workspace {
            setting,
            stream: Compress::new_with_window_bits(Compression::new(setting.0), false, setting.1),
            out: Vec::new(),
        }),
    }
}

/// Takes a lent compressor back (dropping it if the thread has one idle
/// for its setting already).
pub(crate) fn give_back_compressor(mut workspace: Box<Workspace>) {
    // A large message's buffer is not kept for the small ones that follow.
    if workspace.out.capacity() > 64 << 10 {
        workspace.out = Vec::new();
    }
    COMPRESSORS.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < KEPT_PER_THREAD && pool.iter().all(|idle| idle.setting != workspace.setting) {
            pool.push(workspace);
        }
    });
}

/// An inflater for a `window_bits` window, at the start of a fresh stream.
/// (Keyed by window although zlib-rs allocates the same for any: a
/// reference farther back than the peer's window must still fail.)
pub(crate) fn lend_inflater(window_bits: u8) -> Decompress {
    let idle = INFLATERS.with(|pool| {
        let mut pool = pool.borrow_mut();
        let at = pool.iter().rposition(|(bits, _)| *bits == window_bits)?;
        Some(pool.swap_remove(at).1)
    });
    match idle {
        Some(mut stream) => {
            stream.reset(false);
            stream
        }
        None => Decompress::new_with_window_bits(false, window_bits),
    }
}

/// Takes a lent inflater back (dropping it if the thread keeps enough).
pub(crate) fn give_back_inflater(window_bits: u8, stream: Decompress) {
    INFLATERS.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < KEPT_PER_THREAD {
            pool.push((window_bits, stream));
        }
    });
}
