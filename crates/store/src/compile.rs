//! The typed query model (`crm::ListQuery`, `Cond`, `Order`) compiled to SQL with sea-query, per
//! backend: every value bound, every column name taken from the entity's field table.
//!
//! Semantics that both backends must share (the tests run each case on both):
//! * text is compared bytewise (PostgreSQL columns are `COLLATE "C"`, SQLite's default is BINARY);
//!   `ci` comparisons apply `lt_fold()` (Unicode lower-casing, fold.rs) to both sides;
//! * LIKE is case-sensitive unless `ci` (SQLite connections set `case_sensitive_like`), with `\`
//!   as the escape character; a pattern is normalised first so a trailing lone `\` is a literal
//!   backslash on both backends, and a pattern without wildcards becomes `=` (indexable);
//! * user fields (`Col::Uf`) are read from the JSON column as the type their definition gives:
//!   numerically (`Int`/`Real`: JSON numbers, booleans as 1/0, anything else NULL), or as text
//!   (strings as they are, numbers in their JSON spelling, booleans as `true`/`false`); JSON null
//!   or a missing key is SQL NULL. A condition on a multiple field holds when some element of its
//!   JSON array satisfies it (`EXISTS` over the elements), and `IsNull` means "no element";
//! * NULLs sort first ascending and last descending (SQLite's and MySQL's rule), on both;
//! * `In` ignores NULL list members (so `NOT IN` stays meaningful) and an empty list is FALSE;
//!   `Cmp` with a NULL value: `Eq` is `IS NULL`, `Ne` is `IS NOT NULL`, other operators are NULL.

use crate::Backend;
use bx_wire::ApiError;
use crm::{CmpOp, Col, ColumnType, Cond, DbValue, EntityKind, ListQuery, OrderKey, UfCol};
use sea_query::{
    Alias, BinOper, Condition, Expr, ExprTrait, Func, JoinType, NullOrdering, Order as SqOrder,
    Query, SelectStatement, SimpleExpr, Value,
};

/// The alias of the entity table in list queries.
const T: &str = "t";

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// Storage type of a column of `kind`'s table, from the field table. An unknown column is a bug in
/// the caller (columns come from the field table), so it is logged and answered as internal.
pub(crate) fn column_type(kind: EntityKind, column: &str) -> Result<ColumnType, ApiError> {
    if column == "id" {
        return Ok(ColumnType::Int);
    }
    kind.fields()
        .iter()
        .find(|f| f.column == Some(column))
        .map(|f| f.kind.column_type())
        .ok_or_else(|| {
            tracing::error!(
                entity = kind.code(),
                column,
                "column not in the field table"
            );
            ApiError::Internal
        })
}

/// A value converted to the column's storage type, for comparisons; `None` when it has no such
/// form (text that is not a number, against a number column): the comparison is then with a
/// typed NULL, which matches nothing, rather than a type error on PostgreSQL.
pub(crate) fn coerce_cmp(v: &DbValue, ty: ColumnType) -> Option<DbValue> {
    Some(match (ty, v) {
        (_, DbValue::Null) => DbValue::Null,
        (ColumnType::Int, DbValue::Text(t)) => {
            let t = t.trim();
            t.parse::<i64>()
                .map(DbValue::Int)
                .or_else(|_| t.parse::<f64>().map(DbValue::Real))
                .ok()?
        }
        (ColumnType::Real, DbValue::Int(i)) => DbValue::Real(*i as f64),
        (ColumnType::Real, DbValue::Text(t)) => DbValue::Real(t.trim().parse::<f64>().ok()?),
        (ColumnType::Text, DbValue::Int(i)) => DbValue::Text(i.to_string()),
        (ColumnType::Text, DbValue::Real(f)) => DbValue::Text(f.to_string()),
        _ => v.clone(),
    })
}

