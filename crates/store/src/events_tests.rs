//! The outbox on both backends: which rows a claim takes (the oldest pending one per handler,
//! not leased), retries keeping their id and `ts`, releases, and concurrent claims never
//! taking the same row (SKIP LOCKED on PostgreSQL, the single writer on SQLite).

use crate::events::{DeliveryOutcome, HandlerKind, NewEventHandler};
use crate::{testing, Backend, NewUser, Store, Tx};
use bx_wire::ApiError;
use crm::event::{self, EntityAction};
use crm::{EntityKind, Storage};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::HashSet;

async fn with_store<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let url = testing::fresh_url(backend).await;
    let store = Store::open(&url).await.expect("open");
    test(store.clone()).await;
    store.close().await;
    testing::discard(&url).await;
}

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
    claims_take_heads_and_retries_keep_their_identity,
    concurrent_claims_are_disjoint,
    a_crashed_workers_claims_come_back,
);

async fn write<T, F>(store: &Store, f: F) -> T
where
    F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static,
    T: Send + 'static,
{
    store.write(f).await.expect("write")
}

/// A portal with an administrator (user id returned) and `n` handlers of ONCRMLEADADD:
/// applications, except every third an outgoing webhook.
async fn setup(store: &Store, n: usize) -> (i64, i64, Vec<i64>) {
    write(store, move |tx| {
        async move {
            let portal = tx.create_portal("Test", "UTC", "USD", &[]).await?.id;
            let user = tx
                .add_user(
                    portal,
                    &NewUser {
                        login: "admin".into(),
                        admin: true,
                        ..NewUser::default()
                    },
                )
                .await?;
            let mut ids = Vec::new();
            for i in 0..n {
                let kind = if i % 3 == 2 {
                    HandlerKind::Webhook
                } else {
                    HandlerKind::App
                };
                ids.push(
                    tx.add_event_handler(&NewEventHandler {
                        portal_id: portal,
                        kind,
                        app_id: String::new(),
                        event_name: "ONCRMLEADADD".into(),
                        handler: format!("http://127.0.0.1:9/{i}"),
                        auth_type: 0,
                        offline: false,
                        auth_connector: String::new(),
                        options: serde_json::json!({}),
                        user_id: user,
                        scopes: vec!["crm".into()],
                        application_token: "t".into(),
                    })
                    .await?,
                );
            }
            Ok((portal, user, ids))
        }
        .boxed()
    })
    .await
}

async fn lead_added(store: &Store, portal: i64, user: i64, lead: i64) {
    write(store, move |tx| {
        async move {
            let e = event::entity(EntityKind::Lead, EntityAction::Add, portal, lead, user);
            tx.enqueue_event(&e).await
        }
        .boxed()
    })
    .await
}

async fn claim(store: &Store, now: i64, limit: i64) -> Vec<crate::Delivery> {
    write(store, move |tx| {
        async move { tx.claim_deliveries(now, now + 60_000, limit).await }.boxed()
    })
    .await
}

async fn finish(store: &Store, d: &crate::Delivery, outcome: DeliveryOutcome) {
    let (portal, id) = (d.portal_id, d.id);
    write(store, move |tx| {
        async move { tx.finish_delivery(portal, id, &outcome).await }.boxed()
    })
    .await
}

fn lead_of(d: &crate::Delivery) -> String {
    d.data["FIELDS"]["ID"].as_str().unwrap().to_string()
}

