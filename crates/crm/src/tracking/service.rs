//! Traces against storage: `crm.tracking.trace.add` / `.delete`, the trace every REST add makes
//! (and an update's UTM change), and a record's journey (`leadtrace.tracking.entity.get`).
//!
//! Everything runs inside the caller's one transaction: a failure anywhere leaves nothing behind.

use super::channel::{classify_with_rules, ChannelInput, ChannelRules};
use super::parse::{self, ParsedTrace, TraceError};
use super::source::{self, Hints, MatchKind, MatchValue, Source, SourceSet};
use super::window::{self, Candidate, NewRecord};
use super::{
    host_of, Page, Trace, TraceChannel, TraceData, Utm, ENTITY_TYPES, NO_SOURCE, NO_SOURCE_CODE,
    NO_SOURCE_NAME,
};
use crate::actor::Action;
use crate::dates;
use crate::engine::{self, Access};
use crate::entity::EntityKind;
use crate::hooks;
use crate::storage::Storage;
use crate::Ctx;
use bx_wire::php::{intval, to_php_string};
use bx_wire::{names, ApiError, Output, Params};
use serde_json::{json, Map, Value};

/// Whether an add or update makes Sales Intelligence traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    /// The legacy `crm.<entity>.add`/`update`: `TRACE`, the UTM fields, channel `rest`, the
    /// attribution window.
    Rest,
    /// No trace at all (`crm.item.*`, spec §3).
    Off,
}

/// A record just created by a REST add.
#[derive(Debug, Clone)]
pub struct RecordAdded<'a> {
    pub kind: EntityKind,
    pub id: i64,
    /// Its `UTM_*` fields.
    pub utm: Utm,
    /// `CONTACT_ID` and `CONTACT_IDS`, in that order.
    pub contact_ids: Vec<i64>,
    pub company_id: Option<i64>,
    /// The `TRACE` input, as given.
    pub trace: Option<&'a Value>,
}

/// A record just changed by a REST update: its UTM fields before and after.
#[derive(Debug, Clone)]
pub struct RecordUpdated {
    pub kind: EntityKind,
    pub id: i64,
    pub before: Utm,
    pub after: Utm,
}

/// The trace of an add or of `crm.tracking.trace.add`, ready to be saved: the trace and the
/// traces of its previous visits.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub trace: TraceData,
    pub previous: Vec<TraceData>,
}

/// Builds one trace from its parsed JSON (§5): `record_utm` over the JSON's tags, the referrer as
/// the first page, a `site` channel for the landing host, the source and the channel group (the
/// portal's override rules first).
/// A previous visit (`is_child`) dates from when its tags were captured.
pub fn assemble(
    parsed: &ParsedTrace,
    record_utm: &Utm,
    sources: &SourceSet,
    rules: &ChannelRules,
    now: i64,
    is_child: bool,
) -> TraceData {
    let mut utm = parsed.utm.clone();
    utm.overlay(record_utm);
    let landing = parsed
        .url
        .clone()
        .or_else(|| parsed.pages.first().map(|p| p.url.clone()));
    let referrer_host = parsed.referrer.as_deref().and_then(host_of);
    let mut pages = Vec::with_capacity(parsed.pages.len() + 1);
    if let Some(referrer) = &parsed.referrer {
        pages.push(Page {
            url: referrer.clone(),
            visited_at: None,
            title: referrer_host.clone().unwrap_or_default(),
            is_referrer: true,
        });
    }
    pages.extend(parsed.pages.iter().cloned());
    let mut channels = parsed.channels.clone();
    // Our choice among Bitrix24's site channels (E13): `site` with the host.
    if let Some(host) = landing.as_deref().and_then(host_of) {
        let site = TraceChannel::new("site", Some(&host));
        if !channels.contains(&site) {
            channels.push(site);
        }
    }
    let source_id = sources.resolve(&Hints {
        explicit: parsed.explicit_source.as_deref(),
        utm_source: utm.source.as_deref(),
        referrer_host: referrer_host.as_deref(),
        channels: &channels,
    });
    let group = classify_with_rules(
        rules,
        &ChannelInput {
            utm_source: utm.source.clone(),
            utm_medium: utm.medium.clone(),
            utm_campaign: utm.campaign.clone(),
            referrer_host: referrer_host.clone(),
            gclid: parsed.gclid.is_some(),
            ..ChannelInput::default()
        }
        .with_landing_url(landing.as_deref()),
    );
    let created_at = if is_child {
        parsed
            .captured_at
            .or_else(|| parsed.pages.iter().filter_map(|p| p.visited_at).min())
            .unwrap_or(now)
    } else {
        now
    };
    TraceData {
        created_at,
        source_id,
        source_description: parsed.source_description.clone(),
        guest_id: parsed.guest_id.clone(),
        is_mobile: parsed.is_mobile,
        landing_url: landing,
        referrer_url: parsed.referrer.clone(),
        utm,
        gclid: parsed.gclid.clone(),
        client_ids: parsed
            .client_ids
            .as_ref()
            .map(|m| Value::Object(m.clone()).to_string()),
        has_children: false,
        channel_group: group.code().to_string(),
        raw_json: None,
        pages,
        channels,
    }
}

