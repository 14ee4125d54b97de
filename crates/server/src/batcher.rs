//! Micro-batching: every request's records go through one queue to one
//! thread that owns the pipeline.
//!
//! While the pipeline works on a batch, new requests queue up; the next batch
//! takes everything queued (up to `max_lines`), so sixteen one-line requests
//! arriving together cost one pass of the cascade — one encoder batch for
//! their new templates, one LLM request for what is left — not sixteen.
//! There is no timer to wait on: an idle server answers at once, a busy one
//! batches by itself.
//!
//! The pipeline lives on this plain thread, not on the async runtime: its
//! work is CPU-bound (and the LLM tier's HTTP client is a blocking one), so
//! it never stalls the threads that serve connections.

use std::sync::{Arc, Mutex};

use logsift_core::pipeline::Stats;
use logsift_core::{Decision, Pipeline, Record};
use tokio::sync::{mpsc, oneshot};

/// Records and their decisions, in order.
pub type Classified = (Vec<Record>, Vec<Decision>);

struct Job {
    records: Vec<Record>,
    reply: oneshot::Sender<Classified>,
}

/// The queue in front of the pipeline thread.
#[derive(Clone)]
pub struct Batcher {
    tx: mpsc::Sender<Job>,
    max_lines: usize,
    stats: Arc<Mutex<Stats>>,
    batches: Arc<std::sync::atomic::AtomicU64>,
}

/// Why the records could not be classified.
#[derive(Debug)]
pub struct Stopped;

impl Batcher {
    /// Starts the pipeline thread; batches hold at most `max_lines` records
    /// (a larger request is cut into several jobs, answered in order).
    /// Each batch is counted into `live` (pattern counts over time).
    pub fn start(pipeline: Pipeline, max_lines: usize, live: logsift_core::trends::Live) -> Batcher {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        let stats = Arc::new(Mutex::new(pipeline.stats()));
        let batches = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (shared, counter) = (stats.clone(), batches.clone());
        let max = max_lines.max(1);
        std::thread::Builder::new()
            .name("logsift-pipeline".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut jobs = vec![first];
                    let mut lines = jobs[0].records.len();
                    while lines < max {
                        match rx.try_recv() {
                            Ok(job) => {
                                lines += job.records.len();
                                jobs.push(job);
                            }
                            Err(_) => break,
                        }
                    }
                    let mut all = Vec::with_capacity(lines);
                    let mut sizes = Vec::with_capacity(jobs.len());
                    let mut replies = Vec::with_capacity(jobs.len());
                    for job in jobs {
                        sizes.push(job.records.len());
                        all.extend(job.records);
                        replies.push(job.reply);
                    }
                    // A bug in a tier must cost its batch, not the service.
                    let decided = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pipeline.classify_keyed(&all)));
                    let (decided, keys) = decided.unwrap_or_else(|_| {
                        tracing::error!("the pipeline panicked on a batch of {} records", all.len());
                        (
                            all.iter().map(|_| Decision::unclassified("internal error: the pipeline failed on this batch")).collect(),
                            Default::default(),
                        )
                    });
                    live.observe(&all, &decided, &keys);
                    let mut decisions = decided.into_iter();
                    let mut records = all.into_iter();
                    for (n, reply) in sizes.into_iter().zip(replies) {
                        let r: Vec<Record> = records.by_ref().take(n).collect();
                        let d: Vec<Decision> = decisions.by_ref().take(n).collect();
                        // A client that went away no longer wants its answer.
                        let _ = reply.send((r, d));
                    }
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if let Ok(mut s) = shared.lock() {
                        *s = pipeline.stats();
                    }
                }
                // The pipeline (and the LLM tier's blocking client) is dropped
                // here, on its own thread.
            })
            .expect("the pipeline thread starts");
        Batcher { tx, max_lines: max, stats, batches }
    }

    /// Classifies `records`, in order, together with whatever else is queued.
    pub async fn classify(&self, mut records: Vec<Record>) -> Result<Classified, Stopped> {
        let mut pending = vec![];
        while !records.is_empty() {
            let rest = if records.len() > self.max_lines { records.split_off(self.max_lines) } else { vec![] };
            let (reply, rx) = oneshot::channel();
            self.tx.send(Job { records, reply }).await.map_err(|_| Stopped)?;
            pending.push(rx);
            records = rest;
        }
        let mut out_r = vec![];
        let mut out_d = vec![];
        for rx in pending {
            let (r, d) = rx.await.map_err(|_| Stopped)?;
            out_r.extend(r);
            out_d.extend(d);
        }
        Ok((out_r, out_d))
    }

    /// The pipeline's counters after the last batch.
    pub fn stats(&self) -> Stats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Batches run so far.
    pub fn batches(&self) -> u64 {
        self.batches.load(std::sync::atomic::Ordering::Relaxed)
    }
}
