//! Signposting: where a pupil can turn for help, shown after the survey.

use serde::{Deserialize, Serialize};

/// One place a pupil can turn to for help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signpost {
    pub name: String,
    pub detail: String,
}
