//! Incremental UTF-8 validation for text that arrives in pieces.
//!
//! A text message may be split across fragments, and a fragment across TCP
//! reads, at any byte, even inside a multi-byte character. The validator
//! carries at most three bytes of an unfinished character from one piece to
//! the next, so each byte is checked once, and it fails on the piece that
//! holds the first invalid byte — not at the end of the message (Autobahn 6.4
//! calls this "fail fast").

use simdutf8::compat::from_utf8;

/// The input was not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

/// Validates UTF-8 fed to it in arbitrary pieces.
///
/// ```
/// use hyperws::proto::internals::Utf8Validator;
/// let euro = "€".as_bytes(); // three bytes
/// let mut v = Utf8Validator::default();
/// v.feed(&euro[..1]).unwrap();
/// v.feed(&euro[1..]).unwrap();
/// v.finish().unwrap();
/// assert!(Utf8Validator::default().feed(&[0xC0]).is_err()); // can never start a character
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Validator {
    carry: [u8; 4],
    carry_len: usize,
}

impl Utf8Validator {
    /// Checks the next piece.
    ///
    /// # Errors
    /// As soon as the bytes seen so far cannot be the start of valid UTF-8.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        if self.carry_len > 0 {
            input = self.complete_carried_char(input)?;
            if self.carry_len > 0 {
                return Ok(()); // `input` ran out before the character did
            }
        }
        match from_utf8(input) {
            Ok(_) => Ok(()),
            // `error_len() == None` means "valid so far, cut off mid-character".
            Err(e) if e.error_len().is_none() => {
                let tail = &input[e.valid_up_to()..];
                self.carry[..tail.len()].copy_from_slice(tail);
                self.carry_len = tail.len();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Declares the text complete.
    ///
    /// # Errors
    /// If the text ended inside a character.
    pub fn finish(self) -> Result<(), InvalidUtf8> {
        if self.carry_len == 0 {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }

    /// Whether any bytes have been fed that are not yet judged (a partial character).
    #[must_use]
    pub fn is_mid_character(&self) -> bool {
        self.carry_len > 0
    }

    /// Moves bytes from `input` into the carried character until it is whole
    /// (or `input` is empty), checks it, and returns the rest of `input`.
    fn complete_carried_char<'a>(&mut self, input: &'a [u8]) -> Result<&'a [u8], InvalidUtf8> {
        let width = char_width(self.carry[0]);
        let take = (width - self.carry_len).min(input.len());
        self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&input[..take]);
        self.carry_len += take;
        match from_utf8(&self.carry[..self.carry_len]) {
            Ok(_) => self.carry_len = 0,
            Err(e) if e.error_len().is_none() => {}
            Err(_) => return Err(InvalidUtf8),
        }
        Ok(&input[take..])
    }
}

/// The length of the character a (valid) lead byte starts.
fn char_width(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn validate_in_pieces(bytes: &[u8], cuts: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::default();
        let mut start = 0;
        for &cut in cuts {
            v.feed(&bytes[start..cut])?;
            start = cut;
        }
        v.feed(&bytes[start..])?;
        v.finish()
    }

    const SAMPLES: &[&[u8]] = &[
        "κόσμε".as_bytes(),
        "Hello-µ@ßöäüàá-UTF-8!!".as_bytes(),
        "\u{10FFFF}\u{FFFF}€a".as_bytes(),
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", // surrogate
        b"\xf4\x90\x80\x80",                                                                 // > U+10FFFF
        b"\xc0\xaf",                                                                         // overlong
        b"ab\xe2\x82",                                                                       // truncated at end
    ];

    #[test]
    fn every_split_point_agrees_with_std() {
        for sample in SAMPLES {
            let expected = std::str::from_utf8(sample).is_ok();
            for a in 0..=sample.len() {
                for b in a..=sample.len() {
                    assert_eq!(
                        validate_in_pieces(sample, &[a, b]).is_ok(),
                        expected,
                        "{sample:x?} cut at {a},{b}"
                    );
                }
            }
        }
    }

    #[test]
    fn fails_on_the_piece_holding_the_first_bad_byte() {
        // Autobahn 6.4.1: the second piece holds the surrogate's first bytes.
        let mut v = Utf8Validator::default();
        v.feed("κόσμε".as_bytes()).unwrap();
        assert_eq!(v.feed(b"\xed\xa0"), Err(InvalidUtf8));
    }

    proptest! {
        #[test]
        fn agrees_with_std_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..40), cut1 in 0usize..40, cut2 in 0usize..40) {
            let (a, b) = (cut1.min(cut2).min(bytes.len()), cut1.max(cut2).min(bytes.len()));
            prop_assert_eq!(validate_in_pieces(&bytes, &[a, b]).is_ok(), std::str::from_utf8(&bytes).is_ok());
        }

        #[test]
        fn valid_text_split_anywhere_is_accepted(text in "\\PC{0,20}", cut in 0usize..80) {
            let bytes = text.as_bytes();
            prop_assert!(validate_in_pieces(bytes, &[cut.min(bytes.len())]).is_ok());
        }
    }
}
