//! Domain types that can only be built by parsing.

pub mod code;
pub mod code_state;
pub mod ending;
pub mod notices;
pub mod role;
pub mod signpost;

pub use code::{AccessCode, CodeError};
pub use code_state::CodeState;
pub use ending::Ending;
pub use notices::{Compliance, Notices};
pub use role::Role;
pub use signpost::Signpost;
