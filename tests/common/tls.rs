//! A private certificate authority for HTTPS tests, as a self-hosted Authentik signed by a
//! company CA has: [`test_ca`] makes a fresh CA and a server certificate it signed for
//! `localhost` and `127.0.0.1`, for `FakeAuthentikBuilder::tls`.
//!
//! Standalone (nothing else from `tests/common`), so a test binary can take only this file:
//! `#[path = "common/tls.rs"] mod tls;`.
#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A CA and a server certificate it signed, all PEM.
pub struct TestCa {
    /// The CA certificate: what a client adds to its roots
    /// (`reqwest::Certificate::from_pem`) to trust the server.
    pub ca_pem: String,
    /// The server's certificate, then the CA's: what the server sends
    /// (`FakeAuthentikBuilder::tls`'s first argument).
    pub leaf_chain_pem: String,
    /// The server certificate's private key (PKCS#8, ECDSA P-256).
    pub leaf_key_pem: String,
}

/// A fresh CA and a server certificate for `localhost` and `127.0.0.1`.
pub fn test_ca() -> TestCa {
    test_ca_for(&["localhost", "127.0.0.1"])
}

/// A fresh CA and a server certificate for `hosts` (DNS names or IP addresses).
pub fn test_ca_for(hosts: &[&str]) -> TestCa {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tower-oidc test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let ca = Issuer::new(ca_params, ca_key);

    let names: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
    let mut leaf_params = CertificateParams::new(names).unwrap();
    leaf_params.distinguished_name.push(
        DnType::CommonName,
        hosts.first().copied().unwrap_or("server"),
    );
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();

    TestCa {
        leaf_chain_pem: format!("{}{}", leaf.pem(), ca_pem),
        ca_pem,
        leaf_key_pem: leaf_key.serialize_pem(),
    }
}
