//! The portal's users as REST shows them (`user.current`, `user.get`; system-methods.md §1.1,
//! b24restdocs `api-reference/user/user-get.md`): the record shape and `user.get`'s filter, sort
//! and paging over the (small) user list, evaluated in memory with the legacy filter grammar.

use crate::dates;
use crate::engine::{page_window, PAGE_SIZE};
use crate::eval::{self, RowAccess};
use crate::field::{FieldDef, FieldKind as K};
use crate::filter;
use crate::query::{Col, Cond, DbValue};
use crate::wire;
use crate::PortalSettings;
use bx_wire::{names, ApiError, Output, Params};
use chrono::{Offset, TimeZone};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

/// A user of the portal, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalUser {
    pub id: i64,
    pub name: String,
    pub last_name: String,
    pub email: String,
    pub active: bool,
    /// Unix seconds.
    pub date_register: i64,
    pub last_login: Option<i64>,
}

/// Every user belongs to the one department our portals have (the company itself).
const DEPARTMENT: i64 = 1;

/// The filterable and sortable keys of `user.get` (the fields of its output).
static USER_FIELDS: &[FieldDef] = &[
    FieldDef::new("ID", K::Integer, "ID", "id"),
    FieldDef::new("ACTIVE", K::Char, "Active", "active"),
    FieldDef::new("NAME", K::String, "First name", "name"),
    FieldDef::new("LAST_NAME", K::String, "Last name", "last_name"),
    FieldDef::new("SECOND_NAME", K::String, "Second name", "second_name"),
    FieldDef::new("EMAIL", K::String, "E-mail", "email"),
    FieldDef::new("LAST_LOGIN", K::DateTime, "Last login", "last_login"),
    FieldDef::new("DATE_REGISTER", K::DateTime, "Registered", "date_register"),
    FieldDef::new("IS_ONLINE", K::Char, "Online", "is_online"),
    FieldDef::new("TIMESTAMP_X", K::DateTime, "Modified", "timestamp_x"),
    FieldDef::new(
        "LAST_ACTIVITY_DATE",
        K::DateTime,
        "Last activity",
        "last_activity_date",
    ),
    FieldDef::new("PERSONAL_GENDER", K::String, "Gender", "personal_gender"),
    FieldDef::new(
        "PERSONAL_BIRTHDAY",
        K::Date,
        "Birthday",
        "personal_birthday",
    ),
    FieldDef::new("WORK_POSITION", K::String, "Position", "work_position"),
    FieldDef::new("UF_DEPARTMENT", K::Integer, "Departments", "uf_department"),
    FieldDef::new("USER_TYPE", K::String, "User type", "user_type"),
];

/// Top-level parameters of `user.get` that are not filter keys when there is no `FILTER`.
const NOT_FILTER_KEYS: [&str; 6] = [
    "sort",
    "order",
    "start",
    "select",
    "admin_mode",
    "image_resize",
];

impl PortalUser {
    /// When the user was last seen: the last login, or registration for one who never logged in.
    fn last_seen(&self) -> i64 {
        self.last_login.unwrap_or(self.date_register)
    }
}

/// A row view of a user for the filter evaluator; `online` tells whether this is the caller.
struct UserRow<'a> {
    user: &'a PortalUser,
    online: bool,
}

impl RowAccess for UserRow<'_> {
    fn value(&self, col: &Col) -> DbValue {
        let u = self.user;
        let text = |s: &str| DbValue::Text(s.to_string());
        let flag = |b: bool| text(if b { "Y" } else { "N" });
        match col {
            Col::Column("id") => DbValue::Int(u.id),
            Col::Column("active") => flag(u.active),
            Col::Column("name") => text(&u.name),
            Col::Column("last_name") => text(&u.last_name),
            Col::Column("email") => text(&u.email),
            Col::Column("last_login" | "last_activity_date") => DbValue::Int(u.last_seen()),
            Col::Column("date_register" | "timestamp_x") => DbValue::Int(u.date_register),
            Col::Column("is_online") => flag(self.online),
            Col::Column("uf_department") => DbValue::Int(DEPARTMENT),
            Col::Column("user_type") => text("employee"),
            Col::Column(
                "second_name" | "personal_gender" | "personal_birthday" | "work_position",
            ) => text(""),
            _ => DbValue::Null,
        }
    }

    fn multifield_values(&self, _type_id: &str) -> Vec<String> {
        vec![]
    }
}

