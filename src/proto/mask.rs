//! Payload masking (RFC 6455 §5.3): payload byte `i` is xor-ed with `key[i % 4]`.

/// XORs `buf` with the masking `key`, as if `buf` started `offset` bytes into
/// the payload (so a payload can be unmasked piece by piece as it arrives).
///
/// Masking twice with the same key and offset restores the input. Safe code:
/// 64-byte blocks through a byte loop the compiler vectorizes — from 512
/// bytes, one compiled for the widest vector unit the CPU has (AVX-512,
/// AVX2, NEON; chosen at run time) — then sixteen bytes, four, and one at a
/// time.
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
    let key = u32::from_le_bytes(key)
        .rotate_right(8 * (offset % 4) as u32)
        .to_le_bytes();
    if buf.len() >= 64 {
        mask_blocks(buf, key);
    } else {
        mask_short(buf, key);
    }
}

/// Masks a payload of 64 bytes or more: whole blocks, then the rest. Out of
/// line, so the path of small frames (most of them) stays as short as it was.
#[inline(never)]
fn mask_blocks(buf: &mut [u8], key: [u8; 4]) {
    let (blocks, rest) = buf.as_chunks_mut::<64>();
    let pattern: [u8; 64] = std::array::from_fn(|i| key[i % 4]);
    if blocks.len() * 64 >= WIDE_FROM {
        xor_blocks_wide(blocks, &pattern);
    } else {
        xor_blocks(blocks, &pattern);
    }
    // `rest` starts at a multiple of 64 bytes, so key index 0 lines up again.
    mask_short(rest, key);
}

/// Masks sixteen bytes a step (two machine words), then four, then one.
#[inline]
fn mask_short(buf: &mut [u8], key: [u8; 4]) {
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

/// Payloads from this size are unmasked by [`xor_blocks_wide`]: below it,
/// choosing the version (one indirect call) costs more than the wider steps save.
const WIDE_FROM: usize = 512;

/// XORs each block with `pattern` (the key sixteen times over). A byte
/// loop, so the compiler turns it into vector instructions as wide as the
/// target allows (a `u128` loop stays two scalar `u64` operations).
#[inline]
fn xor_blocks(blocks: &mut [[u8; 64]], pattern: &[u8; 64]) {
    for block in blocks {
        for (byte, k) in block.iter_mut().zip(pattern) {
            *byte ^= k;
        }
    }
}

/// [`xor_blocks`] compiled once per vector unit and chosen at run time by
/// the `multiversion` crate (its generated dispatch is the only `unsafe`
/// involved, and it is that crate's: this crate forbids its own). Without
/// one of these targets, the baseline build runs (SSE2 on x86-64).
#[multiversion::multiversion(targets("x86_64+avx512f+avx512bw", "x86_64+avx2", "aarch64+neon"))]
fn xor_blocks_wide(blocks: &mut [[u8; 64]], pattern: &[u8; 64]) {
    xor_blocks(blocks, pattern);
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

    /// Masks `header`'s frame if `role` is the client's: RFC 6455 §5.3, "The
    /// masking key is a 32-bit value chosen at random by the client ... a
    /// fresh masking key for each frame"; a server masks nothing (§5.1), and
    /// its headers are left untouched (no store on the hot path).
    #[inline]
    pub(crate) fn mask_if_client(&mut self, role: super::Role, header: &mut super::frame::FrameHeader) {
        if role == super::Role::Client {
            header.mask = Some(self.next_key());
        }
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
        fn matches_the_rfc_definition(mut data in proptest::collection::vec(any::<u8>(), 0..2000), key: [u8; 4], offset in 0usize..8) {
            let mut expected = data.clone();
            mask_bytewise(&mut expected, key, offset);
            apply_mask(&mut data, key, offset);
            prop_assert_eq!(data, expected);
        }

        #[test]
        fn masking_in_pieces_equals_masking_at_once(data in proptest::collection::vec(any::<u8>(), 0..2000), key: [u8; 4], cut in 0usize..2000) {
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
