//! How a pupil's response ended.

/// How a response ended. Counted per sitting, never recorded per code (see
/// [`super::CodeState`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    /// The pupil pressed Finish.
    Finished,
    /// The sitting closed while the pupil was still answering: what was
    /// saved is kept as a partial response.
    Partial,
    /// The pupil deleted their answers.
    Withdrawn,
    /// The pupil chose not to take part before answering anything.
    Declined,
}

impl Ending {
    pub const ALL: [Ending; 4] = [
        Ending::Finished,
        Ending::Partial,
        Ending::Withdrawn,
        Ending::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Finished => "finished",
            Ending::Partial => "partial",
            Ending::Withdrawn => "withdrawn",
            Ending::Declined => "declined",
        }
    }

    /// Whether answers are kept: a finished or partial response is.
    pub fn keeps_answers(self) -> bool {
        matches!(self, Ending::Finished | Ending::Partial)
    }

    pub fn parse(text: &str) -> Option<Self> {
        Ending::ALL.into_iter().find(|e| e.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ending_reads_back_from_its_name() {
        for ending in Ending::ALL {
            assert_eq!(Ending::parse(ending.as_str()), Some(ending));
        }
        assert_eq!(Ending::parse("used"), None);
    }
}
