//! Reading level by the Flesch–Kincaid grade formula:
//! `0.39 × words/sentences + 11.8 × syllables/words − 15.59`.
//!
//! The grade approximates a US school grade; add about 5 for a reading age.
//! Limits, chosen to sit at the lower end of each band so that the weaker
//! readers in it can cope:
//! - primary (P5–P7, ages 8–11): grade 5.0 at most (reading age about 10);
//! - secondary (S1–S4, ages 11–16): grade 8.0 at most (reading age about 13).
//!
//! A question seen by any primary stage is held to the primary limit. Only
//! the default locale is checked: the formula is built for English.
//!
//! What is checked: each question's text; its help, read as the pupil reads
//! it, after the question and with the answers; each answer option's words
//! (a label is too short for the formula, so its longest word is held to
//! [`max_label_syllables`]); and, in the server, the band's own words on
//! the welcome page and elsewhere in the pupil locale file.

use crate::ids::Band;

/// The highest Flesch–Kincaid grade allowed for a question's text in `band`.
pub fn max_grade(band: Band) -> f64 {
    match band {
        Band::Primary => 5.0,
        Band::Secondary => 8.0,
    }
}

/// The most syllables a word of an answer option may have in `band`: a
/// label is read at a glance, and its hardest word is what stops a reader.
pub fn max_label_syllables(band: Band) -> usize {
    match band {
        Band::Primary => 3,
        Band::Secondary => 4,
    }
}

/// What makes an answer option's `label` too hard for `band`, if anything:
/// a word longer than [`max_label_syllables`]. (The grade formula needs
/// sentences; labels are held to it as part of their question, where the
/// loader reads them with the question's help.)
pub fn label_problem(label: &str, band: Band) -> Option<String> {
    let most = max_label_syllables(band);
    words_of(label)
        .find(|w| syllable_count(w) > most)
        .map(|long| {
            format!(
                "has the word \"{long}\", longer than the {band} limit of {most} syllables; use a shorter word"
            )
        })
}

/// The words of `text`.
fn words_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| w.chars().any(|c| c.is_alphanumeric()))
}

/// Flesch–Kincaid grade of `text` (0 for text without words).
pub fn grade(text: &str) -> f64 {
    let mut words = 0usize;
    let mut syllables = 0usize;
    for word in words_of(text) {
        words += 1;
        syllables += syllable_count(word);
    }
    if words == 0 {
        return 0.0;
    }
    let sentences = text
        .split(['.', '?', '!'])
        .filter(|s| s.chars().any(|c| c.is_alphanumeric()))
        .count()
        .max(1);
    let words_f = words as f64;
    0.39 * (words_f / sentences as f64) + 11.8 * (syllables as f64 / words_f) - 15.59
}

/// A common heuristic: count groups of vowels, drop a silent final "e".
fn syllable_count(word: &str) -> usize {
    let w: Vec<char> = word
        .chars()
        .filter(|c| c.is_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if w.is_empty() {
        // A number read aloud: count it as one syllable.
        return 1;
    }
    if w.len() <= 3 {
        return 1;
    }
    let is_vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut count: usize = 0;
    let mut previous_vowel = false;
    for &c in &w {
        let v = is_vowel(c);
        if v && !previous_vowel {
            count += 1;
        }
        previous_vowel = v;
    }
    let n = w.len();
    // Silent final "e" ("make"), but not "-le" ("little") or "-ee" ("free").
    let silent_e = w[n - 1] == 'e' && !is_vowel(w[n - 2]);
    let consonant_le = w[n - 2] == 'l' && !is_vowel(w[n - 3]);
    if silent_e && !consonant_le {
        count = count.saturating_sub(1);
    }
    // "-es" and "-ed" are usually silent ("likes", "liked") unless after t/d/s.
    if n > 3
        && (w[n - 1] == 'd' || w[n - 1] == 's')
        && w[n - 2] == 'e'
        && !matches!(w[n - 3], 't' | 'd' | 's' | 'c' | 'g' | 'z' | 'x')
        && !is_vowel(w[n - 3])
    {
        count = count.saturating_sub(1);
    }
    count.max(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn syllables_follow_common_words() {
        for (word, n) in [
            ("safe", 1),
            ("school", 1),
            ("happy", 2),
            ("little", 2),
            ("liked", 1),
            ("wanted", 2),
            ("comfortable", 4),
            ("questionnaire", 3),
            ("free", 1),
        ] {
            assert_eq!(syllable_count(word), n, "syllables in {word}");
        }
    }

    #[test]
    fn simple_question_is_easy_and_jargon_is_hard() {
        assert!(grade("Do you feel safe at school?") < 3.0);
        let hard = "To what extent do you consider the organisational arrangements of extracurricular opportunities satisfactory?";
        assert!(grade(hard) > 12.0, "grade was {}", grade(hard));
    }

    #[test]
    fn a_label_is_held_to_its_longest_word() {
        assert_eq!(label_problem("Strongly disagree", Band::Secondary), None);
        assert_eq!(label_problem("Sometimes", Band::Primary), None);
        let long_word = label_problem("Especially", Band::Primary).unwrap();
        assert!(long_word.contains("\"Especially\""), "{long_word}");
        assert_eq!(label_problem("Especially", Band::Secondary), None);
        assert!(label_problem("Extracurricular", Band::Secondary).is_some());
    }

    #[test]
    fn empty_text_has_grade_zero() {
        assert_eq!(grade(""), 0.0);
        assert_eq!(grade("?!"), 0.0);
    }
}
