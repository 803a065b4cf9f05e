//! The survey server.
