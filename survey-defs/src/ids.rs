//! Small value types that can only be made by parsing: stages, bands, indicators
//! and the identifiers used in questionnaire files.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A school stage whose pupils can be surveyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    P5,
    P6,
    P7,
    S1,
    S2,
    S3,
    S4,
}

/// Broad age band: the primary and secondary forms differ in wording and layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Band {
    Primary,
    Secondary,
}

/// Why a piece of text could not become one of the types in this module.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ParseIdError(String);

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::P5,
        Stage::P6,
        Stage::P7,
        Stage::S1,
        Stage::S2,
        Stage::S3,
        Stage::S4,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Stage::P5 => "P5",
            Stage::P6 => "P6",
            Stage::P7 => "P7",
            Stage::S1 => "S1",
            Stage::S2 => "S2",
            Stage::S3 => "S3",
            Stage::S4 => "S4",
        }
    }

    pub fn band(&self) -> Band {
        match self {
            Stage::P5 | Stage::P6 | Stage::P7 => Band::Primary,
            _ => Band::Secondary,
        }
    }

    fn index(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = ParseIdError;

    /// Accepts "P5" to "S4", in either case, with surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                ParseIdError(format!(
                    "unknown stage \"{s}\"; stages are P5, P6, P7, S1, S2, S3 and S4"
                ))
            })
    }
}

impl Band {
    pub const ALL: [Band; 2] = [Band::Primary, Band::Secondary];

    pub fn as_str(&self) -> &'static str {
        match self {
            Band::Primary => "primary",
            Band::Secondary => "secondary",
        }
    }

    pub fn stages(&self) -> StageSet {
        match self {
            Band::Primary => [Stage::P5, Stage::P6, Stage::P7].into_iter().collect(),
            Band::Secondary => [Stage::S1, Stage::S2, Stage::S3, Stage::S4]
                .into_iter()
                .collect(),
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Band {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Band::ALL
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseIdError(format!("unknown band \"{s}\"")))
    }
}

/// A set of stages, held as a bit set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StageSet(u8);

impl StageSet {
    pub const EMPTY: StageSet = StageSet(0);
    pub const ALL: StageSet = StageSet(0b111_1111);

    pub fn contains(&self, stage: Stage) -> bool {
        self.0 & (1 << stage.index()) != 0
    }

    pub fn insert(&mut self, stage: Stage) {
        self.0 |= 1 << stage.index();
    }

    pub fn union(self, other: StageSet) -> StageSet {
        StageSet(self.0 | other.0)
    }

    pub fn intersection(self, other: StageSet) -> StageSet {
        StageSet(self.0 & other.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// True when every stage in `self` is also in `other`.
    pub fn is_subset(&self, other: &StageSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Stages in school order.
    pub fn iter(&self) -> impl Iterator<Item = Stage> + '_ {
        Stage::ALL.into_iter().filter(|s| self.contains(*s))
    }

    /// True when any stage of the set is in `band`.
    pub fn touches(&self, band: Band) -> bool {
        !self.intersection(band.stages()).is_empty()
    }

    /// Parses one stage word as used in files: a stage ("S2"), a band
    /// ("primary", "secondary"), "all", or an inclusive range ("S2-S4").
    pub fn parse_word(word: &str) -> Result<StageSet, ParseIdError> {
        let w = word.trim();
        if w.eq_ignore_ascii_case("all") {
            return Ok(StageSet::ALL);
        }
        if let Ok(band) = w.parse::<Band>() {
            return Ok(band.stages());
        }
        if let Some((a, b)) = w.split_once('-') {
            let (a, b) = (a.parse::<Stage>(), b.parse::<Stage>());
            return match (a, b) {
                (Ok(a), Ok(b)) if a <= b => Ok(Stage::ALL
                    .into_iter()
                    .filter(|s| *s >= a && *s <= b)
                    .collect()),
                (Ok(_), Ok(_)) => Err(ParseIdError(format!(
                    "stage range \"{word}\" runs backwards; write the earlier stage first"
                ))),
                _ => Err(unknown_stage_word(word)),
            };
        }
        match w.parse::<Stage>() {
            Ok(s) => Ok([s].into_iter().collect()),
            Err(_) => Err(unknown_stage_word(word)),
        }
    }
}

fn unknown_stage_word(word: &str) -> ParseIdError {
    ParseIdError(format!(
        "unknown stage \"{word}\"; use P5, P6, P7, S1, S2, S3, S4, a range such as \"S2-S4\", \"primary\", \"secondary\" or \"all\""
    ))
}

impl FromIterator<Stage> for StageSet {
    fn from_iter<I: IntoIterator<Item = Stage>>(iter: I) -> Self {
        let mut set = StageSet::EMPTY;
        for s in iter {
            set.insert(s);
        }
        set
    }
}

impl fmt::Debug for StageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for StageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in self.iter() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

/// The eight GIRFEC wellbeing indicators (SHANARRI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Indicator {
    Safe,
    Healthy,
    Achieving,
    Nurtured,
    Active,
    Respected,
    Responsible,
    Included,
}

impl Indicator {
    pub const ALL: [Indicator; 8] = [
        Indicator::Safe,
        Indicator::Healthy,
        Indicator::Achieving,
        Indicator::Nurtured,
        Indicator::Active,
        Indicator::Respected,
        Indicator::Responsible,
        Indicator::Included,
    ];