/// A trace and its previous visits; the record's UTM fields apply to the trace itself only.
pub fn build(
    parsed: &ParsedTrace,
    record_utm: &Utm,
    sources: &SourceSet,
    rules: &ChannelRules,
    now: i64,
    raw_json: Option<String>,
) -> Built {
    let mut trace = assemble(parsed, record_utm, sources, rules, now, false);
    let previous: Vec<TraceData> = parsed
        .previous
        .iter()
        .map(|p| assemble(p, &Utm::default(), sources, rules, now, true))
        .collect();
    trace.has_children = !previous.is_empty();
    trace.raw_json = raw_json;
    Built { trace, previous }
}

/// Saves a built trace: previous visits first, then the trace, then the links (§5 step 4).
async fn save<S: Storage>(s: &mut S, portal: i64, built: &Built) -> Result<i64, ApiError> {
    let mut children = Vec::with_capacity(built.previous.len());
    for child in &built.previous {
        children.push(s.insert_trace(portal, child).await?);
    }
    let id = s.insert_trace(portal, &built.trace).await?;
    for child in children {
        s.link_trace_child(portal, id, child).await?;
    }
    Ok(id)
}

fn core(e: TraceError) -> ApiError {
    ApiError::core(e.description())
}

fn wrong_type() -> ApiError {
    ApiError::core(format!(
        "Wrong TYPE in parameter `ENTITIES`. Allowed types: {}",
        ENTITY_TYPES.join(",")
    ))
}

/// `TYPE` of an `ENTITIES` element: exactly one of the five upper-case names (strict).
fn entity_kind(v: Option<&Value>) -> Option<EntityKind> {
    let Some(Value::String(t)) = v else {
        return None;
    };
    EntityKind::ALL.into_iter().find(|k| k.code() == t)
}

/// A positive integer given as a JSON integer, an integral number or a numeric string.
fn positive_id(v: Option<&Value>) -> Option<i64> {
    let id = match v? {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i,
            None => {
                let f = n.as_f64()?;
                if f.fract() != 0.0 || !(1.0..9.0e15).contains(&f) {
                    return None;
                }
                f as i64
            }
        },
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix('+').unwrap_or(t);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok()?
        }
        _ => return None,
    };
    (id > 0).then_some(id)
}

fn php_elements(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) => m.values().collect(),
        _ => vec![],
    }
}

/// Binds a trace to a record; a REST-created deal also binds its contact and company (§3 step 4;
/// the company as a company — E10).
async fn bind_record<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    trace_id: i64,
    kind: EntityKind,
    id: i64,
) -> Result<(), ApiError> {
    s.bind_trace(ctx.actor.portal_id, trace_id, kind, id, ctx.now)
        .await
}