/// The value side of a case-insensitive comparison, folded here exactly as `lt_fold` folds the
/// column side (see `fold.rs`), so both backends give the same answer for any script.
fn fold_value(v: DbValue, fold: bool) -> DbValue {
    match v {
        DbValue::Text(t) if fold => DbValue::Text(crate::fold::fold(&t)),
        v => v,
    }
}

/// A value converted to the column's storage type, for INSERT/UPDATE. Unlike comparisons, a value
/// that cannot be stored is an error of the caller (the engine validates input), not a silent NULL.
pub(crate) fn coerce_assign(
    column: &str,
    v: &DbValue,
    ty: ColumnType,
) -> Result<DbValue, ApiError> {
    let bad = || {
        tracing::error!(column, value = ?v, "value does not fit the column type");
        ApiError::Internal
    };
    Ok(match (ty, v) {
        (_, DbValue::Null) => DbValue::Null,
        (ColumnType::Int, DbValue::Real(f)) => DbValue::Int(f.round() as i64),
        (ColumnType::Int, DbValue::Text(t)) => DbValue::Int(t.trim().parse().map_err(|_| bad())?),
        (ColumnType::Real, DbValue::Int(i)) => DbValue::Real(*i as f64),
        (ColumnType::Real, DbValue::Text(t)) => DbValue::Real(t.trim().parse().map_err(|_| bad())?),
        (ColumnType::Text, DbValue::Int(i)) => DbValue::Text(i.to_string()),
        (ColumnType::Text, DbValue::Real(f)) => DbValue::Text(f.to_string()),
        _ => v.clone(),
    })
}

/// A bound value; NULL carries the column's type, which PostgreSQL needs to accept it.
pub(crate) fn bind(v: &DbValue, ty: ColumnType) -> Value {
    match v {
        DbValue::Null => match ty {
            ColumnType::Int => Value::BigInt(None),
            ColumnType::Real => Value::Double(None),
            ColumnType::Text => Value::String(None),
        },
        DbValue::Int(i) => Value::BigInt(Some(*i)),
        DbValue::Real(f) => Value::Double(Some(*f)),
        DbValue::Text(t) => Value::String(Some(Box::new(t.clone()))),
    }
}

fn text_value(s: &str) -> Value {
    Value::String(Some(Box::new(s.to_string())))
}

fn typed_null(ty: ColumnType) -> SimpleExpr {
    Expr::val(bind(&DbValue::Null, ty)).into()
}

/// Forces parentheses around an expression (sea-query renders a one-element tuple as `(x)`), so
/// nesting of AND/OR/NOT never depends on operator precedence.
fn paren(e: SimpleExpr) -> SimpleExpr {
    SimpleExpr::Tuple(vec![e])
}

/// `lt_fold(e)`: Unicode lower-casing, the same on both backends.
fn folded(e: SimpleExpr) -> SimpleExpr {
    Func::cust(a(crate::fold::FUNCTION)).arg(e).into()
}

/// A LIKE pattern parsed into literal text and wildcards.
#[derive(Debug, PartialEq)]
pub(crate) struct LikePattern {
    /// The pattern with every literal `%`, `_` and `\` escaped by `\` (same meaning on both backends).
    pub canonical: String,
    /// The literal text when the pattern has no wildcard.
    pub literal: Option<String>,
}

/// Parses a pattern where `%` and `_` are wildcards and `\` escapes the next character. A trailing
/// lone `\` is taken literally (PostgreSQL would reject it, SQLite would match nothing).
pub(crate) fn parse_like(pattern: &str) -> LikePattern {
    let mut canonical = String::with_capacity(pattern.len() + 4);
    let mut literal = String::with_capacity(pattern.len());
    let mut wild = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' | '_' => {
                wild = true;
                canonical.push(c);
            }
            '\\' => {
                let lit = chars.next().unwrap_or('\\');
                if matches!(lit, '%' | '_' | '\\') {
                    canonical.push('\\');
                }
                canonical.push(lit);
                literal.push(lit);
            }
            _ => {
                canonical.push(c);
                literal.push(c);
            }
        }
    }
    LikePattern {
        canonical,
        literal: if wild { None } else { Some(literal) },
    }
}

