//! Argon2 checks on a fixed pool of worker threads fed by a bounded queue.
//!
//! Each Argon2id check with the default parameters holds 19 MiB while it runs, and the
//! allocator keeps a thread's arena afterwards: running them on tokio's blocking pool (up
//! to 512 threads) let 128 concurrent logins grow the process to 3.28 GB. Here at most
//! `workers` checks run at once on `workers` long-lived threads, so memory is bounded by
//! `workers × 19 MiB` whatever arrives; further logins wait in the queue (FIFO), and when
//! the queue is full a login is refused at once (503) instead of piling up.
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::oneshot;

use super::accounts::{hash_password, verify_password};

struct Job {
    password: String,
    /// `None`: an unknown account, checked against a dummy hash so that the answer takes
    /// as long as for a real one.
    hash: Option<String>,
    reply: oneshot::Sender<bool>,
}

/// The login queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Busy;

/// Handle on the worker pool; the threads end when the last handle is dropped.
#[derive(Debug)]
pub(crate) struct Verifier {
    queue: SyncSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Verifier {
    /// `workers` threads, `queue` jobs waiting at most.
    pub(crate) fn new(workers: usize, queue: usize) -> Verifier {
        let (tx, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..workers.max(1) {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("siaga-argon2-{n}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start an Argon2 worker");
            }
        }
        Verifier { queue: tx }
    }

    /// Whether `password` matches `hash` (`None`: no such account, always false after the
    /// same work). Waits for a worker.
    ///
    /// # Errors
    ///
    /// [`Busy`] when the queue is full (or the workers are gone).
    pub(crate) async fn verify(
        &self,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, Busy> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            password,
            hash,
            reply,
        };
        match self.queue.try_send(job) {
            Ok(()) => answer.await.map_err(|_| Busy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Busy),
        }
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, not while hashing.
        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { return };
        let ok = match &job.hash {
            Some(hash) => verify_password(&job.password, hash),
            None => {
                verify_password(&job.password, dummy_hash());
                false
            }
        };
        // The login may have been abandoned (client gone); nothing to do then.
        let _ = job.reply.send(ok);
    }
}

/// A real Argon2id hash with the default parameters, made once, for unknown names.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random: [u8; 16] = rand::random();
        let text: String = random.iter().map(|b| format!("{b:02x}")).collect();
        hash_password(&text).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checks_queue_and_answer() {
        let v = Verifier::new(1, 4);
        let hash = hash_password("right-password").unwrap();
        assert_eq!(
            v.verify("right-password".into(), Some(hash.clone())).await,
            Ok(true)
        );
        assert_eq!(v.verify("wrong".into(), Some(hash)).await, Ok(false));
        assert_eq!(v.verify("right-password".into(), None).await, Ok(false));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let v = Arc::new(Verifier::new(1, 1));
        let hash = hash_password("pw-0123456").unwrap();
        let mut pending = Vec::new();
        for _ in 0..6 {
            let v = Arc::clone(&v);
            let h = hash.clone();
            pending.push(tokio::spawn(
                async move { v.verify("x".into(), Some(h)).await },
            ));
        }
        let mut busy = 0;
        for p in pending {
            if p.await.unwrap() == Err(Busy) {
                busy += 1;
            }
        }
        // One running, one queued: the other four are refused rather than queued.
        assert!(busy >= 3, "{busy} refused");
    }
}
