//! Parameter-name case rules (spec/transport.md §6): there is no global case folding, each
//! family of parameters accepts its own set of spellings, and these functions are those sets.

use serde_json::Value;

use crate::php;
use crate::Params;

/// Legacy CRM array parameters (`fields`, `params`, `order`, `filter`, `select`, `rows`,
/// `items`): exact, `UPPER`, `lower`, `Capitalized`, then Hungarian `ar` + `Capitalized`
/// (`arFields`).
pub fn legacy<'a>(p: &'a Params, name: &str) -> Option<&'a Value> {
    let cap = capitalized(name);
    let ar = format!("ar{cap}");
    first_present(
        p,
        &[
            name,
            &name.to_ascii_uppercase(),
            &name.to_ascii_lowercase(),
            &cap,
            &ar,
        ],
    )
}

/// Legacy scalar parameters (`type`, `entityId`, …): exact, `lower`, `UPPER`, `Capitalized`.
pub fn scalar<'a>(p: &'a Params, name: &str) -> Option<&'a Value> {
    first_present(
        p,
        &[
            name,
            &name.to_ascii_lowercase(),
            &name.to_ascii_uppercase(),
            &capitalized(name),
        ],
    )
}

/// Any spelling (ASCII case-insensitive): `batch`'s `cmd`/`halt`, `scope`, `event.bind`, ….
/// An exact match wins; otherwise the first match in request order.
pub fn any_case<'a>(p: &'a Params, name: &str) -> Option<&'a Value> {
    p.get(name).or_else(|| {
        p.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Legacy `id`: only `ID` or `id`; `Id` is deliberately not accepted (Bitrix answers
/// `ID is not defined or invalid.`).
pub fn id(p: &Params) -> Option<&Value> {
    p.get("ID").or_else(|| p.get("id"))
}

/// The pagination offset: exact lowercase `start` only (`START` is ignored). Missing, empty or
/// non-numeric is 0; `-1` (skip counting) is kept; any other negative is 0.
pub fn start(p: &Params) -> i64 {
    let n = match p.get("start") {
        // An array is not a number, although PHP's intval would call a non-empty one 1.
        None | Some(Value::Array(_) | Value::Object(_)) => 0,
        Some(v) => php::intval(v),
    };
    match n {
        -1 => -1,
        n if n < 0 => 0,
        n => n,
    }
}

fn first_present<'a>(p: &'a Params, candidates: &[&str]) -> Option<&'a Value> {
    candidates.iter().find_map(|n| p.get(*n))
}

/// PHP `ucfirst(strtolower($name))`: `fields` → `Fields`, `entityId` → `Entityid`.
fn capitalized(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn legacy_spellings() {
        for key in ["fields", "FIELDS", "Fields", "arFields"] {
            let p = params(json!({ key: {"TITLE": "x"} }));
            assert_eq!(legacy(&p, "fields"), Some(&json!({"TITLE": "x"})), "{key}");
        }
        for key in ["fIelds", "ARFIELDS", "arfields", "field"] {
            assert_eq!(legacy(&params(json!({ key: 1 })), "fields"), None, "{key}");
        }
        // Priority: exact first, then UPPER, lower, Capitalized, arCapitalized.
        let p = params(json!({"arFilter": 5, "Filter": 4, "filter": 3, "FILTER": 2}));
        assert_eq!(legacy(&p, "filter"), Some(&json!(3)));
        assert_eq!(legacy(&p, "Filter"), Some(&json!(4)));
        assert_eq!(legacy(&p, "select"), None);
        let p = params(json!({"arFilter": 5, "Filter": 4, "FILTER": 2}));
        assert_eq!(legacy(&p, "filter"), Some(&json!(2)));
        let p = params(json!({"arFilter": 5, "Filter": 4}));
        assert_eq!(legacy(&p, "filter"), Some(&json!(4)));
        assert_eq!(
            legacy(&params(json!({"arOrder": 1})), "order"),
            Some(&json!(1))
        );
    }

    #[test]
    fn scalar_spellings() {
        for key in ["entityId", "entityid", "ENTITYID", "Entityid"] {
            assert_eq!(
                scalar(&params(json!({ key: 7 })), "entityId"),
                Some(&json!(7)),
                "{key}"
            );
        }
        assert_eq!(scalar(&params(json!({"arEntityid": 7})), "entityId"), None);
        assert_eq!(
            scalar(&params(json!({"TYPE": "x", "type": "y"})), "type"),
            Some(&json!("y"))
        );
        assert_eq!(
            scalar(&params(json!({"Type": "x", "TYPE": "y"})), "type"),
            Some(&json!("y"))
        );
    }

    #[test]
    fn any_case_spellings() {
        for key in ["cmd", "CMD", "Cmd", "cMd"] {
            assert_eq!(
                any_case(&params(json!({ key: 1 })), "cmd"),
                Some(&json!(1)),
                "{key}"
            );
        }
        assert_eq!(
            any_case(&params(json!({"CMD": 1, "cmd": 2})), "cmd"),
            Some(&json!(2))
        );
        assert_eq!(
            any_case(&params(json!({"Halt": 1, "HALT": 2})), "halt"),
            Some(&json!(1))
        );
        assert_eq!(any_case(&params(json!({"cmds": 1})), "cmd"), None);
    }

    #[test]
    fn id_spellings() {
        assert_eq!(id(&params(json!({"ID": "5"}))), Some(&json!("5")));
        assert_eq!(id(&params(json!({"id": 6}))), Some(&json!(6)));
        assert_eq!(id(&params(json!({"ID": 1, "id": 2}))), Some(&json!(1)));
        assert_eq!(id(&params(json!({"Id": 5}))), None);
        assert_eq!(id(&params(json!({"iD": 5}))), None);
    }

    #[test]
    fn start_offsets() {
        let cases = [
            (json!({}), 0),
            (json!({"start": "50"}), 50),
            (json!({"start": 100}), 100),
            (json!({"start": ""}), 0),
            (json!({"start": "abc"}), 0),
            (json!({"start": "75abc"}), 75),
            (json!({"start": " 50"}), 50),
            (json!({"start": "-1"}), -1),
            (json!({"start": -1}), -1),
            (json!({"start": "-2"}), 0),
            (json!({"start": -50}), 0),
            (json!({"start": "1e2"}), 100),
            (json!({"start": 50.7}), 50),
            (json!({"start": null}), 0),
            (json!({"start": ["50"]}), 0),
            (json!({"START": "50"}), 0),
            (json!({"Start": "50"}), 0),
        ];
        for (p, want) in cases {
            assert_eq!(start(&params(p.clone())), want, "{p}");
        }
    }
}
