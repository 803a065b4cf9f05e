//! Running the exporter's heavy computation off the async runtime.
//!
//! Counting a national data set and suppressing thousands of tables take
//! seconds of CPU on every core. Done inside an `async fn`, that would stall
//! every other task of the runtime's thread meanwhile; in the server, that
//! is pupils' pages. [`run`] does the work on threads of its own and awaits
//! the result, passing progress reports back to the caller's task.

use tokio::sync::{mpsc, oneshot};

/// Why offloaded work produced no result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OffloadError {
    #[error("cannot start a thread for the export: {0}")]
    Spawn(String),
    #[error("the export's worker thread stopped unexpectedly")]
    Stopped,
}

/// Runs `work` on a new thread. Reports it makes through the function it is
/// given reach `progress` on the caller's task, in order, before the result
/// is returned.
pub async fn run<T, M>(
    work: impl FnOnce(&(dyn Fn(M) + Sync)) -> T + Send + 'static,
    progress: &(dyn Fn(M) + Sync),
) -> Result<T, OffloadError>
where
    T: Send + 'static,
    M: Send + 'static,
{
    let (reports, mut received) = mpsc::unbounded_channel::<M>();
    let (done, result) = oneshot::channel();
    std::thread::Builder::new()
        .name("export".into())
        .spawn(move || {
            let report = move |m: M| {
                let _ = reports.send(m);
            };
            let _ = done.send(work(&report));
        })
        .map_err(|e| OffloadError::Spawn(e.to_string()))?;
    // The sender lives in the thread's closure: the channel closes when the
    // work is done (or the thread has died), and not before.
    while let Some(m) = received.recv().await {
        progress(m);
    }
    result.await.map_err(|_| OffloadError::Stopped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test(flavor = "current_thread")]
    async fn the_runtime_keeps_running_while_the_work_does() {
        let seen = Mutex::new(Vec::new());
        let (tick, mut ticked) = mpsc::unbounded_channel::<()>();
        // A task on the same single-threaded runtime must get to run while
        // the offloaded work waits for it.
        let ticker = tokio::spawn(async move {
            tokio::task::yield_now().await;
            let _ = tick.send(());
        });
        let (seen_tick, got) = std::sync::mpsc::channel::<()>();
        let forward = tokio::spawn(async move {
            if ticked.recv().await.is_some() {
                let _ = seen_tick.send(());
            }
        });
        let result = run(
            move |report| {
                report(1);
                // Blocks this thread (not the runtime) until the ticker ran.
                let ok = got.recv_timeout(std::time::Duration::from_secs(10)).is_ok();
                report(2);
                ok
            },
            &|m: u32| seen.lock().unwrap().push(m),
        )
        .await
        .unwrap();
        assert!(result, "the runtime was blocked while the work ran");
        assert_eq!(*seen.lock().unwrap(), vec![1, 2]);
        ticker.await.unwrap();
        forward.await.unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_in_the_work_is_an_error_not_a_hang() {
        let result = run(|_: &(dyn Fn(()) + Sync)| -> u32 { panic!("boom") }, &|_| {}).await;
        assert!(matches!(result, Err(OffloadError::Stopped)));
    }
}
