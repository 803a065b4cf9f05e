//! Pictures for answer options, drawn by the server as inline SVG.
//!
//! Questionnaire files mark a picture with an emoji (see survey-defs'
//! FORMAT.md), but a device without an emoji font (Debian's headless
//! Chromium, some school laptops) shows an emoji as an empty box. So the
//! server draws the emoji it knows as pictures of its own ([`drawing`]),
//! hidden from screen readers, beside
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

/// Each picture's markup, as it is sent: drawn with presentation attributes
/// only, so the content security policy (no inline styles) leaves it
/// alone, and hidden from assistive technology, since the option's text
/// label is its name.
const DRAWINGS: [(&str, &str); 15] = [
    (
        "grin",
        r##"<svg class="picture picture-grin" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="21" fill="#ffd84d" stroke="currentColor" stroke-width="2.5"/><circle cx="17" cy="19" r="2.6" fill="currentColor"/><circle cx="31" cy="19" r="2.6" fill="currentColor"/><path d="M13 27 Q24 42 35 27 Z" fill="currentColor"/></svg>"##,
    ),
    (
        "smile",
        r##"<svg class="picture picture-smile" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="21" fill="#ffd84d" stroke="currentColor" stroke-width="2.5"/><circle cx="17" cy="19" r="2.6" fill="currentColor"/><circle cx="31" cy="19" r="2.6" fill="currentColor"/><path d="M15 29 Q24 37 33 29" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/></svg>"##,
    ),
    (
        "neutral",
        r##"<svg class="picture picture-neutral" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="21" fill="#ffd84d" stroke="currentColor" stroke-width="2.5"/><circle cx="17" cy="19" r="2.6" fill="currentColor"/><circle cx="31" cy="19" r="2.6" fill="currentColor"/><path d="M16 31 H32" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/></svg>"##,
    ),
    (
        "confused",
        r##"<svg class="picture picture-confused" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="21" fill="#ffd84d" stroke="currentColor" stroke-width="2.5"/><circle cx="17" cy="19" r="2.6" fill="currentColor"/><circle cx="31" cy="19" r="2.6" fill="currentColor"/><path d="M15 33 Q21 28 33 30" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/></svg>"##,
    ),
    (
        "frown",
        r##"<svg class="picture picture-frown" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="21" fill="#ffd84d" stroke="currentColor" stroke-width="2.5"/><circle cx="17" cy="19" r="2.6" fill="currentColor"/><circle cx="31" cy="19" r="2.6" fill="currentColor"/><path d="M15 34 Q24 26 33 34" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/></svg>"##,
    ),
    (
        "thinking",
        r##"<svg class="picture picture-thinking" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="21" fill="#ffd84d" stroke="currentColor" stroke-width="2.5"/><circle cx="17" cy="19" r="2.6" fill="currentColor"/><circle cx="31" cy="19" r="2.6" fill="currentColor"/><path d="M12 12 L21 14 M18 32 H30" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/></svg>"##,
    ),
    (
        "dot",
        r##"<svg class="picture picture-dot" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="15" fill="#1d70b8" stroke="currentColor" stroke-width="2.5"/></svg>"##,
    ),
    (
        "circle",
        r##"<svg class="picture picture-circle" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="15" fill="#ffffff" stroke="currentColor" stroke-width="2.5"/></svg>"##,
    ),
    (
        "walk",
        r##"<svg class="picture picture-walk" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="26" cy="8" r="4.5" fill="currentColor"/><path d="M24 15 L21 29 L15 43 M21 29 L30 43 M23 18 L14 25 M23 18 L32 23" fill="none" stroke="currentColor" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round"/></svg>"##,
    ),
    (
        "bike",
        r##"<svg class="picture picture-bike" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="11" cy="32" r="8" fill="none" stroke="currentColor" stroke-width="3"/><circle cx="37" cy="32" r="8" fill="none" stroke="currentColor" stroke-width="3"/><path d="M11 32 L19 18 H32 L37 32 M19 18 L24 32 L32 18 M16 13 H23 M32 18 L30 11 H35" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>"##,
    ),
    (
        "car",
        r##"<svg class="picture picture-car" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><path d="M4 33 V25 L11 14 H35 L44 25 V33 Z" fill="#d4351c" stroke="currentColor" stroke-width="2.5" stroke-linejoin="round"/><path d="M13 17 H33 L38 24 H9 Z" fill="#ffffff" stroke="currentColor" stroke-width="2"/><circle cx="13" cy="34" r="5" fill="currentColor"/><circle cx="35" cy="34" r="5" fill="currentColor"/></svg>"##,
    ),
    (
        "bus",
        r##"<svg class="picture picture-bus" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><rect x="6" y="6" width="36" height="31" rx="4" fill="#ffd84d" stroke="currentColor" stroke-width="2.5"/><rect x="10" y="11" width="28" height="11" fill="#ffffff" stroke="currentColor" stroke-width="2"/><circle cx="14" cy="39" r="4" fill="currentColor"/><circle cx="34" cy="39" r="4" fill="currentColor"/></svg>"##,
    ),
    (
        "question",
        r##"<svg class="picture picture-question" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><path d="M16 17 Q16 8 24 8 Q32 8 32 16 Q32 22 24 25 V31" fill="none" stroke="#d4351c" stroke-width="4" stroke-linecap="round"/><circle cx="24" cy="39" r="3" fill="#d4351c"/></svg>"##,
    ),
    (
        "thumbs-up",
        r##"<svg class="picture picture-thumbs-up" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><g><path d="M6 22 H14 V41 H6 Z M17 22 L24 7 Q30 7 29 14 L28 19 H39 Q43 19 42 24 L39 37 Q38 41 34 41 H17 Z" fill="#ffd84d" stroke="currentColor" stroke-width="2.5" stroke-linejoin="round"/></g></svg>"##,
    ),
    (
        "thumbs-down",
        r##"<svg class="picture picture-thumbs-down" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><g transform="rotate(180 24 24)"><path d="M6 22 H14 V41 H6 Z M17 22 L24 7 Q30 7 29 14 L28 19 H39 Q43 19 42 24 L39 37 Q38 41 34 41 H17 Z" fill="#ffd84d" stroke="currentColor" stroke-width="2.5" stroke-linejoin="round"/></g></svg>"##,
    ),
];

/// The read-aloud speaker, defined once per page (see `templates/pupil/page.html`)
/// and drawn on every read-aloud button by reference (`<use>`).
pub const SPEAKER_SYMBOL: &str = r##"<svg class="sprite" width="0" height="0" aria-hidden="true" focusable="false"><symbol id="picture-speaker" viewBox="0 0 48 48"><path d="M5 18 H13 L24 9 V39 L13 30 H5 Z" fill="currentColor"/><path d="M30 17 Q35 24 30 31 M35 11 Q44 24 35 37" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round"/></symbol></svg>"##;

/// The markup of the picture named `name` (one of [`pictures`]' names).
pub fn drawing(name: &str) -> &'static str {
    DRAWINGS
        .iter()
        .find(|(known, _)| *known == name)
        .map_or("", |(_, svg)| svg)
}

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
    fn every_picture_has_a_drawing() {
        for (_, name) in PICTURES {
            assert!(drawing(name).starts_with("<svg"), "{name} has no drawing");
        }
    }

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
