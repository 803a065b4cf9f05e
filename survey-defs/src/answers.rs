//! Answers: parsing form values, checking them against a question, and the
//! compact binary form responses are stored in.
//!
//! Encoding (version 1): one version byte `1`, then for each answer in
//! ascending ordinal order
//! - a varint: the ordinal minus the previous ordinal plus one (the first
//!   answer counts from 0), so consecutive questions cost one byte of zero;
//! - a varint head `payload << 2 | tag`: tag 0 is a choice (payload: option
//!   index), tag 2 a number (payload: zigzag of the `i32`), tag 1 a multiple
//!   choice (payload 0, then a second varint holding the 64-bit mask).
//!
//! Varints are LEB128 (7 bits per byte, least significant first).

use std::collections::BTreeMap;

use thiserror::Error;

use crate::model::{Question, QuestionKind};

/// One pupil's answer to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// Index of the chosen option.
    Choice(u8),
    /// Bit `i` set when option `i` is ticked.
    Multi(u64),
    Number(i32),
}

impl Answer {
    /// Option indices the answer picks (none for numbers).
    pub fn option_indices(&self) -> impl Iterator<Item = u8> + '_ {
        let (single, mask) = match *self {
            Answer::Choice(i) => (Some(i), 0),
            Answer::Multi(m) => (None, m),
            Answer::Number(_) => (None, 0),
        };
        single
            .into_iter()
            .chain((0u8..64).filter(move |i| mask & (1u64 << i) != 0))
    }
}

/// Why form values or a stored answer do not fit a question.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerError {
    #[error("\"{0}\" is not one of this question's options")]
    UnknownOption(String),
    #[error("only one option can be chosen for this question")]
    TooManyValues,
    #[error("\"{0}\" is not a whole number")]
    NotANumber(String),
    #[error("{value} is outside the allowed range {min} to {max}")]
    OutOfRange { value: i32, min: i32, max: i32 },
    #[error("\"{0}\" cannot be ticked together with other options")]
    ExclusiveOption(String),
    #[error("the answer does not match the kind of question")]
    WrongKind,
}

impl Question {
    /// Turns submitted form values (option codes, or a number as text) into an
    /// answer. No values, or only empty ones, mean the question was skipped:
    /// `Ok(None)`.
    pub fn parse_answer(&self, values: &[&str]) -> Result<Option<Answer>, AnswerError> {
        let mut given = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty());
        match self.kind {
            QuestionKind::Number { .. } => {
                let Some(first) = given.next() else {
                    return Ok(None);
                };
                if given.next().is_some() {
                    return Err(AnswerError::TooManyValues);
                }
                let value: i32 = first
                    .parse()
                    .map_err(|_| AnswerError::NotANumber(first.to_owned()))?;
                let answer = Answer::Number(value);
                self.check_answer(&answer)?;
                Ok(Some(answer))
            }
            QuestionKind::MultipleChoice => {
                let mut mask = 0u64;
                for code in given {
                    let index = self
                        .option_index(code)
                        .ok_or_else(|| AnswerError::UnknownOption(code.to_owned()))?;
                    mask |= 1u64 << index;
                }
                if mask == 0 {
                    return Ok(None);
                }
                let answer = Answer::Multi(mask);
                self.check_answer(&answer)?;
                Ok(Some(answer))
            }
            QuestionKind::SingleChoice | QuestionKind::Scale | QuestionKind::YesNo => {
                let Some(first) = given.next() else {
                    return Ok(None);
                };
                // A repeated identical value (double-submitted field) is harmless.
                if given.any(|v| v != first) {
                    return Err(AnswerError::TooManyValues);
                }
                let index = self
                    .option_index(first)
                    .ok_or_else(|| AnswerError::UnknownOption(first.to_owned()))?;
                Ok(Some(Answer::Choice(index)))
            }
        }
    }

    /// Checks that a stored or decoded answer fits this question.
    pub fn check_answer(&self, answer: &Answer) -> Result<(), AnswerError> {
        match (self.kind, *answer) {
            (QuestionKind::Number { min, max }, Answer::Number(value)) => {
                if value < min || value > max {
                    Err(AnswerError::OutOfRange { value, min, max })
                } else {
                    Ok(())
                }
            }
            (QuestionKind::MultipleChoice, Answer::Multi(mask)) => {
                let n = self.options.len();
                if mask == 0 || (n < 64 && mask >> n != 0) {
                    return Err(AnswerError::UnknownOption(format!("{mask:#x}")));
                }
                if mask.count_ones() > 1
                    && let Some(o) = answer
                        .option_indices()
                        .filter_map(|i| self.options.get(usize::from(i)))
                        .find(|o| o.is_exclusive())
                {
                    return Err(AnswerError::ExclusiveOption(o.code.to_string()));
                }
                Ok(())
            }
            (
                QuestionKind::SingleChoice | QuestionKind::Scale | QuestionKind::YesNo,
                Answer::Choice(i),
            ) => {
                if usize::from(i) < self.options.len() {
                    Ok(())
                } else {
                    Err(AnswerError::UnknownOption(i.to_string()))
                }
            }
            _ => Err(AnswerError::WrongKind),
        }
    }

    /// The option codes (or the number as text) of an answer: the inverse of
    /// [`Question::parse_answer`].
    pub fn answer_values(&self, answer: &Answer) -> Vec<String> {
        match *answer {
            Answer::Number(n) => vec![n.to_string()],
            _ => answer
                .option_indices()
                .filter_map(|i| self.options.get(usize::from(i)))
                .map(|o| o.code.to_string())
                .collect(),
        }
    }
}

