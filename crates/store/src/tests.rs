//! Storage tests, each run on both backends against a fresh database (`testing::fresh_url`).
//! A behaviour that differs between SQLite and PostgreSQL fails one of the pair.

use crate::{testing, Backend, Grant, NewApp, NewUser, Store, Token, Tx};
use bx_wire::ApiError;
use crm::status::StatusSeed;
use crm::userfield::{EnumItem, UserField, UserType};
use crm::{
    Action, CmpOp, Col, ColumnType, Cond, DbValue, EntityKind, Level, ListQuery, Order, OrderKey,
    Rights, Storage,
};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::{json, Map, Value as Json};
use std::future::Future;

const LEAD: EntityKind = EntityKind::Lead;

async fn with_store<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let url = testing::fresh_url(backend).await;
    let store = Store::open(&url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    assert_eq!(store.backend(), backend);
    test(store.clone()).await;
    store.close().await;
    testing::discard(&url).await;
}

/// For each test function `name(store: Store)`, a module `name` with a test per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::with_store(crate::Backend::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::with_store(crate::Backend::Postgres, super::$name).await
            }
        }
    )*};
}

on_both_backends!(
    schema_follows_field_table,
    portal_seeds,
    users_roles_webhooks_tokens,
    oauth_apps_codes_refresh_tokens,
    entity_crud_with_uf,
    filters,
    typed_user_field_filters,
    user_field_definitions,
    like_escaping,
    unicode_case_folding,
    multifields,
    ordering_and_paging,
    delete_removes_hanging_rows,
    failed_write_rolls_back_alone,
    panic_in_write_is_contained,
    concurrent_writes_all_commit,
    reads_are_read_only,
    swallowed_error_rolls_back,
);

const SEEDS: &[StatusSeed] = &[
    StatusSeed {
        entity_id: "STATUS",
        status_id: "NEW",
        name: "Unprocessed",
        sort: 10,
        semantics: None,
        color: Some("#39A8EF"),
    },
    StatusSeed {
        entity_id: "STATUS",
        status_id: "IN_PROCESS",
        name: "In process",
        sort: 20,
        semantics: None,
        color: None,
    },
    StatusSeed {
        entity_id: "STATUS",
        status_id: "PROCESSED",
        name: "Processed",
        sort: 30,
        semantics: None,
        color: None,
    },
    StatusSeed {
        entity_id: "STATUS",
        status_id: "CONVERTED",
        name: "Qualified",
        sort: 40,
        semantics: Some("S"),
        color: None,
    },
    StatusSeed {
        entity_id: "STATUS",
        status_id: "JUNK",
        name: "Junk",
        sort: 50,
        semantics: Some("F"),
        color: None,
    },
    StatusSeed {
        entity_id: "SOURCE",
        status_id: "CALL",
        name: "Call",
        sort: 10,
        semantics: None,
        color: None,
    },
    StatusSeed {
        entity_id: "SOURCE",
        status_id: "WEB",
        name: "Website",
        sort: 30,
        semantics: None,
        color: None,
    },
];

async fn write<T, F>(store: &Store, f: F) -> T
where
    F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static,
    T: Send + 'static,
{
    store.write(f).await.expect("write")
}

async fn read<T, F>(store: &Store, f: F) -> T
where
    F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static,
    T: Send + 'static,
{
    store.read(f).await.expect("read")
}

async fn new_portal(store: &Store) -> i64 {
    write(store, |tx| {
        async move { Ok(tx.create_portal("Test", "UTC", "USD", SEEDS).await?.id) }.boxed()
    })
    .await
}

fn text(s: &str) -> DbValue {
    DbValue::Text(s.to_string())
}

fn uf(v: Json) -> Map<String, Json> {
    v.as_object().cloned().unwrap()
}

async fn add_lead(
    store: &Store,
    portal: i64,
    values: Vec<(&'static str, DbValue)>,
    user_fields: Option<Json>,
) -> i64 {
    write(store, move |tx| {
        tx.insert_entity(LEAD, portal, values, user_fields.map(uf))
            .boxed()
    })
    .await
}

fn query(portal: i64, filter: Cond) -> ListQuery {
    ListQuery {
        kind: LEAD,
        portal_id: portal,
        filter,
        order: vec![],
        columns: vec!["title"],
        with_uf: false,
        offset: 0,
        limit: None,
    }
}

async fn ids(store: &Store, q: ListQuery) -> Vec<i64> {
    read(store, move |tx| {
        async move {
            Ok(tx
                .list_entities(&q)
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect())
        }
        .boxed()
    })
    .await
}

async fn count(store: &Store, q: ListQuery) -> i64 {
    read(store, move |tx| {
        async move { tx.count_entities(&q).await }.boxed()
    })
    .await
}

fn cmp(col: &'static str, op: CmpOp, value: DbValue, ci: bool) -> Cond {
    Cond::Cmp {
        col: Col::Column(col),
        op,
        value,
        ci,
    }
}

/// The field tables are the source of truth for entity columns: every kind that has a field
/// table must have a table with each column, of the right type, on both backends.
async fn schema_follows_field_table(store: Store) {
    let backend = store.backend();
    let kinds: Vec<EntityKind> = EntityKind::ALL
        .into_iter()
        .filter(|k| !k.fields().is_empty())
        .collect();
    assert!(kinds.contains(&LEAD));
    for kind in kinds {
        let table = kind.table();
        let columns = read(&store, move |tx| {
            async move {
                let sql = match backend {
                    Backend::Sqlite => {
                        format!("SELECT name, type FROM pragma_table_info('{table}')")
                    }
                    Backend::Postgres => format!(
                        "SELECT column_name::text, data_type::text FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = '{table}'"
                    ),
                };
                let rows = tx.fetch_sql(&sql, vec![]).await?;
                Ok(rows
                    .iter()
                    .map(|r| (crate::tx::val::text(&r[0]), crate::tx::val::text(&r[1])))
                    .collect::<Vec<_>>())
            }
            .boxed()
        })
        .await;
        let type_of = |name: &str| {
            columns
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.to_lowercase())
        };
        for f in kind.fields() {
            let Some(col) = f.column else { continue };
            let expected = match (backend, f.kind.column_type()) {
                (Backend::Sqlite, ColumnType::Int) => "integer",
                (Backend::Sqlite, ColumnType::Real) => "real",
                (Backend::Sqlite, ColumnType::Text) => "text",
                (Backend::Postgres, ColumnType::Int) => "bigint",
                (Backend::Postgres, ColumnType::Real) => "double precision",
                (Backend::Postgres, ColumnType::Text) => "text",
            };
            assert_eq!(
                type_of(col).as_deref(),
                Some(expected),
                "column {col} of {table}"
            );
        }
        let uf_type = if backend == Backend::Sqlite {
            "text"
        } else {
            "jsonb"
        };
        assert_eq!(type_of("uf").as_deref(), Some(uf_type), "uf of {table}");
        assert!(type_of("portal_id").is_some(), "portal_id of {table}");
    }
}

async fn portal_seeds(store: Store) {
    assert_eq!(read(&store, |tx| tx.default_portal().boxed()).await, None);
    let p1 = new_portal(&store).await;
    let p2 = write(&store, |tx| {
        async move {
            Ok(tx
                .create_portal("Euro", "Europe/Berlin", "EUR", SEEDS)
                .await?
                .id)
        }
        .boxed()
    })
    .await;
    let default = read(&store, |tx| tx.default_portal().boxed())
        .await
        .unwrap();
    assert_eq!(
        (default.id, default.name.as_str(), default.crm_mode.as_str()),
        (p1, "Test", "classic")
    );
    assert_eq!(p1, 1, "ids start at 1");

    let statuses = read(&store, move |tx| {
        async move { tx.statuses(p1, Some("STATUS")).await }.boxed()
    })
    .await;
    let names: Vec<_> = statuses.iter().map(|s| s.status_id.as_str()).collect();
    assert_eq!(
        names,
        ["NEW", "IN_PROCESS", "PROCESSED", "CONVERTED", "JUNK"]
    );
    assert!(statuses
        .iter()
        .all(|s| s.system && s.name_init == s.name && s.category_id.is_none()));
    assert_eq!(statuses[0].color.as_deref(), Some("#39A8EF"));
    assert_eq!(statuses[3].semantics.as_deref(), Some("S"));
    assert_eq!(
        read(&store, move |tx| async move { tx.statuses(p1, None).await }
            .boxed())
        .await
        .len(),
        SEEDS.len()
    );

    assert_eq!(
        read(&store, move |tx| async move { tx.currencies(p1).await }
            .boxed())
        .await,
        ["USD", "EUR"]
    );
    assert_eq!(
        read(&store, move |tx| async move { tx.currencies(p2).await }
            .boxed())
        .await,
        ["EUR", "USD"]
    );

    write(&store, move |tx| {
        async move {
            tx.set_portal_setting(p1, "currency", "GBP").await?;
            tx.set_portal_setting(p1, "time_zone", "Europe/London")
                .await?;
            tx.set_portal_setting(p1, "name", "Renamed").await
        }
        .boxed()
    })
    .await;
    let p = read(&store, move |tx| tx.portal(p1).boxed()).await.unwrap();
    assert_eq!(
        (p.currency.as_str(), p.time_zone.as_str(), p.name.as_str()),
        ("GBP", "Europe/London", "Renamed")
    );
    assert_eq!(
        read(&store, move |tx| async move { tx.currencies(p1).await }
            .boxed())
        .await[0],
        "GBP"
    );
    let err = store
        .write(move |tx| tx.set_portal_setting(p1, "colour", "red").boxed())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERROR_ARGUMENT");
    assert!(read(&store, |tx| tx.portal(999).boxed()).await.is_none());

    // The engine's real seed list goes in without conflicts.
    let seeds = crm::status::seeds();
    let n = seeds.len();
    let p3 = write(&store, move |tx| {
        async move { Ok(tx.create_portal("Real", "UTC", "USD", &seeds).await?.id) }.boxed()
    })
    .await;
    assert_eq!(
        read(&store, move |tx| async move { tx.statuses(p3, None).await }
            .boxed())
        .await
        .len(),
        n
    );
}

#[test]
fn store_can_be_shared_between_tasks() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Store>();
}

/// Migrations are applied once; a reopened database keeps its data.
async fn reopen(backend: Backend) {
    let url = testing::fresh_url(backend).await;
    let store = Store::open(&url).await.unwrap();
    let portal = new_portal(&store).await;
    add_lead(&store, portal, vec![("title", text("kept"))], None).await;
    store.close().await;
    assert_eq!(
        store.write(|tx| tx.default_portal().boxed()).await,
        Err(ApiError::Internal),
        "closed"
    );
    let store = Store::open(&url).await.unwrap();
    assert_eq!(count(&store, query(portal, Cond::True)).await, 1);
    store.close().await;
    testing::discard(&url).await;
}

#[tokio::test]
async fn reopen_sqlite() {
    reopen(Backend::Sqlite).await
}

#[tokio::test]
async fn reopen_postgres() {
    reopen(Backend::Postgres).await
}

#[tokio::test]
async fn urls() {
    for bad in [
        "sqlite::memory:",
        "sqlite://file.db?mode=ro",
        "sqlite://",
        "mysql://localhost/db",
    ] {
        assert!(
            matches!(
                Store::open(bad).await,
                Err(crate::StoreError::UnsupportedUrl(_))
            ),
            "{bad}"
        );
    }
    // sqlite:PATH and a bare path name files too.
    let url = testing::fresh_url(Backend::Sqlite).await;
    let path = url.strip_prefix("sqlite://").unwrap().to_string();
    for form in [format!("sqlite:{path}"), path.clone()] {
        let store = Store::open(&form).await.unwrap();
        assert_eq!(store.backend(), Backend::Sqlite);
        store.close().await;
    }
    assert!(std::path::Path::new(&path).exists());
    testing::discard(&url).await;
    assert!(!std::path::Path::new(&path).exists());
}

