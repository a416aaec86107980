//! Who is calling and what they may do: users with a role that grants read/add/update/delete
//! per entity type at a level (none, own, all). Administrators may do everything.

use crate::entity::EntityKind;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    None,
    /// Only records whose `ASSIGNED_BY_ID` is the user.
    Own,
    All,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "n" | "-" => Some(Level::None),
            "own" | "o" | "a" => Some(Level::Own),
            "all" | "x" | "*" => Some(Level::All),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Own => "own",
            Level::All => "all",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Read,
    Add,
    Update,
    Delete,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Read, Action::Add, Action::Update, Action::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Add => "add",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }
}

/// Rights of a role: a level per (entity type, action); anything not listed is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights {
    pub admin: bool,
    pub levels: BTreeMap<(EntityKind, Action), Level>,
}

impl Rights {
    pub fn admin() -> Self {
        Rights {
            admin: true,
            levels: BTreeMap::new(),
        }
    }

    pub fn level(&self, kind: EntityKind, action: Action) -> Level {
        if self.admin {
            return Level::All;
        }
        self.levels
            .get(&(kind, action))
            .copied()
            .unwrap_or(Level::None)
    }

    /// Parses the CLI/storage form: `lead=read:own,add:all,update:own,delete:none;deal=read:all`.
    pub fn parse(spec: &str) -> Result<Rights, String> {
        let mut rights = Rights::default();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (entity, grants) = part
                .split_once('=')
                .ok_or_else(|| format!("expected ENTITY=action:level,... in '{part}'"))?;
            let kind = EntityKind::from_method_name(entity.trim())
                .ok_or_else(|| format!("unknown entity type '{entity}'"))?;
            for grant in grants.split(',').map(str::trim).filter(|g| !g.is_empty()) {
                let (action, level) = grant
                    .split_once(':')
                    .ok_or_else(|| format!("expected action:level in '{grant}'"))?;
                let action = Action::parse(action.trim())
                    .ok_or_else(|| format!("unknown action '{action}'"))?;
                let level =
                    Level::parse(level.trim()).ok_or_else(|| format!("unknown level '{level}'"))?;
                rights.levels.insert((kind, action), level);
            }
        }
        Ok(rights)
    }

    /// The inverse of `parse`.
    pub fn to_spec(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        for kind in EntityKind::ALL {
            let grants: Vec<String> = Action::ALL
                .iter()
                .filter_map(|a| {
                    self.levels
                        .get(&(kind, *a))
                        .map(|l| format!("{}:{}", a.as_str(), l.as_str()))
                })
                .collect();
            if !grants.is_empty() {
                out.push(format!("{}={}", kind.method_name(), grants.join(",")));
            }
        }
        out.join(";")
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub portal_id: i64,
    pub user_id: i64,
    pub rights: Rights,
}

impl Actor {
    pub fn level(&self, kind: EntityKind, action: Action) -> Level {
        self.rights.level(kind, action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_round_trip() {
        let r = Rights::parse("lead=read:own,add:all,update:own,delete:none").unwrap();
        assert_eq!(r.level(EntityKind::Lead, Action::Read), Level::Own);
        assert_eq!(r.level(EntityKind::Lead, Action::Add), Level::All);
        assert_eq!(r.level(EntityKind::Deal, Action::Read), Level::None);
        assert_eq!(Rights::parse(&r.to_spec()).unwrap(), r);
        assert!(Rights::parse("lead=read:maybe").is_err());
    }
}
