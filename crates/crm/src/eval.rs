//! In-memory evaluation of the typed query model with SQL's three-valued logic: used for small
//! dictionaries (`crm.status.list`) and by in-memory test stores, so both agree with the SQL store.

use crate::query::{CmpOp, Col, Cond, DbValue};
use std::cmp::Ordering;

/// Read access to one record for `matches`.
pub trait RowAccess {
    /// The value of a column or user field; `Null` when absent.
    fn value(&self, col: &Col) -> DbValue;
    /// The record's multifield values of one type (`PHONE`, ...).
    fn multifield_values(&self, type_id: &str) -> Vec<String>;
    /// The elements of a multiple user field (non-null ones); by default the single value.
    fn values(&self, col: &Col) -> Vec<DbValue> {
        match self.value(col) {
            DbValue::Null => vec![],
            v => vec![v],
        }
    }
}

/// Whether the record satisfies the condition (SQL `WHERE`: unknown counts as no).
pub fn matches(cond: &Cond, row: &impl RowAccess) -> bool {
    eval(cond, row) == Some(true)
}

/// A condition on one value (`v` is the column's value, or one element of a multiple field).
fn eval_value(cond: &Cond, v: &DbValue) -> Option<bool> {
    match cond {
        Cond::Cmp { op, value, ci, .. } => {
            let ord = compare(v, value, *ci)?;
            Some(match op {
                CmpOp::Eq => ord == Ordering::Equal,
                CmpOp::Ne => ord != Ordering::Equal,
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
                CmpOp::Gt => ord == Ordering::Greater,
                CmpOp::Ge => ord != Ordering::Less,
            })
        }
        Cond::In { values, ci, .. } => {
            if v.is_null() {
                return None;
            }
            let mut unknown = false;
            for candidate in values {
                match compare(v, candidate, *ci) {
                    Some(Ordering::Equal) => return Some(true),
                    None => unknown = true,
                    Some(_) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(false)
            }
        }
        Cond::Like { pattern, ci, .. } => match v {
            DbValue::Null => None,
            DbValue::Text(t) => Some(like(t, pattern, *ci)),
            DbValue::Int(i) => Some(like(&i.to_string(), pattern, *ci)),
            DbValue::Real(r) => Some(like(&r.to_string(), pattern, *ci)),
        },
        _ => None,
    }
}

/// `None` is SQL's UNKNOWN (a comparison involving NULL).
fn eval(cond: &Cond, row: &impl RowAccess) -> Option<bool> {
    match cond {
        Cond::True => Some(true),
        Cond::False => Some(false),
        Cond::And(cs) => {
            let mut unknown = false;
            for c in cs {
                match eval(c, row) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(true)
            }
        }
        Cond::Or(cs) => {
            let mut unknown = false;
            for c in cs {
                match eval(c, row) {
                    Some(true) => return Some(true),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(false)
            }
        }
        Cond::Not(c) => eval(c, row).map(|b| !b),
        // A multiple field is "empty" when it has no element; a condition on it holds when some
        // element satisfies it (an EXISTS in SQL: never unknown).
        Cond::IsNull(col) if col.is_multiple() => Some(row.values(col).is_empty()),
        Cond::IsNull(col) => Some(row.value(col).is_null()),
        Cond::Cmp { col, .. } | Cond::In { col, .. } | Cond::Like { col, .. } => {
            if col.is_multiple() {
                Some(
                    row.values(col)
                        .iter()
                        .any(|v| eval_value(cond, v) == Some(true)),
                )
            } else {
                eval_value(cond, &row.value(col))
            }
        }
        Cond::Multifield { type_id, pattern } => Some(
            row.multifield_values(type_id)
                .iter()
                .any(|v| like(v, pattern, true)),
        ),
    }
}

/// Compares two stored values; `None` when either is NULL or they are not comparable.
/// Numbers compare numerically (text that parses as a number too, as SQLite's affinity would).
pub fn compare(a: &DbValue, b: &DbValue, ci: bool) -> Option<Ordering> {
    match (a, b) {
        (DbValue::Null, _) | (_, DbValue::Null) => None,
        (DbValue::Int(x), DbValue::Int(y)) => Some(x.cmp(y)),
        (DbValue::Text(x), DbValue::Text(y)) => {
            if ci {
                Some(x.to_lowercase().cmp(&y.to_lowercase()))
            } else {
                Some(x.cmp(y))
            }
        }
        _ => {
            let x = as_f64(a)?;
            let y = as_f64(b)?;
            x.partial_cmp(&y)
        }
    }
}

fn as_f64(v: &DbValue) -> Option<f64> {
    match v {
        DbValue::Int(i) => Some(*i as f64),
        DbValue::Real(r) => Some(*r),
        DbValue::Text(t) => t.trim().parse().ok(),
        DbValue::Null => None,
    }
}

/// Order for sorting: NULL first (SQLite/PostgreSQL `NULLS FIRST` for ASC as the store emits),
/// then by `compare`.
pub fn sort_cmp(a: &DbValue, b: &DbValue) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => compare(a, b, true).unwrap_or(Ordering::Equal),
    }
}

