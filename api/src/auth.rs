//! Bearer tokens. Every request carries `Authorization: Bearer <JWT>` with the claims `sub`,
//! `account`, `role` and `exp`, signed with the deployment's HS256 secret or checked against
//! its public key. A verified token becomes the [`Caller`] every use case asks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use application::access::{Caller, Role};
use domain::ids::AccountId;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::JwtConfig;

/// The shortest HS256 secret accepted.
pub const MIN_SECRET_LEN: usize = 32;

/// The claims of a PrepStation token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The account the user acts in.
    pub account: String,
    /// `admin`, `member`, `planner` or `auditor`.
    pub role: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issuer, when the deployment checks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience, when the deployment checks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// Why token settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenConfigError {
    /// Neither a secret nor a public key is configured.
    #[error("set PREPSYNC_JWT_SECRET (HS256) or PREPSYNC_JWT_PUBLIC_KEY (PEM) to check tokens")]
    Missing,
    /// The secret is too short to be safe.
    #[error("PREPSYNC_JWT_SECRET must be at least {MIN_SECRET_LEN} characters")]
    WeakSecret,
    /// The public key is not an RSA, EC or Ed25519 public key in PEM.
    #[error("PREPSYNC_JWT_PUBLIC_KEY must be an RSA, EC (P-256) or Ed25519 public key in PEM")]
    BadPublicKey,
    /// Only a public key is configured, so no token can be signed here.
    #[error("cannot sign tokens: only PREPSYNC_JWT_PUBLIC_KEY is configured; set PREPSYNC_JWT_SECRET to issue development tokens")]
    CannotSign,
    /// The token claims given are invalid.
    #[error("{0}")]
    BadClaims(String),
}

/// Why a request's token was not accepted. The client is only told that it is unauthenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// Bad signature, expired, wrong issuer or audience, or malformed.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// Claims that name no valid account or role.
    #[error("invalid claims: {0}")]
    BadClaims(&'static str),
}

/// Checks bearer tokens.
#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish()
    }
}

impl TokenVerifier {
    /// A verifier from the deployment's settings; a public key wins over a secret.
    pub fn from_config(config: &JwtConfig) -> Result<Self, TokenConfigError> {
        let given_key = config
            .public_key
            .as_ref()
            .filter(|pem| !pem.trim().is_empty());
        let secret = config
            .secret
            .as_ref()
            .filter(|s| !s.expose_secret().is_empty());
        let (key, algorithm) = match (given_key, secret) {
            (Some(pem), _) => public_key(pem)?,
            (None, Some(secret)) => (
                DecodingKey::from_secret(checked_secret(secret)?)
                    .map_err(|_| TokenConfigError::WeakSecret)?,
                Algorithm::HS256,
            ),
            (None, None) => return Err(TokenConfigError::Missing),
        };
        let mut validation = Validation::new(algorithm);
        let mut required = vec!["exp", "sub"];
        required.extend(config.issuer.as_ref().map(|_| "iss"));
        required.extend(config.audience.as_ref().map(|_| "aud"));
        validation.set_required_spec_claims(&required);
        validation.validate_nbf = true;
        validation.leeway = 30;
        match &config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
        }
        Ok(Self { key, validation })
    }

    /// The caller named by an `Authorization` header value.
    pub fn verify_header(&self, header: Option<&str>) -> Result<Authenticated, AuthError> {
        let header = header.ok_or(AuthError::Missing)?.trim();
        let token = strip_bearer(header).ok_or(AuthError::Missing)?;
        self.verify(token)
    }

    /// The caller named by a token, and when the token expires.
    pub fn verify(&self, token: &str) -> Result<Authenticated, AuthError> {
        let claims = decode::<Claims>(token, &self.key, &self.validation)?.claims;
        let account =
            AccountId::parse(&claims.account).map_err(|_| AuthError::BadClaims("account"))?;
        let role = Role::parse(&claims.role).ok_or(AuthError::BadClaims("role"))?;
        check_subject(&claims.sub)?;
        if claims.exp > now_seconds().saturating_add(MAX_TOKEN_LIFETIME.as_secs()) {
            return Err(AuthError::BadClaims("exp"));
        }
        Ok(Authenticated {
            caller: Caller::user(account, &claims.sub, role),
            expires_at: TokenExpiry(claims.exp),
        })
    }
}

/// The longest a token may still be valid for; tokens promising more are refused.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// A verified token: who calls, and until when.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The caller.
    pub caller: Caller,
    /// When the token expires.
    pub expires_at: TokenExpiry,
}

/// When a token expires, seconds since the epoch; long-lived connections check it on every
/// operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenExpiry(pub u64);

impl TokenExpiry {
    /// Whether the token has expired.
    pub fn has_passed(&self) -> bool {
        now_seconds() >= self.0
    }