/// `lhs LIKE pattern ESCAPE '\'`, or `lhs = literal` when the pattern has no wildcard;
/// case-insensitive (both sides folded, see `fold_value`) when `ci`.
fn like(lhs: SimpleExpr, pattern: &str, ci: bool) -> SimpleExpr {
    let pattern = if ci {
        crate::fold::fold(pattern)
    } else {
        pattern.to_string()
    };
    let p = parse_like(&pattern);
    let lhs = if ci { folded(lhs) } else { lhs };
    match p.literal {
        Some(lit) => lhs.eq(lit),
        None => SimpleExpr::Binary(
            Box::new(lhs),
            BinOper::Like,
            Box::new(SimpleExpr::Binary(
                Box::new(Expr::val(p.canonical).into()),
                BinOper::Escape,
                Box::new(SimpleExpr::Constant("\\".into())),
            )),
        ),
    }
}

/// Whether the filter's top-level conditions bound `DATE_CREATE` or `DATE_MODIFY` (indexed on
/// every entity table) with a range and nothing bounds `id`.
fn date_range_bounds(filter: &Cond) -> bool {
    let conjuncts = match filter {
        Cond::And(v) => v.as_slice(),
        c => std::slice::from_ref(c),
    };
    let bounds_id = conjuncts.iter().any(|c| {
        matches!(
            c,
            Cond::Cmp {
                col: Col::Column("id"),
                ..
            } | Cond::In {
                col: Col::Column("id"),
                ..
            }
        )
    });
    let date_range = conjuncts.iter().any(|c| {
        matches!(
            c,
            Cond::Cmp {
                col: Col::Column("date_create" | "date_modify"),
                op: CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge,
                ..
            }
        )
    });
    date_range && !bounds_id
}

/// Compiles queries over one entity table for one backend.
pub(crate) struct Compiler<'q> {
    backend: Backend,
    query: &'q ListQuery,
}

impl<'q> Compiler<'q> {
    pub(crate) fn new(backend: Backend, query: &'q ListQuery) -> Self {
        Compiler { backend, query }
    }

    /// The expression reading `col` and the type it is compared as.
    fn col(&self, col: &Col) -> Result<(SimpleExpr, ColumnType), ApiError> {
        match col {
            Col::Column(name) => {
                let ty = column_type(self.query.kind, name)?;
                Ok((Expr::col((a(T), a(name))).into(), ty))
            }
            Col::Uf(uf) => Ok((uf_scalar(self.backend, &uf.name, uf.ty), uf.ty)),
        }
    }

    /// `lhs <op> value`, the value converted to the operand's type.
    fn cmp(lhs: SimpleExpr, ty: ColumnType, op: CmpOp, value: &DbValue, ci: bool) -> SimpleExpr {
        let fold = ci && ty == ColumnType::Text;
        let rhs = match coerce_cmp(value, ty) {
            Some(DbValue::Null) if op == CmpOp::Eq => return lhs.is_null(),
            Some(DbValue::Null) if op == CmpOp::Ne => return lhs.is_not_null(),
            Some(v) => Expr::val(bind(&fold_value(v, fold), ty)).into(),
            None => typed_null(ty),
        };
        let lhs = if fold { folded(lhs) } else { lhs };
        match op {
            CmpOp::Eq => lhs.eq(rhs),
            CmpOp::Ne => lhs.ne(rhs),
            CmpOp::Lt => lhs.lt(rhs),
            CmpOp::Le => lhs.lte(rhs),
            CmpOp::Gt => lhs.gt(rhs),
            CmpOp::Ge => lhs.gte(rhs),
        }
    }

