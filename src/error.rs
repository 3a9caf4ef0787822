//! The one error type. Every layer returns [`Result`]; every code a client
//! can see is a variant here. The api turns it into its GraphQL, HTTP and
//! WebSocket forms in one module (`api::errors`).
//!
//! `Error` deliberately does not implement `Display`: async-graphql converts
//! any `Display` type into an error without a code, and that conversion would
//! silently win over ours.
use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub enum Error {
    Unauthenticated(String),
    Forbidden(String),
    NotFound(&'static str),
    BadInput {
        field: String,
        message: String,
    },
    /// Not a well-formed GraphQL request at all (body, batch, query
    /// string): `BAD_USER_INPUT`, and HTTP 400 whatever the media type.
    Malformed {
        field: &'static str,
        message: String,
    },
    /// A mutation sent with GET: HTTP 405, `Allow: POST`.
    MutationNotPost,
    Conflict(String),
    ConversationEnded,
    QuotaExceeded(String),
    /// Over a per-tenant rate or concurrency limit; retry after the delay.
    RateLimited {
        message: String,
        retry_after: std::time::Duration,
    },
    /// The request ran longer than its time budget and was abandoned
    /// (its transaction, if any, rolled back).
    Timeout(String),
    /// Over a per-connection limit (subscriptions on one WebSocket).
    LimitExceeded(String),
    /// Over the number of WebSocket connections a tenant may hold on this
    /// replica: close 1013, try again later.
    TooManyConnections(String),
    /// A subscription fell behind (by so many events, if known) and ended.
    Lagged(Option<u64>),
    /// Logged with its cause; the client sees only "internal error".
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(cause.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated(_) => "UNAUTHENTICATED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::NotFound(_) => "NOT_FOUND",
            Error::BadInput { .. } | Error::Malformed { .. } | Error::MutationNotPost => {
                "BAD_USER_INPUT"
            }
            Error::Conflict(_) => "CONFLICT",
            Error::ConversationEnded => "CONVERSATION_ENDED",
            Error::QuotaExceeded(_) => "QUOTA_EXCEEDED",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::Timeout(_) => "TIMEOUT",
            Error::Lagged(_) => "SUBSCRIPTION_LAGGED",
            Error::LimitExceeded(_) | Error::TooManyConnections(_) => "LIMIT_EXCEEDED",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self {
            Error::Unauthenticated(m)
            | Error::Forbidden(m)
            | Error::Conflict(m)
            | Error::QuotaExceeded(m)
            | Error::Timeout(m)
            | Error::LimitExceeded(m)
            | Error::TooManyConnections(m)
            | Error::RateLimited { message: m, .. } => m.clone(),
            Error::NotFound(what) => format!("{what} not found"),
            Error::BadInput { field, message } => format!("invalid {field}: {message}"),
            Error::Malformed { field, message } => format!("invalid {field}: {message}"),
            Error::MutationNotPost => "invalid method: mutations must be sent with POST".into(),
            Error::ConversationEnded => "the conversation has ended".into(),
            Error::Lagged(missed) => format!(
                "this subscription fell behind{} and was ended: read the current state and subscribe again",
                missed
                    .map(|n| format!(" by {n} events"))
                    .unwrap_or_default()
            ),
            Error::Internal(_) => "internal error".into(),
        }
    }

    /// The input field a client should fix, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::BadInput { field, .. } => Some(field),
            Error::Malformed { field, .. } => Some(field),
            Error::MutationNotPost => Some("method"),
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Internal(cause) => write!(f, "Internal({cause})"),
            other => write!(f, "{}({})", other.code(), other.public_message()),
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    /// A statement cancelled by PostgreSQL's `statement_timeout` (SQLSTATE
    /// 57014) and a pool with no free connection in time are the server
    /// being busy, not broken: the client may retry, so they are `TIMEOUT`
    /// (logged all the same).
    fn from(error: sea_orm::DbErr) -> Self {
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
        let cancelled = match &error {
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e
                .as_database_error()
                .and_then(|db| db.code())
                .is_some_and(|code| code == "57014"),
            _ => false,
        };
        if cancelled {
            tracing::warn!(%error, "a statement ran past statement_timeout");
            return Error::Timeout("a database statement ran past its time limit".into());
        }
        if let DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) = error {
            tracing::warn!("no database connection became free in time");
            return Error::Timeout("the database is busy: retry shortly".into());
        }
        Error::internal(error)
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(error: sea_orm::TransactionError<Error>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

impl Error {
    /// For the operator (logs, CLI): includes the internal cause.
    pub fn operator_message(&self) -> String {
        match self {
            Error::Internal(cause) => cause.to_string(),
            other => other.public_message(),
        }
    }
}