async fn users_roles_webhooks_tokens(store: Store) {
    let portal = new_portal(&store).await;
    let admin = NewUser {
        login: "admin".into(),
        name: "Ada".into(),
        admin: true,
        ..Default::default()
    };
    let admin_id = write(&store, move |tx| {
        async move { tx.add_user(portal, &admin).await }.boxed()
    })
    .await;
    assert_eq!(admin_id, 1, "the first user is user 1");

    let rights = Rights::parse("lead=read:own,add:all").unwrap();
    let r = rights.clone();
    let role_id = write(&store, move |tx| {
        async move { tx.add_role(portal, "Sales", &r).await }.boxed()
    })
    .await;
    let role = read(&store, move |tx| tx.role_by_name(portal, "Sales").boxed())
        .await
        .unwrap();
    assert_eq!(
        (role.id, role.portal_id, &role.rights),
        (role_id, portal, &rights)
    );
    let dup = store
        .write(move |tx| {
            async move { tx.add_role(portal, "Sales", &Rights::default()).await }.boxed()
        })
        .await;
    assert!(dup.is_err());

    let seller = NewUser {
        login: "bob".into(),
        email: "bob@example.com".into(),
        role_id: Some(role_id),
        ..Default::default()
    };
    let seller_id = write(&store, move |tx| {
        async move { tx.add_user(portal, &seller).await }.boxed()
    })
    .await;
    let plain = NewUser {
        login: "carl".into(),
        ..Default::default()
    };
    let plain_id = write(&store, move |tx| {
        async move { tx.add_user(portal, &plain).await }.boxed()
    })
    .await;
    let dup = NewUser {
        login: "bob".into(),
        ..Default::default()
    };
    let err = store
        .write(move |tx| async move { tx.add_user(portal, &dup).await }.boxed())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERROR_ARGUMENT");
    let bad_role = NewUser {
        login: "dan".into(),
        role_id: Some(999),
        ..Default::default()
    };
    assert!(store
        .write(move |tx| async move { tx.add_user(portal, &bad_role).await }.boxed())
        .await
        .is_err());

    let users = read(&store, move |tx| tx.users(portal).boxed()).await;
    assert_eq!(
        users.iter().map(|u| u.id).collect::<Vec<_>>(),
        [admin_id, seller_id, plain_id]
    );
    let u = read(&store, move |tx| tx.user(portal, seller_id).boxed())
        .await
        .unwrap();
    assert_eq!(
        (u.login.as_str(), u.email.as_str(), u.active, u.admin),
        ("bob", "bob@example.com", true, false)
    );
    assert_eq!(u.role_id, Some(role_id));
    assert_eq!(u.rights.level(LEAD, Action::Read), Level::Own);
    assert!(u.date_register > 1_600_000_000 && u.last_login.is_none());
    assert_eq!(users[0].rights, Rights::admin());
    assert_eq!(users[2].rights, Rights::default());
    assert!(
        read(&store, move |tx| tx.user(portal + 1, seller_id).boxed())
            .await
            .is_none(),
        "scoped by portal"
    );

    let scopes = vec!["crm".to_string(), "user".to_string()];
    let s = scopes.clone();
    let hook_id = write(&store, move |tx| {
        async move { tx.add_webhook(portal, seller_id, "abc123", &s).await }.boxed()
    })
    .await;
    let hook = read(&store, move |tx| tx.webhook(seller_id, "abc123").boxed())
        .await
        .unwrap();
    assert_eq!(
        (
            hook.id,
            hook.portal_id,
            hook.user_id,
            &hook.scopes,
            hook.active
        ),
        (hook_id, portal, seller_id, &scopes, true)
    );
    assert!(
        read(&store, move |tx| tx.webhook(admin_id, "abc123").boxed())
            .await
            .is_none(),
        "code of another user"
    );
    let err = store
        .write(move |tx| {
            async move { tx.add_webhook(portal, admin_id, "abc123", &[]).await }.boxed()
        })
        .await;
    assert!(err.is_err(), "codes are unique across the server");
    assert_eq!(
        read(&store, move |tx| tx.webhooks(portal).boxed()).await,
        vec![hook]
    );

    let token = Token {
        token: "tok".into(),
        portal_id: portal,
        user_id: admin_id,
        scopes,
        expires_at: 1_900_000_000,
        app_id: None,
    };
    let t = token.clone();
    write(&store, move |tx| {
        async move { tx.add_token(&t).await }.boxed()
    })
    .await;
    assert_eq!(
        read(&store, |tx| tx.token("tok").boxed()).await,
        Some(token)
    );
    assert_eq!(read(&store, |tx| tx.token("nope").boxed()).await, None);
}

async fn oauth_apps_codes_refresh_tokens(store: Store) {
    let portal = new_portal(&store).await;
    let user = write(&store, move |tx| {
        async move {
            let u = NewUser {
                login: "oauth".into(),
                name: "O".into(),
                ..Default::default()
            };
            tx.add_user(portal, &u).await
        }
        .boxed()
    })
    .await;
    // member_id is given once and then kept.
    let first = write(&store, move |tx| {
        async move { tx.ensure_member_id(portal, &"a".repeat(32)).await }.boxed()
    })
    .await;
    let again = write(&store, move |tx| {
        async move { tx.ensure_member_id(portal, &"b".repeat(32)).await }.boxed()
    })
    .await;
    assert_eq!((first, again), ("a".repeat(32), "a".repeat(32)));
    assert_eq!(
        read(&store, move |tx| tx.portal(portal).boxed())
            .await
            .unwrap()
            .member_id,
        "a".repeat(32)
    );

    let new_app = NewApp {
        name: "Reports".into(),
        client_id: "local.abc.123".into(),
        client_secret: "secret".into(),
        scopes: vec!["crm".into(), "user".into()],
        redirect_uri: "https://app.example.com/cb".into(),
        application_token: "f".repeat(32),
    };
    let a = new_app.clone();
    let app_id = write(&store, move |tx| {
        async move { tx.add_app(portal, &a).await }.boxed()
    })
    .await;
    let a = new_app.clone();
    let dup = store
        .write(move |tx| async move { tx.add_app(portal, &a).await }.boxed())
        .await;
    assert!(dup.is_err(), "client ids are unique");
    let app = read(&store, |tx| tx.app_by_client_id("local.abc.123").boxed())
        .await
        .unwrap();
    assert_eq!(
        (
            app.id,
            app.portal_id,
            app.name.as_str(),
            app.client_secret.as_str()
        ),
        (app_id, portal, "Reports", "secret")
    );
    assert_eq!(app.scopes, vec!["crm".to_string(), "user".to_string()]);
    assert_eq!((app.version, app.active), (1, true));
    assert_eq!(
        read(&store, move |tx| tx.app(app_id).boxed()).await,
        Some(app.clone())
    );
    assert_eq!(
        read(&store, move |tx| tx.apps(portal).boxed()).await,
        vec![app]
    );

    let grant = Grant {
        portal_id: portal,
        app_id,
        user_id: user,
        scopes: vec!["crm".into()],
        expires_at: 1_000,
    };
    let g = grant.clone();
    write(&store, move |tx| {
        async move {
            tx.add_auth_code("code1", &g).await?;
            tx.add_refresh_token(
                "refresh1",
                &Grant {
                    expires_at: 5_000,
                    ..g.clone()
                },
            )
            .await?;
            tx.add_token(&Token {
                token: "apptok".into(),
                portal_id: g.portal_id,
                user_id: g.user_id,
                scopes: g.scopes.clone(),
                expires_at: 2_000,
                app_id: Some(g.app_id),
            })
            .await
        }
        .boxed()
    })
    .await;
    assert_eq!(
        read(&store, |tx| tx.token("apptok").boxed())
            .await
            .unwrap()
            .app_id,
        Some(app_id)
    );
    // Codes and refresh tokens are used once.
    assert_eq!(
        write(&store, |tx| tx.take_auth_code("code1").boxed()).await,
        Some(grant.clone())
    );
    assert_eq!(
        write(&store, |tx| tx.take_auth_code("code1").boxed()).await,
        None
    );
    // Purging keeps what is still usable and expired access tokens for a while.
    write(&store, |tx| tx.purge_expired_oauth(3_000, 1_500).boxed()).await;
    assert!(read(&store, |tx| tx.token("apptok").boxed())
        .await
        .is_some());
    write(&store, |tx| tx.purge_expired_oauth(3_000, 0).boxed()).await;
    assert!(read(&store, |tx| tx.token("apptok").boxed())
        .await
        .is_none());
    let refreshed = write(&store, |tx| tx.take_refresh_token("refresh1").boxed()).await;
    assert_eq!(refreshed.map(|g| g.expires_at), Some(5_000));
    assert_eq!(
        write(&store, |tx| tx.take_refresh_token("refresh1").boxed()).await,
        None
    );
}

async fn entity_crud_with_uf(store: Store) {
    let portal = new_portal(&store).await;
    let id = add_lead(
        &store,
        portal,
        vec![
            ("title", text("First")),
            ("opportunity", DbValue::Real(1500.5)),
            ("assigned_by_id", DbValue::Int(1)),
            ("date_create", DbValue::Int(1_700_000_000)),
            // Coerced to the column type (the engine normally sends the right one).
            ("company_id", text("7")),
            ("currency_id", DbValue::Int(5)),
        ],
        Some(json!({"UF_CRM_A": "x", "UF_CRM_N": 5})),
    )
    .await;
    assert_eq!(id, 1);
    let second = add_lead(&store, portal, vec![], None).await;
    assert_eq!(second, 2);

    let get = move |id: i64| {
        let mut q = query(portal, cmp("id", CmpOp::Eq, DbValue::Int(id), false));
        q.columns = vec![
            "title",
            "opportunity",
            "assigned_by_id",
            "company_id",
            "currency_id",
            "birthdate",
        ];
        q.with_uf = true;
        q
    };
    let q = get(id);
    let rows = read(&store, move |tx| {
        async move { tx.list_entities(&q).await }.boxed()
    })
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].values,
        vec![
            text("First"),
            DbValue::Real(1500.5),
            DbValue::Int(1),
            DbValue::Int(7),
            text("5"),
            DbValue::Null
        ]
    );
    assert_eq!(
        rows[0].uf,
        Some(uf(json!({"UF_CRM_A": "x", "UF_CRM_N": 5})))
    );
    let q = get(second);
    let rows = read(&store, move |tx| {
        async move { tx.list_entities(&q).await }.boxed()
    })
    .await;
    assert_eq!(
        rows[0].uf,
        Some(Map::new()),
        "uf defaults to an empty object"
    );

    let updated = write(&store, move |tx| {
        tx.update_entity(
            LEAD,
            portal,
            id,
            vec![("title", text("Renamed")), ("opportunity", DbValue::Null)],
            None,
        )
        .boxed()
    })
    .await;
    assert!(updated);
    let q = get(id);
    let rows = read(&store, move |tx| {
        async move { tx.list_entities(&q).await }.boxed()
    })
    .await;
    assert_eq!(rows[0].values[..2], [text("Renamed"), DbValue::Null]);
    assert_eq!(
        rows[0].uf,
        Some(uf(json!({"UF_CRM_A": "x", "UF_CRM_N": 5}))),
        "uf kept when None"
    );

    let replaced = write(&store, move |tx| {
        tx.update_entity(
            LEAD,
            portal,
            id,
            vec![],
            Some(uf(json!({"UF_CRM_B": [1, 2]}))),
        )
        .boxed()
    })
    .await;
    assert!(replaced);
    let q = get(id);
    let rows = read(&store, move |tx| {
        async move { tx.list_entities(&q).await }.boxed()
    })
    .await;
    assert_eq!(rows[0].uf, Some(uf(json!({"UF_CRM_B": [1, 2]}))));

    assert!(
        write(&store, move |tx| tx
            .update_entity(LEAD, portal, id, vec![], None)
            .boxed())
        .await,
        "exists"
    );
    assert!(
        !write(&store, move |tx| tx
            .update_entity(LEAD, portal, 999, vec![], None)
            .boxed())
        .await
    );
    assert!(
        !write(&store, move |tx| tx
            .update_entity(LEAD, portal, 999, vec![("title", text("x"))], None)
            .boxed())
        .await
    );
    assert!(
        !write(&store, move |tx| tx
            .update_entity(LEAD, portal + 1, id, vec![("title", text("x"))], None)
            .boxed())
        .await
    );

    assert!(write(&store, move |tx| tx.delete_entity(LEAD, portal, id).boxed()).await);
    assert!(!write(&store, move |tx| tx.delete_entity(LEAD, portal, id).boxed()).await);
    assert_eq!(ids(&store, query(portal, Cond::True)).await, [second]);
    let third = add_lead(&store, portal, vec![], None).await;
    assert_eq!(third, 3, "ids are never reused");

    // Assigning the id, or a column that is not in the field table, is a bug of the caller.
    let err = store
        .write(move |tx| {
            tx.insert_entity(LEAD, portal, vec![("id", DbValue::Int(50))], None)
                .boxed()
        })
        .await;
    assert_eq!(err, Err(ApiError::Internal));
    let err = store
        .write(move |tx| {
            tx.insert_entity(LEAD, portal, vec![("nope", DbValue::Int(1))], None)
                .boxed()
        })
        .await;
    assert_eq!(err, Err(ApiError::Internal));
    let err = store
        .write(move |tx| {
            tx.insert_entity(LEAD, portal, vec![("assigned_by_id", text("abc"))], None)
                .boxed()
        })
        .await;
    assert_eq!(err, Err(ApiError::Internal));
}