/// Local wall time of `ts` in the portal zone, in a PHP date format.
fn local(ts: i64, tz: chrono_tz::Tz, fmt: &str) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| {
            let offset = tz.offset_from_utc_datetime(&d.naive_utc()).fix();
            d.with_timezone(&offset).format(fmt).to_string()
        })
        .unwrap_or_default()
}

/// The `user.current` record (system-methods.md §1.1), with its mixed date formats: `LAST_LOGIN`
/// ISO, `DATE_REGISTER` a date (midnight), `TIMESTAMP_X` `DD.MM.YYYY HH:MM:SS`,
/// `LAST_ACTIVITY_DATE` `YYYY-MM-DD HH:MM:SS`. `online`: `IS_ONLINE` (the caller is online).
pub fn format(u: &PortalUser, settings: &PortalSettings, online: bool) -> Value {
    let tz = settings.time_zone;
    let registered = local(u.date_register, tz, "%Y-%m-%d");
    json!({
        "ID": u.id.to_string(),
        "ACTIVE": u.active,
        "NAME": u.name,
        "LAST_NAME": u.last_name,
        "EMAIL": u.email,
        "LAST_LOGIN": dates::format_datetime(u.last_seen(), tz),
        "DATE_REGISTER": dates::format_date(&registered, tz),
        "IS_ONLINE": if online { "Y" } else { "N" },
        "TIMESTAMP_X": local(u.date_register, tz, "%d.%m.%Y %H:%M:%S"),
        "LAST_ACTIVITY_DATE": local(u.last_seen(), tz, "%Y-%m-%d %H:%M:%S"),
        "PERSONAL_GENDER": "",
        "PERSONAL_BIRTHDAY": "",
        "WORK_POSITION": "",
        "UF_EMPLOYMENT_DATE": "",
        "UF_DEPARTMENT": [DEPARTMENT],
    })
}

/// A `user.get` record: the `user.current` shape plus `USER_TYPE` (docs example).
fn format_listed(u: &PortalUser, settings: &PortalSettings, online: bool) -> Value {
    let mut v = format(u, settings, online);
    if let Value::Object(m) = &mut v {
        m.insert("USER_TYPE".into(), json!("employee"));
    }
    v
}

/// The filter of `user.get`: `FILTER`/`filter` (legacy spellings), or else the top-level
/// parameters themselves (`user.get?ID=5`, as the docs' examples and many scripts send it).
fn filter_source(params: &Params) -> Value {
    if let Some(f) = wire::legacy(params, "filter") {
        return f.clone();
    }
    let rest: Map<String, Value> = params
        .iter()
        .filter(|(k, _)| !NOT_FILTER_KEYS.iter().any(|n| k.eq_ignore_ascii_case(n)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(rest)
}

/// `user.get` takes a plain key with `%` in a string value as a LIKE pattern (docs example
/// `{"NAME": "Iv%"}`), where the CRM grammar would compare exactly; `NAME_SEARCH` is a
/// substring search over the name and e-mail.
fn build_filter(source: &Value, settings: &PortalSettings, now: i64) -> Cond {
    let mut rewritten = Map::new();
    let mut extra = Vec::new();
    for (key, value) in wire::php_entries(source).unwrap_or_default() {
        let (neg, field) = match key.strip_prefix('!') {
            Some(f) => ("!", f),
            None => ("", key.as_str()),
        };
        if field == "NAME_SEARCH" {
            let needle = wire::strval(value).unwrap_or_default();
            let needle = needle.trim();
            if !needle.is_empty() {
                let pattern = format!("%{}%", filter::escape_like(needle));
                let any = Cond::Or(
                    ["name", "last_name", "email"]
                        .into_iter()
                        .map(|c| Cond::Like {
                            col: Col::Column(c),
                            pattern: pattern.clone(),
                            ci: true,
                        })
                        .collect(),
                );
                extra.push(if neg.is_empty() {
                    any
                } else {
                    Cond::Not(Box::new(any))
                });
            }
            continue;
        }
        let plain = field.starts_with(|c: char| c.is_ascii_alphabetic());
        let key = match value.as_str() {
            Some(s) if plain && s.contains('%') => format!("{neg}=%{field}"),
            _ => key.clone(),
        };
        rewritten.insert(key, value.clone());
    }
    let parsed = filter::parse_legacy_filter(
        USER_FIELDS,
        &[],
        &Value::Object(rewritten),
        settings.time_zone,
        now,
    );
    if !parsed.dropped.is_empty() || !parsed.notes.is_empty() {
        tracing::warn!(method = "user.get", dropped = ?parsed.dropped, notes = ?parsed.notes, "user filter: keys dropped or reinterpreted");
    }
    extra.push(parsed.cond);
    Cond::all(extra)
}

/// The sort of `user.get`: `sort` names the field and `order` the direction; an `order` object
/// `{"ID": "ASC"}` (what fast_bitrix24's `get_all` sends) names both. Default `ID` ascending.
fn sort_key(params: &Params) -> (&'static str, bool) {
    let is_desc =
        |v: &Value| wire::strval(v).is_some_and(|d| d.trim().eq_ignore_ascii_case("DESC"));
    let column_of = |name: &str| {
        USER_FIELDS
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name.trim()))
            .and_then(|f| f.column)
    };
    let order = names::scalar(params, "order");
    if let Some((name, dir)) = order
        .and_then(wire::php_entries)
        .and_then(|e| e.into_iter().next())
    {
        if let Some(column) = column_of(&name) {
            return (column, is_desc(dir));
        }
    }
    let column = names::scalar(params, "sort")
        .and_then(wire::strval)
        .and_then(|s| column_of(&s))
        .unwrap_or("id");
    let desc = order.is_some_and(|o| !wire::is_php_array(o) && is_desc(o));
    (column, desc)
}

