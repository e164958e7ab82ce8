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

use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::accounts::hash_password;
use crate::store::{Account, StoreError};

/// The most Argon2 memory one check may use (64 MiB): a stored hash asking for more is
/// treated as not matching rather than allowed to exhaust memory.
const MAX_BLOCKS: usize = 64 * 1024;

/// Reads the account to check (on the worker thread, so that logins waiting for a worker
/// hold no blocking thread of their own either).
pub(crate) type Lookup = Box<dyn FnOnce() -> Result<Option<Account>, StoreError> + Send>;

struct Job {
    password: String,
    lookup: Lookup,
    reply: oneshot::Sender<Result<Option<Account>, StoreError>>,
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

    /// The account `lookup` finds if `password` matches its hash; `Ok(None)` otherwise,
    /// after the same work for an unknown account (no timing hint). Waits for a worker.
    ///
    /// # Errors
    ///
    /// [`Busy`] when the queue is full (or the workers are gone); the inner error is the
    /// lookup's.
    pub(crate) async fn check(
        &self,
        password: String,
        lookup: Lookup,
    ) -> Result<Result<Option<Account>, StoreError>, Busy> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            password,
            lookup,
            reply,
        };
        match self.queue.try_send(job) {
            Ok(()) => answer.await.map_err(|_| Busy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Busy),
        }
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    // This worker's Argon2 memory, allocated once and reused by every check: the process
    // then holds `workers × m_cost` KiB for Argon2 for good, whatever the allocator does
    // with freed blocks (a fresh 19 MiB Vec per check grew the process by ~19 MiB per
    // check until the allocator's caches were full: 270 MB after 256 logins).
    let mut memory: Vec<Block> = Vec::new();
    loop {
        // The lock is held only while waiting for the next job, not while hashing.
        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { return };
        let answer = (job.lookup)().map(|account| match account {
            Some(a) => verify_in(&job.password, &a.password_hash, &mut memory).then_some(a),
            None => {
                // Unknown name: the same Argon2 work, so timing does not tell.
                verify_in(&job.password, dummy_hash(), &mut memory);
                None
            }
        });
        // The login may have been abandoned (client gone); nothing to do then.
        let _ = job.reply.send(answer);
    }
}

/// Whether `password` matches the PHC string `phc`, computing Argon2 in `memory` (grown
/// to the hash's `m_cost` on first use). What `argon2`'s `verify_password` does, without
/// its per-call allocation; a malformed hash never matches.
fn verify_in(password: &str, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        tracing::warn!(
            blocks,
            "stored password hash needs more Argon2 memory than allowed"
        );
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    if argon
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            &mut memory[..blocks],
        )
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| &computed == expected)
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
    use crate::api::accounts::new_account;
    use crate::store::Role;

    fn found(a: &Account) -> Lookup {
        let a = a.clone();
        Box::new(move || Ok(Some(a)))
    }

    #[test]
    fn reused_memory_verifies_like_argon2() {
        let mut memory = Vec::new();
        let hash = hash_password("s3cret-pass").unwrap();
        assert!(verify_in("s3cret-pass", &hash, &mut memory));
        assert!(!verify_in("s3cret-pasS", &hash, &mut memory));
        assert!(
            verify_in("s3cret-pass", &hash, &mut memory),
            "memory reused"
        );
        assert_eq!(memory.len(), Params::DEFAULT_M_COST as usize);
        assert!(crate::api::accounts::verify_password("s3cret-pass", &hash));
        // Other parameters and algorithms of a stored hash are honoured.
        let p = Params::new(1024, 1, 1, None).unwrap();
        let salt = b"saltsaltsalt";
        let custom = {
            use argon2::password_hash::CustomizedPasswordHasher;
            Argon2::default()
                .hash_password_customized(b"pw-custom", salt, Some("argon2i"), None, p)
                .unwrap()
                .to_string()
        };
        assert!(verify_in("pw-custom", &custom, &mut memory));
        assert!(!verify_in("pw-custoM", &custom, &mut memory));
        for bad in ["", "$argon2id$v=19$m=19456,t=2,p=1$", "plain"] {
            assert!(!verify_in("x", bad, &mut memory), "{bad}");
        }
        let huge = hash.replace("m=19456", "m=4194304");
        assert!(!verify_in("s3cret-pass", &huge, &mut memory));
    }

    #[tokio::test]
    async fn checks_queue_and_answer() {
        let v = Verifier::new(1, 4);
        let a = new_account("x", Role::Admin, None, "right-password").unwrap();
        let ok = v.check("right-password".into(), found(&a)).await.unwrap();
        assert_eq!(ok.unwrap().as_ref(), Some(&a));
        let wrong = v.check("wrong".into(), found(&a)).await.unwrap();
        assert_eq!(wrong.unwrap(), None);
        let none: Lookup = Box::new(|| Ok(None));
        let unknown = v.check("right-password".into(), none).await.unwrap();
        assert_eq!(unknown.unwrap(), None);
        let broken: Lookup = Box::new(|| Err(StoreError::Backend("down".into())));
        assert!(v.check("x".into(), broken).await.unwrap().is_err());
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let v = Arc::new(Verifier::new(1, 1));
        let a = new_account("x", Role::Admin, None, "pw-0123456").unwrap();
        let mut pending = Vec::new();
        for _ in 0..6 {
            let v = Arc::clone(&v);
            let lookup = found(&a);
            pending.push(tokio::spawn(async move {
                v.check("x".into(), lookup).await.is_err()
            }));
        }
        let mut busy = 0;
        for p in pending {
            if p.await.unwrap() {
                busy += 1;
            }
        }
        // One running, one queued: the other four are refused rather than queued.
        assert!(busy >= 3, "{busy} refused");
    }
}