/// SQL `LIKE` with `%`, `_` and `\` as the escape character.
pub fn like(text: &str, pattern: &str, ci: bool) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = if ci {
        (
            text.to_lowercase().chars().collect(),
            pattern.to_lowercase().chars().collect(),
        )
    } else {
        (text.chars().collect(), pattern.chars().collect())
    };
    enum Tok {
        Lit(char),
        One,
        Any,
    }
    let mut toks = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 < p.len() => {
                toks.push(Tok::Lit(p[i + 1]));
                i += 1;
            }
            '%' => toks.push(Tok::Any),
            '_' => toks.push(Tok::One),
            c => toks.push(Tok::Lit(c)),
        }
        i += 1;
    }
    // Dynamic programming over (token, text position): O(n·m), no backtracking blow-up.
    let mut reach = vec![false; t.len() + 1];
    reach[0] = true;
    for tok in &toks {
        let mut next = vec![false; t.len() + 1];
        match tok {
            Tok::Any => {
                let mut seen = false;
                for j in 0..=t.len() {
                    seen |= reach[j];
                    next[j] = seen;
                }
            }
            Tok::One => next[1..].copy_from_slice(&reach[..t.len()]),
            Tok::Lit(c) => {
                for j in 0..t.len() {
                    next[j + 1] = reach[j] && t[j] == *c;
                }
            }
        }
        reach = next;
    }
    reach[t.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct R(HashMap<&'static str, DbValue>, Vec<String>);

    impl RowAccess for R {
        fn value(&self, col: &Col) -> DbValue {
            match col {
                Col::Column(c) => self.0.get(c).cloned().unwrap_or(DbValue::Null),
                Col::Uf(_) => DbValue::Null,
            }
        }
        fn multifield_values(&self, type_id: &str) -> Vec<String> {
            if type_id == "PHONE" {
                self.1.clone()
            } else {
                vec![]
            }
        }
    }

    fn row() -> R {
        R(
            HashMap::from([
                ("id", DbValue::Int(5)),
                ("title", DbValue::Text("Hello".into())),
                ("company_id", DbValue::Null),
            ]),
            vec!["+15551234".into()],
        )
    }

    fn cmp(col: &'static str, op: CmpOp, value: DbValue) -> Cond {
        Cond::Cmp {
            col: Col::Column(col),
            op,
            value,
            ci: true,
        }
    }

    #[test]
    fn like_handles_wildcards_and_escapes() {
        assert!(like("Hello", "h%", true));
        assert!(!like("Hello", "h%", false));
        assert!(like("Hello", "%ll%", false));
        assert!(like("Hello", "H_llo", false));
        assert!(!like("Hello", "H_lo", false));
        assert!(like("50%", "50\\%", false));
        assert!(!like("500", "50\\%", false));
        assert!(like("a_b", "a\\_b", false));
        assert!(!like("axb", "a\\_b", false));
        assert!(like("", "%", false));
        assert!(like("aaa", "%%a", false));
    }

    #[test]
    fn three_valued_logic() {
        let r = row();
        assert!(matches(&cmp("id", CmpOp::Eq, DbValue::Int(5)), &r));
        assert!(matches(
            &cmp("title", CmpOp::Eq, DbValue::Text("hello".into())),
            &r
        ));
        // NULL <> 3 is unknown, and so is its negation.
        assert!(!matches(&cmp("company_id", CmpOp::Ne, DbValue::Int(3)), &r));
        assert!(!matches(
            &Cond::Not(Box::new(cmp("company_id", CmpOp::Eq, DbValue::Int(3)))),
            &r
        ));
        let ne_or_null = Cond::Or(vec![
            Cond::IsNull(Col::Column("company_id")),
            cmp("company_id", CmpOp::Ne, DbValue::Int(3)),
        ]);
        assert!(matches(&ne_or_null, &r));
        assert!(matches(
            &Cond::Multifield {
                type_id: "PHONE".into(),
                pattern: "+1555%".into()
            },
            &r
        ));
        assert!(!matches(
            &Cond::Multifield {
                type_id: "EMAIL".into(),
                pattern: "%".into()
            },
            &r
        ));
        assert!(matches(
            &Cond::In {
                col: Col::Column("id"),
                values: vec![DbValue::Int(1), DbValue::Int(5)],
                ci: false
            },
            &r
        ));
        assert!(!matches(
            &Cond::In {
                col: Col::Column("id"),
                values: vec![],
                ci: false
            },
            &r
        ));
    }
}
