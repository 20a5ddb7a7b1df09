//! How much one socket may hold in [`Topics`](super::Topics): the length of
//! a topic's name and the number of topics it joins. Each subscription keeps
//! the name in the registry and in the socket, so an application that lets
//! clients name topics must not let one client hold unbounded memory.

use std::fmt;

use crate::ConfigError;

/// Default longest topic name, in bytes.
pub(super) const MAX_TOPIC_LEN: usize = 256;
/// Default most topics one socket joins (of one `Topics`).
pub(super) const MAX_SUBSCRIPTIONS: usize = 1024;

/// The limits a [`Topics`](super::Topics) holds its subscribers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) max_topic_len: usize,
    pub(crate) max_subscriptions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_topic_len: MAX_TOPIC_LEN,
            max_subscriptions: MAX_SUBSCRIPTIONS,
        }
    }
}

impl Limits {
    /// Checks the limits as configured: a zero one would let no topic be
    /// joined. The first such setting, named.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let nonzero = [
            ("max_topic_len", self.max_topic_len),
            ("max_subscriptions", self.max_subscriptions),
        ];
        match nonzero.iter().find(|(_, limit)| *limit == 0) {
            Some((setting, _)) => Err(ConfigError::Zero(setting)),
            None => Ok(()),
        }
    }

    /// Checks that a socket already in `joined` topics may join `topic`.
    pub(crate) fn check(&self, topic: &str, joined: usize) -> Result<(), SubscribeError> {
        if topic.len() > self.max_topic_len {
            return Err(SubscribeError::TopicTooLong {
                len: topic.len(),
                max: self.max_topic_len,
            });
        }
        if joined >= self.max_subscriptions {
            return Err(SubscribeError::TooManySubscriptions {
                max: self.max_subscriptions,
            });
        }
        Ok(())
    }
}

/// Why a socket could not subscribe to a topic.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use hyperws::topics::{Subscribe, SubscribeError, Topics};
/// let topics = Topics::builder().max_topic_len(8).max_subscriptions(2).build().unwrap();
/// let (mut server, _client) = hyperws::testing::pair(&hyperws::Config::default());
/// let refused = server.subscribe(&topics, "much-too-long");
/// assert_eq!(refused, Err(SubscribeError::TopicTooLong { len: 13, max: 8 }));
/// server.subscribe(&topics, "a").unwrap();
/// server.subscribe(&topics, "b").unwrap();
/// server.subscribe(&topics, "b").unwrap(); // already in: not one more
/// assert_eq!(
///     server.subscribe(&topics, "c"),
///     Err(SubscribeError::TooManySubscriptions { max: 2 })
/// );
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The name is longer than [`TopicsBuilder::max_topic_len`](super::TopicsBuilder::max_topic_len).
    TopicTooLong {
        /// The name's length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The socket already holds
    /// [`TopicsBuilder::max_subscriptions`](super::TopicsBuilder::max_subscriptions) topics.
    TooManySubscriptions {
        /// The limit.
        max: usize,
    },
    /// [`subscribe_from`](super::Subscribe::subscribe_from) on a topic the
    /// socket is in already: what it would replay may have come already.
    AlreadySubscribed,
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TopicTooLong { len, max } => {
                write!(f, "topic name of {len} bytes is longer than the limit of {max}")
            }
            Self::TooManySubscriptions { max } => {
                write!(f, "the socket already subscribes to {max} topics, the limit")
            }
            Self::AlreadySubscribed => f.write_str("the socket is already in this topic: it cannot recover it"),
        }
    }
}

impl std::error::Error for SubscribeError {}
