//! The client's default TLS configuration (feature `rustls`).

use std::io;
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};

/// The webpki roots and ALPN `http/1.1`, built once, with the process's
/// default crypto provider if the application installed one, else the
/// one a feature of ours names. Never rustls's guess from its crate
/// features, which fails (and makes other crates' rustls use panic)
/// when two providers are compiled in.
pub(super) fn default_config() -> io::Result<Arc<ClientConfig>> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(Arc::clone(config));
    }
    let provider = provider().ok_or_else(|| {
        io::Error::other(
            "no rustls crypto provider: install one for the process \
             (`rustls::crypto::CryptoProvider::install_default`) or enable \
             hyperws's `rustls-ring` or `rustls-aws-lc-rs` feature",
        )
    })?;
    let roots: RootCertStore = webpki_roots::TLS_SERVER_ROOTS.iter().cloned().collect();
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::clone(CONFIG.get_or_init(|| Arc::new(config))))
}

fn provider() -> Option<Arc<CryptoProvider>> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Some(Arc::clone(installed));
    }
    #[cfg(feature = "rustls-aws-lc-rs")]
    return Some(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc-rs")))]
    return Some(Arc::new(rustls::crypto::ring::default_provider()));
    #[allow(unreachable_code)]
    None
}
