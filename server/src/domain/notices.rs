//! What a partnership fills in for its public accessibility statement and
//! privacy notice. Every field may be empty: the pages then say plainly that
//! the partnership has not filled it in yet.

use chrono::NaiveDate;
use serde::Serialize;

/// How far the partnership's survey pages meet WCAG 2.2 AA, as its
/// accessibility statement must say (the GOV.UK sample's three wordings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compliance {
    Full,
    Partial,
    Not,
}

impl Compliance {
    pub const ALL: [Compliance; 3] = [Compliance::Full, Compliance::Partial, Compliance::Not];

    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Full => "full",
            Compliance::Partial => "partial",
            Compliance::Not => "not",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Compliance::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A text field of the notices: its form name, its label for staff and the
/// most characters it may hold.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct NoticeField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub max: usize,
}

/// The text fields, in the order the settings page shows them.
pub const TEXT_FIELDS: [NoticeField; 6] = [
    NoticeField {
        name: "controller_name",
        label: "Data controller",
        hint: "The organisation responsible for the survey's data, for example: City of Edinburgh Council.",
        max: 200,
    },
    NoticeField {
        name: "dpo_contact",
        label: "How to contact the data protection officer",
        hint: "An e-mail address, a postal address or a phone number.",
        max: 500,
    },
    NoticeField {
        name: "lawful_basis",
        label: "Lawful basis",
        hint: "The lawful basis for the survey under UK GDPR, as your data protection officer has decided it.",
        max: 1000,
    },
    NoticeField {
        name: "retention",
        label: "How long results are kept",
        hint: "For example: Answers are deleted five years after the survey closes.",
        max: 1000,
    },
    NoticeField {
        name: "accessibility_contact",
        label: "Contact for accessibility problems",
        hint: "Where pupils, parents and carers can report a problem or ask for another format.",
        max: 500,
    },
    NoticeField {
        name: "accessibility_issues",
        label: "Content that is not accessible",
        hint: "What your own checks found that does not meet WCAG 2.2 AA, and when it will be fixed.",
        max: 3000,
    },
];

/// A partnership's notices, as filled in (empty text: not filled in yet).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Notices {
    pub controller_name: String,
    pub dpo_contact: String,
    pub lawful_basis: String,
    pub retention: String,
    pub accessibility_contact: String,
    pub accessibility_issues: String,
    pub accessibility_status: Option<Compliance>,
    pub statement_prepared: Option<NaiveDate>,
}

impl Notices {
    /// The text field named `name`, as stored.
    pub fn text(&self, name: &str) -> &str {
        match name {
            "controller_name" => &self.controller_name,
            "dpo_contact" => &self.dpo_contact,
            "lawful_basis" => &self.lawful_basis,
            "retention" => &self.retention,
            "accessibility_contact" => &self.accessibility_contact,
            "accessibility_issues" => &self.accessibility_issues,
            _ => "",
        }
    }

    /// Sets the text field named `name`; false for a name that is not one.
    pub fn set_text(&mut self, name: &str, value: String) -> bool {
        let slot = match name {
            "controller_name" => &mut self.controller_name,
            "dpo_contact" => &mut self.dpo_contact,
            "lawful_basis" => &mut self.lawful_basis,
            "retention" => &mut self.retention,
            "accessibility_contact" => &mut self.accessibility_contact,
            "accessibility_issues" => &mut self.accessibility_issues,
            _ => return false,
        };
        *slot = value;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_field_reads_back_what_was_set() {
        let mut notices = Notices::default();
        for field in TEXT_FIELDS {
            assert!(notices.set_text(field.name, format!("{} value", field.name)));
        }
        for field in TEXT_FIELDS {
            assert_eq!(notices.text(field.name), format!("{} value", field.name));
        }
        assert!(!notices.set_text("unknown", String::new()));
    }

    #[test]
    fn every_compliance_reads_back_from_its_name() {
        for c in Compliance::ALL {
            assert_eq!(Compliance::parse(c.as_str()), Some(c));
        }
        assert_eq!(Compliance::parse(""), None);
    }
}
