//! Questionnaire definitions.
