//! Bitrix24 REST v2 on the wire: PHP `parse_str`-faithful decoding, the parameter set built from
//! query + body, the success envelope with `time`, PHP-array JSON shapes, and the error catalogue.
//! No I/O, and nothing about what a lead is.

pub mod batch;
pub mod envelope;
pub mod error;
pub mod names;
pub mod php;
pub mod request;
pub mod xml;

pub use error::ApiError;

/// The parameter set of one call: a JSON-like tree, insertion order kept.
pub type Params = serde_json::Map<String, serde_json::Value>;

/// What a method answers on success: `result`, plus `total`/`next` for list methods.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub result: serde_json::Value,
    pub total: Option<i64>,
    pub next: Option<i64>,
}

impl Output {
    pub fn list(result: serde_json::Value, total: i64, next: Option<i64>) -> Self {
        Output {
            result,
            total: Some(total),
            next,
        }
    }
}

impl From<serde_json::Value> for Output {
    fn from(result: serde_json::Value) -> Self {
        Output {
            result,
            total: None,
            next: None,
        }
    }
}
