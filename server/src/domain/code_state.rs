//! The states of a printed code.

use super::role::UnknownName;

/// Where a printed code is in its life. Only `Unused` and `Started` codes
/// can be typed in; every other state refuses the code.
///
/// A code says only that it was `Used`, never how: whether its pupil
/// finished, withdrew, declined or was still answering when the sitting
/// closed is counted per sitting (`sitting_tally`), so that no code can be
/// matched with the one partial response of its sitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeState {
    Unused,
    Started,
    Used,
    Voided,
}

impl CodeState {
    pub const ALL: [CodeState; 4] = [
        CodeState::Unused,
        CodeState::Started,
        CodeState::Used,
        CodeState::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CodeState::Unused => "unused",
            CodeState::Started => "started",
            CodeState::Used => "used",
            CodeState::Voided => "voided",
        }
    }
}

impl std::fmt::Display for CodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CodeState {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CodeState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or(UnknownName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_name() {
        for state in CodeState::ALL {
            assert_eq!(state.as_str().parse::<CodeState>(), Ok(state));
        }
        assert!("finished".parse::<CodeState>().is_err());
    }
}