/// A pupil's answers so far, keyed by question ordinal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerSet {
    answers: BTreeMap<u16, Answer>,
}

/// Why stored answer bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("the answer data is empty")]
    Empty,
    #[error("unknown answer encoding version {0}")]
    UnknownVersion(u8),
    #[error("the answer data ends in the middle of an answer")]
    Truncated,
    #[error("a number in the answer data is too long")]
    Overlong,
    #[error("a question position in the answer data is out of range")]
    OrdinalOutOfRange,
    #[error("an answer value in the answer data is out of range")]
    ValueOutOfRange,
    #[error("unknown answer tag {0}")]
    UnknownTag(u8),
}

const ENCODING_VERSION: u8 = 1;
const TAG_CHOICE: u64 = 0;
const TAG_MULTI: u64 = 1;
const TAG_NUMBER: u64 = 2;

impl AnswerSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, ordinal: u16) -> Option<&Answer> {
        self.answers.get(&ordinal)
    }

    /// Sets the answer for `ordinal`, returning the one it replaces.
    pub fn insert(&mut self, ordinal: u16, answer: Answer) -> Option<Answer> {
        self.answers.insert(ordinal, answer)
    }

    pub fn remove(&mut self, ordinal: u16) -> Option<Answer> {
        self.answers.remove(&ordinal)
    }

    /// Answers in ordinal order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &Answer)> + '_ {
        self.answers.iter().map(|(o, a)| (*o, a))
    }

    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// The compact binary form described in the module documentation.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.answers.len() * 3);
        out.push(ENCODING_VERSION);
        let mut next = 0u32;
        for (&ordinal, answer) in &self.answers {
            put_varint(&mut out, u64::from(u32::from(ordinal) - next));
            next = u32::from(ordinal) + 1;
            match *answer {
                Answer::Choice(i) => put_varint(&mut out, u64::from(i) << 2 | TAG_CHOICE),
                Answer::Number(n) => put_varint(&mut out, zigzag(n) << 2 | TAG_NUMBER),
                Answer::Multi(mask) => {
                    put_varint(&mut out, TAG_MULTI);
                    put_varint(&mut out, mask);
                }
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<AnswerSet, DecodeError> {
        let answers = Self::iter_encoded(bytes).collect::<Result<BTreeMap<_, _>, _>>()?;
        Ok(AnswerSet { answers })
    }

    /// Reads encoded answers without allocating, in ordinal order. After the
    /// first error the iterator ends.
    pub fn iter_encoded(bytes: &[u8]) -> EncodedAnswers<'_> {
        EncodedAnswers {
            bytes,
            pos: 0,
            next: 0,
            failed: false,
        }
    }
}

impl FromIterator<(u16, Answer)> for AnswerSet {
    fn from_iter<I: IntoIterator<Item = (u16, Answer)>>(iter: I) -> Self {
        AnswerSet {
            answers: iter.into_iter().collect(),
        }
    }
}

/// Iterator returned by [`AnswerSet::iter_encoded`].
#[derive(Debug, Clone)]
pub struct EncodedAnswers<'a> {
    bytes: &'a [u8],
    pos: usize,
    next: u32,
    failed: bool,
}

