//! Payload masking (RFC 6455 §5.3): payload byte `i` is xor-ed with `key[i % 4]`.

/// XORs `buf` with the masking `key`, as if `buf` started `offset` bytes into
/// the payload (so a payload can be unmasked piece by piece as it arrives).
///
/// Masking twice with the same key and offset restores the input. Safe code,
/// sixteen bytes a step (two machine words), then four, then single bytes.
///
/// ```
/// use hyperws::proto::internals::apply_mask;
/// let mut data = *b"Hello";
/// apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 §5.7
/// ```
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    // The key as a word whose bytes sit in memory order, turned so that
    // `buf[0]` meets `key[offset % 4]`; a rotation, not a byte shuffle, as
    // this runs for every frame however small.
    let word = u32::from_le_bytes(key).rotate_right(8 * (offset % 4) as u32);
    let key = word.to_le_bytes();
    let narrow = u32::from_ne_bytes(key);
    // The key four times over, in memory order whatever the endianness
    // (the pattern repeats every four bytes).
    let double = u64::from(narrow) | (u64::from(narrow) << 32);
    let wide = u128::from(double) | (u128::from(double) << 64);
    let (chunks, rest) = buf.as_chunks_mut::<16>();
    for chunk in chunks {
        *chunk = (u128::from_ne_bytes(*chunk) ^ wide).to_ne_bytes();
    }
    // `rest` starts at a multiple of 16 bytes, so key index 0 lines up again.
    let (words, tail) = rest.as_chunks_mut::<4>();
    for chunk in words {
        *chunk = (u32::from_ne_bytes(*chunk) ^ narrow).to_ne_bytes();
    }
    for (byte, k) in tail.iter_mut().zip(key) {
        *byte ^= k;
    }
}

/// Masking keys for client frames: xorshift64* seeded from the OS-random
/// keys std gives every `RandomState`. Fast, and unpredictable to the peer,
/// which is what RFC 6455 §10.3 asks of them.
#[derive(Debug)]
pub(crate) struct MaskKeys(u64);

impl MaskKeys {
    pub(crate) fn new() -> Self {
        Self(super::random::os_seed() | 1) // xorshift must not start at zero
    }

    pub(crate) fn next_key(&mut self) -> [u8; 4] {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let word = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((word >> 32) as u32).to_ne_bytes()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn mask_bytewise(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte ^= key[(offset + i) % 4];
        }
    }

    proptest! {
        #[test]
        fn matches_the_rfc_definition(mut data in proptest::collection::vec(any::<u8>(), 0..200), key: [u8; 4], offset in 0usize..8) {
            let mut expected = data.clone();
            mask_bytewise(&mut expected, key, offset);
            apply_mask(&mut data, key, offset);
            prop_assert_eq!(data, expected);
        }

        #[test]
        fn masking_in_pieces_equals_masking_at_once(data in proptest::collection::vec(any::<u8>(), 0..200), key: [u8; 4], cut in 0usize..200) {
            let cut = cut.min(data.len());
            let mut whole = data.clone();
            apply_mask(&mut whole, key, 0);
            let mut pieces = data;
            let (head, tail) = pieces.split_at_mut(cut);
            apply_mask(head, key, 0);
            apply_mask(tail, key, cut);
            prop_assert_eq!(pieces, whole);
        }
    }
}
