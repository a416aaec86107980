//! Pipelines (`crm.category.list`, system-methods.md §4): our portals have one deal pipeline, the
//! general one (id 0); engine-style parameters and errors.

use crate::entity::EntityKind;
use bx_wire::{php, ApiError, Output, Params};
use serde_json::{json, Value};

/// The general deal pipeline every portal has.
fn general(entity_type_id: i64) -> Value {
    json!({"id": 0, "name": "General", "sort": 300, "entityTypeId": entity_type_id, "isDefault": "Y"})
}

/// `crm.category.list` with the exact parameter `entityTypeId` (engine names are exact,
/// transport.md §6): deals have the general pipeline; the other CRM types have none here
/// (`ENTITY_TYPE_NOT_SUPPORTED`), and any other id is an unknown smart process (`NOT_FOUND`).
pub fn list(params: &Params) -> Result<Output, ApiError> {
    let Some(raw) = params.get("entityTypeId").filter(|v| !v.is_null()) else {
        return Err(ApiError::coded(
            "100",
            "Could not find value for parameter {entityTypeId}",
            400,
        ));
    };
    let id = match raw {
        Value::Array(_) | Value::Object(_) => 0,
        v => php::intval(v),
    };
    match EntityKind::from_entity_type_id(id) {
        Some(EntityKind::Deal) => Ok(Output::list(json!({"categories": [general(id)]}), 1, None)),
        Some(kind) => Err(ApiError::coded(
            "ENTITY_TYPE_NOT_SUPPORTED",
            format!("Entity type `{}` is not supported", kind.code()),
            400,
        )),
        None if id == 5 => Err(ApiError::coded(
            "ENTITY_TYPE_NOT_SUPPORTED",
            "Entity type `INVOICE` is not supported",
            400,
        )),
        None => Err(ApiError::coded("NOT_FOUND", "Smart process not found", 400)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Params {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn deals_have_the_general_pipeline() {
        let out = list(&params(json!({"entityTypeId": "2"}))).unwrap();
        assert_eq!(
            serde_json::to_string(&out.result).unwrap(),
            r#"{"categories":[{"id":0,"name":"General","sort":300,"entityTypeId":2,"isDefault":"Y"}]}"#
        );
        assert_eq!(out.total, Some(1));
    }

    #[test]
    fn errors() {
        let e = list(&params(json!({}))).unwrap_err();
        assert_eq!(
            (e.code(), e.description()),
            ("100", "Could not find value for parameter {entityTypeId}")
        );
        let e = list(&params(json!({"entitytypeid": 2}))).unwrap_err();
        assert_eq!(e.code(), "100");
        let e = list(&params(json!({"entityTypeId": 1}))).unwrap_err();
        assert_eq!(
            (e.code(), e.description()),
            (
                "ENTITY_TYPE_NOT_SUPPORTED",
                "Entity type `LEAD` is not supported"
            )
        );
        let e = list(&params(json!({"entityTypeId": 1038}))).unwrap_err();
        assert_eq!(
            (e.code(), e.description(), e.status()),
            ("NOT_FOUND", "Smart process not found", 400)
        );
    }
}