/// `crm.tracking.trace.add` (§2.1): the id of the new trace.
pub async fn trace_add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let portal = ctx.actor.portal_id;
    // Parameter names are exact here (not the legacy spellings).
    let (doc, raw) = parse::decode(params.get("TRACE")).map_err(core)?;
    let parsed = parse::parse(&doc).map_err(core)?;

    let mut targets: Vec<(EntityKind, i64)> = Vec::new();
    if let Some(entities) = params
        .get("ENTITIES")
        .filter(|v| matches!(v, Value::Array(_) | Value::Object(_)))
    {
        for element in php_elements(entities) {
            let Value::Object(el) = element else {
                return Err(wrong_type());
            };
            let kind = entity_kind(el.get("TYPE")).ok_or_else(wrong_type)?;
            let id = positive_id(el.get("ID"))
                .ok_or_else(|| ApiError::core("Wrong ID in parameter `ENTITIES`."))?;
            if engine::access(s, ctx, kind, id, Action::Update).await? != Access::Granted {
                // A record that does not exist gets the same answer (E6).
                return Err(ApiError::core(format!(
                    "You have no access to entity `{}` with ID `{id}`.",
                    kind.code()
                )));
            }
            if !targets.contains(&(kind, id)) {
                targets.push((kind, id));
            }
        }
    }

    let (sources, rules) = s.tracking_lists(portal).await?;
    let (sources, rules) = (SourceSet::new(&sources), ChannelRules::new(&rules));
    let built = build(
        &parsed,
        &Utm::default(),
        &sources,
        &rules,
        ctx.now,
        Some(raw),
    );
    let trace_id = save(s, portal, &built).await?;
    for (kind, id) in targets {
        bind_record(s, ctx, trace_id, kind, id).await?;
    }
    Ok(Output::from(Value::from(trace_id)))
}

/// `crm.tracking.trace.delete` (§2.2): removes the bindings the caller may change, and the trace
/// when the caller may change all of them. No existence check; `result` is `null`.
pub async fn trace_delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = params.get("id").map(intval).unwrap_or(0);
    if id == 0 {
        return Err(ApiError::core("Parameter `id` required."));
    }
    let portal = ctx.actor.portal_id;
    let bindings = s.trace_bindings(portal, id).await?;
    let mut all = true;
    for b in &bindings {
        // A binding whose record is gone is an orphan anyone may clear.
        match engine::access(s, ctx, b.kind, b.entity_id, Action::Update).await? {
            Access::Granted | Access::Missing => {
                s.unbind_trace(portal, id, b.kind, b.entity_id).await?;
            }
            Access::Denied => all = false,
        }
    }
    if all {
        s.delete_trace(portal, id).await?;
    }
    Ok(Output::from(Value::Null))
}

/// A numeric `TRACE` of an add: the id of a trace made earlier by `crm.tracking.trace.add`.
fn numeric_trace(v: &Value) -> Option<i64> {
    match v {
        Value::Number(_) | Value::String(_) => positive_id(Some(v)),
        _ => None,
    }
}

