//! How records reach the classifying loop: the reader thread ([`Reader`])
//! reads every input in turn into a [`Handoff`] of chunks, and the loop takes
//! them into batches ([`Batches`]), joining multi-line events on the way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use logsift_core::io::{Format, InputOptions, Joiner};
use logsift_core::Record;

use crate::input;

/// Records a chunk of the reader's [`Handoff`] holds at most.
pub(super) const CHUNK: usize = 256;

/// The reader thread's records on their way to the classifying loop (the
/// way back, written batches to be refilled or freed, is a channel of its
/// own that the reader thread holds).
///
/// On the 1M-line resample the kernel's wake-ups and context switches were
/// an eighth of the samples (`perf record`): the loop drained a
/// one-record-a-message channel faster than CSV is parsed and slept, so
/// nearly every record woke it; and the writer thread freed the rows the
/// reader had allocated, which in glibc's `malloc` takes the reader's arena
/// lock, so the two threads woke each other through that lock too. Records
/// now travel in chunks of up to [`CHUNK`], sent when full, when the input
/// is about to be read again ([`input::BeforeRead`]: a record never waits
/// for input that may not come, a quiet pipe or a followed file), after an
/// error, and at the end; and the writer sends each written batch back to
/// the reader, which reads the next CSV rows into their strings
/// ([`logsift_core::io::Records::reuse`]; other formats free them there).
/// The scheduler's samples fell from 13 % to 4 %, and with the reuse
/// `malloc` and `free`, a third of the reader's time, went too
/// (BENCHMARKS.md).
pub(super) struct Handoff {
    pub(super) pending: Mutex<Vec<Result<Record>>>,
    pub(super) tx: std::sync::mpsc::SyncSender<Vec<Result<Record>>>,
}

impl Handoff {
    /// Adds a record, sending the chunk when it is full; false when the
    /// classifying loop has gone.
    fn push(&self, item: Result<Record>) -> bool {
        let full = {
            let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            pending.push(item);
            pending.len() >= CHUNK
        };
        !full || self.flush()
    }

    /// Sends what is pending (blocking while the queue is full); false when
    /// the classifying loop has gone.
    pub(super) fn flush(&self) -> bool {
        let chunk = {
            let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if pending.is_empty() {
                return true;
            }
            std::mem::replace(&mut *pending, Vec::with_capacity(CHUNK))
        };
        self.tx.send(chunk).is_ok()
    }
}

/// Longest time a record waits in a partly filled batch.
const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// How long a held multi-line event waits for its next line on a quiet input
/// before it is taken as complete.
const EVENT_QUIET: Duration = Duration::from_millis(200);
/// How often an idle reader loop looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// The reader thread's job: every input in turn, into the [`Handoff`].
pub(super) struct Reader {
    pub(super) inputs: Vec<String>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) format: Option<Format>,
    pub(super) opts: InputOptions,
    pub(super) csv_headers: Option<Vec<String>>,
    pub(super) out_format: Format,
}

impl Reader {
    /// Starts reading: `first` is the first input, already open; the other
    /// inputs are opened in turn. `recycled`: the batches the writer has
    /// written, back to be reused or freed here.
    pub(super) fn spawn(
        self,
        first: input::Opened,
        handoff: Arc<Handoff>,
        before_read: input::BeforeRead,
        recycled: std::sync::mpsc::Receiver<Vec<Record>>,
    ) -> std::thread::JoinHandle<()> {
        let mut opened = Some(first);
        std::thread::spawn(move || {
            for path in &self.inputs {
                let inp = match opened.take() {
                    Some(o) => o,
                    None => match self.open(path, &before_read) {
                        Ok(o) => o,
                        Err(e) => {
                            handoff.push(Err(e));
                            handoff.flush();
                            return;
                        }
                    },
                };
                let mut records = inp.records;
                let mut read = 0usize;
                while let Some(r) = records.next() {
                    // A bad row names its input itself (`BadRow::file`).
                    let item = r.map_err(anyhow::Error::from);
                    let failed = item.is_err();
                    if !handoff.push(item) || failed || self.stop.load(Ordering::Relaxed) {
                        handoff.flush();
                        return;
                    }
                    read += 1;
                    if read.is_multiple_of(CHUNK) {
                        recycled.try_iter().for_each(|batch| records.reuse(batch));
                    }
                }
            }
            handoff.flush();
        })
    }

