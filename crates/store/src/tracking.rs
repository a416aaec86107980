//! Sales Intelligence storage for `Tx` (migration 0008): traces with pages, channels and links to
//! previous visits, ordered bindings (`crm_trace_entity`), sources with their match lists, and
//! per-portal settings. `crm::Storage` (entity.rs) delegates here; expenses are in expenses.rs.

use crate::channel_rules::{rules_from, RULE_ROWS};
use crate::tx::{val, Tx};
use bx_wire::ApiError;
use crm::tracking::source::SEEDS;
use crm::tracking::{
    Binding, ChannelRule, MatchKind, MatchValue, Page, Source, Trace, TraceChannel, TraceData,
    TrackingSettings, Utm, UTM_FIELDS,
};
use crm::{DbValue, EntityKind};
use sea_query::Value;

/// A source or a channel rule with one of its list values per row (NULL list columns for one
/// without values), in the layout `sources_from` and `rules_from` read: part (0 source, 1 rule),
/// id, sort, active, name, code or channel group, created_at, color, description, match kind or
/// rule field, value, is_regexp, position.
const SOURCE_ROWS: &str = "SELECT 0, s.id, NULL, s.active, s.name, s.code, s.created_at, s.color, \
     s.description, m.kind, m.value, m.is_regexp, m.position FROM si_source s \
     LEFT JOIN si_source_match m ON m.portal_id = s.portal_id AND m.source_id = s.id \
     WHERE s.portal_id = ?";
/// Sources by id, rules by sort then id, each one's values by kind (field) and position.
pub(crate) const LIST_ORDER: &str = "1, 3, 2, 10, 13";

/// Sources from rows of `SOURCE_ROWS`, in row order.
fn sources_from(rows: &[Vec<DbValue>]) -> Vec<Source> {
    let mut sources: Vec<Source> = Vec::new();
    for r in rows {
        let id = val::int(&r[1]);
        if sources.last().is_none_or(|s| s.id != id) {
            sources.push(Source {
                id,
                active: val::flag(&r[3]),
                name: val::text(&r[4]),
                code: val::text(&r[5]),
                created_at: val::int(&r[6]),
                color: val::opt_text(&r[7]),
                description: val::text(&r[8]),
                ..Source::default()
            });
        }
        // NULL: a source without any match value.
        let Some(kind) = val::opt_text(&r[9]) else {
            continue;
        };
        let Some(kind) = MatchKind::parse(&kind) else {
            tracing::error!(source = id, kind, "unknown source match kind");
            continue;
        };
        if let Some(s) = sources.last_mut() {
            s.values_mut(kind).push(MatchValue {
                value: val::text(&r[10]),
                is_regexp: val::flag(&r[11]),
            });
        }
    }
    sources
}

/// Ids per statement: far below SQLite's and PostgreSQL's bound-parameter limits.
const IDS_PER_QUERY: usize = 500;

fn opt_text(v: Option<&str>) -> Value {
    Value::String(v.map(|s| Box::new(s.to_string())))
}

fn opt_int(v: Option<i64>) -> Value {
    Value::BigInt(v)
}

/// `?, ?, …` for an IN list of `n` values.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

const TRACE_COLUMNS: &str = "id, created_at, source_id, source_description, guest_id, is_mobile, \
     landing_url, referrer_url, utm_source, utm_medium, utm_campaign, utm_content, utm_term, gclid, \
     client_ids, has_children, channel_group, raw_json";

fn trace_from(r: &[DbValue]) -> Trace {
    let mut utm = Utm::default();
    for (i, field) in UTM_FIELDS.iter().enumerate() {
        utm.set(field, val::opt_text(&r[8 + i]));
    }
    Trace {
        id: val::int(&r[0]),
        data: TraceData {
            created_at: val::int(&r[1]),
            source_id: val::int(&r[2]),
            source_description: val::opt_text(&r[3]),
            guest_id: val::opt_text(&r[4]),
            is_mobile: val::flag(&r[5]),
            landing_url: val::opt_text(&r[6]),
            referrer_url: val::opt_text(&r[7]),
            utm,
            gclid: val::opt_text(&r[13]),
            client_ids: val::opt_text(&r[14]),
            has_children: val::flag(&r[15]),
            channel_group: val::text(&r[16]),
            raw_json: val::opt_text(&r[17]),
            pages: vec![],
            channels: vec![],
        },
        children: vec![],
    }
}

