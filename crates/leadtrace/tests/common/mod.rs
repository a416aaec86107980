//! Test harness: `spawn_app` starts the real server in-process on port 0 over a fresh database
//! (SQLite file or a new PostgreSQL database), and `backend_tests!` runs each test on both.
#![allow(dead_code)]

use leadtrace::bootstrap::{self, Running};
use leadtrace::ServeConfig;
use serde_json::{json, Value};
use store::{Backend, NewUser, Token};

pub const CODE: &str = "testcode1234";

pub struct TestApp {
    pub running: Running,
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT/rest/1/CODE/`
    pub hook: String,
    pub base: String,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut ServeConfig)) -> TestApp {
    spawn_on(store::testing::fresh_url(backend).await, adjust).await
}

/// A server on an existing database (e.g. a second start on the database of a stopped one).
pub async fn spawn_on(database_url: String, adjust: impl FnOnce(&mut ServeConfig)) -> TestApp {
    let mut config = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url,
        webhook_code: Some(CODE.to_string()),
        ..Default::default()
    };
    adjust(&mut config);
    let running = bootstrap::start(config).await.expect("server starts");
    let client = reqwest::Client::builder().build().unwrap();
    TestApp {
        hook: running.webhook_url.clone(),
        base: running.base_url.clone(),
        running,
        client,
    }
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn result(&self) -> &Value {
        assert_eq!(
            self.status, 200,
            "expected success, got {} {}",
            self.status, self.body
        );
        assert!(
            self.body.get("error").is_none(),
            "success must not carry `error`: {}",
            self.body
        );
        &self.body["result"]
    }

    pub fn assert_error(&self, status: u16, code: &str, description: &str) {
        assert_eq!(self.status, status, "status of {}", self.body);
        assert_eq!(self.body["error"], json!(code), "code of {}", self.body);
        assert_eq!(
            self.body["error_description"],
            json!(description),
            "description of {}",
            self.body
        );
    }
}

async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        body,
        headers,
    }
}

impl TestApp {
    /// POST JSON to the default webhook, as every modern SDK does.
    pub async fn call(&self, method: &str, params: Value) -> Reply {
        self.call_at(&self.hook, method, params).await
    }

    pub async fn call_at(&self, hook: &str, method: &str, params: Value) -> Reply {
        reply(
            self.client
                .post(format!("{hook}{method}"))
                .json(&params)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Adds a lead and returns its id.
    pub async fn add_lead(&self, fields: Value) -> i64 {
        let r = self.call("crm.lead.add", json!({ "fields": fields })).await;
        r.result()
            .as_i64()
            .unwrap_or_else(|| panic!("add returned {}", r.body))
    }

    /// Adds a record with `crm.{entity}.add` (`entity`: `deal`, `contact`, ...) and returns its id.
    pub async fn add(&self, entity: &str, fields: Value) -> i64 {
        let r = self
            .call(&format!("crm.{entity}.add"), json!({ "fields": fields }))
            .await;
        r.result()
            .as_i64()
            .unwrap_or_else(|| panic!("crm.{entity}.add returned {}", r.body))
    }

    /// `crm.{entity}.get` of a record that must exist.
    pub async fn record(&self, entity: &str, id: i64) -> Value {
        self.call(&format!("crm.{entity}.get"), json!({ "id": id }))
            .await
            .result()
            .clone()
    }

    /// The ids of a legacy list answer.
    pub fn ids(r: &Reply) -> Vec<i64> {
        r.result()
            .as_array()
            .unwrap_or_else(|| panic!("not a list: {}", r.body))
            .iter()
            .map(|item| item["ID"].as_str().unwrap().parse().unwrap())
            .collect()
    }

    pub async fn get(&self, url: &str) -> Reply {
        reply(self.client.get(url).send().await.unwrap()).await
    }

    pub async fn post_raw(
        &self,
        url: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut req = self.client.post(url).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        reply(req.send().await.unwrap()).await
    }

    /// Creates a user (with a role from a rights spec, or admin) and a webhook for it; returns
    /// the user's id and webhook URL.
    pub async fn user_with_rights(
        &self,
        name: &str,
        rights: Option<&str>,
        scopes: &[&str],
    ) -> (i64, String) {
        let rights = rights.map(|r| crm::Rights::parse(r).unwrap());
        let name = name.to_string();
        let code = format!("code{name}");
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let c = code.clone();
        let id = self
            .running
            .state
            .store()
            .write(move |tx| {
                Box::pin(async move {
                    let role_id = match rights {
                        Some(r) => Some(tx.add_role(1, &format!("role-{name}"), &r).await?),
                        None => None,
                    };
                    let user = NewUser {
                        login: name.clone(),
                        name: name.clone(),
                        last_name: String::new(),
                        email: format!("{name}@example.com"),
                        admin: role_id.is_none(),
                        role_id,
                    };
                    let id = tx.add_user(1, &user).await?;
                    tx.add_webhook(1, id, &c, &scopes).await?;
                    Ok(id)
                })
            })
            .await
            .unwrap();
        (id, format!("{}/rest/{id}/{code}/", self.base))
    }

    /// Stores an access token for user 1 that expires `ttl` seconds from now.
    pub async fn token(&self, ttl: i64, scopes: &[&str]) -> String {
        let token = Token {
            token: format!("tok{}", rand_suffix()),
            portal_id: 1,
            user_id: 1,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: chrono::Utc::now().timestamp() + ttl,
            app_id: None,
        };
        let t = token.token.clone();
        self.running
            .state
            .store()
            .write(move |tx| Box::pin(async move { tx.add_token(&token).await }))
            .await
            .unwrap();
        t
    }
}

fn rand_suffix() -> String {
    leadtrace::bootstrap::random_code(12)
}

/// Runs each named `async fn name(backend: Backend)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(store::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(store::Backend::Postgres).await }
            )*
        }
    };
}