    fn is_in(lhs: SimpleExpr, ty: ColumnType, values: &[DbValue], ci: bool) -> SimpleExpr {
        let fold = ci && ty == ColumnType::Text;
        let vals: Vec<SimpleExpr> = values
            .iter()
            .filter_map(|v| coerce_cmp(v, ty))
            .filter(|v| !v.is_null())
            .map(|v| Expr::val(bind(&fold_value(v, fold), ty)).into())
            .collect();
        if vals.is_empty() {
            Expr::cust("1 = 0")
        } else if fold {
            Expr::expr(folded(lhs)).is_in(vals)
        } else {
            Expr::expr(lhs).is_in(vals)
        }
    }

    fn like_of(lhs: SimpleExpr, ty: ColumnType, pattern: &str, ci: bool) -> SimpleExpr {
        // LIKE is a text operator; PostgreSQL has none for numbers.
        let lhs = if ty == ColumnType::Text {
            lhs
        } else {
            lhs.cast_as(a("TEXT"))
        };
        like(lhs, pattern, ci)
    }

    /// A condition on a multiple user field: `EXISTS` an element of its JSON array satisfying
    /// `c` (`c` is `Cmp`, `In` or `Like` on that field), or, for `IsNull`, no element at all.
    fn multiple(&self, uf: &UfCol, c: &Cond) -> SimpleExpr {
        let e = uf_element(self.backend, uf.ty);
        let inner = match c {
            Cond::Cmp { op, value, ci, .. } => Self::cmp(e, uf.ty, *op, value, *ci),
            Cond::In { values, ci, .. } => Self::is_in(e, uf.ty, values, *ci),
            Cond::Like { pattern, ci, .. } => Self::like_of(e, uf.ty, pattern, *ci),
            _ => Expr::cust("1 = 1"),
        };
        let exists = uf_elements_exist(self.backend, &uf.name, inner);
        if matches!(c, Cond::IsNull(_)) {
            exists.not()
        } else {
            exists
        }
    }

    fn cond(&self, c: &Cond) -> Result<SimpleExpr, ApiError> {
        Ok(match c {
            Cond::True => Expr::cust("1 = 1"),
            Cond::False => Expr::cust("1 = 0"),
            Cond::And(cs) | Cond::Or(cs) => {
                let is_and = matches!(c, Cond::And(_));
                let mut parts = cs.iter().map(|c| self.cond(c).map(paren));
                match parts.next() {
                    None => Expr::cust(if is_and { "1 = 1" } else { "1 = 0" }),
                    Some(first) => {
                        let mut acc = first?;
                        for p in parts {
                            acc = if is_and { acc.and(p?) } else { acc.or(p?) };
                        }
                        acc
                    }
                }
            }
            Cond::Not(inner) => paren(self.cond(inner)?).not(),
            Cond::IsNull(Col::Uf(uf))
            | Cond::Cmp {
                col: Col::Uf(uf), ..
            }
            | Cond::In {
                col: Col::Uf(uf), ..
            }
            | Cond::Like {
                col: Col::Uf(uf), ..
            } if uf.multiple => self.multiple(uf, c),
            Cond::IsNull(col) => self.col(col)?.0.is_null(),
            Cond::Cmp { col, op, value, ci } => {
                let (lhs, ty) = self.col(col)?;
                Self::cmp(lhs, ty, *op, value, *ci)
            }
            Cond::In { col, values, ci } => {
                let (lhs, ty) = self.col(col)?;
                Self::is_in(lhs, ty, values, *ci)
            }
            Cond::Like { col, pattern, ci } => {
                let (lhs, ty) = self.col(col)?;
                Self::like_of(lhs, ty, pattern, *ci)
            }
            Cond::Multifield { type_id, pattern } => {
                // `id IN (values' owners)` rather than a correlated EXISTS: the subquery is
                // answered once from the (portal_id, type_id, lt_fold(value)) index and drives the
                // lookup of the entities, instead of probing every entity's values.
                let m = a("m");
                let mut sub = Query::select();
                sub.column((m.clone(), a("owner_id")))
                    .from_as(a("crm_multifield"), m.clone())
                    .and_where(Expr::col((m.clone(), a("portal_id"))).eq(self.query.portal_id))
                    .and_where(Expr::col((m.clone(), a("type_id"))).eq(type_id.as_str()))
                    .and_where(like(
                        Expr::col((m.clone(), a("value"))).into(),
                        pattern,
                        true,
                    ))
                    .and_where(
                        Expr::col((m, a("entity_type_id"))).eq(self.query.kind.entity_type_id()),
                    );
                Expr::col((a(T), a("id"))).in_subquery(sub)
            }
        })
    }

