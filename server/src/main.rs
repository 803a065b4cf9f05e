//! `server`: runs the survey server, or one of its administration commands.

use std::process::ExitCode;

/// mimalloc rather than the C library's allocator: every request allocates
/// and frees many small buffers across two worker threads, where glibc's
/// allocator took about a seventh of the server's CPU in the load benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    server::cli::main()
}