async fn claims_take_heads_and_retries_keep_their_identity(store: Store) {
    let (portal, user, handlers) = setup(&store, 2).await;
    for lead in [10, 11, 12] {
        lead_added(&store, portal, user, lead).await;
    }
    let now = chrono::Utc::now().timestamp_millis();
    // One row per handler: the oldest.
    let first = claim(&store, now, 10).await;
    assert_eq!(first.len(), 2);
    assert_eq!(
        first.iter().map(|d| d.handler_id).collect::<Vec<_>>(),
        handlers
    );
    assert!(first.iter().all(|d| lead_of(d) == "10" && d.attempt == 1));
    // Application events carry a token of the user who caused them.
    assert_eq!(first[0].user_id, Some(user));
    let (token, _) = first[0].access_token.clone().expect("a token");
    // Leased: nothing more until the lease ends or the attempts are recorded.
    assert!(claim(&store, now, 10).await.is_empty());

    let retry_at = now + 5_000;
    finish(
        &store,
        &first[0],
        DeliveryOutcome::Retry {
            next_attempt_at: retry_at,
            status: Some(500),
            error: "HTTP 500".into(),
        },
    )
    .await;
    finish(
        &store,
        &first[1],
        DeliveryOutcome::Delivered { status: 200 },
    )
    .await;
    // The failing handler's later events wait behind the retry; the other handler goes on.
    let next = claim(&store, now, 10).await;
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].handler_id, lead_of(&next[0])),
        (handlers[1], "11".into())
    );
    // Handed back unsent: claimable again, no attempt counted.
    let keys = vec![(next[0].portal_id, next[0].id)];
    write(&store, move |tx| {
        async move { tx.release_deliveries(&keys).await }.boxed()
    })
    .await;
    let again = claim(&store, now, 10).await;
    assert_eq!(
        (again.len(), again[0].id, again[0].attempt),
        (1, next[0].id, 1)
    );

    let due = store
        .read(|tx| async move { tx.next_delivery_due().await }.boxed())
        .await
        .unwrap();
    assert_eq!(due, Some(retry_at));
    let retried = claim(&store, retry_at, 10).await;
    assert_eq!(retried.len(), 1);
    let r = &retried[0];
    assert_eq!((r.id, r.attempt), (first[0].id, 2));
    assert_eq!((&r.uid, r.ts), (&first[0].uid, first[0].ts));
    assert_eq!(r.access_token.as_ref().map(|t| &t.0), Some(&token));
    finish(
        &store,
        r,
        DeliveryOutcome::Failed {
            status: None,
            error: "timed out".into(),
        },
    )
    .await;
    // Given up on: the handler's next event is free.
    let after = claim(&store, retry_at, 10).await;
    assert_eq!(
        after
            .iter()
            .map(|d| (d.handler_id, lead_of(d)))
            .collect::<Vec<_>>(),
        [(handlers[0], "11".to_string())]
    );
    let rows = store
        .read(move |tx| async move { tx.deliveries(portal, Some(handlers[0])).await }.boxed())
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|d| (d.state.as_str(), d.attempts))
            .collect::<Vec<_>>(),
        [("failed", 2), ("pending", 0), ("pending", 0)]
    );
    assert_eq!(rows[0].last_error.as_deref(), Some("timed out"));
}

async fn concurrent_claims_are_disjoint(store: Store) {
    let (portal, user, handlers) = setup(&store, 24).await;
    lead_added(&store, portal, user, 1).await;
    let now = chrono::Utc::now().timestamp_millis();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { claim(&store, now, 5).await })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.extend(t.await.unwrap().into_iter().map(|d| d.id));
    }
    let distinct: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        seen.len(),
        "a row was claimed twice: {seen:?}"
    );
    assert_eq!(seen.len(), handlers.len());
}

/// A worker that dies mid-delivery records nothing: its rows are claimable again once the lease
/// ends (or at once after `release_all_deliveries`), as first attempts with the same id.
async fn a_crashed_workers_claims_come_back(store: Store) {
    let (portal, user, _) = setup(&store, 1).await;
    lead_added(&store, portal, user, 7).await;
    let now = chrono::Utc::now().timestamp_millis();
    let lease_end = now + 1_000;
    let first = write(&store, move |tx| {
        async move { tx.claim_deliveries(now, lease_end, 10).await }.boxed()
    })
    .await;
    assert_eq!(first.len(), 1);
    assert!(claim(&store, lease_end - 1, 10).await.is_empty());
    let again = claim(&store, lease_end, 10).await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id, &again[0].uid, again[0].attempt, again[0].ts),
        (first[0].id, &first[0].uid, 1, first[0].ts)
    );
    let freed = write(&store, |tx| {
        async move { tx.release_all_deliveries().await }.boxed()
    })
    .await;
    assert_eq!(freed, 1);
    assert_eq!(claim(&store, lease_end, 10).await.len(), 1);
}
