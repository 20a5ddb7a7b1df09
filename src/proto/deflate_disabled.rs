//! Without the `deflate` feature nothing is ever negotiated: types with no
//! values stand in for permessage-deflate's, so the connection's code keeps
//! one shape and the compiler proves every use of them unreachable.

use super::error::ProtocolError;

/// Never exists: see the module's doc.
#[derive(Debug)]
pub(crate) enum PerMessageDeflate {}

/// Never exists: see the module's doc.
#[derive(Debug)]
pub(crate) enum Deflater {}

/// Never exists: see the module's doc.
#[derive(Debug)]
pub(crate) enum Inflater {}

/// Never built: only `Deflater::compress` makes one. Its variants exist
/// for the connection's `match`.
#[allow(dead_code)]
pub(crate) enum Compressed<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

/// Never built: only `PerMessageDeflate::compress_shared` makes one.
#[allow(dead_code)]
pub(crate) enum SharedCompression {
    Plain,
    PerConnection,
    Shared(bytes::Bytes),
}

impl PerMessageDeflate {
    pub(crate) fn compress_shared(&mut self, _message: &super::shared::SharedMessage) -> SharedCompression {
        match *self {}
    }

    pub(crate) fn inflater(&mut self) -> &mut Inflater {
        match *self {}
    }

    pub(crate) fn deflater_for(&mut self, _len: usize) -> Option<&mut Deflater> {
        match *self {}
    }

    pub(crate) fn deflater(&mut self) -> Option<&mut Deflater> {
        match *self {}
    }

    pub(crate) fn holds_memory(&self) -> bool {
        match *self {}
    }

    pub(crate) fn release_when_quiet(&mut self, _sending_streamed: bool) {
        match *self {}
    }
}

impl Deflater {
    pub(crate) fn compress<R>(&mut self, _payload: &[u8], _queue: impl FnOnce(Compressed<'_>) -> R) -> R {
        match *self {}
    }

    pub(crate) fn compress_fragment<R>(
        &mut self,
        _payload: &[u8],
        _first: bool,
        _last: bool,
        _queue: impl FnOnce(Compressed<'_>) -> R,
    ) -> R {
        match *self {}
    }
}

impl Inflater {
    pub(crate) fn inflate(&mut self, _input: &[u8], _out: &mut Vec<u8>, _max: usize) -> Result<(), ProtocolError> {
        match *self {}
    }

    pub(crate) fn finish_message(&mut self, _out: &mut Vec<u8>, _max: usize) -> Result<(), ProtocolError> {
        match *self {}
    }

    pub(crate) fn abandon_message(&mut self) {
        match *self {}
    }

    pub(crate) fn inflate_some(&mut self, _input: &[u8], _out: &mut Vec<u8>) -> Result<usize, ProtocolError> {
        match *self {}
    }

    pub(crate) fn end_message(&mut self) {
        match *self {}
    }
}

/// The end of a sync flush (unused without the feature).
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