    /// `FROM <table> t WHERE t.portal_id = ? AND <filter>`.
    fn base(&self) -> Result<SelectStatement, ApiError> {
        let q = self.query;
        let mut sel = Query::select();
        sel.from_as(a(q.kind.table()), a(T));
        sel.and_where(Expr::col((a(T), a("portal_id"))).eq(q.portal_id));
        if q.filter != Cond::True {
            sel.and_where(paren(self.cond(&q.filter)?));
        }
        Ok(sel)
    }

    /// The list query and the types of its result columns: `id`, `columns...`, then `uf` text.
    pub(crate) fn select(&self) -> Result<(SelectStatement, Vec<ColumnType>), ApiError> {
        let q = self.query;
        let mut sel = self.base()?;
        let mut types = vec![ColumnType::Int];
        sel.column((a(T), a("id")));
        for c in &q.columns {
            types.push(column_type(q.kind, c)?);
            sel.column((a(T), a(c)));
        }
        if q.with_uf {
            match self.backend {
                Backend::Sqlite => sel.column((a(T), a("uf"))),
                Backend::Postgres => sel.expr(Expr::col((a(T), a("uf"))).cast_as(a("TEXT"))),
            };
        }
        let mut id_ordered = false;
        // docs/performance.md, finding 2: PostgreSQL answers "a DATE_CREATE range, ORDER BY id"
        // by walking the primary key from the start, because it expects the matches spread over
        // the table while they sit together (dates grow with ids). `id + 0` takes the primary key
        // out of the choice, so the cost is bounded by the number of matches.
        let id_key = if self.backend == Backend::Postgres
            && q.order
                .iter()
                .all(|o| matches!(o.key, OrderKey::Col(Col::Column("id"))))
            && date_range_bounds(&q.filter)
        {
            Expr::col((a(T), a("id"))).add(0)
        } else {
            Expr::col((a(T), a("id"))).into()
        };
        for (i, o) in q.order.iter().enumerate() {
            let dir = if o.desc { SqOrder::Desc } else { SqOrder::Asc };
            let nulls = if o.desc {
                NullOrdering::Last
            } else {
                NullOrdering::First
            };
            match &o.key {
                OrderKey::Col(Col::Column("id")) => {
                    id_ordered = true;
                    sel.order_by_expr(id_key.clone(), dir);
                }
                OrderKey::Col(col) => {
                    let (e, _) = self.col(col)?;
                    sel.order_by_expr_with_nulls(e, dir, nulls);
                }
                OrderKey::StatusSort { column, entity_id } => {
                    column_type(q.kind, column)?;
                    // One LEFT JOIN per dictionary order key rather than a subquery per row: the
                    // (portal_id, entity_id, status_id) key matches at most one entry, so no row
                    // is repeated, and the planner reads the small dictionary once
                    // (docs/performance.md, finding 1).
                    let s = a(&format!("s{i}"));
                    sel.join_as(
                        JoinType::LeftJoin,
                        a("crm_status"),
                        s.clone(),
                        Condition::all()
                            .add(
                                Expr::col((s.clone(), a("portal_id")))
                                    .equals((a(T), a("portal_id"))),
                            )
                            .add(Expr::col((s.clone(), a("entity_id"))).eq(entity_id.as_str()))
                            .add(Expr::col((s.clone(), a("status_id"))).equals((a(T), a(column)))),
                    );
                    let e: SimpleExpr = Expr::col((s, a("sort"))).into();
                    sel.order_by_expr_with_nulls(e, dir, nulls);
                }
            }
        }
        // A total order makes paging stable: equal keys never swap between pages.
        if !id_ordered {
            sel.order_by_expr(id_key, SqOrder::Asc);
        }
        let offset = q.offset.max(0) as u64;
        match q.limit {
            Some(l) => {
                sel.limit(l.max(0) as u64);
            }
            // SQLite has no OFFSET without LIMIT.
            None if offset > 0 => {
                sel.limit(i64::MAX as u64);
            }
            None => {}
        }
        if offset > 0 {
            sel.offset(offset);
        }
        Ok((sel, types))
    }

