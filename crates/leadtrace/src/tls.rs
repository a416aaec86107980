//! HTTPS for clients that only build `https://` URLs: a local certificate authority generated on
//! first use (kept in the TLS directory) signs a server certificate at every start.

use crate::config::ServeConfig;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use std::path::{Path, PathBuf};

pub struct TlsFiles {
    pub cert_pem: String,
    pub key_pem: String,
    /// The CA file clients must trust (none when a real certificate was given).
    pub ca_path: Option<PathBuf>,
}

pub fn load_or_create(config: &ServeConfig) -> Result<TlsFiles, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        return Ok(TlsFiles {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
            ca_path: None,
        });
    }
    let dir = &config.tls_dir;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let ca_key_path = dir.join("ca-key.pem");
    let ca_path = dir.join("ca.pem");
    let ca_key = match std::fs::read_to_string(&ca_key_path) {
        Ok(pem) => KeyPair::from_pem(&pem)
            .map_err(|e| format!("bad CA key {}: {e}", ca_key_path.display()))?,
        Err(_) => {
            let key = KeyPair::generate().map_err(|e| e.to_string())?;
            write_private(&ca_key_path, &key.serialize_pem())?;
            let _ = std::fs::remove_file(&ca_path);
            key
        }
    };
    // The CA certificate is rebuilt from fixed parameters and the kept key, so the file clients
    // trust stays valid across restarts.
    let ca_cert = ca_params()
        .self_signed(&ca_key)
        .map_err(|e| e.to_string())?;
    if !ca_path.exists() {
        std::fs::write(&ca_path, ca_cert.pem())
            .map_err(|e| format!("cannot write {}: {e}", ca_path.display()))?;
    }
    let (cert_pem, key_pem) = server_certificate(&ca_cert, &ca_key)?;
    Ok(TlsFiles {
        cert_pem,
        key_pem,
        ca_path: Some(ca_path),
    })
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "leadtrace local CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "leadtrace");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2044, 1, 1);
    params
}

fn server_certificate(ca: &Certificate, ca_key: &KeyPair) -> Result<(String, String), String> {
    let mut params =
        CertificateParams::new(vec!["localhost".to_string()]).map_err(|e| e.to_string())?;
    params.subject_alt_names.push(SanType::IpAddress(
        "127.0.0.1".parse().expect("static address"),
    ));
    params
        .subject_alt_names
        .push(SanType::IpAddress("::1".parse().expect("static address")));
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = chrono::Utc::now();
    let from = now - chrono::Duration::days(1);
    let to = now + chrono::Duration::days(365);
    use chrono::Datelike;
    params.not_before = rcgen::date_time_ymd(from.year(), from.month() as u8, from.day() as u8);
    params.not_after = rcgen::date_time_ymd(to.year(), to.month() as u8, to.day() as u8);
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params
        .signed_by(&key, ca, ca_key)
        .map_err(|e| e.to_string())?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}