/// The trace every REST add makes (§3), then the attribution window (§9).
pub async fn record_added<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rec: &RecordAdded<'_>,
) -> Result<(), ApiError> {
    let portal = ctx.actor.portal_id;

    // A numeric TRACE binds that trace as it is (when it exists in this portal).
    if let Some(trace_id) = rec.trace.and_then(numeric_trace) {
        if !s.traces(portal, &[trace_id]).await?.is_empty() {
            s.add_trace_channel(portal, trace_id, &TraceChannel::new("rest", None))
                .await?;
            return bind_with_clients(s, ctx, rec, trace_id).await;
        }
    }

    let (mut sources, rules) = s.tracking_lists(portal).await?;
    if let Some(utm_source) = rec.utm.source.as_deref() {
        if utm_source.starts_with(source::ONE_C_PREFIX)
            && SourceSet::new(&sources)
                .find(MatchKind::UtmSource, utm_source)
                .is_none()
        {
            one_c_source(
                s,
                ctx,
                &mut sources,
                utm_source,
                rec.utm.campaign.as_deref(),
            )
            .await?;
        }
    }
    let set = SourceSet::new(&sources);

    // An invalid TRACE does not fail the add (E4): the trace is built as if it were absent.
    let (parsed, raw) = match rec.trace.filter(|v| numeric_trace(v).is_none()) {
        None => (ParsedTrace::default(), None),
        Some(given) => match parse::decode(Some(given)).and_then(|(doc, raw)| {
            let parsed = parse::parse(&doc)?;
            Ok((parsed, raw))
        }) {
            Ok((parsed, raw)) => (parsed, Some(raw)),
            // An empty TRACE is simply absent.
            Err(TraceError::Required) => (ParsedTrace::default(), None),
            Err(e) => {
                tracing::warn!(entity = rec.kind.code(), id = rec.id, error = %e,
                    "TRACE ignored: the record gets a trace without it");
                (ParsedTrace::default(), None)
            }
        },
    };
    let rules = ChannelRules::new(&rules);
    let mut built = build(&parsed, &rec.utm, &set, &rules, ctx.now, raw);

    if hooks::uses_attribution_window(rec.kind)
        && built.trace.source_id == NO_SOURCE
        && rec.utm.source.is_none()
    {
        apply_window(s, ctx, rec, &mut built.trace).await?;
    }
    built.trace.channels.push(TraceChannel::new("rest", None));
    let trace_id = save(s, portal, &built).await?;
    bind_with_clients(s, ctx, rec, trace_id).await
}

async fn bind_with_clients<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rec: &RecordAdded<'_>,
    trace_id: i64,
) -> Result<(), ApiError> {
    bind_record(s, ctx, trace_id, rec.kind, rec.id).await?;
    if hooks::binds_clients_to_trace(rec.kind) {
        let clients = rec
            .contact_ids
            .first()
            .map(|id| (EntityKind::Contact, *id))
            .into_iter()
            .chain(rec.company_id.map(|id| (EntityKind::Company, id)));
        for (kind, id) in clients {
            // Only records that exist: an id not yet given out must not inherit a binding.
            if !engine::existing_ids(s, ctx, kind, &[id]).await?.is_empty() {
                bind_record(s, ctx, trace_id, kind, id).await?;
            }
        }
    }
    Ok(())
}

/// Records derived from another one (the deal, contact and company a simple-mode lead is converted
/// into) share its effective trace rather than getting traces of their own.
pub async fn share_trace<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    from: (EntityKind, i64),
    to: &[(EntityKind, i64)],
) -> Result<(), ApiError> {
    let portal = ctx.actor.portal_id;
    let Some(b) = s.entity_bindings(portal, from.0, from.1, 1).await?.pop() else {
        return Ok(());
    };
    for (kind, id) in to {
        bind_record(s, ctx, b.trace_id, *kind, *id).await?;
    }
    Ok(())
}

/// A `1c-b24-standalone-…` utm_source that no source matches gets source `1c` (§3 step 1, E15):
/// the value joins the list of an existing `1c` source, or a new one is made, named after the
/// campaign (or `1C`).
async fn one_c_source<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    sources: &mut Vec<Source>,
    utm_source: &str,
    campaign: Option<&str>,
) -> Result<(), ApiError> {
    let portal = ctx.actor.portal_id;
    if let Some(existing) = sources.iter_mut().find(|x| x.code == source::ONE_C_CODE) {
        existing.utm_source.push(MatchValue::plain(utm_source));
        existing.active = true;
        s.update_source(portal, existing).await?;
        return Ok(());
    }
    let mut new = Source {
        code: source::ONE_C_CODE.into(),
        name: campaign.unwrap_or("1C").to_string(),
        active: true,
        created_at: ctx.now,
        utm_source: vec![MatchValue::plain(utm_source)],
        ..Source::default()
    };
    new.id = s.insert_source(portal, &new).await?;
    sources.push(new);
    Ok(())
}