    /// Time left until expiry.
    pub fn remaining(&self) -> Duration {
        Duration::from_secs(self.0.saturating_sub(now_seconds()))
    }
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// A subject names a user: not empty, at most 256 characters, no control characters, and not
/// one of the names the service itself records as actor.
fn check_subject(subject: &str) -> Result<(), AuthError> {
    let reserved = [domain::ids::Actor::SYSTEM, domain::ids::Actor::SCHEDULER];
    let valid = !subject.trim().is_empty()
        && subject.chars().count() <= 256
        && !subject.chars().any(char::is_control)
        && !reserved.contains(&subject);
    if valid {
        Ok(())
    } else {
        Err(AuthError::BadClaims("sub"))
    }
}

fn strip_bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn checked_secret(secret: &secrecy::SecretString) -> Result<&[u8], TokenConfigError> {
    let bytes = secret.expose_secret().as_bytes();
    if bytes.len() < MIN_SECRET_LEN {
        return Err(TokenConfigError::WeakSecret);
    }
    Ok(bytes)
}

fn public_key(pem_or_path: &str) -> Result<(DecodingKey, Algorithm), TokenConfigError> {
    let pem = if pem_or_path.trim_start().starts_with("-----BEGIN") {
        pem_or_path.to_owned()
    } else {
        std::fs::read_to_string(pem_or_path).map_err(|_| TokenConfigError::BadPublicKey)?
    };
    let pem = pem.as_bytes();
    if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        return Ok((key, Algorithm::EdDSA));
    }
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok((key, Algorithm::RS256));
    }
    DecodingKey::from_ec_pem(pem)
        .map(|key| (key, Algorithm::ES256))
        .map_err(|_| TokenConfigError::BadPublicKey)
}