/// Leads used by the filter tests; returns their ids in this order.
async fn seed_filter_leads(store: &Store, portal: i64) -> Vec<i64> {
    let rows: Vec<(&str, Option<&str>, f64, i64, Json)> = vec![
        (
            "Alpha",
            Some("NEW"),
            100.0,
            1,
            json!({"UF_CRM_S": "Red", "UF_CRM_N": 10, "UF_CRM_B": true}),
        ),
        (
            "alpha beta",
            Some("IN_PROCESS"),
            250.5,
            2,
            json!({"UF_CRM_S": "red", "UF_CRM_N": 9}),
        ),
        (
            "GAMMA",
            Some("CONVERTED"),
            0.0,
            1,
            json!({"UF_CRM_S": "Blue", "UF_CRM_B": false}),
        ),
        ("Delta", None, 1000.0, 3, json!({"UF_CRM_S": null})),
        ("Ünïcode Ärger", Some("JUNK"), 50.0, 2, json!({})),
    ];
    let mut out = Vec::new();
    for (title, status, opp, user, ufs) in rows {
        let status = status.map(text).unwrap_or(DbValue::Null);
        out.push(
            add_lead(
                store,
                portal,
                vec![
                    ("title", text(title)),
                    ("status_id", status),
                    ("opportunity", DbValue::Real(opp)),
                    ("assigned_by_id", DbValue::Int(user)),
                ],
                Some(ufs),
            )
            .await,
        );
    }
    out
}

async fn filters(store: Store) {
    let portal = new_portal(&store).await;
    let other = new_portal(&store).await;
    let l = seed_filter_leads(&store, portal).await;
    add_lead(&store, other, vec![("title", text("Alpha"))], None).await;
    let (a, b, c, d, e) = (l[0], l[1], l[2], l[3], l[4]);
    let f = |filter: Cond| ids(&store, query(portal, filter));

    assert_eq!(f(Cond::True).await, l, "only the portal's own leads");
    assert_eq!(f(Cond::False).await, Vec::<i64>::new());
    // Equality: case-sensitive unless ci.
    assert_eq!(
        f(cmp("title", CmpOp::Eq, text("alpha"), false)).await,
        Vec::<i64>::new()
    );
    assert_eq!(f(cmp("title", CmpOp::Eq, text("alpha"), true)).await, [a]);
    assert_eq!(f(cmp("title", CmpOp::Eq, text("gamma"), true)).await, [c]);
    assert_eq!(
        f(cmp("status_id", CmpOp::Ne, text("new"), true)).await,
        [b, c, e],
        "NULL is not unequal"
    );
    // Ordering comparisons on numbers (an Int value against a Real column too) and text.
    assert_eq!(
        f(cmp("opportunity", CmpOp::Gt, DbValue::Int(100), false)).await,
        [b, d]
    );
    assert_eq!(
        f(cmp("opportunity", CmpOp::Ge, DbValue::Real(100.0), false)).await,
        [a, b, d]
    );
    assert_eq!(
        f(cmp("opportunity", CmpOp::Lt, text("50.5"), false)).await,
        [c, e]
    );
    assert_eq!(
        f(cmp("opportunity", CmpOp::Le, DbValue::Int(0), false)).await,
        [c]
    );
    assert_eq!(
        f(cmp("id", CmpOp::Gt, DbValue::Int(c), false)).await,
        [d, e]
    );
    assert_eq!(
        f(cmp("title", CmpOp::Lt, text("H"), false)).await,
        [a, c, d],
        "bytewise: uppercase first"
    );
    assert_eq!(f(cmp("title", CmpOp::Lt, text("b"), true)).await, [a, b]);
    assert_eq!(
        f(cmp(
            "assigned_by_id",
            CmpOp::Eq,
            text("not a number"),
            false
        ))
        .await,
        Vec::<i64>::new()
    );
    // NULL values.
    assert_eq!(
        f(cmp("status_id", CmpOp::Eq, DbValue::Null, false)).await,
        [d]
    );
    assert_eq!(
        f(cmp("status_id", CmpOp::Ne, DbValue::Null, false)).await,
        [a, b, c, e]
    );
    assert_eq!(f(Cond::IsNull(Col::Column("status_id"))).await, [d]);
    assert_eq!(f(Cond::IsNull(Col::Column("birthdate"))).await, l);
    // IN, with NULL members ignored and an empty list false.
    let status_in = |values: Vec<DbValue>, ci| Cond::In {
        col: Col::Column("status_id"),
        values,
        ci,
    };
    assert_eq!(
        f(status_in(vec![text("new"), text("JUNK")], false)).await,
        [e]
    );
    assert_eq!(
        f(status_in(vec![text("new"), text("JUNK")], true)).await,
        [a, e]
    );
    assert_eq!(f(status_in(vec![], true)).await, Vec::<i64>::new());
    assert_eq!(f(Cond::Not(Box::new(status_in(vec![], true)))).await, l);
    assert_eq!(
        f(Cond::Not(Box::new(status_in(
            vec![text("NEW"), DbValue::Null],
            false
        ))))
        .await,
        [b, c, e]
    );
    assert_eq!(
        f(Cond::In {
            col: Col::Column("assigned_by_id"),
            values: vec![DbValue::Int(2), text("3")],
            ci: false
        })
        .await,
        [b, d, e]
    );
    // LIKE.
    let like = |pattern: &str, ci| Cond::Like {
        col: Col::Column("title"),
        pattern: pattern.into(),
        ci,
    };
    assert_eq!(f(like("%alpha%", false)).await, [b]);
    assert_eq!(f(like("%alpha%", true)).await, [a, b]);
    assert_eq!(f(like("%A", true)).await, [a, b, c, d]);
    assert_eq!(f(like("_elta", false)).await, [d]);
    assert_eq!(f(like("delta", true)).await, [d], "no wildcard: equality");
    assert_eq!(
        f(Cond::Like {
            col: Col::Column("assigned_by_id"),
            pattern: "3%".into(),
            ci: false
        })
        .await,
        [d]
    );
    // Non-ASCII letters fold too (lt_fold: Unicode lower-casing on both backends).
    assert_eq!(f(like("%ärger", true)).await, [e]);
    assert_eq!(f(like("%Ärger", true)).await, [e]);
    assert_eq!(f(like("%ärger", false)).await, Vec::<i64>::new());
    assert_eq!(
        f(cmp("title", CmpOp::Eq, text("ünïcode ärger"), true)).await,
        [e]
    );
    // Nesting.
    let nested = Cond::Or(vec![
        Cond::And(vec![
            cmp("assigned_by_id", CmpOp::Eq, DbValue::Int(1), false),
            Cond::Not(Box::new(like("g%", true))),
        ]),
        Cond::Not(Box::new(Cond::Or(vec![
            cmp("opportunity", CmpOp::Lt, DbValue::Int(500), false),
            Cond::IsNull(Col::Column("opportunity")),
        ]))),
    ]);
    assert_eq!(f(nested).await, [a, d]);
    assert_eq!(f(Cond::And(vec![])).await, l);
    assert_eq!(f(Cond::Or(vec![])).await, Vec::<i64>::new());
    assert_eq!(
        f(Cond::Not(Box::new(Cond::And(vec![
            Cond::True,
            Cond::False
        ]))))
        .await,
        l
    );
    // User fields defined as text, compared as text.
    let uf = |name: &str| Col::uf(name, ColumnType::Text);
    assert_eq!(
        f(Cond::Cmp {
            col: uf("UF_CRM_S"),
            op: CmpOp::Eq,
            value: text("red"),
            ci: false
        })
        .await,
        [b]
    );
    assert_eq!(
        f(Cond::Cmp {
            col: uf("UF_CRM_S"),
            op: CmpOp::Eq,
            value: text("red"),
            ci: true
        })
        .await,
        [a, b]
    );
    assert_eq!(
        f(Cond::Cmp {
            col: uf("UF_CRM_N"),
            op: CmpOp::Eq,
            value: DbValue::Int(10),
            ci: false
        })
        .await,
        [a]
    );
    assert_eq!(
        f(Cond::Cmp {
            col: uf("UF_CRM_N"),
            op: CmpOp::Lt,
            value: text("2"),
            ci: false
        })
        .await,
        [a],
        "text order"
    );
    assert_eq!(
        f(Cond::Cmp {
            col: uf("UF_CRM_B"),
            op: CmpOp::Eq,
            value: text("true"),
            ci: false
        })
        .await,
        [a]
    );
    assert_eq!(
        f(Cond::Cmp {
            col: uf("UF_CRM_B"),
            op: CmpOp::Eq,
            value: text("false"),
            ci: false
        })
        .await,
        [c]
    );
    assert_eq!(
        f(Cond::IsNull(uf("UF_CRM_S"))).await,
        [d, e],
        "JSON null and missing are NULL"
    );
    assert_eq!(
        f(Cond::IsNull(uf("UF_\"S"))).await,
        l,
        "not a user field name"
    );
    assert_eq!(
        f(Cond::In {
            col: uf("UF_CRM_S"),
            values: vec![text("BLUE"), text("RED")],
            ci: true
        })
        .await,
        [a, b, c]
    );
    assert_eq!(
        f(Cond::Like {
            col: uf("UF_CRM_S"),
            pattern: "%e%".into(),
            ci: false
        })
        .await,
        [a, b, c]
    );
    assert_eq!(count(&store, query(portal, like("%a%", true))).await, 4);
    assert_eq!(count(&store, query(other, Cond::True)).await, 1);
}

/// Case-insensitive matching folds every script, not just ASCII (Cyrillic names are common in
/// Bitrix24 portals), identically on both backends.
async fn unicode_case_folding(store: Store) {
    let portal = new_portal(&store).await;
    let ivanov = add_lead(
        &store,
        portal,
        vec![("title", text("Иванов Пётр")), ("status_id", text("NEW"))],
        None,
    )
    .await;
    let other = add_lead(
        &store,
        portal,
        vec![("title", text("Straße")), ("status_id", text("NEW"))],
        None,
    )
    .await;
    let f = |filter: Cond| ids(&store, query(portal, filter));
    assert_eq!(
        f(cmp("title", CmpOp::Eq, text("иванов пётр"), true)).await,
        [ivanov]
    );
    assert_eq!(
        f(cmp("title", CmpOp::Eq, text("ИВАНОВ ПЁТР"), true)).await,
        [ivanov]
    );
    assert_eq!(
        f(cmp("title", CmpOp::Eq, text("иванов пётр"), false)).await,
        Vec::<i64>::new()
    );
    let like = |pattern: &str, ci: bool| Cond::Like {
        col: Col::Column("title"),
        pattern: pattern.into(),
        ci,
    };
    assert_eq!(f(like("%ИВАНОВ%", true)).await, [ivanov]);
    assert_eq!(f(like("%пЁт%", true)).await, [ivanov]);
    assert_eq!(f(like("%ИВАНОВ%", false)).await, Vec::<i64>::new());
    assert_eq!(
        f(like("%STRASSE%", true)).await,
        Vec::<i64>::new(),
        "lower-casing, not full case folding"
    );
    assert_eq!(f(like("%STRAßE%", true)).await, [other]);
    let any = Cond::In {
        col: Col::Column("title"),
        values: vec![text("иВАНОВ пЁТР")],
        ci: true,
    };
    assert_eq!(f(any).await, [ivanov]);
    write(&store, move |tx| {
        async move {
            tx.insert_multifield(LEAD, portal, ivanov, "EMAIL", "WORK", "Пётр@Пример.рф")
                .await
        }
        .boxed()
    })
    .await;
    let mf = Cond::Multifield {
        type_id: "EMAIL".into(),
        pattern: "пётр@пример.РФ".into(),
    };
    assert_eq!(f(mf).await, [ivanov]);
}

async fn like_escaping(store: Store) {
    let portal = new_portal(&store).await;
    let mut l = Vec::new();
    for title in [
        "100% sure",
        "1000 sure",
        "a_b",
        "axb",
        r"back\slash",
        "back",
    ] {
        l.push(add_lead(&store, portal, vec![("title", text(title))], None).await);
    }
    let like = |pattern: &str| Cond::Like {
        col: Col::Column("title"),
        pattern: pattern.into(),
        ci: true,
    };
    let f = |filter: Cond| ids(&store, query(portal, filter));
    assert_eq!(f(like("100%")).await, [l[0], l[1]], "% is a wildcard");
    assert_eq!(f(like(r"100\%%")).await, [l[0]], r"\% is a literal percent");
    assert_eq!(
        f(like(r"100\% SURE")).await,
        [l[0]],
        "escaped, no wildcard left: equality"
    );
    assert_eq!(f(like("a_b")).await, [l[2], l[3]], "_ is a wildcard");
    assert_eq!(f(like(r"a\_b")).await, [l[2]]);
    assert_eq!(
        f(like(r"back\\%")).await,
        [l[4]],
        r"\\ is a literal backslash"
    );
    assert_eq!(
        f(like("back\\")).await,
        Vec::<i64>::new(),
        "a trailing backslash is literal"
    );
    assert_eq!(f(like(r"%\slash")).await, [l[4]], r"\s is just s");
}

