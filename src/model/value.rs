//! What a stored JSON value may be, the same on SQLite and PostgreSQL.
//!
//! - At most [`MAX_VALUE_DEPTH`] nested arrays/objects: deeper values could
//!   not be read back by JSON parsers with the usual recursion limit (128 in
//!   serde_json), so one write would make a memory unreadable.
//! - No NUL (U+0000) in strings or keys: PostgreSQL's `jsonb` cannot hold it.
//! - Numbers are 64-bit integers (kept exactly) or doubles. A number with no
//!   fraction beyond ±2^53 that is not a 64-bit integer is refused: a double
//!   cannot hold every integer there, so it would not read back as written
//!   (integers above 2^64 arrive as doubles). Send such numbers as strings.
use serde_json::Value;

use crate::error::{Error, Result};

/// Nested arrays and objects a stored value may have.
pub const MAX_VALUE_DEPTH: usize = 64;

/// 2^53: above it doubles skip integers.
const EXACT_DOUBLE: f64 = 9_007_199_254_740_992.0;

/// Checks a value without recursion (it may come from any parser).
pub fn check_json(field: &str, value: &Value) -> Result<()> {
    let mut pending: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = pending.pop() {
        match value {
            Value::Array(items) => {
                nested(field, depth)?;
                pending.extend(items.iter().map(|v| (v, depth + 1)));
            }
            Value::Object(map) => {
                nested(field, depth)?;
                for (key, v) in map {
                    no_nul(field, key)?;
                    pending.push((v, depth + 1));
                }
            }
            Value::String(s) => no_nul(field, s)?,
            Value::Number(n) => {
                if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                    && f.fract() == 0.0
                    && f.abs() >= EXACT_DOUBLE
                {
                    return Err(Error::bad_input(
                        field,
                        format!(
                            "the number {n} cannot be stored exactly: integers must fit in \
                             64 bits, and a number without a fraction beyond ±2^53 must be \
                             written as an integer; send larger numbers as strings"
                        ),
                    ));
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }
    Ok(())
}

fn nested(field: &str, depth: usize) -> Result<()> {
    if depth >= MAX_VALUE_DEPTH {
        return Err(Error::bad_input(
            field,
            format!("values may nest arrays and objects at most {MAX_VALUE_DEPTH} levels deep"),
        ));
    }
    Ok(())
}

/// Free text goes to `text` columns, which on PostgreSQL refuse NUL too.
pub fn no_nul(field: &str, text: &str) -> Result<()> {
    if text.contains('\0') {
        return Err(Error::bad_input(
            field,
            "text must not contain the NUL character (U+0000)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn nest(levels: usize) -> Value {
        (0..levels).fold(json!(1), |v, _| json!([v]))
    }

    #[test]
    fn depth_is_bounded_exactly() {
        assert!(check_json("v", &nest(MAX_VALUE_DEPTH)).is_ok());
        assert!(check_json("v", &nest(MAX_VALUE_DEPTH + 1)).is_err());
        assert!(check_json("v", &json!({"a": nest(MAX_VALUE_DEPTH - 1)})).is_ok());
        assert!(check_json("v", &json!({"a": nest(MAX_VALUE_DEPTH)})).is_err());
    }

    #[test]
    fn numbers_that_cannot_be_kept_exactly_are_refused() {
        for ok in [
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1.5),
            json!(1e15),
            json!(-0.0),
        ] {
            assert!(check_json("v", &ok).is_ok(), "{ok}");
        }
        let too_big: Value = serde_json::from_str("18446744073709551616").unwrap();
        for bad in [too_big, json!(1e16), json!(-1e300)] {
            assert!(check_json("v", &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nul_is_refused_in_strings_and_keys() {
        assert!(check_json("v", &json!({"a": ["x\u{0}"]})).is_err());
        assert!(check_json("v", &json!({"a\u{0}": 1})).is_err());
        assert!(check_json("v", &json!("\u{1f600} \u{7f}")).is_ok());
    }
}
