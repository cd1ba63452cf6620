//! The errors every use case answers with. The API turns each into a fixed error code.

use domain::validation::FieldErrors;

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input broke a rule; nothing was stored.
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    /// The caller's role does not include the operation.
    #[error("forbidden")]
    Forbidden,
    /// Nothing with that id exists in the caller's account.
    #[error("not found")]
    NotFound,
    /// The request clashes with something that exists.
    #[error("conflict: {message}")]
    Conflict {
        /// The input field that clashes, if one does.
        field: Option<&'static str>,
        /// What clashes.
        message: String,
    },
    /// Too many requests of this kind; try again later.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_seconds: u64,
    },
    /// Something failed inside the service; details are logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// An internal failure with its cause, for the log.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<domain::validation::FieldError> for AppError {
    fn from(error: domain::validation::FieldError) -> Self {
        Self::Validation(error.into())
    }
}