async fn multifields(store: Store) {
    let portal = new_portal(&store).await;
    let a = add_lead(&store, portal, vec![("title", text("A"))], None).await;
    let b = add_lead(&store, portal, vec![("title", text("B"))], None).await;
    let c = add_lead(&store, portal, vec![("title", text("C"))], None).await;
    let (pa1, pa2, ea, pb) = write(&store, move |tx| {
        async move {
            let pa1 = tx
                .insert_multifield(LEAD, portal, a, "PHONE", "WORK", "+1 555 0100")
                .await?;
            let pa2 = tx
                .insert_multifield(LEAD, portal, a, "PHONE", "MOBILE", "+1 555 0199")
                .await?;
            let ea = tx
                .insert_multifield(LEAD, portal, a, "EMAIL", "WORK", "Ann@Example.com")
                .await?;
            let pb = tx
                .insert_multifield(LEAD, portal, b, "PHONE", "WORK", "+1 555 0100")
                .await?;
            // Same owner id, another entity type: must not count as the lead's.
            tx.insert_multifield(
                EntityKind::Contact,
                portal,
                c,
                "EMAIL",
                "WORK",
                "carl@example.com",
            )
            .await?;
            Ok((pa1, pa2, ea, pb))
        }
        .boxed()
    })
    .await;
    let values = read(&store, move |tx| {
        async move { tx.multifields(LEAD, portal, &[a, b, c]).await }.boxed()
    })
    .await;
    assert_eq!(
        values.iter().map(|m| m.id).collect::<Vec<_>>(),
        [pa1, pa2, ea, pb]
    );
    assert_eq!(
        (
            values[2].owner_id,
            values[2].type_id.as_str(),
            values[2].value_type.as_str()
        ),
        (a, "EMAIL", "WORK")
    );
    assert!(read(&store, move |tx| async move {
        tx.multifields(LEAD, portal, &[]).await
    }
    .boxed())
    .await
    .is_empty());

    let mf = |type_id: &str, pattern: &str| Cond::Multifield {
        type_id: type_id.into(),
        pattern: pattern.into(),
    };
    let f = |filter: Cond| ids(&store, query(portal, filter));
    assert_eq!(f(mf("PHONE", "+1 555 0100")).await, [a, b]);
    assert_eq!(f(mf("PHONE", "%0199")).await, [a]);
    assert_eq!(
        f(mf("EMAIL", "ann@example.COM")).await,
        [a],
        "case-insensitive"
    );
    assert_eq!(
        f(mf("EMAIL", "carl@example.com")).await,
        Vec::<i64>::new(),
        "a contact's value"
    );
    assert_eq!(f(Cond::Not(Box::new(mf("PHONE", "%")))).await, [c]);
    assert_eq!(
        f(Cond::And(vec![mf("PHONE", "%0100"), mf("EMAIL", "%")])).await,
        [a]
    );

    // Changes are scoped to the owner.
    assert!(
        !write(&store, move |tx| tx
            .update_multifield(LEAD, portal, b, pa1, "HOME", "x")
            .boxed())
        .await
    );
    assert!(
        !write(&store, move |tx| tx
            .delete_multifield(LEAD, portal, b, pa1)
            .boxed())
        .await
    );
    assert!(
        !write(&store, move |tx| tx
            .delete_multifield(LEAD, portal + 1, a, pa1)
            .boxed())
        .await
    );
    assert!(
        write(&store, move |tx| tx
            .update_multifield(LEAD, portal, a, pa1, "HOME", "+1 555 0111")
            .boxed())
        .await
    );
    assert!(
        write(&store, move |tx| tx
            .delete_multifield(LEAD, portal, a, pa2)
            .boxed())
        .await
    );
    let values = read(&store, move |tx| {
        async move { tx.multifields(LEAD, portal, &[a]).await }.boxed()
    })
    .await;
    assert_eq!(
        values
            .iter()
            .map(|m| (m.id, m.value_type.as_str(), m.value.as_str()))
            .collect::<Vec<_>>(),
        [
            (pa1, "HOME", "+1 555 0111"),
            (ea, "WORK", "Ann@Example.com")
        ]
    );
    assert_eq!(f(mf("PHONE", "+1 555 0100")).await, [b]);
}

async fn ordering_and_paging(store: Store) {
    let portal = new_portal(&store).await;
    let mut l = Vec::new();
    for (status, date) in [
        (Some("JUNK"), Some(30)),
        (Some("NEW"), None),
        (Some("CONVERTED"), Some(10)),
        (Some("NEW"), Some(20)),
        (Some("UNKNOWN"), Some(10)),
        (None, None),
    ] {
        let values = vec![
            ("status_id", status.map(text).unwrap_or(DbValue::Null)),
            (
                "date_create",
                date.map(DbValue::Int).unwrap_or(DbValue::Null),
            ),
        ];
        l.push(add_lead(&store, portal, values, None).await);
    }
    let ordered = |order: Vec<Order>, offset: i64, limit: Option<i64>| {
        let mut q = query(portal, Cond::True);
        q.order = order;
        q.offset = offset;
        q.limit = limit;
        ids(&store, q)
    };
    let by_status = |desc| Order {
        key: OrderKey::StatusSort {
            column: "status_id",
            entity_id: "STATUS".into(),
        },
        desc,
    };
    let by = |col: &'static str, desc| Order {
        key: OrderKey::Col(Col::Column(col)),
        desc,
    };
    // Dictionary SORT, not the text; unknown and NULL statuses have no SORT and come first.
    assert_eq!(
        ordered(vec![by_status(false)], 0, None).await,
        [l[4], l[5], l[1], l[3], l[2], l[0]]
    );
    assert_eq!(
        ordered(vec![by_status(true)], 0, None).await,
        [l[0], l[2], l[1], l[3], l[4], l[5]]
    );
    assert_eq!(
        ordered(vec![by("date_create", false)], 0, None).await,
        [l[1], l[5], l[2], l[4], l[3], l[0]]
    );
    assert_eq!(
        ordered(vec![by("date_create", true)], 0, None).await,
        [l[0], l[3], l[2], l[4], l[1], l[5]]
    );
    assert_eq!(
        ordered(vec![by("date_create", true), by("id", true)], 0, None).await,
        [l[0], l[3], l[4], l[2], l[5], l[1]]
    );
    assert_eq!(
        ordered(vec![by("id", true)], 0, None).await,
        [l[5], l[4], l[3], l[2], l[1], l[0]]
    );
    assert_eq!(
        ordered(vec![by("status_id", false)], 0, None).await,
        [l[5], l[2], l[0], l[1], l[3], l[4]],
        "text order"
    );
    // Paging.
    assert_eq!(ordered(vec![], 0, Some(2)).await, [l[0], l[1]]);
    assert_eq!(ordered(vec![], 2, Some(2)).await, [l[2], l[3]]);
    assert_eq!(ordered(vec![], 4, None).await, [l[4], l[5]]);
    assert_eq!(ordered(vec![], 10, Some(2)).await, Vec::<i64>::new());
    assert_eq!(
        ordered(vec![by("date_create", false)], 1, Some(3)).await,
        [l[5], l[2], l[4]]
    );
    let mut q = query(portal, cmp("id", CmpOp::Gt, DbValue::Int(l[1]), false));
    q.limit = Some(2);
    q.order = vec![by("id", false)];
    assert_eq!(ids(&store, q.clone()).await, [l[2], l[3]]);
    assert_eq!(count(&store, q).await, 4, "count ignores limit");
    // Order by a user field.
    let mut q = query(portal, Cond::True);
    q.order = vec![Order {
        key: OrderKey::Col(Col::uf("UF_CRM_X", ColumnType::Int)),
        desc: true,
    }];
    assert_eq!(ids(&store, q).await, l, "all NULL: id order");
}

/// Deleting a record of any kind removes what hangs on it — multifields, its own bindings,
/// bindings pointing at it (contacts, companies), product rows, trace links — and nothing else.
async fn delete_removes_hanging_rows(store: Store) {
    let portal = new_portal(&store).await;
    /// A hanging row: (table tag, owner type, owner, bound).
    type Hanging = (String, String, i64, i64);
    /// Every hanging row of the portal, sorted.
    fn rows(tx: &mut Tx, portal: i64) -> BoxFuture<'_, Result<Vec<Hanging>, ApiError>> {
        async move {
            let mut out = Vec::new();
            for sql in [
                "SELECT 'mf', CAST(entity_type_id AS TEXT), owner_id, 0 FROM crm_multifield WHERE portal_id = ?",
                "SELECT 'ec', CAST(entity_type_id AS TEXT), owner_id, contact_id FROM crm_entity_contact WHERE portal_id = ?",
                "SELECT 'cc', '3', contact_id, company_id FROM crm_contact_company WHERE portal_id = ?",
                "SELECT 'pr', owner_type, owner_id, 0 FROM crm_product_row WHERE portal_id = ?",
                "SELECT 'te', CAST(entity_type_id AS TEXT), entity_id, trace_id FROM crm_trace_entity WHERE portal_id = ?",
            ] {
                for r in tx.fetch_sql(sql, vec![portal.into()]).await? {
                    out.push((
                        crate::tx::val::text(&r[0]),
                        crate::tx::val::text(&r[1]),
                        crate::tx::val::int(&r[2]),
                        crate::tx::val::int(&r[3]),
                    ));
                }
            }
            out.sort();
            Ok(out)
        }
        .boxed()
    }
    for kind in EntityKind::ALL {
        let (doomed, kept) = write(&store, move |tx| {
            async move {
                let doomed = tx.insert_entity(kind, portal, vec![], None).await?;
                let kept = tx.insert_entity(kind, portal, vec![], None).await?;
                let contact = |primary| crm::Binding { id: 900, sort: 10, primary };
                for owner in [doomed, kept] {
                    tx.insert_multifield(kind, portal, owner, "PHONE", "WORK", "1").await?;
                    match kind {
                        EntityKind::Contact => {
                            // its companies, and a deal bound to it
                            tx.set_bindings(kind, portal, owner, EntityKind::Company, &[crm::Binding { id: 800, sort: 10, primary: true }]).await?;
                            tx.set_bindings(EntityKind::Deal, portal, 700 + owner, kind, &[crm::Binding { id: owner, sort: 10, primary: true }]).await?;
                        }
                        _ => tx.set_bindings(kind, portal, owner, EntityKind::Contact, &[contact(true)]).await?,
                    }
                    if kind == EntityKind::Company {
                        // a contact's binding to it
                        tx.set_bindings(EntityKind::Contact, portal, 600 + owner, kind, &[crm::Binding { id: owner, sort: 10, primary: true }]).await?;
                    }
                    tx.exec_sql(
                        "INSERT INTO crm_product_row (portal_id, owner_type, owner_id) VALUES (?, ?, ?)",
                        vec![portal.into(), crate::entity::product_owner_type(kind).into(), owner.into()],
                    )
                    .await?;
                    tx.exec_sql(
                        "INSERT INTO crm_trace_entity (portal_id, trace_id, entity_type_id, entity_id) VALUES (?, 9, ?, ?)",
                        vec![portal.into(), kind.entity_type_id().into(), owner.into()],
                    )
                    .await?;
                }
                Ok((doomed, kept))
            }
            .boxed()
        })
        .await;
        let before = read(&store, move |tx| rows(tx, portal)).await;
        let mentions = |r: &Hanging, id: i64| {
            let et = kind.entity_type_id().to_string();
            match r.0.as_str() {
                "mf" | "te" => r.1 == et && r.2 == id,
                "pr" => r.1 == crate::entity::product_owner_type(kind) && r.2 == id,
                "ec" => (r.1 == et && r.2 == id) || (kind == EntityKind::Contact && r.3 == id),
                "cc" => match kind {
                    EntityKind::Contact => r.2 == id,
                    EntityKind::Company => r.3 == id,
                    _ => false,
                },
                _ => false,
            }
        };
        assert!(
            before.iter().filter(|r| mentions(r, doomed)).count() >= 4,
            "{kind:?}: {before:?}"
        );
        assert!(
            write(&store, move |tx| tx
                .delete_entity(kind, portal, doomed)
                .boxed())
            .await,
            "{kind:?}"
        );
        let after = read(&store, move |tx| rows(tx, portal)).await;
        let expected: Vec<_> = before
            .iter()
            .filter(|r| !mentions(r, doomed))
            .cloned()
            .collect();
        assert_eq!(after, expected, "{kind:?}");
        assert!(after.iter().any(|r| mentions(r, kept)), "{kind:?}");
        assert!(
            !write(&store, move |tx| tx
                .delete_entity(kind, portal, doomed)
                .boxed())
            .await,
            "a second delete finds nothing"
        );
    }
}

