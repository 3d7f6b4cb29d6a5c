//! Encryption at rest for the credentials we keep (an organization's GitHub token):
//! XChaCha20-Poly1305 with a 32-byte server key from `SUPERSET_ENCRYPTION_KEY` (64 hex digits,
//! e.g. `openssl rand -hex 32`) and a random 24-byte nonce per encryption. The organization's
//! id is bound as associated data, so a ciphertext copied to another organization's row does
//! not decrypt. Without a key the server refuses to store tokens rather than store them in the
//! clear.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use uuid::Uuid;

/// Length of the nonce stored beside each ciphertext.
pub const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    #[error(
        "SUPERSET_ENCRYPTION_KEY must be 64 hex digits (32 bytes): generate one with `openssl rand -hex 32`"
    )]
    BadKey,
    #[error(
        "the stored secret cannot be decrypted with this server's SUPERSET_ENCRYPTION_KEY \
         (was the key changed?): store it again"
    )]
    Undecryptable,
}

/// The server's key for secrets at rest.
#[derive(Clone)]
pub struct EncryptionKey(Key);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(…)")
    }
}

/// A secret as stored: ciphertext (with its tag) and nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
}

impl EncryptionKey {
    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, SecretsError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SecretsError::BadKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| SecretsError::BadKey)?;
        Ok(Self(Key::from(bytes)))
    }

    /// Encrypts `plaintext` for `organization`.
    pub fn seal(&self, organization: Uuid, plaintext: &[u8]) -> Sealed {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(&self.0);
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: organization.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message that fits in memory");
        Sealed {
            ciphertext,
            nonce: nonce.to_vec(),
        }
    }

    /// Decrypts what [`seal`](Self::seal) made for the same `organization`.
    pub fn open(&self, organization: Uuid, sealed: &Sealed) -> Result<Vec<u8>, SecretsError> {
        let nonce: [u8; NONCE_LEN] = sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| SecretsError::Undecryptable)?;
        XChaCha20Poly1305::new(&self.0)
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: organization.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn seal_and_open_round_trip_without_the_plaintext_showing() {
        let key = EncryptionKey::from_hex(KEY).unwrap();
        let org = Uuid::new_v4();
        let sealed = key.seal(org, b"ghp_secret_token");
        assert_eq!(sealed.nonce.len(), NONCE_LEN);
        assert!(
            !sealed
                .ciphertext
                .windows(6)
                .any(|w| w == b"secret" || w == b"ghp_se")
        );
        assert_eq!(key.open(org, &sealed).unwrap(), b"ghp_secret_token");
        // A fresh nonce every time.
        assert_ne!(key.seal(org, b"ghp_secret_token"), sealed);
    }

    #[test]
    fn another_org_another_key_or_a_flipped_bit_does_not_decrypt() {
        let key = EncryptionKey::from_hex(KEY).unwrap();
        let org = Uuid::new_v4();
        let sealed = key.seal(org, b"token");
        assert_eq!(
            key.open(Uuid::new_v4(), &sealed),
            Err(SecretsError::Undecryptable)
        );
        let other = EncryptionKey::from_hex(&KEY.replace('0', "f")).unwrap();
        assert_eq!(other.open(org, &sealed), Err(SecretsError::Undecryptable));
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(key.open(org, &tampered), Err(SecretsError::Undecryptable));
        let short = Sealed {
            nonce: vec![0; 12],
            ..sealed
        };
        assert_eq!(key.open(org, &short), Err(SecretsError::Undecryptable));
    }

    #[test]
    fn keys_must_be_32_bytes_of_hex() {
        assert!(EncryptionKey::from_hex(&format!(" {KEY}\n")).is_ok());
        for bad in [
            "",
            "abcd",
            &KEY[..62],
            &format!("{KEY}00"),
            &KEY.replace('0', "x"),
        ] {
            assert_eq!(
                EncryptionKey::from_hex(bad).unwrap_err(),
                SecretsError::BadKey,
                "{bad}"
            );
        }
        assert_eq!(
            format!("{:?}", EncryptionKey::from_hex(KEY).unwrap()),
            "EncryptionKey(…)"
        );
    }
}