/// `select`: the keys to keep (`*` all, `UF_*` the user fields); `None` keeps everything.
fn selection(params: &Params) -> Option<Vec<String>> {
    let list: Vec<String> = wire::legacy(params, "select")
        .and_then(wire::php_values)?
        .into_iter()
        .filter_map(wire::strval)
        .collect();
    if list.is_empty() || list.iter().any(|s| s == "*") {
        return None;
    }
    Some(list)
}

fn keep_selected(record: Value, select: &[String]) -> Value {
    match record {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| {
                    select
                        .iter()
                        .any(|s| s == k || (s == "UF_*" && k.starts_with("UF_")))
                })
                .collect(),
        ),
        other => other,
    }
}

/// `user.get`: one page of 50 users with `total` and `next`; `caller` is online.
pub fn list(
    users: &[PortalUser],
    caller: i64,
    settings: &PortalSettings,
    now: i64,
    params: &Params,
) -> Result<Output, ApiError> {
    let cond = build_filter(&filter_source(params), settings, now);
    let row = |u| UserRow {
        user: u,
        online: u.id == caller,
    };
    let mut matching: Vec<&PortalUser> = users
        .iter()
        .filter(|u| eval::matches(&cond, &row(u)))
        .collect();
    let (column, desc) = sort_key(params);
    matching.sort_by(|a, b| {
        let col = Col::Column(column);
        let ord = eval::sort_cmp(&row(a).value(&col), &row(b).value(&col));
        let ord = if desc { ord.reverse() } else { ord };
        if ord == Ordering::Equal {
            a.id.cmp(&b.id)
        } else {
            ord
        }
    });
    let (offset, count) = page_window(wire::start(params));
    let total = matching.len() as i64;
    let select = selection(params);
    let page: Vec<Value> = matching
        .iter()
        .skip(offset as usize)
        .take(PAGE_SIZE as usize)
        .map(|u| {
            let record = format_listed(u, settings, u.id == caller);
            match &select {
                Some(s) => keep_selected(record, s),
                None => record,
            }
        })
        .collect();
    let next = (count && offset.saturating_add(PAGE_SIZE) < total).then(|| offset + PAGE_SIZE);
    Ok(Output::list(
        Value::Array(page),
        if count { total } else { 0 },
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PortalSettings {
        PortalSettings {
            time_zone: chrono_tz::Europe::Berlin,
            currency: "USD".into(),
        }
    }

    fn user(id: i64, name: &str, last: &str, active: bool) -> PortalUser {
        PortalUser {
            id,
            name: name.into(),
            last_name: last.into(),
            email: format!("{}@example.com", name.to_lowercase()),
            active,
            // 2024-07-22 10:00:00 UTC
            date_register: 1_721_642_400,
            last_login: Some(1_721_723_246),
        }
    }

    fn params(v: Value) -> Params {
        v.as_object().cloned().unwrap()
    }

    fn ids(out: &Output) -> Vec<String> {
        out.result
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["ID"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn record_shape_and_date_formats() {
        let got = format(&user(3, "John", "Smith", true), &settings(), true);
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            r#"{"ID":"3","ACTIVE":true,"NAME":"John","LAST_NAME":"Smith","EMAIL":"john@example.com","LAST_LOGIN":"2024-07-23T10:27:26+02:00","DATE_REGISTER":"2024-07-22T02:00:00+02:00","IS_ONLINE":"Y","TIMESTAMP_X":"22.07.2024 12:00:00","LAST_ACTIVITY_DATE":"2024-07-23 10:27:26","PERSONAL_GENDER":"","PERSONAL_BIRTHDAY":"","WORK_POSITION":"","UF_EMPLOYMENT_DATE":"","UF_DEPARTMENT":[1]}"#
        );
    }

    #[test]
    fn filters_sorts_and_pages() {
        let users = vec![
            user(1, "Ann", "Zed", true),
            user(2, "Ivan", "Petrov", true),
            user(3, "Ivy", "Adams", false),
        ];
        let s = settings();
        let run = |p: Value| list(&users, 1, &s, 0, &params(p)).unwrap();
        assert_eq!(ids(&run(json!({}))), ["1", "2", "3"]);
        assert_eq!(run(json!({})).total, Some(3));
        assert_eq!(ids(&run(json!({"ID": 2}))), ["2"]);
        assert_eq!(ids(&run(json!({"filter": {"ID": "3"}}))), ["3"]);
        assert_eq!(ids(&run(json!({"FILTER": {"@ID": [1, 3]}}))), ["1", "3"]);
        assert_eq!(ids(&run(json!({"filter": {"NAME": "Iv%"}}))), ["2", "3"]);
        assert_eq!(ids(&run(json!({"filter": {"!NAME": "Iv%"}}))), ["1"]);
        assert_eq!(ids(&run(json!({"filter": {"%LAST_NAME": "ad"}}))), ["3"]);
        assert_eq!(ids(&run(json!({"filter": {"ACTIVE": true}}))), ["1", "2"]);
        assert_eq!(ids(&run(json!({"filter": {"NAME_SEARCH": "petr"}}))), ["2"]);
        assert_eq!(ids(&run(json!({"filter": {"IS_ONLINE": "Y"}}))), ["1"]);
        assert_eq!(
            ids(&run(
                json!({"UF_DEPARTMENT": 1, "SORT": "LAST_NAME", "ORDER": "asc"})
            )),
            ["3", "2", "1"]
        );
        assert_eq!(
            ids(&run(json!({"sort": "NAME", "order": "DESC"}))),
            ["3", "2", "1"]
        );
        assert_eq!(ids(&run(json!({"order": {"ID": "DESC"}}))), ["3", "2", "1"]);
        let selected = run(json!({"ID": 1, "select": ["ID", "NAME", "UF_*"]}));
        assert_eq!(
            selected.result[0],
            json!({"ID": "1", "NAME": "Ann", "UF_EMPLOYMENT_DATE": "", "UF_DEPARTMENT": [1]})
        );
        assert_eq!(run(json!({})).result[0]["USER_TYPE"], "employee");
        assert_eq!(run(json!({})).result[1]["IS_ONLINE"], "N");
    }

    #[test]
    fn huge_start_is_an_empty_page() {
        let users = vec![user(1, "A", "B", true)];
        let out = list(
            &users,
            1,
            &settings(),
            0,
            &params(json!({"start": i64::MAX})),
        )
        .unwrap();
        assert_eq!(
            (out.result, out.total, out.next),
            (json!([]), Some(1), None)
        );
    }

    #[test]
    fn pages_of_fifty() {
        let users: Vec<PortalUser> = (1..=120).map(|i| user(i, "U", "V", true)).collect();
        let s = settings();
        let out = list(&users, 1, &s, 0, &params(json!({"start": 50}))).unwrap();
        assert_eq!(out.result.as_array().unwrap().len(), 50);
        assert_eq!((out.total, out.next), (Some(120), Some(100)));
        assert_eq!(out.result[0]["ID"], "51");
        let last = list(&users, 1, &s, 0, &params(json!({"start": 100}))).unwrap();
        assert_eq!((last.total, last.next), (Some(120), None));
        assert_eq!(last.result.as_array().unwrap().len(), 20);
    }
}