/// The client's effective trace inside the window gives its source, tags and channel group.
async fn apply_window<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rec: &RecordAdded<'_>,
    trace: &mut TraceData,
) -> Result<(), ApiError> {
    let clients: Vec<(EntityKind, i64)> = rec
        .contact_ids
        .iter()
        .map(|id| (EntityKind::Contact, *id))
        .chain(rec.company_id.map(|id| (EntityKind::Company, id)))
        .collect();
    if clients.is_empty() {
        return Ok(());
    }
    let settings = s.tracking_settings(ctx.actor.portal_id).await?;
    let candidates = client_candidates(s, ctx.actor.portal_id, &clients).await?;
    let record = NewRecord {
        eligible: true,
        has_utm_source: rec.utm.source.is_some(),
        own_source: trace.source_id,
        now: ctx.now,
    };
    if let Some(winner) = window::inherited(&settings, &record, &candidates) {
        trace.source_id = winner.source_id;
        trace.utm.fill_from(&winner.extra.data.utm);
        trace.channel_group = winner.extra.data.channel_group.clone();
    }
    Ok(())
}

/// The effective trace of each client.
async fn client_candidates<S: Storage>(
    s: &mut S,
    portal: i64,
    clients: &[(EntityKind, i64)],
) -> Result<Vec<Candidate<Trace>>, ApiError> {
    let mut out = Vec::new();
    for (kind, id) in clients {
        let Some(b) = s.entity_bindings(portal, *kind, *id, 1).await?.pop() else {
            continue;
        };
        if let Some(t) = s.traces(portal, &[b.trace_id]).await?.pop() {
            out.push(Candidate {
                trace_id: t.id,
                source_id: t.data.source_id,
                created_at: t.data.created_at,
                extra: t,
            });
        }
    }
    Ok(out)
}

/// An update that changes the UTM fields to values of another source than the record's effective
/// trace makes a new trace (UTMs + channel `rest`) and binds it (§3, "On REST update").
pub async fn record_updated<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rec: &RecordUpdated,
) -> Result<(), ApiError> {
    if rec.before == rec.after {
        return Ok(());
    }
    let portal = ctx.actor.portal_id;
    let (sources, rules) = s.tracking_lists(portal).await?;
    let (set, rules) = (SourceSet::new(&sources), ChannelRules::new(&rules));
    let mut built = build(
        &ParsedTrace::default(),
        &rec.after,
        &set,
        &rules,
        ctx.now,
        None,
    );
    let current = match s.entity_bindings(portal, rec.kind, rec.id, 1).await?.pop() {
        Some(b) => s
            .traces(portal, &[b.trace_id])
            .await?
            .pop()
            .map_or(NO_SOURCE, |t| t.data.source_id),
        None => NO_SOURCE,
    };
    if built.trace.source_id == current {
        return Ok(());
    }
    built.trace.channels.push(TraceChannel::new("rest", None));
    let trace_id = save(s, portal, &built).await?;
    bind_record(s, ctx, trace_id, rec.kind, rec.id).await
}

/// The most traces `leadtrace.tracking.entity.get` returns (the newest).
pub const JOURNEY_LIMIT: i64 = 50;

/// `TYPE` (`LEAD`, …) or `entityTypeId` (1, 2, 3, 4, 7) of a record.
fn requested_kind(params: &Params) -> Result<EntityKind, ApiError> {
    if let Some(t) = names::scalar(params, "TYPE").filter(|v| !v.is_null()) {
        let t = to_php_string(t).trim().to_ascii_uppercase();
        return EntityKind::ALL
            .into_iter()
            .find(|k| k.code() == t)
            .ok_or_else(|| {
                ApiError::core(format!(
                    "Wrong TYPE: allowed types are {}.",
                    ENTITY_TYPES.join(",")
                ))
            });
    }
    if let Some(id) = names::any_case(params, "entityTypeId").filter(|v| !v.is_null()) {
        return EntityKind::from_entity_type_id(intval(id))
            .ok_or_else(|| ApiError::core("Wrong entityTypeId: allowed are 1, 2, 3, 4, 7."));
    }
    Err(ApiError::core(
        "Parameter `TYPE` (or `entityTypeId`) required.",
    ))
}

