//! Bounds on what one request may cost: body sizes, and a cap on CPU-heavy requests (validating,
//! editing and previewing pipelines), which run on blocking threads so the async workers keep
//! answering everything else.

use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Largest request body on every route but deploy uploads (a 10,000-task pipeline.toml is ~1 MB).
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// How long a heavy request waits for a turn before the runner answers 503.
const QUEUE_WAIT: Duration = Duration::from_secs(30);

/// Admission for heavy requests: at most one per core at once, the others wait their turn.
pub struct HeavyWork {
    permits: Semaphore,
}

impl Default for HeavyWork {
    fn default() -> Self {
        HeavyWork::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }
}

impl HeavyWork {
    /// A cap of `at_once` concurrent heavy requests.
    pub fn new(at_once: usize) -> HeavyWork {
        HeavyWork { permits: Semaphore::new(at_once.max(1)) }
    }

    /// Runs `f` on a blocking thread once a turn is free; 503 when none frees up in time.
    pub async fn run<T: Send + 'static>(
        &self,
        what: &str,
        f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _turn = match tokio::time::timeout(QUEUE_WAIT, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => return Err(ApiError::Busy(format!("the runner is busy with other {what} requests; retry in a few seconds"))),
        };
        blocking(what, f).await
    }
}

/// Runs a light blocking call (a pipeline lookup, a folder scan) off the async workers.
pub async fn off_workers<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    blocking("request", f).await
}

async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("{what} crashed: {e}")))?
}
