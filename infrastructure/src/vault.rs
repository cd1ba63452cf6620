//! Sealing credentials with XChaCha20-Poly1305 under a 32-byte master key. Each sealed value
//! names the key that sealed it, so older keys keep opening what they sealed until
//! `prepsync rotate-key` reseals everything under the current key. The associated data binds a
//! sealed value to its account and connection.

use std::collections::HashMap;

use application::ports::{CredentialVault, SecretBinding, VaultError};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use domain::secret::SealedSecret;
use secrecy::{ExposeSecret, SecretString};

/// Why the configured master keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// A key is not base64 of exactly 32 bytes.
    #[error("the master key with id {id:?} must be 32 random bytes, base64-encoded (PREPSYNC_MASTER_KEY, PREPSYNC_MASTER_KEY_FILE or PREPSYNC_OLD_MASTER_KEYS)")]
    BadKey {
        /// The key's id.
        id: String,
    },
    /// A key id is empty, too long, or has characters other than letters, digits, `-` and
    /// `_`. The id is not repeated: a key pasted where an id belongs must not reach a log.
    #[error("a master key id must be 1 to 32 letters, digits, '-' or '_' (PREPSYNC_MASTER_KEY_ID, or the part before ':' in PREPSYNC_OLD_MASTER_KEYS)")]
    BadId,
    /// Two different keys were given the same id.
    #[error("master key id {0:?} is given twice with different keys")]
    DuplicateId(String),
    /// An entry of the old keys list is not `id:base64`.
    #[error("old master keys must be a comma-separated list of id:base64 pairs")]
    BadList,
}

/// The current master key and the older ones still accepted for opening.
pub struct KeyRing {
    current_id: String,
    keys: HashMap<String, XChaCha20Poly1305>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("current_id", &self.current_id)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// A ring from the current key and a list of older keys (`id:base64,id:base64`).
    pub fn new(
        current_id: &str,
        current: &SecretString,
        older: Option<&SecretString>,
    ) -> Result<Self, KeyRingError> {
        let mut keys = HashMap::new();
        keys.insert(
            check_id(current_id)?,
            cipher(current_id, current.expose_secret())?,
        );
        for entry in older
            .map(|list| list.expose_secret().to_owned())
            .unwrap_or_default()
            .split(',')
        {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let (id, key) = entry.split_once(':').ok_or(KeyRingError::BadList)?;
            let id = check_id(id)?;
            if keys.contains_key(&id) {
                return Err(KeyRingError::DuplicateId(id));
            }
            keys.insert(id.clone(), cipher(&id, key)?);
        }
        Ok(Self {
            current_id: current_id.to_owned(),
            keys,
        })
    }

    /// A fresh random key, base64-encoded, for a new deployment or a test.
    pub fn generate_key() -> SecretString {
        SecretString::from(BASE64.encode(Key::generate()))
    }
}

fn check_id(id: &str) -> Result<String, KeyRingError> {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if id.is_empty() || id.len() > 32 || !id.chars().all(valid) {
        return Err(KeyRingError::BadId);
    }
    Ok(id.to_owned())
}

fn cipher(id: &str, base64_key: &str) -> Result<XChaCha20Poly1305, KeyRingError> {
    let bad = || KeyRingError::BadKey { id: id.to_owned() };
    let bytes = BASE64.decode(base64_key.trim()).map_err(|_| bad())?;
    XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| bad())
}

fn associated_data(binding: &SecretBinding) -> Vec<u8> {
    format!(
        "prepsync:connection-api-key:v1\n{}\n{}",
        binding.account_id, binding.connection_id
    )
    .into_bytes()
}

const KEY_CHECK_AAD: &[u8] = b"prepsync:master-key-check:v1";
const KEY_CHECK_TEXT: &[u8] = b"prepsync master key check";

impl KeyRing {
    /// The ids of every key in the ring, the current one first.
    pub fn key_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .keys
            .keys()
            .filter(|id| **id != self.current_id)
            .cloned()
            .collect();
        ids.sort();
        ids.insert(0, self.current_id.clone());
        ids
    }

    /// A fresh check value for a key: a known text sealed by it.
    pub fn check_value(&self, key_id: &str) -> Option<SealedSecret> {
        let cipher = self.keys.get(key_id)?;
        let nonce = XNonce::generate();
        let payload = Payload {
            msg: KEY_CHECK_TEXT,
            aad: KEY_CHECK_AAD,
        };
        let sealed = cipher.encrypt(&nonce, payload).ok()?;
        Some(SealedSecret {
            key_id: key_id.to_owned(),
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(sealed),
        })
    }

    /// Whether the key of that id in this ring opens a check value made earlier.
    pub fn matches_check_value(&self, check: &SealedSecret) -> bool {
        let Some(cipher) = self.keys.get(&check.key_id) else {
            return false;
        };
        let nonce = BASE64.decode(&check.nonce).ok();
        let nonce = nonce
            .as_deref()
            .and_then(|bytes| XNonce::try_from(bytes).ok());
        let sealed = BASE64.decode(&check.ciphertext).ok();
        match (nonce, sealed) {
            (Some(nonce), Some(sealed)) => {
                let payload = Payload {
                    msg: &sealed,
                    aad: KEY_CHECK_AAD,
                };
                cipher
                    .decrypt(&nonce, payload)
                    .is_ok_and(|plain| plain == KEY_CHECK_TEXT)
            }
            _ => false,
        }
    }
}

