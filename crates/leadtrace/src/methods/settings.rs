//! `crm.settings.mode.get`: the portal's CRM mode, 1 classic or 2 simple (`crm.enum.settings.mode`).

use crate::registry::{Registry, Scope};
use crm::simple_mode::CrmMode;
use serde_json::Value;

pub fn register(r: &mut Registry) {
    r.add("crm.settings.mode.get", Scope::Crm, |call| {
        Box::pin(async move { Ok(Value::from(crm_mode(&call.caller.portal.crm_mode)).into()) })
    });
}

/// The portal's `crm_mode` setting as its `crm.enum.settings.mode` id (`simple` or `2` is 2;
/// anything else, the default `classic`, is 1): the same reading the lead methods act on.
pub fn crm_mode(setting: &str) -> i64 {
    CrmMode::of(setting).code()
}

#[cfg(test)]
mod tests {
    #[test]
    fn modes() {
        assert_eq!(super::crm_mode("classic"), 1);
        assert_eq!(super::crm_mode("Simple"), 2);
        assert_eq!(super::crm_mode("2"), 2);
        assert_eq!(super::crm_mode(""), 1);
    }
}
