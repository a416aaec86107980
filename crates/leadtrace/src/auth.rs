//! Who is calling: an inbound webhook in the path, or a token in the `Authorization: Bearer`
//! header, the `auth` or the `access_token` parameter (spec/transport.md §1, §8).

use crate::state::AppState;
use bx_wire::{ApiError, Params};
use serde_json::Value;
use store::{App, Portal, User};

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthKind {
    Webhook { id: i64 },
    Token,
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub portal: Portal,
    pub user: User,
    pub scopes: Vec<String>,
    pub kind: AuthKind,
    /// The OAuth application the access token was issued to (application context).
    pub app: Option<App>,
    /// Who is billed for operating time: `webhook:{id}`, `app:{id}`, or `user:{id}` for tokens
    /// made by `leadtrace token create` (they belong to no application).
    pub credential: String,
}

impl Caller {
    pub fn actor(&self) -> crm::Actor {
        crm::Actor {
            portal_id: self.portal.id,
            user_id: self.user.id,
            rights: self.user.rights.clone(),
        }
    }

    pub fn settings(&self) -> crm::PortalSettings {
        crm::PortalSettings {
            time_zone: self.portal.time_zone.parse().unwrap_or(chrono_tz::UTC),
            currency: self.portal.currency.clone(),
        }
    }

    /// The portal's current UTC offset, for dates in envelopes.
    pub fn offset(&self) -> chrono::FixedOffset {
        portal_offset(&self.portal)
    }

    pub fn is_oauth(&self) -> bool {
        self.kind == AuthKind::Token
    }

    /// A caller with placeholder portal and user records, for unit tests of code that only
    /// reads the portal id and the credential.
    #[cfg(test)]
    pub(crate) fn for_tests(portal_id: i64, credential: &str) -> Caller {
        Caller {
            portal: Portal {
                id: portal_id,
                name: "test".into(),
                time_zone: "UTC".into(),
                currency: "USD".into(),
                crm_mode: "classic".into(),
                created_at: 0,
                member_id: String::new(),
            },
            user: User {
                id: 1,
                portal_id,
                login: "admin".into(),
                name: "Admin".into(),
                last_name: String::new(),
                email: String::new(),
                active: true,
                admin: true,
                role_id: None,
                rights: crm::Rights::admin(),
                date_register: 0,
                last_login: None,
            },
            scopes: vec!["crm".into()],
            kind: AuthKind::Token,
            app: None,
            credential: credential.to_string(),
        }
    }
}

pub fn portal_offset(portal: &Portal) -> chrono::FixedOffset {
    use chrono::{Offset, TimeZone};
    let tz: chrono_tz::Tz = portal.time_zone.parse().unwrap_or(chrono_tz::UTC);
    tz.offset_from_utc_datetime(&chrono::Utc::now().naive_utc())
        .fix()
}

/// Credentials as found in the request, before they are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Webhook { user: String, code: String },
    Token(String),
    None,
}

/// Parameters the REST layer consumes; the method never sees them (spec/transport.md §5).
const RESERVED: [&str; 7] = [
    "auth",
    "access_token",
    "auth_connector",
    "aplogin",
    "ap",
    "state",
    "_",
];

/// Finds the credentials of a `/rest/{method}` call and strips every reserved parameter.
/// Order: Bearer header, `auth`, `access_token`, then `aplogin`+`ap` (webhook in parameters).
pub fn take_credentials(
    path_webhook: Option<(String, String)>,
    bearer: Option<&str>,
    params: &mut Params,
) -> Credentials {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let auth = text(params.get("auth"));
    let access_token = text(params.get("access_token"));
    let aplogin = params.get("aplogin").map(bx_wire::php::to_php_string);
    let ap = text(params.get("ap"));
    strip_reserved(params);
    if let Some((user, code)) = path_webhook {
        return Credentials::Webhook { user, code };
    }
    if let Some(t) = bearer.map(str::to_string).or(auth).or(access_token) {
        return Credentials::Token(t);
    }
    match (aplogin, ap) {
        (Some(user), Some(code)) if !user.is_empty() => Credentials::Webhook { user, code },
        _ => Credentials::None,
    }
}

/// Removes the parameters the REST layer consumes.
pub fn strip_reserved(params: &mut Params) {
    for k in RESERVED {
        params.shift_remove(k);
    }
}

/// Checks the credentials against the store and loads the caller.
pub async fn authenticate(state: &AppState, creds: Credentials) -> Result<Caller, ApiError> {
    let now = state.clock().now_secs();
    let found = state
        .store()
        .read(move |tx| {
            Box::pin(async move {
                let mut app = None;
                let (portal_id, user_id, scopes, kind, credential) = match creds {
                    Credentials::None => return Err(ApiError::NoAuthFound),
                    Credentials::Webhook { user, code } => {
                        let user_id: i64 =
                            user.parse().map_err(|_| ApiError::InvalidCredentials)?;
                        let hook = tx.webhook(user_id, &code).await?.filter(|h| h.active);
                        let hook = hook.ok_or(ApiError::InvalidCredentials)?;
                        (
                            hook.portal_id,
                            hook.user_id,
                            hook.scopes,
                            AuthKind::Webhook { id: hook.id },
                            format!("webhook:{}", hook.id),
                        )
                    }
                    Credentials::Token(t) => {
                        let token = tx.token(&t).await?.ok_or(ApiError::NoAuthFound)?;
                        if token.expires_at <= now {
                            return Err(ApiError::ExpiredToken);
                        }
                        let credential = match token.app_id {
                            Some(id) => {
                                let found = tx.app(id).await?.filter(|a| a.active);
                                app = Some(found.ok_or_else(|| {
                                    ApiError::coded(
                                        "APPLICATION_NOT_FOUND",
                                        "Application not found",
                                        401,
                                    )
                                })?);
                                format!("app:{id}")
                            }
                            None => format!("user:{}", token.user_id),
                        };
                        (
                            token.portal_id,
                            token.user_id,
                            token.scopes,
                            AuthKind::Token,
                            credential,
                        )
                    }
                };
                let portal = tx
                    .portal(portal_id)
                    .await?
                    .ok_or(ApiError::InvalidCredentials)?;
                let user = tx.user(portal_id, user_id).await?;
                Ok((portal, user, scopes, kind, app, credential))
            })
        })
        .await?;
    let (portal, user, scopes, kind, app, credential) = found;
    let user = match user {
        Some(u) if u.active => u,
        _ => {
            return Err(ApiError::coded(
                "authorization_error",
                "Unable to authorize user",
                401,
            ))
        }
    };
    Ok(Caller {
        portal,
        user,
        scopes,
        kind,
        app,
        credential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn bearer_wins_and_reserved_are_stripped() {
        let mut p = params(json!({"auth": "a", "access_token": "b", "fields": {}, "_": "1"}));
        assert_eq!(
            take_credentials(None, Some("h"), &mut p),
            Credentials::Token("h".into())
        );
        assert_eq!(p, params(json!({"fields": {}})));
    }

    #[test]
    fn auth_before_access_token_and_arrays_ignored() {
        let mut p = params(json!({"auth": ["x"], "access_token": "b"}));
        assert_eq!(
            take_credentials(None, None, &mut p),
            Credentials::Token("b".into())
        );
        let mut p = params(json!({"aplogin": "1", "ap": "code"}));
        assert_eq!(
            take_credentials(None, None, &mut p),
            Credentials::Webhook {
                user: "1".into(),
                code: "code".into()
            }
        );
        let mut p = params(json!({}));
        assert_eq!(take_credentials(None, None, &mut p), Credentials::None);
    }
}
