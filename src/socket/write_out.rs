//! Writing a [`Connection`]'s queue out to a transport: vectored writes
//! from the front of the queue until it is empty, then a flush.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::AsyncWrite;

use crate::proto::Connection;

/// Up to this many slices go into one vectored write.
const MAX_IO_SLICES: usize = 64;
/// The slices of a typical write, tried first.
const FEW_IO_SLICES: usize = 4;

/// Writes until nothing is queued, then flushes the transport.
pub(super) fn poll_write_out<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    conn: &mut Connection,
    unflushed: &mut bool,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    // Asked first: a socket looks here before every wait, mostly to find nothing.
    while conn.buffered_amount() > 0 {
        let written = ready!(poll_write_some(io, conn, cx))?;
        if written == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        conn.handle_written(written);
        *unflushed = true;
    }
    if *unflushed {
        ready!(Pin::new(io).poll_flush(cx))?;
        *unflushed = false;
    }
    Poll::Ready(Ok(()))
}

/// Writes once from the front of the queue. Most writes have one or two
/// slices (the tail of small frames; a header and a large payload), so a
/// small array is tried first: filling the big one costs a kilobyte of
/// stores on every write.
fn poll_write_some<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    conn: &Connection,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    let mut few = [IoSlice::new(&[]); FEW_IO_SLICES];
    let count = conn.poll_transmit(&mut few);
    if count < FEW_IO_SLICES {
        return poll_write_slices(io, &few[..count], cx);
    }
    let mut many = [IoSlice::new(&[]); MAX_IO_SLICES];
    let count = conn.poll_transmit(&mut many);
    poll_write_slices(io, &many[..count], cx)
}

fn poll_write_slices<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    slices: &[IoSlice<'_>],
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    let io = Pin::new(io);
    // One slice goes out with a plain write (cheaper in the kernel than writev).
    if slices.len() > 1 && io.is_write_vectored() {
        io.poll_write_vectored(cx, slices)
    } else {
        io.poll_write(cx, &slices[0])
    }
}