/// `leadtrace.tracking.entity.get` (extension): a record's Sales Intelligence journey — its
/// traces, the effective one first, each with source, channel group, channels, UTM tags, pages and
/// previous visits. Needs the right to read the record.
pub async fn entity_get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let kind = requested_kind(params)?;
    let id = names::id(params).map(intval).unwrap_or(0);
    if id <= 0 {
        return Err(ApiError::id_not_defined());
    }
    match engine::access(s, ctx, kind, id, Action::Read).await? {
        Access::Granted => {}
        Access::Denied => return Err(ApiError::access_denied()),
        Access::Missing => return Err(ApiError::not_found()),
    }
    let portal = ctx.actor.portal_id;
    let bindings = s.entity_bindings(portal, kind, id, JOURNEY_LIMIT).await?;
    let ids: Vec<i64> = bindings.iter().map(|b| b.trace_id).collect();
    let traces = s.traces(portal, &ids).await?;
    let child_ids: Vec<i64> = traces
        .iter()
        .flat_map(|t| t.children.iter().copied())
        .collect();
    let children = if child_ids.is_empty() {
        vec![]
    } else {
        s.traces(portal, &child_ids).await?
    };
    let sources = s.sources(portal).await?;
    let render = |t: &Trace, bound_at: Option<i64>| trace_json(ctx, &sources, t, bound_at);

    let mut items = Vec::new();
    for b in &bindings {
        let Some(t) = traces.iter().find(|t| t.id == b.trace_id) else {
            continue;
        };
        let mut item = render(t, Some(b.bound_at));
        let previous: Vec<Value> = t
            .children
            .iter()
            .filter_map(|c| children.iter().find(|x| x.id == *c))
            .map(|c| Value::Object(render(c, None)))
            .collect();
        item.insert("PREVIOUS".into(), Value::Array(previous));
        items.push(Value::Object(item));
    }
    let effective = bindings
        .first()
        .and_then(|b| traces.iter().find(|t| t.id == b.trace_id))
        .map_or(NO_SOURCE, |t| t.data.source_id);
    Ok(Output::from(json!({
        "ENTITY_TYPE": kind.code(),
        "ENTITY_TYPE_ID": kind.entity_type_id(),
        "ENTITY_ID": id,
        "SOURCE": source_json(&sources, effective),
        "TRACES": items,
    })))
}

fn source_json(sources: &[Source], id: i64) -> Value {
    if id == NO_SOURCE {
        return json!({"ID": NO_SOURCE, "CODE": NO_SOURCE_CODE, "NAME": NO_SOURCE_NAME});
    }
    match sources.iter().find(|s| s.id == id) {
        Some(s) => json!({"ID": s.id, "CODE": s.code, "NAME": s.name}),
        None => json!({"ID": id, "CODE": null, "NAME": null}),
    }
}

