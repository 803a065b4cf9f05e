//! Typed values in text columns: JSON documents ([`Json`]) and names ([`Text`]).
//!
//! The columns are `TEXT` on both databases (see the migrations), so the
//! value is bound as a string, never as PostgreSQL's `json`. A row whose text
//! does not parse is a database error, never a silent default.

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `T`, kept in a text column as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> From<Json<T>> for Value {
    fn from(value: Json<T>) -> Self {
        // Serialising the plain data types kept here (lists of strings and
        // of small structs) cannot fail.
        Value::from(serde_json::to_string(&value.0).unwrap_or_default())
    }
}

impl<T: DeserializeOwned> TryGetable for Json<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, index)?;
        serde_json::from_str(&text)
            .map(Json)
            .map_err(|e| TryGetError::DbErr(DbErr::Type(format!("stored JSON: {e}"))))
    }
}

impl<T: DeserializeOwned> ValueType for Json<T> {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        let text = <String as ValueType>::try_from(value)?;
        serde_json::from_str(&text)
            .map(Json)
            .map_err(|_| ValueTypeErr)
    }

    fn type_name() -> String {
        "Json".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::Text
    }
}

impl<T> Nullable for Json<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

/// A value kept in a text column under its name (a stage, a role, a code's
/// state): written with `Display`, read back with `FromStr`. A stored name
/// that does not parse is a database error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Text<T>(pub T);

impl<T: std::fmt::Display> From<Text<T>> for Value {
    fn from(value: Text<T>) -> Self {
        Value::from(value.0.to_string())
    }
}

impl<T: std::str::FromStr> TryGetable for Text<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, index)?;
        text.parse().map(Text).map_err(|_| {
            TryGetError::DbErr(DbErr::Type(format!("stored name {text:?} is not known")))
        })
    }
}

impl<T: std::str::FromStr> ValueType for Text<T> {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        let text = <String as ValueType>::try_from(value)?;
        text.parse().map(Text).map_err(|_| ValueTypeErr)
    }

    fn type_name() -> String {
        "Text".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::Text
    }
}

impl<T> Nullable for Text<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

/// Read by SQLite's own interface too (see [`crate::store::direct`]).
impl<T: std::str::FromStr> rusqlite::types::FromSql for Text<T> {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        text.parse().map(Text).map_err(|_| {
            rusqlite::types::FromSqlError::Other(format!("unknown name {text:?}").into())
        })
    }
}

impl<T: DeserializeOwned> rusqlite::types::FromSql for Json<T> {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        serde_json::from_str(value.as_str()?)
            .map(Json)
            .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}
