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

use crate::ids::Band;

/// The highest Flesch–Kincaid grade allowed for a question's text in `band`.
pub fn max_grade(band: Band) -> f64 {
    match band {
        Band::Primary => 5.0,
        Band::Secondary => 8.0,
    }
}

/// Flesch–Kincaid grade of `text` (0 for text without words).
pub fn grade(text: &str) -> f64 {
    let mut words = 0usize;
    let mut syllables = 0usize;
    for word in text
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| w.chars().any(|c| c.is_alphanumeric()))
    {
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
    fn empty_text_has_grade_zero() {
        assert_eq!(grade(""), 0.0);
        assert_eq!(grade("?!"), 0.0);
    }
}
