//! An application that uses rustls with one crypto provider and hyperws
//! (shared by the `aws-lc-rs` and `ring` crates beside this file, which
//! differ only in the provider their Cargo.toml turns on and in hyperws's
//! features). It must not panic, and hyperws's client must use the
//! provider the app installed, or else the one its feature names.

use std::sync::Arc;

use hyperws::{ClientBuilder, ConnectError, Message};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(app_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.clone_key())
        .unwrap();
    let url = format!("wss://localhost:{}/", serve(server).await);

    // Before the app installs a process provider: hyperws's `rustls-ring`
    // feature supplies one; with default features it says how to get one.
    let before = hyperws::connect(&url).await.map(|_| ());
    if cfg!(feature = "provider-ring") {
        expect_untrusted_certificate(before, "the rustls-ring feature's provider");
    } else {
        let Err(ConnectError::Tls(e)) = before else { panic!("{before:?}") };
        assert!(e.to_string().contains("rustls-ring"), "{e}");
        println!("tls-provider app: without a provider, the error names the fix");
    }

    // The call that panicked ("Could not automatically determine the
    // process-level CryptoProvider") when hyperws turned on rustls's ring
    // beside the app's provider: rustls picks (and installs) the provider
    // its crate features name.
    let _ = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    assert!(CryptoProvider::get_default().is_some());
    println!("tls-provider app: rustls::ServerConfig::builder() works");

    // hyperws's own client config (webpki roots) over the process provider.
    expect_untrusted_certificate(hyperws::connect(&url).await.map(|_| ()), "the app's process provider");
    echo_trusting(&url, cert).await;
}

fn app_provider() -> Arc<CryptoProvider> {
    #[cfg(feature = "provider-aws-lc-rs")]
    return Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    #[cfg(feature = "provider-ring")]
    return Arc::new(rustls::crypto::ring::default_provider());
}

/// The client got as far as refusing our self-signed certificate: it had a provider.
fn expect_untrusted_certificate(result: Result<(), ConnectError>, provider: &str) {
    match result {
        Err(ConnectError::Tls(e)) if e.to_string().contains("certificate") => {
            println!("tls-provider app: hyperws's client ran on {provider} ({e})");
        }
        other => panic!("expected an untrusted-certificate error, got {other:?}"),
    }
}

/// A wss echo with a client config that trusts our certificate.
async fn echo_trusting(url: &str, cert: CertificateDer<'static>) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let trust = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let (mut ws, _) = ClientBuilder::new(url).tls(Arc::new(trust)).connect().await.unwrap();
    ws.send(Message::text("over the app's provider")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("over the app's provider"));
    println!("tls-provider app: wss echo works");
}

/// A TLS echo server on a free port.
async fn serve(config: rustls::ServerConfig) -> u16 {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(|mut request| async move {
                    let config = hyperws::ServerConfig::default();
                    let (response, upgraded) = hyperws::upgrade_request(&mut request, &config).unwrap();
                    tokio::spawn(async move {
                        let mut ws = upgraded.await.unwrap();
                        while let Some(Ok(message)) = ws.recv().await {
                            if message.is_text() && ws.send(message).await.is_err() {
                                return;
                            }
                        }
                    });
                    Ok::<_, std::convert::Infallible>(response)
                });
                let io = hyper_util::rt::TokioIo::new(tls);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    port
}