    /// Lower-case name, as written in files and exports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Indicator::Safe => "safe",
            Indicator::Healthy => "healthy",
            Indicator::Achieving => "achieving",
            Indicator::Nurtured => "nurtured",
            Indicator::Active => "active",
            Indicator::Respected => "respected",
            Indicator::Responsible => "responsible",
            Indicator::Included => "included",
        }
    }

    /// Name for people: "Safe".
    pub fn label(&self) -> &'static str {
        match self {
            Indicator::Safe => "Safe",
            Indicator::Healthy => "Healthy",
            Indicator::Achieving => "Achieving",
            Indicator::Nurtured => "Nurtured",
            Indicator::Active => "Active",
            Indicator::Respected => "Respected",
            Indicator::Responsible => "Responsible",
            Indicator::Included => "Included",
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Indicator {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Indicator::ALL
            .into_iter()
            .find(|i| i.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                ParseIdError(format!(
                    "unknown wellbeing indicator \"{s}\"; use one of safe, healthy, achieving, nurtured, active, respected, responsible, included"
                ))
            })
    }
}

/// What a section is about: one wellbeing indicator, or facts about the pupil.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Theme {
    AboutYou,
    Indicator(Indicator),
}

impl Theme {
    pub fn as_str(&self) -> &'static str {
        match self {
            Theme::AboutYou => "about_you",
            Theme::Indicator(i) => i.as_str(),
        }
    }

    pub fn indicator(&self) -> Option<Indicator> {
        match self {
            Theme::AboutYou => None,
            Theme::Indicator(i) => Some(*i),
        }
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Theme {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("about_you") {
            return Ok(Theme::AboutYou);
        }
        t.parse::<Indicator>().map(Theme::Indicator).map_err(|_| {
            ParseIdError(format!(
                "unknown theme \"{s}\"; use \"about_you\" or a wellbeing indicator (safe, healthy, achieving, nurtured, active, respected, responsible, included)"
            ))
        })
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

/// Defines a newtype over `String` whose only constructor is `FromStr`.
macro_rules! identifier {
    ($(#[$meta:meta])* $name:ident, $what:literal, $max:literal, $check:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let check: fn(&str) -> bool = $check;
                if !s.is_empty() && s.len() <= $max && check(s) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(ParseIdError(format!(
                        concat!("\"{}\" is not a valid ", $what, "; ", "use {}"),
                        s,
                        $name::RULE
                    )))
                }
            }
        }
    };
}

const ID_RULE: &str =
    "a lower-case letter then lower-case letters, digits or underscores (at most 64)";

identifier!(
    /// Identifies a questionnaire across its versions, e.g. "wellbeing".
    QuestionnaireId,
    "questionnaire id",
    64,
    |s| s.starts_with(|c: char| c.is_ascii_lowercase()) && s.chars().all(|c| is_word_char(c) || c == '-')
);
impl QuestionnaireId {
    const RULE: &str =
        "a lower-case letter then lower-case letters, digits, '_' or '-' (at most 64)";
}

identifier!(
    /// A question's stable id, e.g. "q_safe_school". Answers and exports use it.
    QuestionId,
    "question id",
    64,
    |s| s.starts_with(|c: char| c.is_ascii_lowercase()) && s.chars().all(is_word_char)
);
impl QuestionId {
    const RULE: &str = ID_RULE;
}

identifier!(
    /// A stable code for one answer option within its question, e.g. "often" or "1".
    OptionCode,
    "option code",
    32,
    |s| s.chars().all(is_word_char)
);
impl OptionCode {
    const RULE: &str = "lower-case letters, digits or underscores (at most 32)";
}

identifier!(
    /// A module of questions that a partnership can switch off as a whole.
    ModuleId,
    "module id",
    64,
    |s| s.starts_with(|c: char| c.is_ascii_lowercase()) && s.chars().all(is_word_char)
);
impl ModuleId {
    const RULE: &str = ID_RULE;
}

identifier!(
    /// A section's id within its questionnaire.
    SectionId,
    "section id",
    64,
    |s| s.starts_with(|c: char| c.is_ascii_lowercase()) && s.chars().all(is_word_char)
);
impl SectionId {
    const RULE: &str = ID_RULE;
}

identifier!(
    /// A language tag such as "en", "gd", "ar" or "pt-BR".
    Locale,
    "locale",
    35,
    |s| {
        let mut parts = s.split('-');
        let lang_ok = parts
            .next()
            .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase()));
        lang_ok && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
    }
);
impl Locale {
    const RULE: &str = "a language tag such as \"en\", \"gd\" or \"pt-BR\"";
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stage_round_trips_through_text_in_any_case() {
        for s in Stage::ALL {
            assert_eq!(s.to_string().parse::<Stage>(), Ok(s));
            assert_eq!(s.as_str().to_lowercase().parse::<Stage>(), Ok(s));
        }
        assert!("P4".parse::<Stage>().is_err());
    }

    #[test]
    fn stage_words_cover_bands_and_ranges() {
        assert_eq!(StageSet::parse_word("primary"), Ok(Band::Primary.stages()));
        let s = StageSet::parse_word("S2-S4").unwrap();
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Stage::S2, Stage::S3, Stage::S4]
        );
        assert!(StageSet::parse_word("S4-S2").is_err());
        assert!(StageSet::parse_word("S5").is_err());
        assert_eq!(StageSet::parse_word("all"), Ok(StageSet::ALL));
    }

    #[test]
    fn identifiers_reject_bad_text() {
        assert!("q_ok_1".parse::<QuestionId>().is_ok());
        assert!("Q".parse::<QuestionId>().is_err());
        assert!("1q".parse::<QuestionId>().is_err());
        assert!("".parse::<OptionCode>().is_err());
        assert!("0".parse::<OptionCode>().is_ok());
        assert!("en".parse::<Locale>().is_ok());
        assert!("pt-BR".parse::<Locale>().is_ok());
        assert!("EN".parse::<Locale>().is_err());
    }
}