    /// A later input, refused when it is CSV with other columns than the first.
    fn open(&self, path: &str, before_read: &input::BeforeRead) -> Result<input::Opened> {
        let o = input::open_hooked(path, self.format, &self.opts, Some(before_read.clone()))?;
        if o.headers != self.csv_headers && self.out_format == Format::Csv && self.csv_headers.is_some() {
            bail!(
                "{}: its columns {:?} differ from those of {} ({:?}); classify CSV files with different columns separately",
                o.name,
                o.headers.unwrap_or_default(),
                self.inputs[0],
                self.csv_headers.clone().unwrap_or_default()
            );
        }
        Ok(o)
    }
}

/// How filling a batch ended.
pub(super) enum Fill {
    /// The batch is full, or its time is up: more may follow.
    More,
    /// The input ended, or the run was stopped.
    End,
    /// Reading failed: the batch holds what was read before.
    Failed(anyhow::Error),
}

/// The classifying loop's side of the [`Handoff`]: records into batches.
pub(super) struct Batches {
    rx: std::sync::mpsc::Receiver<Vec<Result<Record>>>,
    /// The records of the last chunk received not yet taken into a batch.
    waiting: std::vec::IntoIter<Result<Record>>,
    /// Whether the loop has found no record waiting since the last one arrived.
    idle: bool,
    last_line: Instant,
    joiner: Option<Joiner>,
    size: usize,
    stop: Arc<AtomicBool>,
}

impl Batches {
    pub(super) fn new(
        rx: std::sync::mpsc::Receiver<Vec<Result<Record>>>,
        joiner: Option<Joiner>,
        size: usize,
        stop: Arc<AtomicBool>,
    ) -> Self {
        Batches { rx, waiting: Vec::new().into_iter(), idle: false, last_line: Instant::now(), joiner, size, stop }
    }

    /// The next batch: full, `FLUSH_EVERY` after its first record, or cut by
    /// the input's end, a stop or a read error.
    pub(super) fn fill(&mut self) -> (Vec<Record>, Fill) {
        let mut batch: Vec<Record> = Vec::with_capacity(self.size.min(1 << 16));
        let mut deadline: Option<Instant> = None;
        loop {
            // Records waiting are taken without a clock reading; only when
            // none waits does the loop read the clock and block. The quiet
            // that releases a held event then starts (the last line arrived
            // no later than now).
            let next = match self.waiting.next() {
                Some(item) => Ok(item),
                None => {
                    let chunk = match self.rx.try_recv() {
                        Ok(chunk) => Ok(chunk),
                        Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
                        Err(TryRecvError::Empty) => {
                            let now = Instant::now();
                            if !self.idle {
                                self.last_line = now;
                                self.idle = true;
                            }
                            self.rx.recv_timeout(deadline.map_or(POLL, |d| d.saturating_duration_since(now)))
                        }
                    };
                    // (Chunks are never empty; one would count as a quiet poll.)
                    chunk.and_then(|c| {
                        self.waiting = c.into_iter();
                        self.waiting.next().ok_or(RecvTimeoutError::Timeout)
                    })
                }
            };
            self.idle &= next.is_err();
            match next {
                Ok(Ok(r)) => {
                    match self.joiner.as_mut() {
                        Some(j) => j.push(r, &mut batch),
                        None => batch.push(r),
                    }
                    if !batch.is_empty() {
                        deadline.get_or_insert_with(|| Instant::now() + FLUSH_EVERY);
                    }
                    if batch.len() >= self.size {
                        return (batch, Fill::More);
                    }
                }
                Ok(Err(e)) => {
                    batch.extend(self.joiner.as_mut().and_then(Joiner::finish));
                    return (batch, Fill::Failed(e));
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(j) = self.joiner.as_mut().filter(|j| j.holding() && self.last_line.elapsed() >= EVENT_QUIET) {
                        batch.extend(j.finish());
                        deadline.get_or_insert_with(Instant::now);
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return (batch, Fill::More);
                    }
                    if deadline.is_none() && self.stop.load(Ordering::Relaxed) {
                        // Stopped, and nothing read is waiting: the reader may be blocked on input.
                        batch.extend(self.joiner.as_mut().and_then(Joiner::finish));
                        return (batch, Fill::End);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    batch.extend(self.joiner.as_mut().and_then(Joiner::finish));
                    return (batch, Fill::End);
                }
            }
        }
    }
}
