//! Decoding's one-row products over several cores, handed off without rayon.
//!
//! Decoding one sequence streams every weight once per token (config B: 43 MB), and one
//! core streams about 27 GB/s here where two stream about 47. Splitting each product into
//! bands of rows pays only if the hand-off is cheap: a product takes 20–100 µs, and rayon's
//! sleeping workers took longer than that to wake (590 against 690 tokens/s). So the bands
//! go to helper threads of our own that spin for a while after each job, the way decoding
//! calls them two dozen times per token, and park when decoding stops.
//!
//! The weights travel as a clone of their tensor (a reference count, not a copy), so no
//! borrowed buffer crosses a thread. One product at a time uses the helpers; a second
//! thread decoding at the same moment computes its products alone.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use burn_flex::FlexTensor;

/// How long a helper spins for the next job before it parks: longer than the gap between
/// two products of one token (layer norms, attention), far shorter than a human notices.
const SPIN: Duration = Duration::from_micros(200);

/// Products smaller than this (weights, in elements) stay on the calling thread: the
/// hand-off costs more than the second core saves on weights that sit in the cache (at
/// 64 Ki, the shipped model's 128 × 512 products cost it a millisecond per request).
const MIN_SPLIT: usize = 256 * 1024;

/// At most this many bands (the caller's and the helpers').
const MAX_BANDS: usize = 8;

/// `x · w` for `x` of `k` elements and `w` `[k, n]`, contiguous f32, into `n` sums.
pub(super) fn product(x: &[f32], w: &FlexTensor, n: usize) -> Vec<f32> {
    let rows = super::flex::rows_product;
    let mut y = vec![0.0f32; n];
    let weights = super::flex::values_of(w);
    let pool = (weights.len() >= MIN_SPLIT).then(Pool::get).flatten();
    let Some(mut helpers) = pool.and_then(|pool| pool.helpers.try_lock().ok()) else {
        rows(x, weights, &mut y);
        return y;
    };
    let bands = band_starts(x.len(), helpers.len() + 1);
    for (helper, band) in helpers.iter_mut().zip(bands.windows(2).skip(1)) {
        helper.post(Job {
            x: x[band[0]..band[1]].to_vec(),
            weights: w.clone(),
            first: band[0] * n,
            n,
        });
    }
    rows(&x[..bands[1]], &weights[..bands[1] * n], &mut y);
    for helper in helpers.iter_mut() {
        for (y, part) in y.iter_mut().zip(helper.wait()) {
            *y += part;
        }
    }
    y
}

/// Where each of `bands` bands of `k` rows starts, and `k` at the end.
fn band_starts(k: usize, bands: usize) -> Vec<usize> {
    (0..=bands).map(|i| i * k / bands).collect()
}

/// One band of a product for a helper: its rows of `x` and where they start in the weights.
struct Job {
    x: Vec<f32>,
    weights: FlexTensor,
    first: usize,
    n: usize,
}

/// The helper threads, made on the first product that can use them.
struct Pool {
    helpers: Mutex<Vec<Helper>>,
}

impl Pool {
    /// The process's pool: one helper per rayon thread beyond the caller's, none on one core.
    fn get() -> Option<&'static Pool> {
        static POOL: OnceLock<Option<Pool>> = OnceLock::new();
        POOL.get_or_init(|| {
            let bands = rayon::current_num_threads().clamp(1, MAX_BANDS);
            let helpers: Vec<Helper> = (1..bands).filter_map(|_| Helper::spawn()).collect();
            (!helpers.is_empty()).then(|| Pool {
                helpers: Mutex::new(helpers),
            })
        })
        .as_ref()
    }
}

/// The caller's end of one helper thread.
struct Helper {
    shared: Arc<Shared>,
    thread: Thread,
    /// The last job posted, which `wait` waits for.
    posted: u64,
}

/// What the caller and a helper share: a numbered job slot, the number of the last job
/// finished with its result, and whether the helper is parked.
struct Shared {
    job: Mutex<Option<Job>>,
    result: Mutex<Vec<f32>>,
    posted: AtomicU64,
    finished: AtomicU64,
    parked: AtomicBool,
}

impl Helper {
    /// A new helper thread, or none where the system refuses one (the caller then works
    /// alone).
    fn spawn() -> Option<Helper> {
        let shared = Arc::new(Shared {
            job: Mutex::new(None),
            result: Mutex::new(Vec::new()),
            posted: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            parked: AtomicBool::new(false),
        });
        let theirs = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("miracle-rows".into())
            .spawn(move || serve(&theirs))
            .ok()?;
        Some(Helper {
            shared,
            thread: handle.thread().clone(),
            posted: 0,
        })
    }

    fn post(&mut self, job: Job) {
        *lock(&self.shared.job) = Some(job);
        self.posted += 1;
        self.shared.posted.store(self.posted, Ordering::SeqCst);
        if self.shared.parked.load(Ordering::SeqCst) {
            self.thread.unpark();
        }
    }

    /// The band's sums, once the helper has finished the job last posted.
    fn wait(&mut self) -> Vec<f32> {
        while self.shared.finished.load(Ordering::Acquire) != self.posted {
            spin_a_while();
        }
        std::mem::take(&mut *lock(&self.shared.result))
    }
}

/// A helper's life: wait for the next job, compute its band, publish the sums.
fn serve(shared: &Shared) {
    let mut seen = 0;
    loop {
        seen = next_job(shared, seen);
        let Some(job) = lock(&shared.job).take() else {
            continue;
        };
        let mut y = vec![0.0f32; job.n];
        let weights = super::flex::values_of(&job.weights);
        let band = &weights[job.first..job.first + job.x.len() * job.n];
        super::flex::rows_product(&job.x, band, &mut y);
        // The weights' reference goes before the caller hears the job is done, so that
        // the caller's tensors are unshared again when it goes on.
        drop(job);
        *lock(&shared.result) = y;
        shared.finished.store(seen, Ordering::Release);
    }
}

/// Spins, then parks, until a job after `seen` is posted; its number.
fn next_job(shared: &Shared, seen: u64) -> u64 {
    let mut since = Instant::now();
    loop {
        let posted = shared.posted.load(Ordering::Acquire);
        if posted != seen {
            return posted;
        }
        spin_a_while();
        if since.elapsed() < SPIN {
            continue;
        }
        // Parked is raised before the last look, so a job posted after that look finds
        // it raised and unparks us (an unpark before the park makes the park return).
        shared.parked.store(true, Ordering::SeqCst);
        if shared.posted.load(Ordering::SeqCst) == seen {
            std::thread::park();
        }
        shared.parked.store(false, Ordering::SeqCst);
        since = Instant::now();
    }
}

/// A short spin, then the core to any other thread that wants it: where more threads
/// are busy than there are cores (a service decoding several requests), a spinning thread
/// must not hold up the one it waits for.
fn spin_a_while() {
    for _ in 0..64 {
        std::hint::spin_loop();
    }
    std::thread::yield_now();
}

/// A lock that a panic elsewhere does not poison for good: the data is plain numbers.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::band_starts;

    #[test]
    fn bands_cover_every_row_once() {
        assert_eq!(band_starts(384, 2), vec![0, 192, 384]);
        assert_eq!(band_starts(5, 3), vec![0, 1, 3, 5]);
        assert_eq!(band_starts(1, 2), vec![0, 0, 1]);
    }
}