/// A write whose closure fails leaves nothing behind, while the writes grouped with it commit.
async fn failed_write_rolls_back_alone(store: Store) {
    let portal = new_portal(&store).await;
    let groups_before = store.writer_groups();
    let mut tasks = Vec::new();
    for i in 0..20_i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    async move {
                        let id = tx
                            .insert_entity(
                                LEAD,
                                portal,
                                vec![("title", text(&format!("t{i}")))],
                                None,
                            )
                            .await?;
                        tx.insert_multifield(LEAD, portal, id, "PHONE", "WORK", "1")
                            .await?;
                        if i == 0 {
                            // Hold the writer so the other jobs queue up behind this one.
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                        if i % 3 == 1 {
                            return Err(ApiError::legacy("no"));
                        }
                        Ok(id)
                    }
                    .boxed()
                })
                .await
        }));
        if i == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let mut committed = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(id) => committed.push(id),
            Err(e) => {
                assert_eq!(i % 3, 1);
                assert_eq!(e, ApiError::legacy("no"));
            }
        }
    }
    committed.sort();
    assert_eq!(committed.len(), 13);
    assert_eq!(ids(&store, query(portal, Cond::True)).await, committed);
    let owners = read(&store, move |tx| {
        async move {
            tx.multifields(LEAD, portal, &(1..100).collect::<Vec<_>>())
                .await
        }
        .boxed()
    })
    .await;
    let mut owners: Vec<i64> = owners.iter().map(|m| m.owner_id).collect();
    owners.sort();
    assert_eq!(owners, committed);
    if let (Some(before), Some(after)) = (groups_before, store.writer_groups()) {
        assert!(
            after - before < 20,
            "the queued writes shared transactions ({} for 20 writes)",
            after - before
        );
    }
}

async fn panic_in_write_is_contained(store: Store) {
    let portal = new_portal(&store).await;
    let s = store.clone();
    let panicking = tokio::spawn(async move {
        s.write(move |tx| {
            async move {
                tx.insert_entity(LEAD, portal, vec![("title", text("panic"))], None)
                    .await?;
                if portal > 0 {
                    panic!("job panics");
                }
                Ok(())
            }
            .boxed()
        })
        .await
    });
    let result = panicking.await;
    match store.backend() {
        // The writer catches the panic and answers with an error.
        Backend::Sqlite => assert_eq!(result.unwrap(), Err(ApiError::Internal)),
        // On PostgreSQL the closure runs in the caller's task, which the panic unwinds.
        Backend::Postgres => assert!(result.is_err()),
    }
    let id = add_lead(&store, portal, vec![("title", text("after"))], None).await;
    assert_eq!(
        ids(&store, query(portal, Cond::True)).await,
        [id],
        "the panicking write left nothing"
    );
}

async fn concurrent_writes_all_commit(store: Store) {
    let portal = new_portal(&store).await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                add_lead(
                    &store,
                    portal,
                    vec![("assigned_by_id", DbValue::Int(i))],
                    None,
                )
                .await
            })
        })
        .collect();
    let mut ids_seen = Vec::new();
    for t in tasks {
        ids_seen.push(t.await.unwrap());
    }
    ids_seen.sort();
    ids_seen.dedup();
    assert_eq!(ids_seen.len(), 200);
    assert_eq!(count(&store, query(portal, Cond::True)).await, 200);
    assert_eq!(ids(&store, query(portal, Cond::True)).await, ids_seen);
}

async fn reads_are_read_only(store: Store) {
    let portal = new_portal(&store).await;
    let res = store
        .read(move |tx| tx.insert_entity(LEAD, portal, vec![], None).boxed())
        .await;
    assert_eq!(res, Err(ApiError::Internal));
    assert_eq!(count(&store, query(portal, Cond::True)).await, 0);
}

/// A closure that ignores a database error and returns Ok must not commit a partial change.
async fn swallowed_error_rolls_back(store: Store) {
    let portal = new_portal(&store).await;
    let res = store
        .write(move |tx| {
            async move {
                tx.insert_entity(LEAD, portal, vec![("title", text("partial"))], None)
                    .await?;
                let bad = tx
                    .exec_sql("INSERT INTO no_such_table VALUES (1)", vec![])
                    .await;
                assert_eq!(bad, Err(ApiError::Internal));
                let after = tx.insert_entity(LEAD, portal, vec![], None).await;
                assert_eq!(after, Err(ApiError::Internal), "poisoned");
                Ok(())
            }
            .boxed()
        })
        .await;
    assert_eq!(res, Err(ApiError::Internal));
    assert_eq!(count(&store, query(portal, Cond::True)).await, 0);
    add_lead(&store, portal, vec![], None).await;
    assert_eq!(count(&store, query(portal, Cond::True)).await, 1);
}

on_both_backends!(
    status_entries_crud,
    comm_keys_find_owners,
    card_layouts,
    currency_rates,
);

async fn status_entries_crud(store: Store) {
    let portal = new_portal(&store).await;
    let other = new_portal(&store).await;
    let entry = crm::Status {
        id: 0,
        entity_id: "SOURCE".into(),
        status_id: "FAIR".into(),
        name: "Fair".into(),
        name_init: String::new(),
        sort: 15,
        system: false,
        category_id: None,
        color: Some("#112233".into()),
        semantics: None,
    };
    let e = entry.clone();
    let id = write(&store, move |tx| {
        async move { tx.insert_status(portal, &e).await }.boxed()
    })
    .await;
    let got = read(&store, move |tx| {
        async move {
            Ok((
                tx.status(portal, id).await?,
                tx.status(other, id).await?,
                tx.statuses(portal, Some("SOURCE")).await?,
            ))
        }
        .boxed()
    })
    .await;
    assert_eq!(
        got.0,
        Some(crm::Status {
            id,
            ..entry.clone()
        })
    );
    assert_eq!(got.1, None, "another portal's entry");
    assert_eq!(
        got.2
            .iter()
            .map(|s| s.status_id.as_str())
            .collect::<Vec<_>>(),
        ["CALL", "FAIR", "WEB"],
        "ordered by SORT"
    );
    let changed = crm::Status {
        id,
        name: "Trade fair".into(),
        sort: 1,
        color: None,
        // Not changeable: stays as stored.
        status_id: "OTHER".into(),
        ..entry.clone()
    };
    let (updated, missing, deleted, again) = write(&store, move |tx| {
        async move {
            let updated = tx.update_status(portal, &changed).await?;
            let missing = tx.update_status(other, &changed).await?;
            let now = tx.status(portal, id).await?;
            let deleted = tx.delete_status(portal, id).await?;
            let again = tx.delete_status(portal, id).await?;
            Ok((
                updated
                    && now.is_some_and(|s| {
                        s.name == "Trade fair"
                            && s.sort == 1
                            && s.color.is_none()
                            && s.status_id == "FAIR"
                    }),
                missing,
                deleted,
                again,
            ))
        }
        .boxed()
    })
    .await;
    assert!(updated);
    assert!(!missing);
    assert!(deleted && !again);
}

async fn comm_keys_find_owners(store: Store) {
    let portal = new_portal(&store).await;
    let a = add_lead(&store, portal, vec![("title", text("A"))], None).await;
    let b = add_lead(&store, portal, vec![("title", text("B"))], None).await;
    let c = add_lead(&store, portal, vec![("title", text("C"))], None).await;
    let mf = write(&store, move |tx| {
        async move {
            tx.insert_multifield(LEAD, portal, a, "PHONE", "WORK", "+1 (555) 010-0100")
                .await?;
            tx.insert_multifield(LEAD, portal, b, "PHONE", "WORK", "15550100100 ext. 7")
                .await?;
            tx.insert_multifield(LEAD, portal, b, "EMAIL", "WORK", "Bob@Example.com")
                .await?;
            let c_mail = tx
                .insert_multifield(LEAD, portal, c, "EMAIL", "WORK", "carl@example.com")
                .await?;
            // Another entity type with the same number is not a lead.
            tx.insert_multifield(
                EntityKind::Contact,
                portal,
                c,
                "PHONE",
                "WORK",
                "15550100100",
            )
            .await?;
            Ok(c_mail)
        }
        .boxed()
    })
    .await;
    let find = |type_id: &'static str, keys: Vec<&str>, limit: Option<i64>| {
        let keys: Vec<String> = keys.into_iter().map(String::from).collect();
        let store = store.clone();
        async move {
            read(&store, move |tx| {
                async move { tx.find_by_comm(LEAD, portal, type_id, &keys, limit).await }.boxed()
            })
            .await
        }
    };
    assert_eq!(find("PHONE", vec!["15550100100"], None).await, [a, b]);
    assert_eq!(find("PHONE", vec!["15550100100"], Some(1)).await, [a]);
    assert_eq!(
        find("EMAIL", vec!["bob@example.com", "carl@example.com"], None).await,
        [b, c]
    );
    assert!(find("EMAIL", vec!["15550100100"], None).await.is_empty());
    assert!(find("PHONE", vec![], None).await.is_empty());
    // An update re-keys the value by its stored type.
    write(&store, move |tx| {
        async move {
            tx.update_multifield(LEAD, portal, c, mf, "HOME", "Carl@New.example")
                .await
        }
        .boxed()
    })
    .await;
    assert_eq!(find("EMAIL", vec!["carl@new.example"], None).await, [c]);
    assert!(find("EMAIL", vec!["carl@example.com"], None)
        .await
        .is_empty());
}

async fn card_layouts(store: Store) {
    use crm::card::CardKey;
    let portal = new_portal(&store).await;
    let key = |user_id: Option<i64>| CardKey {
        kind: LEAD,
        variant: "customer_type=1".into(),
        user_id,
    };
    // Key order is part of the answer: stored as text, read back as written.
    let layout = json!([{"name": "main", "title": "T", "type": "section", "elements": [{"name": "TITLE", "optionFlags": "0"}]}]);
    let other = json!([{"name": "z", "title": "Z", "type": "section", "elements": []}]);
    let (l, o) = (layout.clone(), other.clone());
    let (k1, k2, kc) = (key(Some(1)), key(Some(2)), key(None));
    write(&store, move |tx| {
        async move {
            tx.save_card_config(portal, &k1, &o).await?;
            tx.save_card_config(portal, &k1, &l).await?;
            tx.save_card_config(portal, &k2, &o).await?;
            tx.save_card_config(portal, &kc, &o).await
        }
        .boxed()
    })
    .await;
    let (k1, kc) = (key(Some(1)), key(None));
    let repeat = CardKey {
        variant: "customer_type=2".into(),
        ..key(Some(1))
    };
    let got = read(&store, move |tx| {
        async move {
            Ok((
                tx.card_config(portal, &k1).await?,
                tx.card_config(portal, &kc).await?,
                tx.card_config(portal, &repeat).await?,
            ))
        }
        .boxed()
    })
    .await;
    assert_eq!(
        serde_json::to_string(&got.0.unwrap()).unwrap(),
        serde_json::to_string(&layout).unwrap()
    );
    assert_eq!(got.1, Some(other.clone()));
    assert_eq!(got.2, None);
    let (k2, kc) = (key(Some(2)), key(None));
    let (removed, removed_again, personal) = write(&store, move |tx| {
        async move {
            let removed = tx.delete_card_config(portal, &k2).await?;
            let removed_again = tx.delete_card_config(portal, &k2).await?;
            tx.save_card_config(portal, &k2, &json!([])).await?;
            let personal = tx.delete_personal_card_configs(portal, &kc).await?;
            Ok((removed, removed_again, personal))
        }
        .boxed()
    })
    .await;
    assert!(removed && !removed_again);
    assert_eq!(personal, 2);
    let (k1, kc) = (key(Some(1)), key(None));
    let left = read(&store, move |tx| {
        async move {
            Ok((
                tx.card_config(portal, &k1).await?,
                tx.card_config(portal, &kc).await?,
            ))
        }
        .boxed()
    })
    .await;
    assert_eq!(left, (None, Some(other)));
}

