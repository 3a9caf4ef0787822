//! [`StoredJson`]: a JSON column that always reads.
//!
//! Values are checked at write (nesting, NUL, numbers), but a row written
//! before those checks, or by hand, may hold JSON nested deeper than
//! serde_json's recursion limit. Decoding it the usual way fails, and every
//! read, write, export and janitor sweep of its memory would fail with it.
//! This type reads the raw text without a nesting limit (serde_json skips
//! `RawValue`s iteratively) and turns a value it cannot parse into
//! [`UNREADABLE`], so the memory still serves and the row can be replaced or
//! deleted like any other.
use sea_orm::{
    ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value,
    sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr},
    sqlx::{Row, types::Json},
};
use serde_json::value::RawValue;

/// What a stored value that cannot be parsed reads as.
pub const UNREADABLE: &str =
    "[unreadable: this stored value is nested too deeply to read; overwrite or unset it]";

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StoredJson(pub serde_json::Value);

impl StoredJson {
    /// The value of a column's stored text (the store's own SQLite reads
    /// get it as text too).
    pub fn decode(raw: &str) -> StoredJson {
        StoredJson(
            serde_json::from_str(raw)
                .unwrap_or_else(|_| serde_json::Value::String(UNREADABLE.into())),
        )
    }
}

type Raw = Json<Box<RawValue>>;

impl TryGetable for StoredJson {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let raw: Result<Option<Raw>, _> = if let Some(row) = res.try_as_pg_row() {
            row.try_get(index.as_sqlx_postgres_index())
        } else if let Some(row) = res.try_as_sqlite_row() {
            row.try_get(index.as_sqlx_sqlite_index())
        } else {
            return Err(TryGetError::DbErr(DbErr::Type(
                "StoredJson reads only from PostgreSQL or SQLite".into(),
            )));
        };
        match raw.map_err(|e| TryGetError::DbErr(DbErr::Type(e.to_string())))? {
            Some(raw) => Ok(StoredJson::decode(raw.0.get())),
            None => Err(TryGetError::Null(format!("{index:?}"))),
        }
    }
}

impl From<StoredJson> for Value {
    fn from(value: StoredJson) -> Value {
        Value::Json(Some(Box::new(value.0)))
    }
}

impl Nullable for StoredJson {
    fn null() -> Value {
        Value::Json(None)
    }
}

impl ValueType for StoredJson {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        match value {
            Value::Json(Some(json)) => Ok(StoredJson(*json)),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "StoredJson".into()
    }

    fn array_type() -> ArrayType {
        ArrayType::Json
    }

    fn column_type() -> ColumnType {
        ColumnType::JsonBinary
    }
}