fn binding_from(r: &[DbValue]) -> Option<Binding> {
    Some(Binding {
        trace_id: val::int(&r[0]),
        kind: EntityKind::from_entity_type_id(val::int(&r[1]))?,
        entity_id: val::int(&r[2]),
        bound_at: val::int(&r[3]),
        seq: val::int(&r[4]),
    })
}

impl Tx {
    pub(crate) async fn si_settings(
        &mut self,
        portal_id: i64,
    ) -> Result<TrackingSettings, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT use_attribution_window, attribution_window_days FROM si_settings WHERE portal_id = ?",
                vec![portal_id.into()],
            )
            .await?;
        Ok(match rows.first() {
            Some(r) => TrackingSettings {
                use_attribution_window: val::flag(&r[0]),
                attribution_window_days: val::int(&r[1]),
            },
            None => TrackingSettings::default(),
        })
    }

    /// Changes the portal's Sales Intelligence settings (`leadtrace portal set`).
    pub async fn set_tracking_settings(
        &mut self,
        portal_id: i64,
        settings: &TrackingSettings,
    ) -> Result<(), ApiError> {
        // The report's roll-ups credit touches within the window: a new window makes every day
        // of the portal's leads and deals dirty (report.rs).
        if self.si_settings(portal_id).await?.attribution_window_days
            != settings.attribution_window_days
        {
            self.mark_every_report_day(portal_id).await?;
        }
        self.exec_sql(
            "INSERT INTO si_settings (portal_id, use_attribution_window, attribution_window_days) \
             VALUES (?, ?, ?) ON CONFLICT (portal_id) DO UPDATE SET \
             use_attribution_window = excluded.use_attribution_window, \
             attribution_window_days = excluded.attribution_window_days",
            vec![
                portal_id.into(),
                settings.use_attribution_window.into(),
                settings.attribution_window_days.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The seeded sources of a new portal (spec §6.2), in id order.
    pub(crate) async fn seed_sources(
        &mut self,
        portal_id: i64,
        created_at: i64,
    ) -> Result<(), ApiError> {
        for seed in SEEDS {
            self.si_insert_source(portal_id, &seed.to_source(created_at))
                .await?;
        }
        Ok(())
    }

    /// A portal's sources with their match lists, in id order.
    pub(crate) async fn si_sources(&mut self, portal_id: i64) -> Result<Vec<Source>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("{SOURCE_ROWS} ORDER BY {LIST_ORDER}"),
                vec![portal_id.into()],
            )
            .await?;
        Ok(sources_from(&rows))
    }

    /// `si_sources` and `si_channel_rules` in one statement: every REST add builds a trace with
    /// both, and on SQLite each statement is a round trip to the writer's connection thread.
    pub(crate) async fn si_tracking_lists(
        &mut self,
        portal_id: i64,
    ) -> Result<(Vec<Source>, Vec<ChannelRule>), ApiError> {
        let rows = self
            .fetch_sql(
                &format!("{SOURCE_ROWS} UNION ALL {RULE_ROWS} ORDER BY {LIST_ORDER}"),
                vec![portal_id.into(), portal_id.into()],
            )
            .await?;
        // Sources (part 0) sort before rules (part 1).
        let split = rows.partition_point(|r| val::int(&r[0]) == 0);
        Ok((sources_from(&rows[..split]), rules_from(&rows[split..])))
    }

    async fn si_insert_matches(&mut self, portal_id: i64, source: &Source) -> Result<(), ApiError> {
        for kind in MatchKind::ALL {
            for (position, m) in source.values(kind).iter().enumerate() {
                self.exec_sql(
                    "INSERT INTO si_source_match (portal_id, source_id, kind, position, value, is_regexp) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                    vec![
                        portal_id.into(),
                        source.id.into(),
                        kind.as_str().into(),
                        (position as i64).into(),
                        m.value.as_str().into(),
                        m.is_regexp.into(),
                    ],
                )
                .await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn si_insert_source(
        &mut self,
        portal_id: i64,
        source: &Source,
    ) -> Result<i64, ApiError> {
        let rows = self
            .fetch_sql(
                "INSERT INTO si_source (portal_id, code, name, active, created_at, color, description) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    source.code.as_str().into(),
                    source.name.as_str().into(),
                    source.active.into(),
                    source.created_at.into(),
                    opt_text(source.color.as_deref()),
                    source.description.as_str().into(),
                ],
            )
            .await?;
        let id = rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .ok_or(ApiError::Internal)?;
        let stored = Source {
            id,
            ..source.clone()
        };
        self.si_insert_matches(portal_id, &stored).await?;
        Ok(id)
    }

    pub(crate) async fn si_update_source(
        &mut self,
        portal_id: i64,
        source: &Source,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "UPDATE si_source SET code = ?, name = ?, active = ?, color = ?, description = ? \
                 WHERE portal_id = ? AND id = ?",
                vec![
                    source.code.as_str().into(),
                    source.name.as_str().into(),
                    source.active.into(),
                    opt_text(source.color.as_deref()),
                    source.description.as_str().into(),
                    portal_id.into(),
                    source.id.into(),
                ],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        self.clear_matches("si_source_match", "source_id", portal_id, source.id)
            .await?;
        self.si_insert_matches(portal_id, source).await?;
        Ok(true)
    }

    pub(crate) async fn si_delete_source(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        if !self
            .delete_with_matches(("si_source", "si_source_match", "source_id"), portal_id, id)
            .await?
        {
            return Ok(false);
        }
        // Spend without its source would count for no report row: it goes with the source.
        self.si_delete_source_expenses(portal_id, id).await?;
        // Ids are never reused, so the traces could keep a dangling id; "other traffic" is what
        // the report and the journey can still name.
        self.exec_sql(
            "UPDATE si_trace SET source_id = 0 WHERE portal_id = ? AND source_id = ?",
            vec![portal_id.into(), id.into()],
        )
        .await?;
        self.forget_tracking_source(portal_id, id).await?;
        Ok(true)
    }

    /// Deletes the match rows (`match_table`) of one source or channel rule (`owner` column).
    pub(crate) async fn clear_matches(
        &mut self,
        match_table: &str,
        owner: &str,
        portal_id: i64,
        id: i64,
    ) -> Result<(), ApiError> {
        self.exec_sql(
            &format!("DELETE FROM {match_table} WHERE portal_id = ? AND {owner} = ?"),
            vec![portal_id.into(), id.into()],
        )
        .await?;
        Ok(())
    }

    /// Deletes a source or channel rule (`table`) with its match rows; false when there is none.
    pub(crate) async fn delete_with_matches(
        &mut self,
        (table, match_table, owner): (&str, &str, &str),
        portal_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                &format!("DELETE FROM {table} WHERE portal_id = ? AND id = ?"),
                vec![portal_id.into(), id.into()],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        self.clear_matches(match_table, owner, portal_id, id)
            .await?;
        Ok(true)
    }

    pub(crate) async fn si_insert_trace(
        &mut self,
        portal_id: i64,
        t: &TraceData,
    ) -> Result<i64, ApiError> {
        let mut args: Vec<Value> = vec![
            portal_id.into(),
            t.created_at.into(),
            t.source_id.into(),
            opt_text(t.source_description.as_deref()),
            opt_text(t.guest_id.as_deref()),
            t.is_mobile.into(),
            opt_text(t.landing_url.as_deref()),
            opt_text(t.referrer_url.as_deref()),
        ];
        for field in UTM_FIELDS {
            args.push(opt_text(t.utm.get(field)));
        }
        args.extend([
            opt_text(t.gclid.as_deref()),
            opt_text(t.client_ids.as_deref()),
            t.has_children.into(),
            t.channel_group.as_str().into(),
            opt_text(t.raw_json.as_deref()),
        ]);
        let rows = self
            .fetch_sql(
                "INSERT INTO si_trace (portal_id, created_at, source_id, source_description, guest_id, \
                 is_mobile, landing_url, referrer_url, utm_source, utm_medium, utm_campaign, \
                 utm_content, utm_term, gclid, client_ids, has_children, channel_group, raw_json) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                args,
            )
            .await?;
        let id = rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .ok_or(ApiError::Internal)?;
        for (position, p) in t.pages.iter().enumerate() {
            self.exec_sql(
                "INSERT INTO si_trace_page (portal_id, trace_id, position, url, visited_at, title, is_referrer) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    portal_id.into(),
                    id.into(),
                    (position as i64).into(),
                    p.url.as_str().into(),
                    opt_int(p.visited_at),
                    p.title.as_str().into(),
                    p.is_referrer.into(),
                ],
            )
            .await?;
        }
        for (position, c) in t.channels.iter().enumerate() {
            self.insert_channel(portal_id, id, position as i64, c)
                .await?;
        }
        Ok(id)
    }

    async fn insert_channel(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        position: i64,
        c: &TraceChannel,
    ) -> Result<(), ApiError> {
        self.exec_sql(
            "INSERT INTO si_trace_channel (portal_id, trace_id, position, code, value) VALUES (?, ?, ?, ?, ?)",
            vec![
                portal_id.into(),
                trace_id.into(),
                position.into(),
                c.code.as_str().into(),
                opt_text(c.value.as_deref()),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn si_link_child(
        &mut self,
        portal_id: i64,
        parent_id: i64,
        child_id: i64,
    ) -> Result<(), ApiError> {
        self.exec_sql(
            "INSERT INTO si_trace_link (portal_id, parent_trace_id, child_trace_id) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
            vec![portal_id.into(), parent_id.into(), child_id.into()],
        )
        .await?;
        // Records already bound to the parent gain a touch (the report's copy).
        self.refresh_tracking_of_traces(portal_id, &[parent_id])
            .await
    }

    pub(crate) async fn si_add_channel(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        channel: &TraceChannel,
    ) -> Result<(), ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT position, code, value FROM si_trace_channel WHERE portal_id = ? AND trace_id = ?",
                vec![portal_id.into(), trace_id.into()],
            )
            .await?;
        if rows
            .iter()
            .any(|r| val::text(&r[1]) == channel.code && val::opt_text(&r[2]) == channel.value)
        {
            return Ok(());
        }
        let next = rows.iter().map(|r| val::int(&r[0]) + 1).max().unwrap_or(0);
        self.insert_channel(portal_id, trace_id, next, channel)
            .await
    }

    pub(crate) async fn si_traces(
        &mut self,
        portal_id: i64,
        ids: &[i64],
    ) -> Result<Vec<Trace>, ApiError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let list = marks(chunk.len());
            let args = || -> Vec<Value> {
                std::iter::once(portal_id.into())
                    .chain(chunk.iter().map(|id| (*id).into()))
                    .collect()
            };
            let rows = self
                .fetch_sql(
                    &format!(
                        "SELECT {TRACE_COLUMNS} FROM si_trace WHERE portal_id = ? AND id IN ({list}) ORDER BY id"
                    ),
                    args(),
                )
                .await?;
            let mut traces: Vec<Trace> = rows.iter().map(|r| trace_from(r)).collect();
            if traces.is_empty() {
                continue;
            }
            let pages = self
                .fetch_sql(
                    &format!(
                        "SELECT trace_id, url, visited_at, title, is_referrer FROM si_trace_page \
                         WHERE portal_id = ? AND trace_id IN ({list}) ORDER BY trace_id, position"
                    ),
                    args(),
                )
                .await?;
            for r in pages {
                if let Some(t) = traces.iter_mut().find(|t| t.id == val::int(&r[0])) {
                    t.data.pages.push(Page {
                        url: val::text(&r[1]),
                        visited_at: val::opt_int(&r[2]),
                        title: val::text(&r[3]),
                        is_referrer: val::flag(&r[4]),
                    });
                }
            }
            let channels = self
                .fetch_sql(
                    &format!(
                        "SELECT trace_id, code, value FROM si_trace_channel \
                         WHERE portal_id = ? AND trace_id IN ({list}) ORDER BY trace_id, position"
                    ),
                    args(),
                )
                .await?;
            for r in channels {
                if let Some(t) = traces.iter_mut().find(|t| t.id == val::int(&r[0])) {
                    t.data.channels.push(TraceChannel {
                        code: val::text(&r[1]),
                        value: val::opt_text(&r[2]),
                    });
                }
            }
            let links = self
                .fetch_sql(
                    &format!(
                        "SELECT parent_trace_id, child_trace_id FROM si_trace_link \
                         WHERE portal_id = ? AND parent_trace_id IN ({list}) ORDER BY parent_trace_id, child_trace_id"
                    ),
                    args(),
                )
                .await?;
            for r in links {
                if let Some(t) = traces.iter_mut().find(|t| t.id == val::int(&r[0])) {
                    t.children.push(val::int(&r[1]));
                }
            }
            out.extend(traces);
        }
        Ok(out)
    }

    pub(crate) async fn si_bind(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        kind: EntityKind,
        entity_id: i64,
        now: i64,
    ) -> Result<(), ApiError> {
        let et = kind.entity_type_id();
        // The record's next seq is read by the INSERT itself (one statement). Two PostgreSQL
        // transactions binding the same record at once may both read the same maximum; readers
        // break such a tie by the trace id (the later trace wins). The WHERE clause also keeps
        // SQLite from reading ON CONFLICT as a join's ON.
        self.exec_sql(
            "INSERT INTO crm_trace_entity (portal_id, trace_id, entity_type_id, entity_id, bound_at, seq) \
             SELECT ?, ?, ?, ?, ?, COALESCE(MAX(seq), 0) + 1 FROM crm_trace_entity \
             WHERE portal_id = ? AND entity_type_id = ? AND entity_id = ? \
             ON CONFLICT (portal_id, trace_id, entity_type_id, entity_id) \
             DO UPDATE SET bound_at = excluded.bound_at, seq = excluded.seq",
            vec![
                portal_id.into(),
                trace_id.into(),
                et.into(),
                entity_id.into(),
                now.into(),
                portal_id.into(),
                et.into(),
                entity_id.into(),
            ],
        )
        .await?;
        self.refresh_tracking(portal_id, kind, entity_id).await
    }

    pub(crate) async fn si_trace_bindings(
        &mut self,
        portal_id: i64,
        trace_id: i64,
    ) -> Result<Vec<Binding>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT trace_id, entity_type_id, entity_id, bound_at, seq FROM crm_trace_entity \
                 WHERE portal_id = ? AND trace_id = ? ORDER BY entity_type_id, entity_id",
                vec![portal_id.into(), trace_id.into()],
            )
            .await?;
        Ok(rows.iter().filter_map(|r| binding_from(r)).collect())
    }

    pub(crate) async fn si_entity_bindings(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        entity_id: i64,
        limit: i64,
    ) -> Result<Vec<Binding>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT trace_id, entity_type_id, entity_id, bound_at, seq FROM crm_trace_entity \
                 WHERE portal_id = ? AND entity_type_id = ? AND entity_id = ? \
                 ORDER BY seq DESC, trace_id DESC LIMIT ?",
                vec![
                    portal_id.into(),
                    kind.entity_type_id().into(),
                    entity_id.into(),
                    limit.max(0).into(),
                ],
            )
            .await?;
        Ok(rows.iter().filter_map(|r| binding_from(r)).collect())
    }

    pub(crate) async fn si_unbind(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        kind: EntityKind,
        entity_id: i64,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "DELETE FROM crm_trace_entity WHERE portal_id = ? AND trace_id = ? \
                 AND entity_type_id = ? AND entity_id = ?",
                vec![
                    portal_id.into(),
                    trace_id.into(),
                    kind.entity_type_id().into(),
                    entity_id.into(),
                ],
            )
            .await?;
        self.refresh_tracking(portal_id, kind, entity_id).await?;
        Ok(n > 0)
    }

    pub(crate) async fn si_delete_trace(
        &mut self,
        portal_id: i64,
        trace_id: i64,
    ) -> Result<bool, ApiError> {
        // The records it was bound to fall back to their previous binding (report copies).
        let bound = self.si_trace_bindings(portal_id, trace_id).await?;
        let n = self
            .exec_sql(
                "DELETE FROM si_trace WHERE portal_id = ? AND id = ?",
                vec![portal_id.into(), trace_id.into()],
            )
            .await?;
        for sql in [
            "DELETE FROM si_trace_page WHERE portal_id = ? AND trace_id = ?",
            "DELETE FROM si_trace_channel WHERE portal_id = ? AND trace_id = ?",
            "DELETE FROM crm_trace_entity WHERE portal_id = ? AND trace_id = ?",
            "DELETE FROM si_trace_link WHERE portal_id = ? AND parent_trace_id = ?",
        ] {
            self.exec_sql(sql, vec![portal_id.into(), trace_id.into()])
                .await?;
        }
        // A deleted previous visit leaves its parent, which may have no other child now.
        let parents = self
            .fetch_sql(
                "SELECT parent_trace_id FROM si_trace_link WHERE portal_id = ? AND child_trace_id = ?",
                vec![portal_id.into(), trace_id.into()],
            )
            .await?;
        self.exec_sql(
            "DELETE FROM si_trace_link WHERE portal_id = ? AND child_trace_id = ?",
            vec![portal_id.into(), trace_id.into()],
        )
        .await?;
        let parent_ids: Vec<i64> = parents.iter().map(|p| val::int(&p[0])).collect();
        for p in parents {
            let parent = val::int(&p[0]);
            self.exec_sql(
                "UPDATE si_trace SET has_children = EXISTS (SELECT 1 FROM si_trace_link \
                 WHERE portal_id = ? AND parent_trace_id = ?) WHERE portal_id = ? AND id = ?",
                vec![
                    portal_id.into(),
                    parent.into(),
                    portal_id.into(),
                    parent.into(),
                ],
            )
            .await?;
        }
        for b in bound {
            self.refresh_tracking(portal_id, b.kind, b.entity_id)
                .await?;
        }
        // Records bound to a trace this one was a previous visit of lose a touch.
        self.refresh_tracking_of_traces(portal_id, &parent_ids)
            .await?;
        Ok(n > 0)
    }
}