async fn currency_rates(store: Store) {
    let portal = new_portal(&store).await;
    let list = read(&store, move |tx| {
        async move { Ok((tx.currency_list(portal).await?, tx.portal(portal).await?)) }.boxed()
    })
    .await;
    let (currencies, p) = list;
    let p = p.unwrap();
    assert_eq!(
        currencies
            .iter()
            .map(|c| (c.code.as_str(), c.sort, c.base, c.amount_cnt, c.amount))
            .collect::<Vec<_>>(),
        [("USD", 100, true, 1, 1.0), ("EUR", 200, false, 1, 1.0)]
    );
    assert!(currencies.iter().all(|c| c.date_update == p.created_at));
    write(&store, move |tx| {
        async move { tx.set_portal_setting(portal, "currency", "GBP").await }.boxed()
    })
    .await;
    let currencies = read(&store, move |tx| {
        async move { tx.currency_list(portal).await }.boxed()
    })
    .await;
    let gbp = currencies.iter().find(|c| c.code == "GBP").unwrap();
    assert!(gbp.base && gbp.date_update > 0);
    assert_eq!(currencies.iter().filter(|c| c.base).count(), 1);
}

/// User fields compare by their definition's type: numbers numerically (booleans as 1/0, a value
/// of another JSON type as NULL), and a multiple field matches when any element does.
async fn typed_user_field_filters(store: Store) {
    let portal = new_portal(&store).await;
    let mut l = Vec::new();
    for ufs in [
        json!({"UF_CRM_N": 9, "UF_CRM_D": 2.5, "UF_CRM_F": 1, "UF_CRM_T": 1_700_000_000, "UF_CRM_M": [1, 2], "UF_CRM_S": ["Red", "blue"]}),
        json!({"UF_CRM_N": 10, "UF_CRM_D": 10.25, "UF_CRM_F": 0, "UF_CRM_M": [3], "UF_CRM_S": ["green"]}),
        json!({"UF_CRM_N": 100, "UF_CRM_D": -1, "UF_CRM_F": true, "UF_CRM_M": []}),
        json!({"UF_CRM_N": "7", "UF_CRM_S": "red"}),
    ] {
        l.push(add_lead(&store, portal, vec![], Some(ufs)).await);
    }
    let (a, b, c, d) = (l[0], l[1], l[2], l[3]);
    let f = |filter: Cond| ids(&store, query(portal, filter));
    let num = |name: &str| Col::uf(name, ColumnType::Int);
    let ucmp = |col: Col, op, value| Cond::Cmp {
        col,
        op,
        value,
        ci: false,
    };
    assert_eq!(
        f(ucmp(num("UF_CRM_N"), CmpOp::Gt, DbValue::Int(9))).await,
        [b, c],
        "numeric, not text, order; text \"7\" is not a number"
    );
    assert_eq!(
        f(ucmp(num("UF_CRM_N"), CmpOp::Lt, text("10"))).await,
        [a],
        "a numeric text value is compared as a number"
    );
    assert_eq!(f(Cond::IsNull(num("UF_CRM_N"))).await, [d]);
    let real = Col::uf("UF_CRM_D", ColumnType::Real);
    assert_eq!(
        f(ucmp(real.clone(), CmpOp::Ge, DbValue::Real(2.5))).await,
        [a, b]
    );
    assert_eq!(f(ucmp(real, CmpOp::Lt, DbValue::Int(0))).await, [c]);
    assert_eq!(
        f(ucmp(num("UF_CRM_F"), CmpOp::Eq, DbValue::Int(1))).await,
        [a, c],
        "JSON true counts as 1"
    );
    assert_eq!(
        f(ucmp(
            num("UF_CRM_T"),
            CmpOp::Ge,
            DbValue::Int(1_600_000_000)
        ))
        .await,
        [a]
    );
    assert_eq!(
        f(Cond::In {
            col: num("UF_CRM_N"),
            values: vec![DbValue::Int(10), DbValue::Int(100)],
            ci: false
        })
        .await,
        [b, c]
    );
    assert_eq!(
        f(Cond::Like {
            col: num("UF_CRM_N"),
            pattern: "1%".into(),
            ci: false
        })
        .await,
        [b, c]
    );
    // Multiple fields: any element.
    let m = Col::uf_multiple("UF_CRM_M", ColumnType::Int);
    assert_eq!(f(ucmp(m.clone(), CmpOp::Eq, DbValue::Int(2))).await, [a]);
    assert_eq!(f(ucmp(m.clone(), CmpOp::Ge, DbValue::Int(2))).await, [a, b]);
    assert_eq!(
        f(Cond::Not(Box::new(ucmp(
            m.clone(),
            CmpOp::Eq,
            DbValue::Int(2)
        ))))
        .await,
        [b, c, d]
    );
    assert_eq!(f(Cond::IsNull(m.clone())).await, [c, d], "empty or missing");
    assert_eq!(
        f(Cond::In {
            col: m,
            values: vec![DbValue::Int(3), DbValue::Int(9)],
            ci: false
        })
        .await,
        [b]
    );
    let tags = Col::uf_multiple("UF_CRM_S", ColumnType::Text);
    assert_eq!(
        f(Cond::Cmp {
            col: tags.clone(),
            op: CmpOp::Eq,
            value: text("RED"),
            ci: true
        })
        .await,
        [a],
        "a lone scalar is no array"
    );
    assert_eq!(
        f(Cond::Like {
            col: tags,
            pattern: "%e%".into(),
            ci: false
        })
        .await,
        [a, b]
    );
    // One connection, an integer then a double comparison: their statements must not share a
    // prepared statement (PostgreSQL would read the double's bytes as an integer).
    let (n, real) = (num("UF_CRM_N"), Col::uf("UF_CRM_D", ColumnType::Real));
    let (first, second) = read(&store, move |tx| {
        async move {
            let ids = |rows: Vec<crm::Row>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
            let q1 = query(portal, ucmp(n, CmpOp::Gt, DbValue::Int(9)));
            let first = ids(tx.list_entities(&q1).await?);
            let q2 = query(portal, ucmp(real, CmpOp::Gt, DbValue::Real(1.5)));
            let second = ids(tx.list_entities(&q2).await?);
            Ok((first, second))
        }
        .boxed()
    })
    .await;
    assert_eq!((first, second), (vec![b, c], vec![a, b]));
    // Ordering by a numeric user field is numeric; NULL first ascending.
    let mut q = query(portal, Cond::True);
    q.order = vec![Order {
        key: OrderKey::Col(num("UF_CRM_N")),
        desc: false,
    }];
    assert_eq!(ids(&store, q).await, [d, a, b, c]);
}

/// Definitions with their options: insert, read per entity type, update (options changed, added,
/// deleted), delete; values of a deleted field leave every record; file metadata.
async fn user_field_definitions(store: Store) {
    let portal = new_portal(&store).await;
    let other = new_portal(&store).await;
    let mut e = UserField::new("CRM_LEAD", "UF_CRM_E", UserType::Enumeration);
    e.multiple = true;
    e.sort = 50;
    e.xml_id = Some("X".into());
    e.labels
        .get_mut("EDIT_FORM_LABEL")
        .unwrap()
        .insert("en".into(), "Colour".into());
    e.settings.insert("DISPLAY".into(), json!("UI"));
    let item = |value: &str, sort: i64, def: bool| EnumItem {
        id: 0,
        value: value.into(),
        sort,
        def,
        xml_id: value.into(),
    };
    e.items = vec![item("red", 20, false), item("blue", 10, true)];
    let s = UserField::new("CRM_LEAD", "UF_CRM_S", UserType::String);
    let deal = UserField::new("CRM_DEAL", "UF_CRM_S", UserType::String);
    let (e2, s2) = (e.clone(), s.clone());
    let (e_id, s_id) = write(&store, move |tx| {
        async move {
            let e_id = tx.insert_user_field(portal, &e2).await?;
            let s_id = tx.insert_user_field(portal, &s2).await?;
            tx.insert_user_field(portal, &deal).await?;
            Ok((e_id, s_id))
        }
        .boxed()
    })
    .await;
    let list = |entity: Option<&'static str>, p: i64| {
        read(&store, move |tx| {
            async move { tx.user_fields(p, entity).await }.boxed()
        })
    };
    let leads = list(Some("CRM_LEAD"), portal).await;
    assert_eq!(
        leads.iter().map(|u| u.id).collect::<Vec<_>>(),
        [e_id, s_id],
        "SORT order"
    );
    assert_eq!(list(None, portal).await.len(), 3);
    assert!(list(None, other).await.is_empty());
    let got = &leads[0];
    assert_eq!(
        (
            got.field_name.as_str(),
            got.user_type,
            got.multiple,
            got.sort
        ),
        ("UF_CRM_E", UserType::Enumeration, true, 50)
    );
    assert_eq!(got.xml_id.as_deref(), Some("X"));
    assert_eq!(got.settings, e.settings);
    assert_eq!(got.labels, e.labels);
    assert_eq!(
        got.items
            .iter()
            .map(|i| (i.value.as_str(), i.def))
            .collect::<Vec<_>>(),
        [("blue", true), ("red", false)]
    );
    assert!(got.items.iter().all(|i| i.id > 0));
    assert_eq!(leads[1].items, vec![]);

    // Update: attributes, one option changed, one deleted, one added.
    let mut changed = got.clone();
    changed.sort = 500;
    changed.mandatory = true;
    changed.show_filter = "E".into();
    changed.field_name = "UF_CRM_RENAMED".into();
    let blue = changed.items[0].id;
    changed.items = vec![
        EnumItem {
            value: "navy".into(),
            ..changed.items[0].clone()
        },
        item("green", 30, false),
    ];
    assert!(
        write(&store, move |tx| {
            async move { tx.update_user_field(portal, &changed).await }.boxed()
        })
        .await
    );
    let leads = list(Some("CRM_LEAD"), portal).await;
    let got = leads.iter().find(|u| u.id == e_id).unwrap();
    assert_eq!(
        (
            got.field_name.as_str(),
            got.sort,
            got.mandatory,
            got.show_filter.as_str()
        ),
        ("UF_CRM_E", 500, true, "E"),
        "the name never changes"
    );
    assert_eq!(
        got.items
            .iter()
            .map(|i| (i.id == blue, i.value.as_str()))
            .collect::<Vec<_>>(),
        [(true, "navy"), (false, "green")]
    );
    let mut ghost = got.clone();
    ghost.id = 999_999;
    assert!(
        !write(&store, move |tx| {
            async move { tx.update_user_field(portal, &ghost).await }.boxed()
        })
        .await
    );

    // Delete: the definition, its options, and its values on every record.
    let a = add_lead(
        &store,
        portal,
        vec![],
        Some(json!({"UF_CRM_E": [1], "UF_CRM_S": "x"})),
    )
    .await;
    let b = add_lead(&store, portal, vec![], Some(json!({"UF_CRM_S": "y"}))).await;
    let foreign = add_lead(&store, other, vec![], Some(json!({"UF_CRM_E": [1]}))).await;
    let (deleted, again) = write(&store, move |tx| {
        async move {
            let deleted = tx.delete_user_field(portal, e_id).await?;
            tx.remove_user_field_values(LEAD, portal, "UF_CRM_E")
                .await?;
            let again = tx.delete_user_field(portal, e_id).await?;
            Ok((deleted, again))
        }
        .boxed()
    })
    .await;
    assert!(deleted && !again);
    assert_eq!(list(Some("CRM_LEAD"), portal).await.len(), 1);
    let stored = |p: i64, id: i64| {
        let mut q = query(p, cmp("id", CmpOp::Eq, DbValue::Int(id), false));
        q.with_uf = true;
        read(&store, move |tx| {
            async move { Ok(tx.list_entities(&q).await?[0].uf.clone()) }.boxed()
        })
    };
    assert_eq!(stored(portal, a).await, Some(uf(json!({"UF_CRM_S": "x"}))));
    assert_eq!(stored(portal, b).await, Some(uf(json!({"UF_CRM_S": "y"}))));
    assert_eq!(
        stored(other, foreign).await,
        Some(uf(json!({"UF_CRM_E": [1]}))),
        "another portal's records are untouched"
    );
    let options = read(&store, move |tx| {
        async move {
            tx.fetch_sql(
                "SELECT COUNT(*) FROM crm_user_field_enum WHERE field_id = ?",
                vec![e_id.into()],
            )
            .await
        }
        .boxed()
    })
    .await;
    assert_eq!(options[0][0], DbValue::Int(0));

    // The same name may be defined for another entity type, not twice for one.
    let dup = store
        .write(move |tx| async move { tx.insert_user_field(portal, &s).await }.boxed())
        .await;
    assert_eq!(dup, Err(ApiError::Internal));

    let (f1, f2) = write(&store, move |tx| {
        async move {
            Ok((
                tx.insert_file(portal, "a.txt", 5).await?,
                tx.insert_file(portal, "b.txt", 7).await?,
            ))
        }
        .boxed()
    })
    .await;
    assert!(f2 > f1 && f1 > 0);
}

// Sales Intelligence (migration 0008, tracking.rs).

on_both_backends!(
    tracking_sources_and_settings,
    tracking_traces_and_bindings,
    tracking_lists_in_one_read
);

