//! Editors' credentials, pure: tokens are `sp_<editor id>_<secret>`; only
//! sha256 of the secret is stored, and it is compared in constant time
//! against the row the id names, so a lookup never leaks timing about
//! other editors' hashes.

use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

const PREFIX: &str = "sp_";

#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomUnavailable;

/// 32 random bytes, hex: for token secrets, session cookies and CSRF tokens.
pub fn random_secret() -> Result<String, RandomUnavailable> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| RandomUnavailable)?;
    Ok(hex::encode(bytes))
}

/// The tag that makes our Message-IDs for a draft unguessable:
/// HMAC-SHA256 of the reference under the store's thread key, 128 bits in
/// hex. A reply carrying it in In-Reply-To / References answers mail we
/// sent about that draft; a reference alone proves nothing.
pub fn thread_tag(key: &[u8], reference: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let tag = ring::hmac::sign(&key, reference.as_bytes());
    hex::encode(&tag.as_ref()[..16])
}

/// Whether `tag` is the thread tag of `reference`, in constant time.
pub fn is_thread_tag(key: &[u8], reference: &str, tag: &str) -> bool {
    constant_time_eq(thread_tag(key, reference).as_bytes(), tag.as_bytes())
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn token(editor_id: i64, secret: &str) -> String {
    format!("{PREFIX}{editor_id}_{secret}")
}

/// The editor id and secret of a well-formed token.
pub fn parse_token(token: &str) -> Option<(i64, &str)> {
    let (id, secret) = token.trim().strip_prefix(PREFIX)?.split_once('_')?;
    let id = id.parse().ok()?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((id, secret))
}

/// Whether `secret` hashes to `stored`, taking the same time wherever
/// they differ.
pub fn verify(secret: &str, stored: &str) -> bool {
    constant_time_eq(hash(secret).as_bytes(), stored.as_bytes())
}

/// Equality whose time does not depend on where the inputs differ (only on
/// their length, which is public: hashes and CSRF tokens have fixed sizes).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_tags_depend_on_key_and_reference() {
        let tag = thread_tag(b"key one", "SP-20261204-0001");
        assert_eq!(tag.len(), 32);
        assert!(is_thread_tag(b"key one", "SP-20261204-0001", &tag));
        assert!(!is_thread_tag(b"key two", "SP-20261204-0001", &tag));
        assert!(!is_thread_tag(b"key one", "SP-20261204-0002", &tag));
        assert!(!is_thread_tag(b"key one", "SP-20261204-0001", &tag[..31]));
    }

    #[test]
    fn a_token_round_trips_and_verifies_only_against_its_own_hash() {
        let secret = random_secret().unwrap();
        let stored = hash(&secret);
        let token = token(7, &secret);
        let (id, parsed) = parse_token(&token).unwrap();
        assert_eq!(id, 7);
        assert!(verify(parsed, &stored));
        assert!(!verify(&random_secret().unwrap(), &stored));
        assert!(!stored.contains(&secret), "the secret is never stored");
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_lookup() {
        for bad in ["", "sp_", "sp_x_abc", "sp_1_short", "xx_1_", "sp_1"] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
        assert_ne!(random_secret().unwrap(), random_secret().unwrap());
    }
}
