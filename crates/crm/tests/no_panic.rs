//! Hostile input never panics: arbitrary JSON through the filter, select/order, input
//! normalisation, date parsing, HTML clean-up, the engine's list/add/update/get with a user field
//! of every type, the userfield methods, the dictionary, card layout, duplicate and user methods,
//! and Sales Intelligence (TRACE parsing, channel groups and rules, the tracking, source and
//! channel rule methods).

mod support;

use bx_wire::Params;
use crm::input::Mode;
use crm::userfield::{self, EnumItem, UserField, UserType};
use crm::{engine, Actor, Ctx, EntityKind, PortalSettings, Rights};
use proptest::prelude::*;
use serde_json::{Map, Value};
use support::MemStore;

/// Keys that hit the interesting paths: real fields with every prefix, multifields, user
/// fields, and junk.
fn key() -> impl Strategy<Value = String> {
    let prefixes = prop::sample::select(vec![
        "", "!", "+", "!+", ">=", ">", "<=", "<", "@", "=%", "%=", "%", "?", "*=", "*%", "*", "=",
        "!@", "!=", "!%", "!=%", "!%=", "><", "!><",
    ]);
    let fields = prop::sample::select(vec![
        "ID",
        "TITLE",
        "STATUS_ID",
        "OPPORTUNITY",
        "DATE_CREATE",
        "BIRTHDATE",
        "OPENED",
        "COMPANY_ID",
        "CONTACT_IDS",
        "PHONE",
        "EMAIL",
        "LINK",
        "UF_CRM_X",
        "UF_CRM_STRING",
        "UF_CRM_INTEGER",
        "UF_CRM_DOUBLE",
        "UF_CRM_BOOLEAN",
        "UF_CRM_DATETIME",
        "UF_CRM_DATE",
        "UF_CRM_MONEY",
        "UF_CRM_ENUMERATION",
        "UF_CRM_ENUMERATION_M",
        "UF_CRM_FILE",
        "UF_CRM_FILE_M",
        "UF_CRM_CRM",
        "UF_CRM_EMPLOYEE_M",
        "UF_CRM_CRM_STATUS",
        "fileData",
        "FIELD_NAME",
        "USER_TYPE_ID",
        "LIST",
        "SETTINGS",
        "LANG",
        "CURRENCY_ID",
        "COMMENTS",
        "ASSIGNED_BY_ID",
        "UTM_SOURCE",
        "TRACE",
        "fields",
        "",
    ]);
    prop_oneof![
        4 => (prefixes, fields).prop_map(|(p, f)| format!("{p}{f}")),
        1 => "\\PC{0,12}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "",
            "0",
            "Y",
            "n",
            "NOW",
            "2024-02-30",
            "2024-05-23T18:18:25+02:00",
            "2024-01-01 25:61:61",
            "@99999999999999",
            "<script>x</script>",
            "%_\\",
            "JUNK",
            "usd",
            "1e400",
            "-1",
            "٢٠٢٤-٠١-٠١",
            "9999-12-31T23:59:59-23:59",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        "\\PC{0,16}".prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A lead user field of every type (the enumerations with options 1 and 2; `_M` multiple).
fn user_fields() -> Vec<UserField> {
    let mut out = Vec::new();
    for (i, ty) in UserType::ALL.into_iter().enumerate() {
        for multiple in [false, true] {
            let suffix = if multiple { "_M" } else { "" };
            let name = format!("UF_CRM_{}{suffix}", ty.id().to_ascii_uppercase());
            let mut uf = UserField::new("CRM_LEAD", &name, ty);
            uf.id = (i * 2 + usize::from(multiple) + 100) as i64;
            uf.multiple = multiple && ty != UserType::Boolean;
            if ty == UserType::Enumeration {
                uf.items = vec![
                    EnumItem {
                        id: 1,
                        value: "a".into(),
                        sort: 1,
                        def: true,
                        xml_id: "a".into(),
                    },
                    EnumItem {
                        id: 2,
                        value: "b".into(),
                        sort: 2,
                        def: false,
                        xml_id: "b".into(),
                    },
                ];
            }
            out.push(uf);
        }
    }
    out
}

fn params() -> impl Strategy<Value = Params> {
    let names = prop::sample::select(vec![
        "fields",
        "FIELDS",
        "filter",
        "order",
        "select",
        "params",
        "start",
        "id",
        "ID",
        "FIELD_NAME",
        "USER_TYPE_ID",
    ]);
    prop::collection::vec((names, json()), 0..6)
        .prop_map(|kv| kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Parameters of the status, card, duplicate, category, currency and user methods.
fn system_params() -> impl Strategy<Value = Params> {
    let names = prop::sample::select(vec![
        "fields",
        "id",
        "ID",
        "params",
        "data",
        "extras",
        "scope",
        "userId",
        "type",
        "values",
        "entity_type",
        "entityTypeId",
        "order",
        "sort",
        "filter",
        "FILTER",
        "start",
        "select",
        "NAME",
        "ID",
    ]);
    prop::collection::vec((names, json()), 0..6)
        .prop_map(|kv| kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Keys of trace JSON (both forms), of the tracking methods' parameters and of source fields.
fn trace_key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "url", "ref", "device", "isMobile", "tags", "ts", "list", "gclid", "utm_source", "utm_medium",
            "utm_campaign", "client", "pages", "gid", "previous", "channels", "code", "value", "order",
            "SOURCE_ID", "SOURCE_DESC", "PAGES", "URL", "DATE", "0", "1", "2", "TRACE", "ENTITIES", "TYPE",
            "ID", "id", "entityTypeId", "fields", "NAME", "CODE", "ACTIVE", "UTM_SOURCE", "REF_DOMAIN",
            "PHONE", "EMAIL", "REGEXP", "CHANNEL_GROUP", "SORT", "UTM_MEDIUM", "UTM_CAMPAIGN",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ]
}

fn trace_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => scalar(),
        2 => prop::sample::select(vec![
            "LEAD", "DEAL", "CONTACT", "1", "https://www.facebook.com/x?fbclid=1", "http://[::1]:99/",
            "google", "fb", "(", "^a+$", "site", "call", "rest", "{\"tags\":{\"list\":{\"utm_source\":\"vk\"}}}",
            "1c-b24-standalone-x", "//", "mailto:x@y", "affiliates", "paid_search", "-7",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn trace_json() -> impl Strategy<Value = Value> {
    trace_scalar().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((trace_key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn trace_params() -> impl Strategy<Value = Params> {
    prop::collection::vec((trace_key(), trace_json()), 0..6).prop_map(|kv| kv.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn trace_parsing_never_panics(v in trace_json(), s in "\\PC{0,40}") {
        use crm::tracking::{channel, parse};
        for candidate in [v.clone(), Value::String(v.to_string()), Value::String(s.clone())] {
            if let Ok((doc, _)) = parse::decode(Some(&candidate)) {
                let _ = parse::parse(&doc);
            }
        }
        let _ = crm::tracking::host_of(&s);
        let input = channel::ChannelInput {
            utm_source: Some(s.clone()),
            utm_medium: Some(s.clone()),
            utm_campaign: Some(s.clone()),
            referrer_host: Some(s.clone()),
            ..Default::default()
        }
        .with_landing_url(Some(&s));
        let _ = channel::classify(&input);
        let rule = channel::ChannelRule {
            id: 1,
            utm_source: vec![crm::tracking::MatchValue::regexp(&s)],
            utm_medium: vec![crm::tracking::MatchValue::plain(&s)],
            ref_domain: vec![crm::tracking::MatchValue::plain(&s)],
            ..Default::default()
        };
        let _ = channel::classify_with_rules(&channel::ChannelRules::new(&[rule]), &input);
    }

    #[test]
    fn tracking_methods_never_panic(p in trace_params()) {
        use crm::tracking::{channel_rules, service, sources};
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let mut store = MemStore::seeded().with_sources(1);
        let actor = Actor { portal_id: 1, user_id: 1, rights: Rights::admin() };
        let settings = PortalSettings { time_zone: chrono_tz::Europe::Berlin, currency: "USD".into() };
        rt.block_on(async {
            let ctx = Ctx { actor: &actor, settings: &settings, now: 1_716_481_105 };
            let mut fields = Map::new();
            fields.insert("fields".into(), Value::Object(p.clone()));
            let _ = engine::add(&mut store, &ctx, EntityKind::Lead, &fields).await;
            let _ = service::trace_add(&mut store, &ctx, &p).await;
            let _ = service::entity_get(&mut store, &ctx, &p).await;
            let _ = service::trace_delete(&mut store, &ctx, &p).await;
            let _ = sources::add(&mut store, &ctx, &p).await;
            let _ = sources::update(&mut store, &ctx, &p).await;
            let _ = sources::delete(&mut store, &ctx, &p).await;
            let _ = sources::list(&mut store, &ctx).await;
            let _ = channel_rules::add(&mut store, &ctx, &p).await;
            let _ = channel_rules::update(&mut store, &ctx, &p).await;
            let _ = channel_rules::list(&mut store, &ctx).await;
            let _ = service::trace_add(&mut store, &ctx, &p).await;
            let _ = channel_rules::delete(&mut store, &ctx, &p).await;
        });
    }

    #[test]
    fn system_parts_never_panic(p in system_params(), v in json(), s in "\\PC{0,40}") {
        let _ = crm::card::validate(&v);
        let _ = crm::duplicate::comm_key("PHONE", &s);
        let _ = crm::duplicate::comm_key("EMAIL", &s);
        let _ = crm::category::list(&p);
        let settings = PortalSettings { time_zone: chrono_tz::America::Santiago, currency: "USD".into() };
        let users = vec![crm::user::PortalUser {
            id: 1, name: s.clone(), last_name: String::new(), email: s.clone(), active: true,
            date_register: 0, last_login: None,
        }];
        let _ = crm::user::list(&users, 1, &settings, 0, &p);
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let mut store = MemStore::seeded();
        let admin = Actor { portal_id: 1, user_id: 1, rights: Rights::admin() };
        let own = Actor { portal_id: 1, user_id: 2, rights: Rights::parse("lead=read:own").expect("spec") };
        rt.block_on(async {
            for a in [&admin, &own] {
                let ctx = Ctx { actor: a, settings: &settings, now: 1_716_481_105 };
                let _ = crm::status::add(&mut store, &ctx, &p).await;
                let _ = crm::status::update(&mut store, &ctx, &p).await;
                let _ = crm::status::get(&mut store, &ctx, &p).await;
                let _ = crm::status::delete(&mut store, &ctx, &p).await;
                let _ = crm::status::entity_items(&mut store, &ctx, &p).await;
                for kind in [EntityKind::Lead, EntityKind::Deal, EntityKind::Contact] {
                    let _ = crm::card::set(&mut store, &ctx, kind, &p).await;
                    let _ = crm::card::get(&mut store, &ctx, kind, &p).await;
                    let _ = crm::card::reset(&mut store, &ctx, kind, &p).await;
                    let _ = crm::card::force_common_scope_for_all(&mut store, &ctx, kind, &p).await;
                }
                let _ = crm::duplicate::find_by_comm(&mut store, &ctx, &p).await;
                let all = crm::Storage::currency_list(&mut store, 1).await.expect("currencies");
                let _ = crm::currency::list(all, &ctx, &p);
            }
        });
    }

    #[test]
    fn pure_parts_never_panic(v in json(), s in "\\PC{0,40}") {
        let tz = chrono_tz::America::Santiago;
        let fields = EntityKind::Lead.fields();
        let ufs = user_fields();
        let _ = crm::filter::parse_legacy_filter(fields, &ufs, &v, tz, 0);
        let _ = crm::select::parse_select(EntityKind::Lead, &ufs, Some(&v));
        let _ = crm::select::parse_order(EntityKind::Lead, &ufs, &v);
        let _ = userfield::normalize_field_name(&s);
        let _ = UserType::parse(&s);
        let _ = crm::input::normalize(EntityKind::Lead, &v, Mode::Add { import: true }, tz, 0);
        let _ = crm::input::normalize(EntityKind::Lead, &v, Mode::Update, tz, 0);
        let _ = crm::dates::parse_datetime(&s, tz, 0);
        let _ = crm::dates::parse_date(&s, tz, 0);
        let _ = crm::dates::format_date(&s, tz);
        let _ = crm::sanitize::sanitize_html(&s);
        let _ = crm::eval::like(&s, &s, true);
    }

    #[test]
    fn engine_never_panics(p in params()) {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let mut store = MemStore::seeded();
        store.user_fields = user_fields().into_iter().map(|u| (1, u)).collect();
        let actor = Actor { portal_id: 1, user_id: 1, rights: Rights::admin() };
        let own = Actor { portal_id: 1, user_id: 2, rights: Rights::parse("lead=read:own,add:own,update:own,delete:own").expect("spec") };
        let settings = PortalSettings { time_zone: chrono_tz::Europe::Berlin, currency: "USD".into() };
        rt.block_on(async {
            for a in [&actor, &own] {
                let ctx = Ctx { actor: a, settings: &settings, now: 1_716_481_105 };
                let _ = engine::add(&mut store, &ctx, EntityKind::Lead, &p).await;
                let _ = engine::update(&mut store, &ctx, EntityKind::Lead, &p).await;
                let _ = engine::get(&mut store, &ctx, EntityKind::Lead, &p).await;
                let _ = engine::list(&mut store, &ctx, EntityKind::Lead, &p).await;
                let _ = crm::status::list(&mut store, &ctx, &p).await;
                let _ = engine::fields(&mut store, &ctx, EntityKind::Lead).await;
                let _ = userfield::add(&mut store, &ctx, EntityKind::Lead, &p).await;
                let _ = userfield::update(&mut store, &ctx, EntityKind::Lead, &p).await;
                let _ = userfield::get(&mut store, &ctx, EntityKind::Lead, &p).await;
                let _ = userfield::list(&mut store, &ctx, EntityKind::Lead, &p).await;
                let _ = engine::delete(&mut store, &ctx, EntityKind::Lead, &p).await;
                let _ = userfield::delete(&mut store, &ctx, EntityKind::Lead, &p).await;
            }
        });
    }
}
