//! Without a crypto provider installed for the process and without
//! `rustls-ring` / `rustls-aws-lc-rs`, `wss://` fails with an error that
//! says how to fix it — it never guesses from rustls's crate features.
//! Alone in its file: the process's provider is global.
#![cfg(all(feature = "rustls", not(any(feature = "rustls-ring", feature = "rustls-aws-lc-rs"))))]

use hyperws::ConnectError;

#[tokio::test]
async fn wss_without_a_provider_names_the_fix() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let result = hyperws::connect(format!("wss://localhost:{port}/")).await;
    let Err(ConnectError::Tls(e)) = result else {
        panic!("expected a TLS error, got {:?}", result.map(|_| ()));
    };
    let message = e.to_string();
    assert!(
        message.contains("install_default") && message.contains("rustls-ring"),
        "{message}"
    );
}
