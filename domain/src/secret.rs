//! Credentials as they travel through commands, events and tables: sealed, never plain.

use serde::{Deserialize, Serialize};

/// A credential sealed with the service's master key (XChaCha20-Poly1305). The domain only
/// carries it; sealing and opening happen in infrastructure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    /// Which master key sealed it, so older keys can still open it after a rotation.
    pub key_id: String,
    /// The 24-byte nonce, base64.
    pub nonce: String,
    /// Ciphertext and tag, base64.
    pub ciphertext: String,
}
