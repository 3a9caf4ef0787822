//! Scalars of the contract: `DateTime` (RFC 3339, UTC) and `Duration`
//! (parsed once, at the edge, into [`domain::Duration`]). `UUID` comes from
//! async-graphql's `uuid` feature.
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{SecondsFormat, Utc};

use crate::domain;

/// RFC 3339 timestamp, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// RFC 3339 timestamp, UTC.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| DateTime(t.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!("{s:?} is not an RFC 3339 timestamp"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(t: chrono::DateTime<Utc>) -> Self {
        DateTime(t)
    }
}

/// The text of a `Duration`. It is parsed into [`domain::Duration`] by
/// [`Duration::parse`], which names the input field in its error: a scalar
/// parser cannot know which field it is reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duration(pub String);

/// A span such as "90s", "5m", "2h", "60d" or ISO 8601 "P60D"; printed back in the short form.
#[Scalar(name = "Duration")]
impl ScalarType for Duration {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Ok(Duration(s)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

impl Duration {
    pub fn parse(&self, field: &str) -> crate::error::Result<domain::Duration> {
        domain::Duration::parse(&self.0)
            .map_err(|message| crate::error::Error::bad_input(field, message))
    }
}

impl From<domain::Duration> for Duration {
    fn from(d: domain::Duration) -> Self {
        Duration(d.to_string())
    }
}
