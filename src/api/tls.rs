//! HTTPS for the API and console: rustls (ring provider) with the certificate chain and
//! private key read from the PEM files named by `api.tls_cert` and `api.tls_key`.
//!
//! The files are read at start (a bad file is a config error naming the key and the file)
//! and again on SIGHUP ([`Certs::reload`]): new connections get the new certificate, open
//! ones keep theirs, and a bad new file is logged while the old certificate stays in use, so
//! a botched renewal never takes the console down.
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::config::ApiConfig;

/// Why the certificate or key could not be used; every message names the key and the file.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {}: {reason}", file.display())]
pub struct TlsError {
    /// The config key naming the file (`api.tls_cert` or `api.tls_key`).
    pub key: &'static str,
    /// The file.
    pub file: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// The two PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl TlsFiles {
    /// The files of `[api]`, or `None` for plain HTTP (both keys empty; validation refuses
    /// one without the other).
    pub fn from_config(c: &ApiConfig) -> Option<TlsFiles> {
        (!c.tls_cert.as_os_str().is_empty()).then(|| TlsFiles {
            cert: c.tls_cert.clone(),
            key: c.tls_key.clone(),
        })
    }

    /// Reads both files into a server configuration (HTTP/1.1 over TLS 1.2 or 1.3).
    ///
    /// # Errors
    ///
    /// A file cannot be read, holds no certificate or key, or the key does not fit.
    pub fn load(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let cert_err = |reason: String| TlsError {
            key: "api.tls_cert",
            file: self.cert.clone(),
            reason,
        };
        let key_err = |reason: String| TlsError {
            key: "api.tls_key",
            file: self.key.clone(),
            reason,
        };
        let chain = read_chain(&self.cert).map_err(cert_err)?;
        let bytes = std::fs::read(&self.key).map_err(|e| key_err(format!("cannot read: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(&bytes)
            .map_err(|e| key_err(format!("no PEM private key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| cert_err(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            // The usual cause: a key that belongs to another certificate.
            .map_err(|e| key_err(format!("does not fit the certificate: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate chain: {e}"))?;
    if chain.is_empty() {
        return Err("no CERTIFICATE block".to_owned());
    }
    Ok(chain)
}

/// The certificate in use, swapped on reload. Cheap to clone.
#[derive(Clone)]
pub struct Certs {
    files: TlsFiles,
    current: Arc<RwLock<TlsAcceptor>>,
}

impl Certs {
    /// Loads `files`.
    ///
    /// # Errors
    ///
    /// See [`TlsFiles::load`].
    pub fn load(files: TlsFiles) -> Result<Certs, TlsError> {
        let acceptor = TlsAcceptor::from(files.load()?);
        Ok(Certs {
            files,
            current: Arc::new(RwLock::new(acceptor)),
        })
    }

    /// The acceptor for a new connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads the files again; on error the old certificate stays and the error is returned.
    ///
    /// # Errors
    ///
    /// See [`TlsFiles::load`].
    pub fn reload(&self) -> Result<(), TlsError> {
        let acceptor = TlsAcceptor::from(self.files.load()?);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = acceptor;
        Ok(())
    }

    /// Reloads on every SIGHUP until `shutdown`, logging the outcome.
    ///
    /// # Errors
    ///
    /// The SIGHUP handler cannot be installed.
    pub fn reload_on_sighup(
        &self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = signal(SignalKind::hangup())?;
        let certs = self.clone();
        Ok(tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    got = hup.recv() => if got.is_none() { return },
                }
                match certs.reload() {
                    Ok(()) => {
                        tracing::info!(cert = %certs.files.cert.display(), "HTTPS certificate reloaded")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "HTTPS certificate not reloaded; the old one stays in use")
                    }
                }
            }
        }))
    }
}

/// Without HTTPS there is nothing to reload, but SIGHUP must still not end the process
/// (its default action): a service manager's `reload` would stop 112. Logged and ignored.
///
/// # Errors
///
/// The SIGHUP handler cannot be installed.
pub fn ignore_sighup(
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                got = hup.recv() => if got.is_none() { return },
            }
            tracing::info!("SIGHUP: no HTTPS certificate to reload");
        }
    }))
}

impl std::fmt::Debug for Certs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certs")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> TlsFiles {
        TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }

    #[test]
    fn errors_name_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        let e = f.load().unwrap_err().to_string();
        assert!(
            e.starts_with("api.tls_cert: ") && e.contains("cert.pem: cannot read"),
            "{e}"
        );
        std::fs::write(&f.cert, "not pem at all\n").unwrap();
        let e = f.load().unwrap_err().to_string();
        assert!(
            e.contains("api.tls_cert") && e.contains("no CERTIFICATE"),
            "{e}"
        );
    }
}
