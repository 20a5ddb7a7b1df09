//! Unpredictable numbers without a dependency: std seeds every
//! `RandomState` from the operating system's randomness.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A fresh 64-bit value from the OS-seeded keys of a new `RandomState`.
pub(crate) fn os_seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x6879_7065_7277_7321); // any input: the keys carry the randomness
    hasher.finish()
}
