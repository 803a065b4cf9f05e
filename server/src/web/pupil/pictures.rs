//! Pictures for answer options, drawn by the server as inline SVG.
//!
//! Questionnaire files mark a picture with an emoji (see survey-defs'
//! FORMAT.md), but a device without an emoji font (Debian's headless
//! Chromium, some school laptops) shows an emoji as an empty box. So the
//! server draws the emoji it knows as pictures of its own
//! (`templates/partials/picture.html`), hidden from screen readers, beside
//! the option's text label, which stays its accessible name. An emoji it
//! does not know is left out: the label alone is always enough.

/// Each emoji the server can draw, and the name of its picture.
const PICTURES: [(&str, &str); 21] = [
    ("😀", "grin"),
    ("😃", "grin"),
    ("😄", "grin"),
    ("🙂", "smile"),
    ("😊", "smile"),
    ("😐", "neutral"),
    ("😕", "confused"),
    ("🙁", "frown"),
    ("☹", "frown"),
    ("😞", "frown"),
    ("🤔", "thinking"),
    ("🔵", "dot"),
    ("⚪", "circle"),
    ("👍", "thumbs-up"),
    ("👎", "thumbs-down"),
    ("🚶", "walk"),
    ("🚲", "bike"),
    ("🚗", "car"),
    ("🚌", "bus"),
    ("❓", "question"),
    ("❔", "question"),
];

/// The pictures for an option's `emoji`, one for each emoji in it, in
/// order; none at all if any part of it is not one the server can draw, so
/// an option never shows half a picture.
pub fn pictures(emoji: &str) -> Vec<&'static str> {
    // Variation selectors and joiners only ask for emoji presentation.
    let mut rest: String = emoji
        .chars()
        .filter(|c| !matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{200D}') && !c.is_whitespace())
        .collect();
    let mut found = Vec::new();
    while !rest.is_empty() {
        let Some((text, name)) = PICTURES.iter().find(|(text, _)| rest.starts_with(text)) else {
            return Vec::new();
        };
        found.push(*name);
        rest.drain(..text.len());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_emoji_become_pictures_in_order() {
        assert_eq!(pictures("😀"), vec!["grin"]);
        assert_eq!(pictures("🔵🔵⚪"), vec!["dot", "dot", "circle"]);
        assert_eq!(pictures("☹\u{FE0F}"), vec!["frown"]);
    }

    #[test]
    fn an_emoji_the_server_cannot_draw_leaves_the_label_alone() {
        assert!(pictures("🦄").is_empty());
        assert!(pictures("🔵🦄").is_empty());
        assert!(pictures("").is_empty());
    }

    #[test]
    fn every_emoji_of_the_built_in_questionnaire_is_drawn() {
        let text = include_str!("../../../../survey-defs/questionnaires/wellbeing.toml");
        let mut seen = 0;
        for line in text.lines() {
            let Some((_, after)) = line.split_once("emoji = \"") else {
                continue;
            };
            let emoji = after.split('"').next().unwrap_or_default();
            assert!(
                !pictures(emoji).is_empty(),
                "the built-in questionnaire uses {emoji:?}, which the server cannot draw"
            );
            seen += 1;
        }
        assert!(
            seen > 10,
            "expected the built-in questionnaire to use pictures"
        );
    }
}
