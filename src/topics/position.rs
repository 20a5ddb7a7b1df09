//! [`Position`]: where a publication stands in its topic.

use std::fmt;
use std::str::FromStr;

/// Where a publication stands in its topic: an offset that grows with each
/// publication (by one in one process and with Redis; `JetStream`'s stream
/// sequence with NATS), within an epoch that changes whenever the history
/// it belongs to was lost (the process restarted, the engine lost its
/// data, the topic was idle and forgotten).
///
/// Hand it to the client as text ([`Display`](fmt::Display)) and take it
/// back with [`parse`](str::parse); to the client it is opaque. Positions
/// compare only within one epoch.
///
/// ```
/// use hyperws::topics::Position;
/// let position: Position = "1f2e3d4c5b6a7988-42".parse()?;
/// assert_eq!(position.offset(), 42);
/// assert_eq!(position.to_string(), "1f2e3d4c5b6a7988-42");
/// assert!("42".parse::<Position>().is_err());
/// # Ok::<(), hyperws::topics::PositionError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    epoch: u64,
    offset: u64,
}

impl Position {
    pub(crate) const fn new(epoch: u64, offset: u64) -> Self {
        Self { epoch, offset }
    }

    /// The publication's number: it grows along the topic (from 1).
    #[must_use]
    pub const fn offset(&self) -> u64 {
        self.offset
    }

    /// The history this position belongs to.
    #[must_use]
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}-{}", self.epoch, self.offset)
    }
}

impl FromStr for Position {
    type Err = PositionError;

    fn from_str(text: &str) -> Result<Self, PositionError> {
        let (epoch, offset) = text.split_once('-').ok_or(PositionError)?;
        if epoch.len() != 16 {
            return Err(PositionError);
        }
        Ok(Self {
            epoch: u64::from_str_radix(epoch, 16).map_err(|_| PositionError)?,
            offset: offset.parse().map_err(|_| PositionError)?,
        })
    }
}

/// Text that is not a [`Position`] (a client sent something else back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionError;

impl fmt::Display for PositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a topic position (expected 16 hex digits, '-', an offset)")
    }
}

impl std::error::Error for PositionError {}
