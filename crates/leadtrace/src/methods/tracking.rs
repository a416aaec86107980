//! Sales Intelligence: Bitrix24's two REST methods `crm.tracking.trace.add` / `.delete`, and our
//! extensions under `leadtrace.tracking.*` (Bitrix24 has no REST methods for them, E19).
//!
//! Scope `crm` for all. Traces: any user may create one; binding or unbinding a record needs the
//! right to update it. `entity.get` needs the right to read the record. Sources, channel
//! override rules and expense packs: anyone may read them, only administrators may change them.
//! The report (`report.get`) needs an administrator or a user who may read all leads and all
//! deals. The `crm::tracking` module does the work.

use super::crm_call;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use crm::tracking::{channel_rules, expenses, report, service, sources};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    TraceAdd,
    TraceDelete,
    EntityGet,
    SourceList,
    SourceAdd,
    SourceUpdate,
    SourceDelete,
    ExpenseAdd,
    ExpenseGet,
    ExpenseList,
    ExpenseDelete,
    ChannelList,
    ChannelRuleList,
    ChannelRuleAdd,
    ChannelRuleUpdate,
    ChannelRuleDelete,
    ReportGet,
}

impl Op {
    fn writes(self) -> bool {
        !matches!(
            self,
            Op::EntityGet
                | Op::SourceList
                | Op::ChannelList
                | Op::ChannelRuleList
                | Op::ExpenseGet
                | Op::ExpenseList
                | Op::ReportGet
        )
    }
}

pub fn register(r: &mut Registry) {
    for (name, op) in [
        ("crm.tracking.trace.add", Op::TraceAdd),
        ("crm.tracking.trace.delete", Op::TraceDelete),
        ("leadtrace.tracking.entity.get", Op::EntityGet),
        ("leadtrace.tracking.source.list", Op::SourceList),
        ("leadtrace.tracking.source.add", Op::SourceAdd),
        ("leadtrace.tracking.source.update", Op::SourceUpdate),
        ("leadtrace.tracking.source.delete", Op::SourceDelete),
        ("leadtrace.tracking.expense.add", Op::ExpenseAdd),
        ("leadtrace.tracking.expense.get", Op::ExpenseGet),
        ("leadtrace.tracking.expense.list", Op::ExpenseList),
        ("leadtrace.tracking.expense.delete", Op::ExpenseDelete),
        ("leadtrace.tracking.channel.list", Op::ChannelList),
        ("leadtrace.tracking.channel.rule.list", Op::ChannelRuleList),
        ("leadtrace.tracking.channel.rule.add", Op::ChannelRuleAdd),
        (
            "leadtrace.tracking.channel.rule.update",
            Op::ChannelRuleUpdate,
        ),
        (
            "leadtrace.tracking.channel.rule.delete",
            Op::ChannelRuleDelete,
        ),
        ("leadtrace.tracking.report.get", Op::ReportGet),
    ] {
        r.add(name, Scope::Crm, move |call| Box::pin(run(call, op)));
    }
}

async fn run(call: Call, op: Op) -> Result<Output, ApiError> {
    crm_call(call, op.writes(), move |tx, ctx, params| {
        Box::pin(async move {
            match op {
                Op::TraceAdd => service::trace_add(tx, ctx, params).await,
                Op::TraceDelete => service::trace_delete(tx, ctx, params).await,
                Op::EntityGet => service::entity_get(tx, ctx, params).await,
                Op::SourceList => sources::list(tx, ctx).await,
                Op::SourceAdd => sources::add(tx, ctx, params).await,
                Op::SourceUpdate => sources::update(tx, ctx, params).await,
                Op::SourceDelete => sources::delete(tx, ctx, params).await,
                Op::ExpenseAdd => expenses::add(tx, ctx, params).await,
                Op::ExpenseGet => expenses::get(tx, ctx, params).await,
                Op::ExpenseList => expenses::list(tx, ctx, params).await,
                Op::ExpenseDelete => expenses::delete(tx, ctx, params).await,
                Op::ChannelList => Ok(channel_rules::groups()),
                Op::ChannelRuleList => channel_rules::list(tx, ctx).await,
                Op::ChannelRuleAdd => channel_rules::add(tx, ctx, params).await,
                Op::ChannelRuleUpdate => channel_rules::update(tx, ctx, params).await,
                Op::ChannelRuleDelete => channel_rules::delete(tx, ctx, params).await,
                Op::ReportGet => report::get(tx, ctx, params).await,
            }
        })
    })
    .await
}