fn trace_json(
    ctx: &Ctx<'_>,
    sources: &[Source],
    t: &Trace,
    bound_at: Option<i64>,
) -> Map<String, Value> {
    let tz = ctx.settings.time_zone;
    let d = &t.data;
    let group = super::ChannelGroup::from_code(&d.channel_group);
    let mut m = Map::new();
    m.insert("ID".into(), json!(t.id));
    m.insert(
        "DATE_CREATE".into(),
        json!(dates::format_datetime(d.created_at, tz)),
    );
    if let Some(at) = bound_at {
        m.insert("DATE_BOUND".into(), json!(dates::format_datetime(at, tz)));
    }
    m.insert("SOURCE".into(), source_json(sources, d.source_id));
    m.insert("SOURCE_DESCRIPTION".into(), json!(d.source_description));
    m.insert(
        "CHANNEL_GROUP".into(),
        json!({"CODE": d.channel_group, "NAME": group.map(|g| g.name())}),
    );
    m.insert(
        "CHANNELS".into(),
        Value::Array(
            d.channels
                .iter()
                .map(|c| json!({"CODE": c.code, "NAME": super::channel_name(&c.code), "VALUE": c.value}))
                .collect(),
        ),
    );
    m.insert("UTM".into(), d.utm.to_json());
    m.insert("URL".into(), json!(d.landing_url));
    m.insert("REFERRER".into(), json!(d.referrer_url));
    m.insert("GCLID".into(), json!(d.gclid));
    m.insert("GUEST_ID".into(), json!(d.guest_id));
    m.insert(
        "IS_MOBILE".into(),
        json!(if d.is_mobile { "Y" } else { "N" }),
    );
    m.insert(
        "CLIENT".into(),
        d.client_ids
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or(Value::Null),
    );
    m.insert(
        "PAGES".into(),
        Value::Array(
            d.pages
                .iter()
                .map(|p| {
                    json!({
                        "URL": p.url,
                        "DATE": p.visited_at.map(|ts| dates::format_datetime(ts, tz)),
                        "TITLE": p.title,
                        "IS_REFERRER": if p.is_referrer { "Y" } else { "N" },
                    })
                })
                .collect(),
        ),
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::source::SEEDS;

    fn seeded() -> SourceSet {
        let sources: Vec<Source> = SEEDS
            .iter()
            .zip(1..)
            .map(|(s, id)| Source {
                id,
                ..s.to_source(0)
            })
            .collect();
        SourceSet::new(&sources)
    }

    fn no_rules() -> ChannelRules {
        ChannelRules::default()
    }

    fn parsed(v: Value) -> ParsedTrace {
        parse::parse(&v).unwrap()
    }

    #[test]
    fn assembling_a_tracker_trace() {
        let p = parsed(json!({
            "url": "https://shop.example/landing?gclid=x",
            "ref": "https://www.facebook.com/some/post",
            "tags": {"ts": 100, "list": {"utm_source": "google", "utm_medium": "cpc"}},
            "pages": {"list": [["https://shop.example/a", 50, "A"]]},
            "channels": [{"code": "form", "value": "3"}],
            "previous": {"list": [{"url": "https://shop.example/", "ref": "https://vk.com/", "tags": {"ts": 40}}]}
        }));
        let b = build(
            &p,
            &Utm::default(),
            &seeded(),
            &no_rules(),
            1000,
            Some("raw".into()),
        );
        let t = &b.trace;
        assert_eq!(t.source_id, 1, "utm_source wins over the referrer");
        assert_eq!(t.created_at, 1000);
        assert_eq!(t.channel_group, "paid_search");
        assert_eq!(t.raw_json.as_deref(), Some("raw"));
        assert!(t.has_children);
        assert_eq!(
            t.pages[0],
            Page {
                url: "https://www.facebook.com/some/post".into(),
                visited_at: None,
                title: "www.facebook.com".into(),
                is_referrer: true
            }
        );
        assert_eq!(t.pages[1].url, "https://shop.example/a");
        assert_eq!(
            t.channels,
            vec![
                TraceChannel::new("form", Some("3")),
                TraceChannel::new("site", Some("shop.example"))
            ]
        );
        let old = &b.previous[0];
        assert_eq!(
            old.source_id, 4,
            "a previous visit resolves by its own referrer"
        );
        assert_eq!(old.created_at, 40);
        assert_eq!(old.channel_group, "organic_social");
        assert!(!old.has_children);
        assert_eq!(old.raw_json, None);
    }

    #[test]
    fn override_rules_decide_the_group() {
        use crate::tracking::{ChannelGroup, ChannelRule, MatchValue};
        let rules = ChannelRules::new(&[ChannelRule {
            id: 1,
            group: ChannelGroup::Affiliates,
            ref_domain: vec![MatchValue::plain("vk.com")],
            ..ChannelRule::default()
        }]);
        let p = parsed(json!({
            "ref": "https://www.google.com/",
            "previous": {"list": [{"ref": "https://m.vk.com/", "tags": {"ts": 40}}]}
        }));
        let b = build(&p, &Utm::default(), &seeded(), &rules, 1000, None);
        assert_eq!(b.trace.channel_group, "organic_search");
        assert_eq!(b.previous[0].channel_group, "affiliates");
        assert_eq!(b.previous[0].source_id, 4, "rules do not change the source");
    }

    #[test]
    fn record_utm_wins_over_trace_tags() {
        let p = parsed(
            json!({"tags": {"list": {"utm_source": "google", "utm_medium": "cpc", "utm_term": "t"}}}),
        );
        let mut record = Utm::default();
        record.set("UTM_SOURCE", Some("fb".into()));
        record.set("UTM_CAMPAIGN", Some("spring".into()));
        let t = build(&p, &record, &seeded(), &no_rules(), 1, None).trace;
        assert_eq!(t.source_id, 2);
        assert_eq!(t.utm.source.as_deref(), Some("fb"));
        assert_eq!(t.utm.medium.as_deref(), Some("cpc"));
        assert_eq!(t.utm.campaign.as_deref(), Some("spring"));
        assert_eq!(t.utm.term.as_deref(), Some("t"));
        assert_eq!(t.channel_group, "paid_social");
    }

    #[test]
    fn empty_and_old_form_traces() {
        let t = build(
            &ParsedTrace::default(),
            &Utm::default(),
            &seeded(),
            &no_rules(),
            7,
            None,
        )
        .trace;
        assert_eq!(t.source_id, NO_SOURCE);
        assert_eq!(t.channel_group, "direct");
        assert!(t.pages.is_empty() && t.channels.is_empty());
        let p = parsed(
            json!({"SOURCE_ID": "vk", "SOURCE_DESC": "Direct sale", "tags": {"list": {"utm_source": "google"}},
                              "PAGES": [{"URL": "https://a.example/x", "DATE": "2024-04-03"}]}),
        );
        let t = build(&p, &Utm::default(), &seeded(), &no_rules(), 7, None).trace;
        assert_eq!(t.source_id, 4, "an explicit SOURCE_ID wins");
        assert_eq!(t.source_description.as_deref(), Some("Direct sale"));
        assert_eq!(t.landing_url.as_deref(), Some("https://a.example/x"));
        assert_eq!(
            t.channels,
            vec![TraceChannel::new("site", Some("a.example"))]
        );
    }

    #[test]
    fn entity_ids() {
        assert_eq!(positive_id(Some(&json!(17))), Some(17));
        assert_eq!(positive_id(Some(&json!("17"))), Some(17));
        assert_eq!(positive_id(Some(&json!(" 17 "))), Some(17));
        assert_eq!(positive_id(Some(&json!(17.0))), Some(17));
        for bad in [
            json!(0),
            json!(-3),
            json!("0"),
            json!("12abc"),
            json!("1.5"),
            json!(1.5),
            json!(""),
            json!(null),
            json!([1]),
            json!(true),
        ] {
            assert_eq!(positive_id(Some(&bad)), None, "{bad}");
        }
        assert_eq!(positive_id(None), None);
        assert_eq!(entity_kind(Some(&json!("LEAD"))), Some(EntityKind::Lead));
        assert_eq!(entity_kind(Some(&json!("lead"))), None);
        assert_eq!(entity_kind(Some(&json!(1))), None);
        assert_eq!(
            wrong_type().description(),
            "Wrong TYPE in parameter `ENTITIES`. Allowed types: COMPANY,CONTACT,DEAL,LEAD,QUOTE"
        );
        assert_eq!(numeric_trace(&json!("1581")), Some(1581));
        assert_eq!(numeric_trace(&json!(1581)), Some(1581));
        assert_eq!(numeric_trace(&json!("{\"url\":1}")), None);
        assert_eq!(numeric_trace(&json!({"a": 1})), None);
    }
}