    /// `SELECT COUNT(*)` with the same filter.
    pub(crate) fn count(&self) -> Result<SelectStatement, ApiError> {
        let mut sel = self.base()?;
        sel.expr(Expr::cust("COUNT(*)"));
        Ok(sel)
    }
}

/// Whether a name can be a user field's (`UF_CRM_*`): anything else (a quote would break
/// SQLite's JSON path) names no stored field.
fn uf_name_ok(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A numeric JSON read on PostgreSQL, cast to the column type it compares as. The cast also keeps
/// the SQL text of an integer and a double comparison apart: sqlx caches prepared statements by
/// text with the parameter types of their first use, and a `float8` bound where an `int8` was
/// prepared would be read as the wrong number.
fn pg_number(numeric: &str, ty: ColumnType) -> String {
    match ty {
        ColumnType::Int => format!("CAST({numeric} AS BIGINT)"),
        _ => format!("CAST({numeric} AS DOUBLE PRECISION)"),
    }
}

/// A single-valued user field of the JSON `uf` column, read as `ty` (module header).
fn uf_scalar(backend: Backend, name: &str, ty: ColumnType) -> SimpleExpr {
    if !uf_name_ok(name) {
        return typed_null(ty);
    }
    if ty == ColumnType::Text {
        return uf_text(backend, name);
    }
    match backend {
        Backend::Postgres => Expr::cust_with_values(
            pg_number(
                r#"(CASE jsonb_typeof("t"."uf" -> $1) WHEN 'number' THEN ("t"."uf" ->> $1)::numeric WHEN 'boolean' THEN (CASE WHEN ("t"."uf" -> $1) = 'true'::jsonb THEN 1 ELSE 0 END) END)"#,
                ty,
            ),
            [text_value(name)],
        ),
        Backend::Sqlite => {
            // json_extract gives 1/0 for JSON booleans.
            let path = format!("$.\"{name}\"");
            Expr::cust_with_values(
                r#"(CASE WHEN json_type("t"."uf", ?) IN ('integer', 'real', 'true', 'false') THEN json_extract("t"."uf", ?) END)"#,
                [text_value(&path), text_value(&path)],
            )
        }
    }
}

/// One element (`"e"`) of a multiple user field's array, read as `ty`; used inside
/// `uf_elements_exist`.
fn uf_element(backend: Backend, ty: ColumnType) -> SimpleExpr {
    match (backend, ty) {
        (Backend::Postgres, ColumnType::Text) => Expr::cust(r#"(("e"."v" #>> '{}') COLLATE "C")"#),
        (Backend::Postgres, _) => Expr::cust(pg_number(
            r#"(CASE jsonb_typeof("e"."v") WHEN 'number' THEN ("e"."v" #>> '{}')::numeric WHEN 'boolean' THEN (CASE WHEN "e"."v" = 'true'::jsonb THEN 1 ELSE 0 END) END)"#,
            ty,
        )),
        (Backend::Sqlite, ColumnType::Text) => Expr::cust(
            r#"(CASE "e"."type" WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST("e"."value" AS TEXT) END)"#,
        ),
        (Backend::Sqlite, _) => Expr::cust(
            r#"(CASE WHEN "e"."type" IN ('integer', 'real', 'true', 'false') THEN "e"."value" END)"#,
        ),
    }
}

/// `EXISTS` an element of the multiple user field `name` for which `inner` (written over
/// `uf_element`) holds. A stored value that is not an array has no elements on either backend
/// (SQLite's `json_each` alone would walk a lone scalar as one element).
fn uf_elements_exist(backend: Backend, name: &str, inner: SimpleExpr) -> SimpleExpr {
    if !uf_name_ok(name) {
        return Expr::cust("1 = 0");
    }
    match backend {
        Backend::Postgres => Expr::cust_with_exprs(
            r#"EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof("t"."uf" -> $1) WHEN 'array' THEN "t"."uf" -> $1 ELSE '[]'::jsonb END) AS "e"("v") WHERE $2)"#,
            [Expr::val(name.to_string()).into(), inner],
        ),
        Backend::Sqlite => Expr::cust_with_exprs(
            r#"EXISTS (SELECT 1 FROM json_each("t"."uf", ?) AS "e" WHERE json_type("t"."uf", ?) = 'array' AND (?))"#,
            [
                Expr::val(format!("$.\"{name}\"")).into(),
                Expr::val(format!("$.\"{name}\"")).into(),
                inner,
            ],
        ),
    }
}

/// A user field of the JSON `uf` column as text (see the module header for the rules).
fn uf_text(backend: Backend, name: &str) -> SimpleExpr {
    match backend {
        Backend::Postgres => {
            Expr::cust_with_values(r#"(("t"."uf" ->> $1) COLLATE "C")"#, [text_value(name)])
        }
        Backend::Sqlite => {
            // json_extract gives 1/0 for JSON booleans; spell them as PostgreSQL's ->> does.
            let path = format!("$.\"{name}\"");
            Expr::cust_with_values(
                r#"(CASE json_type("t"."uf", ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract("t"."uf", ?) AS TEXT) END)"#,
                [text_value(&path), text_value(&path)],
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm::{Order, OrderKey};
    use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    fn q(filter: Cond) -> ListQuery {
        ListQuery {
            kind: EntityKind::Lead,
            portal_id: 1,
            filter,
            order: vec![],
            columns: vec!["title"],
            with_uf: false,
            offset: 0,
            limit: None,
        }
    }

    fn sql(backend: Backend, query: &ListQuery) -> String {
        let (sel, _) = Compiler::new(backend, query).select().unwrap();
        match backend {
            Backend::Sqlite => sel.to_string(SqliteQueryBuilder),
            Backend::Postgres => sel.to_string(PostgresQueryBuilder),
        }
    }

    #[test]
    fn like_patterns_normalise() {
        assert_eq!(
            parse_like("abc"),
            LikePattern {
                canonical: "abc".into(),
                literal: Some("abc".into())
            }
        );
        assert_eq!(
            parse_like(r"a\%b"),
            LikePattern {
                canonical: r"a\%b".into(),
                literal: Some("a%b".into())
            }
        );
        assert_eq!(
            parse_like(r"a\x"),
            LikePattern {
                canonical: "ax".into(),
                literal: Some("ax".into())
            }
        );
        assert_eq!(
            parse_like("a\\"),
            LikePattern {
                canonical: r"a\\".into(),
                literal: Some("a\\".into())
            }
        );
        assert_eq!(
            parse_like("%a_"),
            LikePattern {
                canonical: "%a_".into(),
                literal: None
            }
        );
    }

    #[test]
    fn nesting_is_parenthesised() {
        let f = Cond::Not(Box::new(Cond::Or(vec![
            Cond::IsNull(Col::Column("title")),
            Cond::And(vec![
                Cond::Cmp {
                    col: Col::Column("id"),
                    op: CmpOp::Gt,
                    value: DbValue::Int(1),
                    ci: false,
                },
                Cond::Cmp {
                    col: Col::Column("id"),
                    op: CmpOp::Lt,
                    value: DbValue::Int(5),
                    ci: false,
                },
            ]),
        ])));
        let s = sql(Backend::Sqlite, &q(f));
        assert!(
            s.contains(r#"(NOT (("t"."title" IS NULL) OR (("t"."id" > 1) AND ("t"."id" < 5))))"#),
            "{s}"
        );
    }

    #[test]
    fn ci_like_and_empty_in() {
        let f = Cond::And(vec![
            Cond::Like {
                col: Col::Column("title"),
                pattern: "%Ab%".into(),
                ci: true,
            },
            Cond::In {
                col: Col::Column("id"),
                values: vec![],
                ci: false,
            },
        ]);
        let s = sql(Backend::Postgres, &q(f));
        assert!(
            s.contains(r#"lt_fold("t"."title") LIKE '%ab%' ESCAPE E'\\'"#),
            "{s}"
        );
        assert!(s.contains("1 = 0"), "{s}");
    }

    #[test]
    fn order_adds_id_tie_breaker_and_null_rule() {
        let mut query = q(Cond::True);
        query.order = vec![Order {
            key: OrderKey::Col(Col::Column("title")),
            desc: true,
        }];
        query.offset = 10;
        let s = sql(Backend::Sqlite, &query);
        assert!(s.ends_with(r#"ORDER BY "t"."title" DESC NULLS LAST, "t"."id" ASC LIMIT 9223372036854775807 OFFSET 10"#), "{s}");
        query.order = vec![Order {
            key: OrderKey::Col(Col::Column("id")),
            desc: true,
        }];
        let s = sql(Backend::Postgres, &query);
        assert!(s.contains(r#"ORDER BY "t"."id" DESC LIMIT"#), "{s}");
    }

    #[test]
    fn date_range_ordered_by_id_keeps_postgres_off_the_primary_key() {
        let range = |col: &'static str, op: CmpOp| Cond::Cmp {
            col: Col::Column(col),
            op,
            value: DbValue::Text("2026-01-01T00:00:00+00:00".into()),
            ci: false,
        };
        let week = Cond::And(vec![
            range("date_create", CmpOp::Ge),
            range("date_create", CmpOp::Lt),
        ]);
        let s = sql(Backend::Postgres, &q(week.clone()));
        assert!(s.contains(r#"ORDER BY "t"."id" + 0 ASC"#), "{s}");
        let mut desc = q(range("date_modify", CmpOp::Gt));
        desc.order = vec![Order {
            key: OrderKey::Col(Col::Column("id")),
            desc: true,
        }];
        let s = sql(Backend::Postgres, &desc);
        assert!(s.contains(r#"ORDER BY "t"."id" + 0 DESC"#), "{s}");
        // SQLite picks the date index by itself; other orders and id bounds keep the plain key.
        let s = sql(Backend::Sqlite, &q(week.clone()));
        assert!(s.contains(r#"ORDER BY "t"."id" ASC"#), "{s}");
        let mut by_title = q(week.clone());
        by_title.order = vec![Order {
            key: OrderKey::Col(Col::Column("title")),
            desc: false,
        }];
        let s = sql(Backend::Postgres, &by_title);
        assert!(s.contains(r#""t"."id" ASC"#) && !s.contains("+ 0"), "{s}");
        let bounded = Cond::And(vec![
            range("date_create", CmpOp::Ge),
            Cond::Cmp {
                col: Col::Column("id"),
                op: CmpOp::Gt,
                value: DbValue::Int(100),
                ci: false,
            },
        ]);
        let s = sql(Backend::Postgres, &q(bounded));
        assert!(!s.contains("+ 0"), "{s}");
        let equal = q(Cond::Cmp {
            col: Col::Column("date_create"),
            op: CmpOp::Eq,
            value: DbValue::Text("x".into()),
            ci: false,
        });
        assert!(!sql(Backend::Postgres, &equal).contains("+ 0"));
    }

    #[test]
    fn unknown_column_is_internal() {
        let f = Cond::IsNull(Col::Column("no_such_column"));
        assert!(Compiler::new(Backend::Sqlite, &q(f)).select().is_err());
    }
}