impl CredentialVault for KeyRing {
    fn seal(
        &self,
        secret: &SecretString,
        binding: &SecretBinding,
    ) -> Result<SealedSecret, VaultError> {
        let cipher = self
            .keys
            .get(&self.current_id)
            .ok_or_else(|| VaultError::UnknownKey(self.current_id.clone()))?;
        let nonce = XNonce::generate();
        let aad = associated_data(binding);
        let payload = Payload {
            msg: secret.expose_secret().as_bytes(),
            aad: &aad,
        };
        let ciphertext = cipher
            .encrypt(&nonce, payload)
            .map_err(|_| VaultError::Unopenable)?;
        Ok(SealedSecret {
            key_id: self.current_id.clone(),
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(ciphertext),
        })
    }

    fn open(
        &self,
        sealed: &SealedSecret,
        binding: &SecretBinding,
    ) -> Result<SecretString, VaultError> {
        let cipher = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| VaultError::UnknownKey(sealed.key_id.clone()))?;
        let nonce_bytes = BASE64
            .decode(&sealed.nonce)
            .map_err(|_| VaultError::Unopenable)?;
        let nonce = XNonce::try_from(nonce_bytes.as_slice()).map_err(|_| VaultError::Unopenable)?;
        let ciphertext = BASE64
            .decode(&sealed.ciphertext)
            .map_err(|_| VaultError::Unopenable)?;
        let aad = associated_data(binding);
        let payload = Payload {
            msg: &ciphertext,
            aad: &aad,
        };
        let plain = cipher
            .decrypt(&nonce, payload)
            .map_err(|_| VaultError::Unopenable)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| VaultError::Unopenable)
    }

    fn current_key_id(&self) -> &str {
        &self.current_id
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::ids::{AccountId, ConnectionId};

    use super::*;

    fn binding(account: &str) -> SecretBinding {
        SecretBinding {
            account_id: AccountId::parse(account).unwrap(),
            connection_id: ConnectionId::new(),
        }
    }

    fn ring(id: &str, key: &SecretString, older: Option<&SecretString>) -> KeyRing {
        KeyRing::new(id, key, older).unwrap()
    }

    #[test]
    fn a_sealed_key_opens_with_its_binding_and_holds_no_plaintext() {
        let ring = ring("k1", &KeyRing::generate_key(), None);
        let binding = binding("acme");
        let sealed = ring
            .seal(&SecretString::from("odoo-api-key"), &binding)
            .unwrap();
        assert!(!sealed.ciphertext.contains("odoo-api-key"));
        assert_eq!(
            ring.open(&sealed, &binding).unwrap().expose_secret(),
            "odoo-api-key"
        );
    }

    #[test]
    fn a_sealed_key_copied_to_another_connection_does_not_open() {
        let ring = ring("k1", &KeyRing::generate_key(), None);
        let sealed = ring
            .seal(&SecretString::from("secret"), &binding("acme"))
            .unwrap();
        assert!(matches!(
            ring.open(&sealed, &binding("acme")),
            Err(VaultError::Unopenable)
        ));
    }

    #[test]
    fn two_seals_of_one_key_differ() {
        let ring = ring("k1", &KeyRing::generate_key(), None);
        let binding = binding("acme");
        let first = ring.seal(&SecretString::from("secret"), &binding).unwrap();
        let second = ring.seal(&SecretString::from("secret"), &binding).unwrap();
        assert_ne!(first.nonce, second.nonce);
    }

    #[test]
    fn an_old_key_still_opens_what_it_sealed() {
        let old_key = KeyRing::generate_key();
        let binding = binding("acme");
        let sealed = ring("k1", &old_key, None)
            .seal(&SecretString::from("s"), &binding)
            .unwrap();
        let older = SecretString::from(format!("k1:{}", old_key.expose_secret()));
        let rotated = ring("k2", &KeyRing::generate_key(), Some(&older));
        assert_eq!(
            rotated.open(&sealed, &binding).unwrap().expose_secret(),
            "s"
        );
        assert_eq!(
            rotated
                .seal(&SecretString::from("s"), &binding)
                .unwrap()
                .key_id,
            "k2"
        );
    }

    #[test]
    fn a_check_value_opens_only_with_the_key_that_made_it() {
        let first = ring("k1", &KeyRing::generate_key(), None);
        let other = ring("k1", &KeyRing::generate_key(), None);
        let check = first.check_value("k1").unwrap();
        assert!(first.matches_check_value(&check));
        assert!(!other.matches_check_value(&check));
    }

    #[test]
    fn a_key_pasted_as_an_id_is_not_repeated_in_the_error() {
        let key = KeyRing::generate_key();
        let swapped = SecretString::from(format!("{}:k0", key.expose_secret()));
        let error = KeyRing::new("k1", &KeyRing::generate_key(), Some(&swapped)).unwrap_err();
        assert!(!error.to_string().contains(key.expose_secret()), "{error}");
    }

    #[test]
    fn one_id_cannot_name_two_keys() {
        let older = SecretString::from(format!("k1:{}", KeyRing::generate_key().expose_secret()));
        let result = KeyRing::new("k1", &KeyRing::generate_key(), Some(&older));
        assert!(matches!(result, Err(KeyRingError::DuplicateId(_))));
    }

    #[test]
    fn keys_of_the_wrong_length_are_refused() {
        let short = SecretString::from(BASE64.encode([0u8; 16]));
        assert!(matches!(
            KeyRing::new("k1", &short, None),
            Err(KeyRingError::BadKey { .. })
        ));
        assert!(matches!(
            KeyRing::new("k 1", &KeyRing::generate_key(), None),
            Err(KeyRingError::BadId)
        ));
    }
}