impl EncodedAnswers<'_> {
    #[inline]
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(DecodeError::Truncated);
            };
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return Err(DecodeError::Overlong);
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err(DecodeError::Overlong);
            }
        }
    }

    fn read_one(&mut self) -> Result<(u16, Answer), DecodeError> {
        let delta = self.varint()?;
        let ordinal = u64::from(self.next) + delta;
        let ordinal = u16::try_from(ordinal).map_err(|_| DecodeError::OrdinalOutOfRange)?;
        self.next = u32::from(ordinal) + 1;
        let head = self.varint()?;
        let payload = head >> 2;
        let answer = match head & 3 {
            TAG_CHOICE => {
                Answer::Choice(u8::try_from(payload).map_err(|_| DecodeError::ValueOutOfRange)?)
            }
            TAG_NUMBER => Answer::Number(unzigzag(payload).ok_or(DecodeError::ValueOutOfRange)?),
            TAG_MULTI => {
                if payload != 0 {
                    return Err(DecodeError::ValueOutOfRange);
                }
                Answer::Multi(self.varint()?)
            }
            // Only the value 3 is left; the `as` cannot truncate.
            tag => return Err(DecodeError::UnknownTag(tag as u8)),
        };
        Ok((ordinal, answer))
    }
}

impl Iterator for EncodedAnswers<'_> {
    type Item = Result<(u16, Answer), DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.pos == 0 {
            match self.bytes.first() {
                None => {
                    self.failed = true;
                    return Some(Err(DecodeError::Empty));
                }
                Some(&ENCODING_VERSION) => self.pos = 1,
                Some(&v) => {
                    self.failed = true;
                    return Some(Err(DecodeError::UnknownVersion(v)));
                }
            }
        }
        if self.pos >= self.bytes.len() {
            return None;
        }
        let item = self.read_one();
        if item.is_err() {
            self.failed = true;
        }
        Some(item)
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        // Keeps the low seven bits; the truncation is the point.
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(n: i32) -> u64 {
    u64::from(((n << 1) ^ (n >> 31)) as u32)
}

fn unzigzag(v: u64) -> Option<i32> {
    let v = u32::try_from(v).ok()?;
    Some(((v >> 1) as i32) ^ -((v & 1) as i32))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn answer_strategy() -> impl Strategy<Value = Answer> {
        prop_oneof![
            any::<u8>().prop_map(Answer::Choice),
            any::<u64>().prop_map(Answer::Multi),
            any::<i32>().prop_map(Answer::Number),
        ]
    }

    proptest! {
        #[test]
        fn encoding_round_trips(entries in proptest::collection::btree_map(any::<u16>(), answer_strategy(), 0..80)) {
            let set: AnswerSet = entries.into_iter().collect();
            let bytes = set.encode();
            prop_assert_eq!(AnswerSet::decode(&bytes), Ok(set.clone()));
            let streamed: Vec<_> = AnswerSet::iter_encoded(&bytes).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(streamed, set.iter().map(|(o, a)| (o, *a)).collect::<Vec<_>>());
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = AnswerSet::decode(&bytes);
        }
    }

    #[test]
    fn empty_set_encodes_to_the_version_byte() {
        let bytes = AnswerSet::new().encode();
        assert_eq!(bytes, vec![1]);
        assert_eq!(AnswerSet::decode(&bytes), Ok(AnswerSet::new()));
    }

    #[test]
    fn consecutive_choices_take_two_bytes_each() {
        let set: AnswerSet = (0..10).map(|o| (o, Answer::Choice(3))).collect();
        assert_eq!(set.encode().len(), 1 + 10 * 2);
    }

    #[test]
    fn bad_bytes_give_errors() {
        assert_eq!(AnswerSet::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(AnswerSet::decode(&[9]), Err(DecodeError::UnknownVersion(9)));
        assert_eq!(AnswerSet::decode(&[1, 0]), Err(DecodeError::Truncated));
        assert_eq!(
            AnswerSet::decode(&[1, 0, 3]),
            Err(DecodeError::UnknownTag(3))
        );
        assert_eq!(
            AnswerSet::decode(&[1, 0xff, 0xff, 0x7f, 0]),
            Err(DecodeError::OrdinalOutOfRange)
        );
        assert_eq!(
            AnswerSet::decode(&[1, 0, 0x80, 0x08]),
            Err(DecodeError::ValueOutOfRange)
        );
    }

    #[test]
    fn numbers_keep_their_sign() {
        for n in [0, 1, -1, i32::MIN, i32::MAX] {
            assert_eq!(unzigzag(zigzag(n)), Some(n));
        }
    }
}