mod tracking_migration_seeds_existing_portals {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::tracking_migration_seeds(crate::Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::tracking_migration_seeds(crate::Backend::Postgres).await
    }
}

use crm::tracking::{MatchValue, Page, Source, TraceChannel, TraceData, TrackingSettings, Utm};

fn seeded_codes(sources: &[Source]) -> Vec<(i64, String, Vec<MatchValue>, Vec<MatchValue>)> {
    sources
        .iter()
        .map(|s| {
            (
                s.id,
                s.code.clone(),
                s.utm_source.clone(),
                s.ref_domain.clone(),
            )
        })
        .collect()
}

fn expected_seeds(first_id: i64) -> Vec<(i64, String, Vec<MatchValue>, Vec<MatchValue>)> {
    crm::tracking::source::SEEDS
        .iter()
        .zip(first_id..)
        .map(|(s, id)| {
            let src = s.to_source(0);
            (id, src.code, src.utm_source, src.ref_domain)
        })
        .collect()
}

/// A database that had portals before 0008 gets the seeded sources from the migration itself.
async fn tracking_migration_seeds(backend: Backend) {
    use sqlx::{ConnectOptions, Connection, Executor};
    let url = testing::fresh_url(backend).await;
    let before = |m: &'static sqlx::migrate::Migrator| sqlx::migrate::Migrator {
        migrations: m
            .migrations
            .iter()
            .filter(|m| m.version < 8)
            .cloned()
            .collect(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    let insert = "INSERT INTO portal (name, time_zone, currency, crm_mode, created_at) \
                  VALUES ('Old', 'UTC', 'USD', 'classic', 1000), ('Older', 'UTC', 'USD', 'classic', 2000)";
    match backend {
        Backend::Sqlite => {
            let path = crate::sqlite_path(&url).unwrap();
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .connect()
                .await
                .unwrap();
            crate::fold::register(&mut conn).await.unwrap();
            before(&crate::SQLITE_MIGRATIONS)
                .run(&mut conn)
                .await
                .unwrap();
            conn.execute(insert).await.unwrap();
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            before(&crate::POSTGRES_MIGRATIONS)
                .run(&mut conn)
                .await
                .unwrap();
            conn.execute(insert).await.unwrap();
            conn.close().await.unwrap();
        }
    }
    let store = Store::open(&url).await.unwrap();
    for portal in [1, 2] {
        let sources = read(&store, move |tx| tx.sources(portal).boxed()).await;
        let got = seeded_codes(&sources);
        let want = expected_seeds(0);
        assert_eq!(got.len(), 7, "portal {portal}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((&g.1, &g.2, &g.3), (&w.1, &w.2, &w.3), "portal {portal}");
        }
        assert!(sources.iter().all(|s| s.active));
        assert_eq!(sources[0].created_at, portal * 1000);
    }
    let first = read(&store, |tx| tx.sources(1).boxed()).await;
    let ids: Vec<i64> = first.iter().map(|s| s.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    store.close().await;
    testing::discard(&url).await;
}

async fn tracking_sources_and_settings(store: Store) {
    let portal = new_portal(&store).await;
    let sources = read(&store, move |tx| tx.sources(portal).boxed()).await;
    assert_eq!(
        seeded_codes(&sources),
        expected_seeds(1),
        "ids 1–7 on a fresh database"
    );

    let defaults = read(&store, move |tx| tx.tracking_settings(portal).boxed()).await;
    assert_eq!(defaults, TrackingSettings::default());
    let changed = TrackingSettings {
        use_attribution_window: false,
        attribution_window_days: 7,
    };
    for s in [changed, TrackingSettings::default(), changed] {
        write(&store, move |tx| {
            async move { tx.set_tracking_settings(portal, &s).await }.boxed()
        })
        .await;
        assert_eq!(
            read(&store, move |tx| tx.tracking_settings(portal).boxed()).await,
            s
        );
    }

    let mut custom = Source {
        code: "partners".into(),
        name: "Partners «ООО»".into(),
        active: true,
        created_at: 1234,
        color: Some("#ff0000".into()),
        description: "d".into(),
        utm_source: vec![
            MatchValue::plain("p1"),
            MatchValue::regexp("^partner-\\d+$"),
        ],
        ref_domain: vec![MatchValue::plain("partner.com")],
        phone: vec![MatchValue::plain("+1 555 0100")],
        email: vec![MatchValue::plain("a@partner.com")],
        ..Source::default()
    };
    let c = custom.clone();
    let id = write(&store, move |tx| {
        async move { tx.insert_source(portal, &c).await }.boxed()
    })
    .await;
    assert_eq!(id, 8);
    custom.id = id;
    let all = read(&store, move |tx| tx.sources(portal).boxed()).await;
    assert_eq!(all.last(), Some(&custom));

    custom.name = "Renamed".into();
    custom.active = false;
    custom.color = None;
    custom.created_at = 1;
    custom.utm_source = vec![MatchValue::regexp("x")];
    custom.phone.clear();
    let c = custom.clone();
    assert!(
        write(&store, move |tx| async move {
            tx.update_source(portal, &c).await
        }
        .boxed())
        .await
    );
    let all = read(&store, move |tx| tx.sources(portal).boxed()).await;
    custom.created_at = 1234;
    assert_eq!(all.last(), Some(&custom), "created_at is kept");
    let ghost = Source {
        id: 999,
        ..custom.clone()
    };
    assert!(
        !write(&store, move |tx| async move {
            tx.update_source(portal, &ghost).await
        }
        .boxed())
        .await
    );

    // Deleting a source sends its traces to source 0.
    let t = write(&store, move |tx| {
        async move {
            tx.insert_trace(
                portal,
                &TraceData {
                    source_id: id,
                    created_at: 5,
                    channel_group: "direct".into(),
                    ..TraceData::default()
                },
            )
            .await
        }
        .boxed()
    })
    .await;
    assert!(write(&store, move |tx| tx.delete_source(portal, id).boxed()).await);
    assert!(!write(&store, move |tx| tx.delete_source(portal, id).boxed()).await);
    let all = read(&store, move |tx| tx.sources(portal).boxed()).await;
    assert_eq!(all.len(), 7);
    let traces = read(&store, move |tx| {
        async move { tx.traces(portal, &[t]).await }.boxed()
    })
    .await;
    assert_eq!(traces[0].data.source_id, 0);
}

/// `tracking_lists` (one statement) reads what `sources` and `channel_rules` read: sources in id
/// order, rules by sort then id, each list in its order, items without values included, nothing
/// of another portal.
async fn tracking_lists_in_one_read(store: Store) {
    use crm::tracking::{ChannelGroup, ChannelRule};
    let portal = new_portal(&store).await;
    let other = new_portal(&store).await;
    let bare = Source {
        code: "bare".into(),
        name: "No values".into(),
        active: false,
        created_at: 7,
        ..Source::default()
    };
    let full = Source {
        code: "full".into(),
        name: "Values".into(),
        active: true,
        created_at: 8,
        color: Some("#00ff00".into()),
        utm_source: vec![MatchValue::plain("b"), MatchValue::regexp("^a")],
        email: vec![MatchValue::plain("x@y.z")],
        ..Source::default()
    };
    let rules = [
        ChannelRule {
            sort: 20,
            name: "late".into(),
            group: ChannelGroup::Email,
            utm_medium: vec![MatchValue::plain("mail")],
            ..ChannelRule::default()
        },
        ChannelRule {
            sort: 10,
            name: "empty".into(),
            active: false,
            group: ChannelGroup::Direct,
            ..ChannelRule::default()
        },
        ChannelRule {
            sort: 20,
            name: "tie".into(),
            group: ChannelGroup::Referral,
            created_at: 3,
            utm_source: vec![MatchValue::regexp("z$"), MatchValue::plain("q")],
            ref_domain: vec![MatchValue::plain("ref.example")],
            ..ChannelRule::default()
        },
    ];
    write(&store, move |tx| {
        async move {
            tx.insert_source(portal, &bare).await?;
            tx.insert_source(portal, &full).await?;
            for r in &rules {
                tx.insert_channel_rule(portal, r).await?;
            }
            tx.insert_channel_rule(
                other,
                &ChannelRule {
                    sort: 1,
                    group: ChannelGroup::Email,
                    utm_source: vec![MatchValue::plain("o")],
                    ..ChannelRule::default()
                },
            )
            .await?;
            Ok(())
        }
        .boxed()
    })
    .await;
    let (sources, rules, lists) = read(&store, move |tx| {
        async move {
            Ok((
                tx.sources(portal).await?,
                tx.channel_rules(portal).await?,
                tx.tracking_lists(portal).await?,
            ))
        }
        .boxed()
    })
    .await;
    assert_eq!(sources.len(), 9);
    assert_eq!(sources[7].code, "bare");
    assert!(sources[7].utm_source.is_empty() && !sources[7].active);
    assert_eq!(sources[8].utm_source, full_utm());
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["empty", "late", "tie"]);
    assert_eq!(rules[2].utm_source.len(), 2);
    assert!(rules[2].utm_source[0].is_regexp);
    assert_eq!(rules[2].ref_domain, vec![MatchValue::plain("ref.example")]);
    assert_eq!(lists, (sources, rules));

    // A portal without rules.
    let (sources, rules) = read(&store, move |tx| tx.tracking_lists(other).boxed()).await;
    assert_eq!(sources.len(), 7);
    assert_eq!(rules.len(), 1);
    let fresh = new_portal(&store).await;
    let (sources, rules) = read(&store, move |tx| tx.tracking_lists(fresh).boxed()).await;
    assert_eq!(seeded_codes(&sources).len(), 7);
    assert!(rules.is_empty());
}

fn full_utm() -> Vec<MatchValue> {
    vec![MatchValue::plain("b"), MatchValue::regexp("^a")]
}

async fn tracking_traces_and_bindings(store: Store) {
    let portal = new_portal(&store).await;
    let other = new_portal(&store).await;
    let mut utm = Utm::default();
    utm.set("UTM_SOURCE", Some("google".into()));
    utm.set("UTM_TERM", Some("сапоги".into()));
    let data = TraceData {
        created_at: 1_700_000_000,
        source_id: 1,
        source_description: Some("desc".into()),
        guest_id: Some("g".into()),
        is_mobile: true,
        landing_url: Some("https://s.example/".into()),
        referrer_url: Some("https://www.google.com/".into()),
        utm,
        gclid: Some("EAI".into()),
        client_ids: Some(r#"{"gaId":"1.2"}"#.into()),
        has_children: true,
        channel_group: "paid_search".into(),
        raw_json: Some("{}".into()),
        pages: vec![
            Page {
                url: "https://www.google.com/".into(),
                visited_at: None,
                title: "www.google.com".into(),
                is_referrer: true,
            },
            Page {
                url: "https://s.example/".into(),
                visited_at: Some(1_699_999_000),
                title: "Home".into(),
                is_referrer: false,
            },
        ],
        channels: vec![
            TraceChannel::new("site", Some("s.example")),
            TraceChannel::new("rest", None),
        ],
    };
    let child = TraceData {
        created_at: 1_600_000_000,
        channel_group: "direct".into(),
        ..TraceData::default()
    };
    let (d, c) = (data.clone(), child.clone());
    let (parent, kid) = write(&store, move |tx| {
        async move {
            let kid = tx.insert_trace(portal, &c).await?;
            let parent = tx.insert_trace(portal, &d).await?;
            tx.link_trace_child(portal, parent, kid).await?;
            tx.link_trace_child(portal, parent, kid).await?;
            tx.add_trace_channel(portal, parent, &TraceChannel::new("rest", None))
                .await?;
            tx.add_trace_channel(portal, parent, &TraceChannel::new("form", Some("7")))
                .await?;
            Ok((parent, kid))
        }
        .boxed()
    })
    .await;
    let got = read(&store, move |tx| {
        async move { tx.traces(portal, &[parent, kid, parent, 424242]).await }.boxed()
    })
    .await;
    assert_eq!(got.len(), 2);
    let (k, p) = (&got[0], &got[1]);
    assert_eq!((k.id, p.id), (kid, parent));
    let mut want = data.clone();
    want.channels.push(TraceChannel::new("form", Some("7")));
    assert_eq!(p.data, want);
    assert_eq!(p.children, vec![kid]);
    assert_eq!(k.data, child);
    assert!(read(&store, move |tx| async move {
        tx.traces(other, &[parent]).await
    }
    .boxed())
    .await
    .is_empty());

    // Bindings: the latest is the effective one; binding again renews.
    let t2 = write(&store, move |tx| {
        async move {
            tx.insert_trace(
                portal,
                &TraceData {
                    channel_group: "direct".into(),
                    ..TraceData::default()
                },
            )
            .await
        }
        .boxed()
    })
    .await;
    write(&store, move |tx| {
        async move {
            tx.bind_trace(portal, parent, LEAD, 10, 100).await?;
            tx.bind_trace(portal, t2, LEAD, 10, 200).await?;
            tx.bind_trace(portal, parent, EntityKind::Contact, 10, 300)
                .await?;
            tx.bind_trace(portal, t2, LEAD, 11, 300).await
        }
        .boxed()
    })
    .await;
    let eff = |kind, id, limit| {
        let store = store.clone();
        async move {
            read(&store, move |tx| {
                async move { tx.entity_bindings(portal, kind, id, limit).await }.boxed()
            })
            .await
            .iter()
            .map(|b| b.trace_id)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(eff(LEAD, 10, 10).await, vec![t2, parent]);
    assert_eq!(eff(LEAD, 10, 1).await, vec![t2]);
    write(&store, move |tx| {
        tx.bind_trace(portal, parent, LEAD, 10, 400).boxed()
    })
    .await;
    assert_eq!(eff(LEAD, 10, 10).await, vec![parent, t2]);
    let b = read(&store, move |tx| {
        tx.entity_bindings(portal, LEAD, 10, 1).boxed()
    })
    .await;
    assert_eq!((b[0].bound_at, b[0].seq), (400, 3));
    let mut on_parent: Vec<(EntityKind, i64)> =
        read(&store, move |tx| tx.trace_bindings(portal, parent).boxed())
            .await
            .iter()
            .map(|b| (b.kind, b.entity_id))
            .collect();
    on_parent.sort();
    assert_eq!(on_parent, vec![(LEAD, 10), (EntityKind::Contact, 10)]);

    assert!(
        write(&store, move |tx| tx
            .unbind_trace(portal, parent, LEAD, 10)
            .boxed())
        .await
    );
    assert!(
        !write(&store, move |tx| tx
            .unbind_trace(portal, parent, LEAD, 10)
            .boxed())
        .await
    );
    assert_eq!(eff(LEAD, 10, 10).await, vec![t2]);

    // Deleting the child updates the parent; deleting the parent takes everything of it along.
    assert!(write(&store, move |tx| tx.delete_trace(portal, kid).boxed()).await);
    let p = read(&store, move |tx| {
        async move { tx.traces(portal, &[parent]).await }.boxed()
    })
    .await;
    assert!(!p[0].data.has_children && p[0].children.is_empty());
    assert!(write(&store, move |tx| tx.delete_trace(portal, parent).boxed()).await);
    assert!(!write(&store, move |tx| tx.delete_trace(portal, parent).boxed()).await);
    for table in ["si_trace_page", "si_trace_channel", "crm_trace_entity"] {
        let rows = read(&store, move |tx| {
            async move {
                tx.fetch_sql(
                    &format!("SELECT 1 FROM {table} WHERE portal_id = ? AND trace_id = ?"),
                    vec![portal.into(), parent.into()],
                )
                .await
            }
            .boxed()
        })
        .await;
        assert!(rows.is_empty(), "{table}");
    }
    assert_eq!(eff(EntityKind::Contact, 10, 10).await, Vec::<i64>::new());
    assert_eq!(eff(LEAD, 11, 10).await, vec![t2]);
}

/// PostgreSQL only (SQLite has no planner statistics to miss): opening a database leaves no table
/// that PostgreSQL has never analysed (docs/performance.md, finding 4).
#[tokio::test]
async fn postgres_open_analyses_unanalysed_tables() {
    let url = testing::fresh_url(Backend::Postgres).await;
    let store = Store::open(&url).await.unwrap();
    store.close().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let never: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.reltuples < 0",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let analysed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relname = 'crm_lead' AND c.reltuples >= 0",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    testing::discard(&url).await;
    assert!(never.is_empty(), "never analysed: {never:?}");
    assert_eq!(analysed, 1);
}

/// A lead row as the store keeps it, created at `at` with status `status` (and `extra` columns).
fn lead_row(at: i64, status: &str, extra: Vec<(&'static str, DbValue)>) -> crm::Assignments {
    let mut v: crm::Assignments = vec![
        ("title", DbValue::Text("report".into())),
        ("date_create", DbValue::Int(at)),
        ("date_modify", DbValue::Int(at)),
        ("created_by_id", DbValue::Int(1)),
        ("status_id", DbValue::Text(status.into())),
    ];
    v.extend(extra);
    v
}

on_both_backends!(report_days_follow_writes);

/// The report's daily roll-ups (migration 0012): triggers mark the days of written records and
/// traces, the refresher sums marked days and clears their marks, a write that changes nothing the
/// report reads marks nothing, and the report reads the same sums either way.
async fn report_days_follow_writes(store: Store) {
    use crm::tracking::report::{GroupBy, GroupKey, ReportQuery};
    use crm::tracking::TraceData;
    const DAY: i64 = 86_400;
    let d0 = 20_500 * DAY; // 2026-02-16 00:00 UTC
    let marks = |store: Store| async move {
        store
            .read(|tx| {
                Box::pin(async move {
                    let rows = tx
                        .fetch_sql(
                            "SELECT entity_type_id, day FROM si_report_dirty ORDER BY id",
                            vec![],
                        )
                        .await?;
                    Ok(rows
                        .iter()
                        .map(|r| (crate::tx::val::int(&r[0]), crate::tx::val::int(&r[1])))
                        .collect::<Vec<_>>())
                })
            })
            .await
            .unwrap()
    };
    let groups = |store: Store| async move {
        store
            .read(move |tx| {
                Box::pin(async move {
                    let q = ReportQuery {
                        portal_id: 1,
                        kind: LEAD,
                        from: d0 - DAY,
                        to: d0 + 3 * DAY,
                        group_by: GroupBy::Source,
                        by_responsible: true,
                    };
                    tx.report_groups(&q).await
                })
            })
            .await
            .unwrap()
    };
    assert_eq!(new_portal(&store).await, 1);
    store.refresh_report_days().await.unwrap();
    assert!(marks(store.clone()).await.is_empty());

    let ids = store
        .write(move |tx| {
            Box::pin(async move {
                let mut ids = vec![];
                for (i, at) in [d0 + 3600, d0 + 7200, d0 + DAY + 60]
                    .into_iter()
                    .enumerate()
                {
                    let id = tx
                        .insert_entity(
                            LEAD,
                            1,
                            lead_row(
                                at,
                                "CONVERTED",
                                vec![
                                    ("opportunity", DbValue::Real(10.0 * (i as f64 + 1.0))),
                                    ("currency_id", DbValue::Text("USD".into())),
                                    ("assigned_by_id", DbValue::Int(1)),
                                    ("status_semantic_id", DbValue::Text("S".into())),
                                ],
                            ),
                            None,
                        )
                        .await?;
                    let trace = tx
                        .insert_trace(
                            1,
                            &TraceData {
                                created_at: at - 60,
                                source_id: 1,
                                channel_group: "paid_search".into(),
                                ..TraceData::default()
                            },
                        )
                        .await?;
                    tx.bind_trace(1, trace, LEAD, id, at).await?;
                    ids.push(id);
                }
                Ok(ids)
            })
        })
        .await
        .unwrap();
    let mut seen = marks(store.clone()).await;
    seen.sort();
    seen.dedup();
    let (day0, day1) = (d0 / DAY, d0 / DAY + 1);
    assert_eq!(seen, vec![(0, day0), (0, day1), (1, day0), (1, day1)]);
    let from_records = groups(store.clone()).await;
    assert_eq!(from_records.len(), 1);
    assert_eq!(from_records[0].key, GroupKey::Source(1));
    assert_eq!((from_records[0].count, from_records[0].won), (3.0, 3.0));
    assert_eq!(from_records[0].sum, 60.0);

    assert!(store.refresh_report_days().await.unwrap() > 0);
    assert!(marks(store.clone()).await.is_empty());
    let rollups = store
        .read(|tx| {
            Box::pin(async move {
                tx.fetch_sql(
                    "SELECT day, CAST(SUM(n) AS BIGINT) FROM si_report_day \
                     WHERE portal_id = 1 AND entity_type_id = 1 AND split = 0 AND model = 0 \
                     AND period = 0 GROUP BY day ORDER BY day",
                    vec![],
                )
                .await
            })
        })
        .await
        .unwrap();
    let rollups: Vec<(i64, i64)> = rollups
        .iter()
        .map(|r| (crate::tx::val::int(&r[0]), crate::tx::val::int(&r[1])))
        .collect();
    assert_eq!(rollups, vec![(day0, 2), (day1, 1)]);
    assert_eq!(groups(store.clone()).await, from_records);

    // A change the report does not read marks nothing; one it reads marks the record's day.
    let first = ids[0];
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.update_entity(
                    LEAD,
                    1,
                    first,
                    vec![("title", DbValue::Text("x".into()))],
                    None,
                )
                .await
            })
        })
        .await
        .unwrap();
    assert!(marks(store.clone()).await.is_empty());
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.update_entity(
                    LEAD,
                    1,
                    first,
                    vec![("opportunity", DbValue::Real(5.0))],
                    None,
                )
                .await
            })
        })
        .await
        .unwrap();
    assert_eq!(marks(store.clone()).await, vec![(1, day0)]);
    let changed = groups(store.clone()).await;
    assert_eq!(changed[0].sum, 55.0);
    store.refresh_report_days().await.unwrap();
    assert_eq!(groups(store.clone()).await, changed);

    // A deleted record leaves the roll-ups with its day's refresh.
    let last = ids[2];
    store
        .write(move |tx| Box::pin(async move { tx.delete_entity(LEAD, 1, last).await }))
        .await
        .unwrap();
    store.refresh_report_days().await.unwrap();
    let after = groups(store.clone()).await;
    assert_eq!((after[0].count, after[0].sum), (2.0, 25.0));

    // Many dirty days (an import): a step recomputes a bounded number of days, the longest
    // marked first, and collapses the marks of the others to one each; steps then finish.
    store
        .write(move |tx| {
            Box::pin(async move {
                for i in 0..40 {
                    let at = d0 + (10 + i) * DAY;
                    let id = tx
                        .insert_entity(LEAD, 1, lead_row(at, "NEW", vec![]), None)
                        .await?;
                    tx.update_entity(LEAD, 1, id, vec![("opportunity", DbValue::Real(1.0))], None)
                        .await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
    assert_eq!(marks(store.clone()).await.len(), 80);
    assert_eq!(
        store.refresh_report_days_step().await.unwrap(),
        Some((16, 24))
    );
    let left = marks(store.clone()).await;
    let want: Vec<(i64, i64)> = (16..40).map(|i| (1, d0 / DAY + 10 + i)).collect();
    assert_eq!(left, want);
    assert_eq!(store.refresh_report_days().await.unwrap(), 24);
    assert!(marks(store.clone()).await.is_empty());
}

on_both_backends!(report_days_under_concurrent_writes);

/// Writers adding and changing leads on a few days while the refresher steps: once everything
/// is summed, the roll-ups agree with the records (no mark lost to a refresh that ran beside a
/// write).
async fn report_days_under_concurrent_writes(store: Store) {
    use crm::tracking::report::{GroupBy, ReportQuery};
    const DAY: i64 = 86_400;
    let d0 = 20_600 * DAY;
    assert_eq!(new_portal(&store).await, 1);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..25i64 {
                    store
                        .write(move |tx| {
                            Box::pin(async move {
                                let at = d0 + ((w + i) % 5) * DAY + i * 60;
                                let id = tx
                                    .insert_entity(
                                        LEAD,
                                        1,
                                        lead_row(
                                            at,
                                            "NEW",
                                            vec![("opportunity", DbValue::Real(1.0))],
                                        ),
                                        None,
                                    )
                                    .await?;
                                if i % 3 == 0 {
                                    tx.update_entity(
                                        LEAD,
                                        1,
                                        id,
                                        vec![("opportunity", DbValue::Real(10.0 + w as f64))],
                                        None,
                                    )
                                    .await?;
                                }
                                Ok(())
                            })
                        })
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let refresher = {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..40 {
                store.refresh_report_days_step().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    refresher.await.unwrap();
    store.refresh_report_days().await.unwrap();
    let q = ReportQuery {
        portal_id: 1,
        kind: LEAD,
        from: d0,
        to: d0 + 5 * DAY,
        group_by: GroupBy::Source,
        by_responsible: false,
    };
    let read = |store: Store| async move {
        store
            .read(move |tx| Box::pin(async move { tx.report_groups(&q).await }))
            .await
            .unwrap()
    };
    let from_rollups = read(store.clone()).await;
    store
        .write(|tx| Box::pin(async move { tx.mark_every_report_day(1).await }))
        .await
        .unwrap();
    let from_records = read(store.clone()).await;
    assert_eq!(from_records.len(), 1);
    assert_eq!(from_records[0].count, 100.0);
    assert_eq!(from_rollups, from_records);
}