/// Signs a development token with the HS256 secret. Refuses when only a public key is
/// configured, since this service then holds no signing key.
pub fn issue_token(
    config: &JwtConfig,
    account: &str,
    role: &str,
    subject: &str,
    valid_for: Duration,
) -> Result<String, TokenConfigError> {
    let given_secret = config
        .secret
        .as_ref()
        .filter(|s| !s.expose_secret().is_empty());
    let given_key = config
        .public_key
        .as_ref()
        .filter(|pem| !pem.trim().is_empty());
    let secret = match (given_secret, given_key) {
        (Some(secret), _) => checked_secret(secret)?,
        (None, Some(_)) => return Err(TokenConfigError::CannotSign),
        (None, None) => return Err(TokenConfigError::Missing),
    };
    AccountId::parse(account)
        .map_err(|e| TokenConfigError::BadClaims(format!("account {}", e.message)))?;
    Role::parse(role).ok_or_else(|| {
        TokenConfigError::BadClaims("role must be admin, member, planner or auditor".into())
    })?;
    check_subject(subject).map_err(|_| {
        TokenConfigError::BadClaims(
            "sub must be 1 to 256 characters without control characters, and not system or scheduler".into(),
        )
    })?;
    if valid_for > MAX_TOKEN_LIFETIME {
        return Err(TokenConfigError::BadClaims(
            "a token may be valid for at most 366 days".into(),
        ));
    }

    let claims = Claims {
        sub: subject.to_owned(),
        account: account.to_owned(),
        role: role.to_owned(),
        exp: now_seconds().saturating_add(valid_for.as_secs()),
        iss: config.issuer.clone(),
        aud: config.audience.clone(),
    };
    let key = EncodingKey::from_secret(secret).map_err(|_| TokenConfigError::WeakSecret)?;
    encode(&Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|e| TokenConfigError::BadClaims(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn config(secret: &str) -> JwtConfig {
        JwtConfig {
            secret: Some(secret.to_owned().into()),
            public_key: None,
            issuer: None,
            audience: None,
        }
    }

    const SECRET: &str = "a-development-secret-of-enough-length!";

    #[test]
    fn an_issued_token_verifies_as_its_caller() {
        let config = config(SECRET);
        let token =
            issue_token(&config, "acme", "planner", "alice", Duration::from_secs(60)).unwrap();
        let verifier = TokenVerifier::from_config(&config).unwrap();
        let caller = verifier.verify(&token).unwrap().caller;
        assert_eq!(caller.account_id.as_str(), "acme");
        assert_eq!(caller.role, Role::Planner);
        assert_eq!(caller.actor.as_str(), "alice");
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = issue_token(
            &config(&"x".repeat(40)),
            "acme",
            "admin",
            "bob",
            Duration::from_secs(60),
        )
        .unwrap();
        let verifier = TokenVerifier::from_config(&config(SECRET)).unwrap();
        assert!(matches!(
            verifier.verify(&token),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(matches!(
            TokenVerifier::from_config(&config("short")),
            Err(TokenConfigError::WeakSecret)
        ));
    }

    #[test]
    fn signing_needs_a_secret_not_just_a_public_key() {
        let config = JwtConfig {
            secret: None,
            public_key: Some("pem".into()),
            issuer: None,
            audience: None,
        };
        assert!(matches!(
            issue_token(&config, "acme", "admin", "bob", Duration::from_secs(60)),
            Err(TokenConfigError::CannotSign)
        ));
    }

    /// A key pair made for these tests only.
    const TEST_ED25519_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPXSST2JtHb0c24SqArJBKmHJTzJQgJ4/bh9zK+UuqE3\n-----END PRIVATE KEY-----\n";
    const TEST_ED25519_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAjqdOrSD2CJMrPBy2wWQ56FNcmwqSJaaQsoK3w93HBR0=\n-----END PUBLIC KEY-----\n";

    fn eddsa_token(claims: &Claims) -> String {
        let key = EncodingKey::from_ed_pem(TEST_ED25519_PRIVATE.as_bytes()).unwrap();
        encode(&Header::new(Algorithm::EdDSA), claims, &key).unwrap()
    }

    fn claims(iss: Option<&str>, aud: Option<&str>) -> Claims {
        Claims {
            sub: "idp-user".into(),
            account: "acme".into(),
            role: "member".into(),
            exp: (SystemTime::now() + Duration::from_secs(60))
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            iss: iss.map(Into::into),
            aud: aud.map(Into::into),
        }
    }

    fn public_key_config(issuer: Option<&str>, audience: Option<&str>) -> JwtConfig {
        JwtConfig {
            secret: Some(SECRET.to_owned().into()),
            public_key: Some(TEST_ED25519_PUBLIC.into()),
            issuer: issuer.map(Into::into),
            audience: audience.map(Into::into),
        }
    }

    #[test]
    fn a_token_signed_by_the_identity_provider_verifies_with_its_public_key() {
        let verifier = TokenVerifier::from_config(&public_key_config(None, None)).unwrap();
        let caller = verifier
            .verify(&eddsa_token(&claims(None, None)))
            .unwrap()
            .caller;
        assert_eq!(
            (caller.account_id.as_str(), caller.role),
            ("acme", Role::Member)
        );
        let hs256 = issue_token(
            &config(SECRET),
            "acme",
            "admin",
            "x",
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(
            verifier.verify(&hs256).is_err(),
            "with a public key, HS256 tokens are refused"
        );
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let verifier =
            TokenVerifier::from_config(&public_key_config(Some("https://idp"), Some("prepsync")))
                .unwrap();
        assert!(verifier
            .verify(&eddsa_token(&claims(Some("https://idp"), Some("prepsync"))))
            .is_ok());
        assert!(verifier
            .verify(&eddsa_token(&claims(
                Some("https://evil"),
                Some("prepsync")
            )))
            .is_err());
        assert!(verifier
            .verify(&eddsa_token(&claims(Some("https://idp"), Some("other"))))
            .is_err());
        assert!(verifier.verify(&eddsa_token(&claims(None, None))).is_err());
    }

    #[test]
    fn tokens_for_service_actors_control_characters_or_endless_lifetimes_are_refused() {
        let verifier = TokenVerifier::from_config(&public_key_config(None, None)).unwrap();
        for sub in ["system", "scheduler", "a\u{0}b", ""] {
            let token = eddsa_token(&Claims {
                sub: sub.into(),
                ..claims(None, None)
            });
            assert!(
                matches!(verifier.verify(&token), Err(AuthError::BadClaims("sub"))),
                "{sub:?}"
            );
        }
        let endless = eddsa_token(&Claims {
            exp: u64::MAX / 2,
            ..claims(None, None)
        });
        assert!(matches!(
            verifier.verify(&endless),
            Err(AuthError::BadClaims("exp"))
        ));
        let too_long = Duration::from_secs(400 * 24 * 3600);
        assert!(issue_token(&config(SECRET), "acme", "admin", "bob", too_long).is_err());
        let sixty = Duration::from_secs(60);
        assert!(issue_token(&config(SECRET), "acme", "admin", "system", sixty).is_err());
    }

    #[test]
    fn a_token_not_yet_valid_is_refused() {
        #[derive(Serialize)]
        struct WithNbf {
            #[serde(flatten)]
            claims: Claims,
            nbf: u64,
        }
        let verifier = TokenVerifier::from_config(&public_key_config(None, None)).unwrap();
        let key = EncodingKey::from_ed_pem(TEST_ED25519_PRIVATE.as_bytes()).unwrap();
        let later = WithNbf {
            claims: claims(None, None),
            nbf: now_seconds() + 3600,
        };
        let token = encode(&Header::new(Algorithm::EdDSA), &later, &key).unwrap();
        assert!(matches!(
            verifier.verify(&token),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn the_bearer_scheme_is_matched_without_regard_to_case() {
        assert_eq!(strip_bearer("bearer abc"), Some("abc"));
        assert_eq!(strip_bearer("Bearer  abc "), Some("abc"));
        assert_eq!(strip_bearer("Basic abc"), None);
        assert_eq!(strip_bearer("Bearer "), None);
    }
}
