//! The one error catalogue: every error a method or the REST layer can answer, with its
//! Bitrix24 code, HTTP status and exact description (spec/transport.md §9–10).

use serde_json::{Map, Value};
use std::borrow::Cow;

/// An error as Bitrix24 puts it on the wire: `{"error": code, "error_description": text}` + status.
///
/// Handlers return `Result<_, ApiError>`; nothing else writes an error body.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 404 `ERROR_METHOD_NOT_FOUND` `Method not found!`
    MethodNotFound,
    /// 401 `NO_AUTH_FOUND` `Wrong authorization data`
    NoAuthFound,
    /// 401 `INVALID_CREDENTIALS` `Invalid request credentials`
    InvalidCredentials,
    /// 401 `expired_token` `The access token provided has expired`
    ExpiredToken,
    /// 403 `insufficient_scope`; the text names the webhook or the access token.
    InsufficientScope { oauth: bool },
    /// 400 `INVALID_REQUEST` `Https required`
    HttpsRequired,
    /// 503 `QUERY_LIMIT_EXCEEDED` `Too many requests`
    QueryLimitExceeded,
    /// 429 `OPERATION_TIME_LIMIT` `Method is blocked due to operation time limit.`
    OperationTimeLimit,
    /// 500 `INTERNAL_SERVER_ERROR` `Internal server error`
    Internal,
    /// 500 `INTERNAL_WRONG_TRANSPORT` `Wrong transport!`
    WrongTransport,
    /// Legacy CRM method error: `error` is the empty string, HTTP 400 (`Access denied.`, `Not found`, ...).
    Legacy(Cow<'static, str>),
    /// 400 `ERROR_CORE` with a text.
    Core(Cow<'static, str>),
    /// 400 `ERROR_ARGUMENT` with a text and the offending argument name.
    Argument {
        description: Cow<'static, str>,
        argument: Cow<'static, str>,
    },
    /// Any other code: code, description, HTTP status.
    Coded {
        code: Cow<'static, str>,
        description: Cow<'static, str>,
        status: u16,
    },
    /// A request the REST layer refuses before any method runs (body too large, nesting too deep,
    /// invalid UTF-8): 400 `INVALID_REQUEST` with our text.
    BadRequest(Cow<'static, str>),
}

/// Texts used by more than one legacy method, so they are spelled once.
pub mod text {
    pub const ACCESS_DENIED: &str = "Access denied.";
    pub const NOT_FOUND: &str = "Not found";
    pub const ID_NOT_DEFINED: &str = "ID is not defined or invalid.";
    pub const FIELDS_MUST_BE_ARRAY: &str = "Parameter 'fields' must be array.";
    pub const PARAMS_MUST_BE_ARRAY: &str = "Parameter 'params' must be array.";
    pub const ORDER_MUST_BE_ARRAY: &str = "Parameter 'order' must be array.";
    pub const FILTER_MUST_BE_ARRAY: &str = "Parameter 'filter' must be array.";
    pub const LIST_GENERAL_ERROR: &str = "Failed to get list. General error.";
    pub const NESTING_TOO_DEEP: &str = "Request nesting is deeper than 64 levels";
    pub const NOT_UTF8: &str = "Request is not valid UTF-8";
    /// `crm.item.*` (spec/entities.md §6.4).
    pub const ELEMENT_NOT_FOUND: &str = "Element not found";
    pub const SMART_PROCESS_NOT_FOUND: &str = "Smart process not found";
    pub const ITEM_ACCESS_DENIED: &str = "Access denied";
    pub const ITEM_READ_DENIED: &str = "You do not have permission to view this item";
}

impl ApiError {
    pub fn legacy(text: impl Into<Cow<'static, str>>) -> Self {
        ApiError::Legacy(text.into())
    }

    pub fn core(text: impl Into<Cow<'static, str>>) -> Self {
        ApiError::Core(text.into())
    }

    pub fn coded(
        code: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
        status: u16,
    ) -> Self {
        ApiError::Coded {
            code: code.into(),
            description: description.into(),
            status,
        }
    }

    pub fn access_denied() -> Self {
        ApiError::legacy(text::ACCESS_DENIED)
    }

    pub fn not_found() -> Self {
        ApiError::legacy(text::NOT_FOUND)
    }

    pub fn id_not_defined() -> Self {
        ApiError::legacy(text::ID_NOT_DEFINED)
    }

    /// `crm.item.*` and other engine methods: a required parameter is absent (code `100`).
    pub fn missing_parameter(name: &str) -> Self {
        ApiError::coded(
            "100",
            format!("Could not find value for parameter {{{name}}}"),
            400,
        )
    }

    /// Engine methods: a parameter that cannot be bound to its type (`int`, `array`); code `100`
    /// is our decision A10.
    pub fn invalid_parameter_type(value: &str, name: &str, ty: &str) -> Self {
        ApiError::coded(
            "100",
            format!("Invalid value {value} to match with parameter {{{name}}}. Should be value of type {ty}."),
            400,
        )
    }

    /// `crm.item.*`: a scalar given for a multiple field; `ty` is PHP's `gettype` word.
    pub fn expected_iterable(ty: &str) -> Self {
        ApiError::coded(
            "100",
            format!("Expected iterable value for multiple field, but got {ty} instead"),
            400,
        )
    }

    /// `crm.item.*`: an `entityTypeId` this server does not serve.
    pub fn smart_process_not_found() -> Self {
        ApiError::coded("NOT_FOUND", text::SMART_PROCESS_NOT_FOUND, 400)
    }

    /// `crm.item.*` with an entity type the item API refuses (old invoices, `INVOICE`).
    pub fn entity_type_not_supported(type_name: &str) -> Self {
        ApiError::coded(
            "ENTITY_TYPE_NOT_SUPPORTED",
            format!("Entity type {type_name} is not supported"),
            400,
        )
    }

    /// `crm.item.*`: no such item, or one the caller may not read.
    pub fn element_not_found() -> Self {
        ApiError::coded("NOT_FOUND", text::ELEMENT_NOT_FOUND, 400)
    }

    /// `crm.item.*` permission errors; `read` picks the text for reading.
    pub fn item_access_denied(read: bool) -> Self {
        let text = if read {
            text::ITEM_READ_DENIED
        } else {
            text::ITEM_ACCESS_DENIED
        };
        ApiError::coded("ACCESS_DENIED", text, 400)
    }

    /// `crm.item.list` filter/order errors (`INVALID_ARG_VALUE`).
    pub fn invalid_arg_value(text: impl Into<Cow<'static, str>>) -> Self {
        ApiError::coded("INVALID_ARG_VALUE", text, 400)
    }

    /// `crm.item.*`: a value that a field does not accept (e.g. an unknown stage); `title` is
    /// the field's caption.
    pub fn field_value_not_valid(title: &str) -> Self {
        ApiError::coded(
            "CRM_FIELD_ERROR_VALUE_NOT_VALID",
            format!("Invalid value for field \"{title}\""),
            400,
        )
    }

    /// A request whose parameters nest deeper than PHP's `max_input_nesting_level` (64). PHP would
    /// silently drop the variable; we refuse, so a client never sees half its parameters applied.
    pub fn nesting_too_deep() -> Self {
        ApiError::BadRequest(text::NESTING_TOO_DEEP.into())
    }

    /// A request whose decoded parameters are not UTF-8 (we never store or echo broken text).
    pub fn not_utf8() -> Self {
        ApiError::BadRequest(text::NOT_UTF8.into())
    }

    /// The `error` code string.
    pub fn code(&self) -> &str {
        match self {
            ApiError::MethodNotFound => "ERROR_METHOD_NOT_FOUND",
            ApiError::NoAuthFound => "NO_AUTH_FOUND",
            ApiError::InvalidCredentials => "INVALID_CREDENTIALS",
            ApiError::ExpiredToken => "expired_token",
            ApiError::InsufficientScope { .. } => "insufficient_scope",
            ApiError::HttpsRequired => "INVALID_REQUEST",
            ApiError::QueryLimitExceeded => "QUERY_LIMIT_EXCEEDED",
            ApiError::OperationTimeLimit => "OPERATION_TIME_LIMIT",
            ApiError::Internal => "INTERNAL_SERVER_ERROR",
            ApiError::WrongTransport => "INTERNAL_WRONG_TRANSPORT",
            ApiError::Legacy(_) => "",
            ApiError::Core(_) => "ERROR_CORE",
            ApiError::Argument { .. } => "ERROR_ARGUMENT",
            ApiError::Coded { code, .. } => code,
            ApiError::BadRequest(_) => "INVALID_REQUEST",
        }
    }

    /// The `error_description` text, exact.
    pub fn description(&self) -> &str {
        match self {
            ApiError::MethodNotFound => "Method not found!",
            ApiError::NoAuthFound => "Wrong authorization data",
            ApiError::InvalidCredentials => "Invalid request credentials",
            ApiError::ExpiredToken => "The access token provided has expired",
            ApiError::InsufficientScope { oauth: false } => {
                "The request requires higher privileges than provided by the webhook token"
            }
            ApiError::InsufficientScope { oauth: true } => {
                "The request requires higher privileges than provided by the access token"
            }
            ApiError::HttpsRequired => "Https required",
            ApiError::QueryLimitExceeded => "Too many requests",
            ApiError::OperationTimeLimit => "Method is blocked due to operation time limit.",
            ApiError::Internal => "Internal server error",
            ApiError::WrongTransport => "Wrong transport!",
            ApiError::Legacy(t) | ApiError::Core(t) | ApiError::BadRequest(t) => t,
            ApiError::Argument { description, .. } => description,
            ApiError::Coded { description, .. } => description,
        }
    }

    /// The HTTP status our server answers with (spec/transport.md §10, decision (a)).
    pub fn status(&self) -> u16 {
        match self {
            ApiError::MethodNotFound => 404,
            ApiError::NoAuthFound | ApiError::InvalidCredentials | ApiError::ExpiredToken => 401,
            ApiError::InsufficientScope { .. } => 403,
            ApiError::HttpsRequired => 400,
            ApiError::QueryLimitExceeded => 503,
            ApiError::OperationTimeLimit => 429,
            ApiError::Internal | ApiError::WrongTransport => 500,
            ApiError::Legacy(_) | ApiError::Core(_) | ApiError::Argument { .. } => 400,
            ApiError::Coded { status, .. } => *status,
            ApiError::BadRequest(_) => 400,
        }
    }

    /// The error body: `{"error", "error_description"}` plus extra keys (`argument`).
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("error".into(), Value::String(self.code().to_string()));
        m.insert(
            "error_description".into(),
            Value::String(self.description().to_string()),
        );
        if let ApiError::Argument { argument, .. } = self {
            m.insert("argument".into(), Value::String(argument.to_string()));
        }
        Value::Object(m)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status(),
            self.code(),
            self.description()
        )
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_matches_spec() {
        let cases = [
            (
                ApiError::MethodNotFound,
                404,
                "ERROR_METHOD_NOT_FOUND",
                "Method not found!",
            ),
            (
                ApiError::NoAuthFound,
                401,
                "NO_AUTH_FOUND",
                "Wrong authorization data",
            ),
            (
                ApiError::InvalidCredentials,
                401,
                "INVALID_CREDENTIALS",
                "Invalid request credentials",
            ),
            (
                ApiError::ExpiredToken,
                401,
                "expired_token",
                "The access token provided has expired",
            ),
            (
                ApiError::QueryLimitExceeded,
                503,
                "QUERY_LIMIT_EXCEEDED",
                "Too many requests",
            ),
            (
                ApiError::OperationTimeLimit,
                429,
                "OPERATION_TIME_LIMIT",
                "Method is blocked due to operation time limit.",
            ),
            (ApiError::access_denied(), 400, "", "Access denied."),
        ];
        for (e, status, code, text) in cases {
            assert_eq!(e.status(), status);
            assert_eq!(e.code(), code);
            assert_eq!(e.description(), text);
        }
    }

    #[test]
    fn engine_method_errors() {
        let cases = [
            (
                ApiError::missing_parameter("entityTypeId"),
                "100",
                "Could not find value for parameter {entityTypeId}",
            ),
            (
                ApiError::invalid_parameter_type("abc", "id", "int"),
                "100",
                "Invalid value abc to match with parameter {id}. Should be value of type int.",
            ),
            (
                ApiError::expected_iterable("integer"),
                "100",
                "Expected iterable value for multiple field, but got integer instead",
            ),
            (
                ApiError::smart_process_not_found(),
                "NOT_FOUND",
                "Smart process not found",
            ),
            (
                ApiError::element_not_found(),
                "NOT_FOUND",
                "Element not found",
            ),
            (
                ApiError::field_value_not_valid("Stage"),
                "CRM_FIELD_ERROR_VALUE_NOT_VALID",
                "Invalid value for field \"Stage\"",
            ),
        ];
        for (e, code, text) in cases {
            assert_eq!((e.status(), e.code(), e.description()), (400, code, text));
        }
    }

    #[test]
    fn argument_error_carries_argument_key() {
        let e = ApiError::Argument {
            description: "bad".into(),
            argument: "filter".into(),
        };
        assert_eq!(
            e.body(),
            serde_json::json!({"error":"ERROR_ARGUMENT","error_description":"bad","argument":"filter"})
        );
    }
}
