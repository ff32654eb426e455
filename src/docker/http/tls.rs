//! TLS to a `tcp://` engine: rustls (ring provider) over the runtime's own
//! `TcpStream`, through `futures-rustls`. Certificates are read the way the
//! docker CLI reads them (PEM `ca.pem`, `cert.pem`, `key.pem`).

use super::error::{TlsProblem, TransportProblem};
use super::transport::{OpenError, Stream, Transport};
use crate::net::TcpStream;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Certificate files and whether to verify the engine, resolved from the
/// builder, the environment or a context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// Verify the engine's certificate against `ca` (`--tlsverify`).
    pub(crate) verify: bool,
    pub(crate) ca: Option<PathBuf>,
    /// Client certificate and key (both or neither).
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
}

/// A ready client configuration for one engine.
#[derive(Clone)]
pub(crate) struct TlsSettings {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn must_exist(what: &'static str, path: &Path) -> Result<(), TlsProblem> {
    if path.is_file() {
        Ok(())
    } else {
        Err(TlsProblem::MissingFile {
            what,
            path: path.to_owned(),
        })
    }
}

fn bad(path: &Path, reason: impl fmt::Display) -> TlsProblem {
    TlsProblem::BadFile {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

fn read_certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsProblem> {
    must_exist(what, path)?;
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(path, e))?;
    if certs.is_empty() {
        return Err(bad(path, "no PEM certificate in it"));
    }
    Ok(certs)
}

impl TlsSettings {
    /// Reads the files and builds the configuration for the engine named
    /// `server` (a DNS name or an IP address). Every problem is found here,
    /// before anything connects.
    pub(crate) fn new(files: &TlsFiles, server: &str) -> Result<TlsSettings, TlsProblem> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsProblem::Handshake {
                detail: e.to_string(),
            })?;
        let builder = if files.verify {
            let Some(ca) = &files.ca else {
                return Err(TlsProblem::MissingFile {
                    what: "CA certificate",
                    path: PathBuf::from("ca.pem"),
                });
            };
            let mut roots = rustls::RootCertStore::empty();
            for cert in read_certs("CA certificate", ca)? {
                roots.add(cert).map_err(|e| bad(ca, e))?;
            }
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        };
        let config = match (&files.cert, &files.key) {
            (Some(cert), Some(key)) => {
                let chain = read_certs("client certificate", cert)?;
                must_exist("client key", key)?;
                let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, e))?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| bad(key, e))?
            }
            (Some(_), None) => {
                return Err(TlsProblem::MissingFile {
                    what: "client key",
                    path: PathBuf::from("key.pem"),
                })
            }
            (None, Some(_)) => {
                return Err(TlsProblem::MissingFile {
                    what: "client certificate",
                    path: PathBuf::from("cert.pem"),
                })
            }
            (None, None) => builder.with_no_client_auth(),
        };
        let name = ServerName::try_from(server.to_owned()).map_err(|e| TlsProblem::Handshake {
            detail: format!("{server:?} is not a valid server name: {e}"),
        })?;
        Ok(TlsSettings {
            config: Arc::new(config),
            name,
        })
    }

    /// Runs the handshake over a connected `tcp`.
    pub(crate) async fn handshake(&self, tcp: TcpStream) -> Result<Transport, OpenError> {
        let connector = futures_rustls::TlsConnector::from(self.config.clone());
        match connector.connect(self.name.clone(), tcp).await {
            Ok(s) => Ok(Box::new(Tls(s))),
            Err(e) => Err(match super::error::tls_problem(&e) {
                Some(p) => OpenError::Problem(TransportProblem::Tls(p)),
                None if e.kind() == io::ErrorKind::UnexpectedEof => {
                    OpenError::Problem(TransportProblem::Tls(TlsProblem::ClosedDuringHandshake))
                }
                None => OpenError::Io(e),
            }),
        }
    }
}

/// A TLS stream over the runtime's TCP stream.
struct Tls(futures_rustls::client::TlsStream<TcpStream>);

impl Stream for Tls {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        futures::io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, buf)
    }
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        futures::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures::io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }
    /// Sends `close_notify` (as far as the socket takes it without
    /// waiting), then shuts the TCP write side, as Go's `CloseWrite` does.
    fn shutdown_write(&mut self) -> io::Result<()> {
        let (tcp, conn) = self.0.get_mut();
        conn.send_close_notify();
        while conn.wants_write() {
            match conn.write_tls(&mut NoWait(tcp)) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        tcp.shutdown(std::net::Shutdown::Write)
    }
}

/// Writes to a TCP stream without waiting (`WouldBlock` when full).
struct NoWait<'a>(&'a TcpStream);

impl Write for NoWait<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `--tls` without `--tlsverify`: the channel is encrypted but the engine's
/// certificate is not checked (its signatures still are).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
