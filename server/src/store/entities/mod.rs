//! sea-orm entities, one per table. Only the store uses them.

pub mod access_code;
pub mod audit_log;
pub mod cpp;
pub mod cpp_setting;
pub mod page_save;
pub mod questionnaire_version;
pub mod response;
pub mod response_held;
pub mod response_in_progress;
pub mod school;
pub mod sitting;
pub mod sitting_tally;
pub mod staff_user;
pub mod wave;
pub mod wave_window;
