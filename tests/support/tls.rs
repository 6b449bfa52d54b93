//! A throwaway certificate authority per test, so TLS is verified for real
//! (no "accept any certificate" shortcuts) without touching the system store.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto};

/// PEM files of a test CA and of a server certificate it signed.
#[derive(Debug, Clone)]
pub struct TestCa {
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

impl TestCa {
    /// Writes `ca.pem`, `cert.pem` and `key.pem` into `dir`. `names` become
    /// the server certificate's subject alternative names; entries that
    /// parse as IP addresses become IP SANs (rustls checks those, not DNS
    /// names, when connecting to `127.0.0.1`).
    pub fn generate(dir: &Path, names: &[&str]) -> TestCa {
        fs::create_dir_all(dir).expect("create TLS dir");

        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "slushpile test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign CA");

        let key = KeyPair::generate().expect("server key");
        let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("server cert params");
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("localhost"),
        );
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&key, &ca_cert, &ca_key)
            .expect("sign server cert");

        let ca = TestCa {
            ca_pem: dir.join("ca.pem"),
            cert_pem: dir.join("cert.pem"),
            key_pem: dir.join("key.pem"),
        };
        fs::write(&ca.ca_pem, ca_cert.pem()).expect("write ca.pem");
        fs::write(&ca.cert_pem, cert.pem()).expect("write cert.pem");
        fs::write(&ca.key_pem, key.serialize_pem()).expect("write key.pem");
        ca
    }
}

/// A connector that trusts only the CA in `ca_pem`, as the daemon would
/// when configured with a private CA file.
pub fn tls_connector(ca_pem: &Path) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_pem).expect("open CA PEM") {
        roots
            .add(cert.expect("parse CA PEM"))
            .expect("add CA to root store");
    }
    // Explicit provider: the process-wide default is ambiguous if another
    // crate in the graph ever enables aws-lc-rs as well.
    let config = ClientConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}
