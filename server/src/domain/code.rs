//! Access codes: the anonymous slips staff print and hand out at random.
//!
//! A code is 10 random Crockford base32 symbols (50 bits from a cryptographically
//! secure generator) and one check symbol, printed in groups as `K7QM-4HXT-9QC`.
//! The check symbol is a weighted sum over GF(32), which catches every single
//! wrong symbol and every swap of two different neighbours, so most typing
//! mistakes are told apart from codes that simply do not exist.

use std::fmt;

use rand::RngExt;

/// Crockford's base32 alphabet: no I, L, O or U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Number of random symbols in a code.
pub const DATA_LEN: usize = 10;
/// Bits of randomness in a code.
pub const ENTROPY_BITS: u32 = 5 * DATA_LEN as u32;

/// A well-formed access code whose check symbol is right. It can only be made by
/// generating one or by parsing what a pupil typed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccessCode([u8; DATA_LEN + 1]);

/// Why what a pupil typed is not a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("nothing was typed")]
    Empty,
    #[error("the code has the wrong number of characters")]
    WrongLength,
    #[error("the code holds a character that is never used in codes")]
    BadCharacter,
    #[error("the check character does not match: probably a typing mistake")]
    CheckFailed,
}

impl AccessCode {
    /// A fresh random code from the thread's cryptographically secure generator.
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let mut values = [0u8; DATA_LEN];
        for value in &mut values {
            *value = rng.random_range(0..32u8);
        }
        Self::from_values(values)
    }

    fn from_values(values: [u8; DATA_LEN]) -> Self {
        let mut symbols = [0u8; DATA_LEN + 1];
        for (symbol, value) in symbols.iter_mut().zip(values) {
            *symbol = ALPHABET[usize::from(value)];
        }
        symbols[DATA_LEN] = ALPHABET[usize::from(check_value(&values))];
        Self(symbols)
    }

    /// Reads a code as a pupil might type it: any case, with spaces or dashes,
    /// and with the look-alike letters O, I and L read as 0, 1 and 1.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let mut values = Vec::with_capacity(DATA_LEN + 1);
        for ch in input.chars() {
            if ch.is_whitespace() || matches!(ch, '-' | '‐' | '–' | '—' | '_' | '.') {
                continue;
            }
            let ch = match ch.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            let value = ALPHABET
                .iter()
                .position(|&a| char::from(a) == ch)
                .ok_or(CodeError::BadCharacter)?;
            values.push(value as u8);
            if values.len() > DATA_LEN + 1 {
                return Err(CodeError::WrongLength);
            }
        }
        if values.is_empty() {
            return Err(CodeError::Empty);
        }
        if values.len() != DATA_LEN + 1 {
            return Err(CodeError::WrongLength);
        }
        let mut data = [0u8; DATA_LEN];
        data.copy_from_slice(&values[..DATA_LEN]);
        if check_value(&data) != values[DATA_LEN] {
            return Err(CodeError::CheckFailed);
        }
        Ok(Self::from_values(data))
    }

    /// The canonical form without separators, as hashed and stored.
    pub fn canonical(&self) -> &str {
        // The symbols all come from ALPHABET, which is ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The printed form, in groups of four: `K7QM-4HXT-9QC`.
    pub fn grouped(&self) -> String {
        let s = self.canonical();
        format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..])
    }
}

impl fmt::Display for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.grouped())
    }
}

/// Codes are secrets of a sort: never print them by accident in a log.
impl fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCode(***)")
    }
}

/// Multiplication in GF(32) with the primitive polynomial x^5 + x^2 + 1.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0x20 != 0 {
            a ^= 0x25;
        }
    }
    product
}

/// Σ αⁱ·dᵢ over GF(32), α = x. Every weight is non-zero and neighbours' weights
/// differ, so a single changed symbol or a swap of two different neighbours
/// always changes the sum.
fn check_value(values: &[u8; DATA_LEN]) -> u8 {
    let mut weight = 1u8;
    let mut sum = 0u8;
    for &value in values {
        sum ^= gf_mul(weight, value);
        weight = gf_mul(weight, 2);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_values() -> impl Strategy<Value = [u8; DATA_LEN]> {
        proptest::array::uniform10(0u8..32)
    }

    #[test]
    fn generated_codes_parse_back() {
        for _ in 0..1000 {
            let code = AccessCode::generate();
            assert_eq!(AccessCode::parse(&code.grouped()), Ok(code.clone()));
            assert_eq!(AccessCode::parse(code.canonical()), Ok(code));
        }
    }

    #[test]
    fn sloppy_typing_is_forgiven() {
        let code = AccessCode::from_values([0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
        let typed = code
            .canonical()
            .to_lowercase()
            .replace('0', "o")
            .replace('1', "l");
        let typed = format!("  {}-{} ", &typed[..5], &typed[5..]);
        assert_eq!(AccessCode::parse(&typed), Ok(code));
    }

    #[test]
    fn bad_input_is_told_apart() {
        assert_eq!(AccessCode::parse("  "), Err(CodeError::Empty));
        assert_eq!(AccessCode::parse("ABC"), Err(CodeError::WrongLength));
        assert_eq!(
            AccessCode::parse("ABCD-EFGH-JK*"),
            Err(CodeError::BadCharacter)
        );
        assert_eq!(
            AccessCode::parse("ABCD-EFGH-JKMN"),
            Err(CodeError::WrongLength)
        );
    }

    #[test]
    fn debug_hides_the_code() {
        assert_eq!(format!("{:?}", AccessCode::generate()), "AccessCode(***)");
    }

    proptest! {
        #[test]
        fn codes_round_trip_through_their_text(values in arb_values()) {
            let code = AccessCode::from_values(values);
            prop_assert_eq!(AccessCode::parse(&code.to_string()), Ok(code));
        }

        #[test]
        fn any_single_wrong_symbol_is_caught(values in arb_values(), at in 0..=DATA_LEN, to in 0u8..32) {
            let code = AccessCode::from_values(values);
            let mut bytes = code.0;
            prop_assume!(bytes[at] != ALPHABET[usize::from(to)]);
            bytes[at] = ALPHABET[usize::from(to)];
            let typed = String::from_utf8(bytes.to_vec()).unwrap();
            prop_assert_eq!(AccessCode::parse(&typed), Err(CodeError::CheckFailed));
        }

        #[test]
        fn any_swap_of_different_neighbours_is_caught(values in arb_values(), at in 0..DATA_LEN) {
            let code = AccessCode::from_values(values);
            let mut bytes = code.0;
            prop_assume!(bytes[at] != bytes[at + 1]);
            bytes.swap(at, at + 1);
            let typed = String::from_utf8(bytes.to_vec()).unwrap();
            prop_assert_eq!(AccessCode::parse(&typed), Err(CodeError::CheckFailed));
        }
    }
}
