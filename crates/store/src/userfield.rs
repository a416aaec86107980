//! User-field storage for `Tx` (called from its `crm::Storage` impl): definitions with their
//! enumeration options, removing a deleted field's values from the entity table, file metadata.

use crate::tx::{val, Tx};
use crate::Backend;
use bx_wire::ApiError;
use crm::userfield::{UserField, UserType};
use crm::{DbValue, EntityKind, EnumItem};
use sea_query::Value;
use serde_json::{Map, Value as Json};

const FIELD_COLUMNS: &str = "id, entity_id, field_name, user_type_id, xml_id, sort, multiple, \
     mandatory, show_filter, show_in_list, edit_in_list, is_searchable";

fn bad_row(what: &str, detail: &str) -> ApiError {
    tracing::error!(what, detail, "stored user field is unreadable");
    ApiError::Internal
}

fn json_object(v: &DbValue, what: &str) -> Result<Map<String, Json>, ApiError> {
    match serde_json::from_str::<Json>(&val::text(v)) {
        Ok(Json::Object(m)) => Ok(m),
        _ => Err(bad_row(what, &val::text(v))),
    }
}

impl Tx {
    pub(crate) async fn uf_list(
        &mut self,
        portal_id: i64,
        entity_id: Option<&str>,
    ) -> Result<Vec<UserField>, ApiError> {
        let mut sql = format!(
            "SELECT {FIELD_COLUMNS}, settings, labels FROM crm_user_field WHERE portal_id = ?"
        );
        let mut args: Vec<Value> = vec![portal_id.into()];
        if let Some(e) = entity_id {
            sql.push_str(" AND entity_id = ?");
            args.push(e.into());
        }
        sql.push_str(" ORDER BY sort, id");
        let rows = self.fetch_sql(&sql, args.clone()).await?;
        let mut fields = Vec::with_capacity(rows.len());
        for r in &rows {
            let type_id = val::text(&r[3]);
            let user_type =
                UserType::parse(&type_id).ok_or_else(|| bad_row("user_type_id", &type_id))?;
            let mut uf = UserField::new(&val::text(&r[1]), &val::text(&r[2]), user_type);
            uf.id = val::int(&r[0]);
            uf.xml_id = val::opt_text(&r[4]);
            uf.sort = val::int(&r[5]);
            uf.multiple = val::flag(&r[6]);
            uf.mandatory = val::flag(&r[7]);
            uf.show_filter = val::text(&r[8]);
            uf.show_in_list = val::flag(&r[9]);
            uf.edit_in_list = val::flag(&r[10]);
            uf.is_searchable = val::flag(&r[11]);
            uf.settings = json_object(&r[12], "settings")?;
            uf.set_labels_json(&Json::Object(json_object(&r[13], "labels")?));
            fields.push(uf);
        }
        if fields.iter().any(|f| f.user_type == UserType::Enumeration) {
            let mut sql = String::from(
                "SELECT e.id, e.field_id, e.value, e.sort, e.def, e.xml_id FROM crm_user_field_enum e \
                 JOIN crm_user_field f ON f.portal_id = e.portal_id AND f.id = e.field_id \
                 WHERE e.portal_id = ?",
            );
            if entity_id.is_some() {
                sql.push_str(" AND f.entity_id = ?");
            }
            sql.push_str(" ORDER BY e.sort, e.id");
            for r in self.fetch_sql(&sql, args).await? {
                let field_id = val::int(&r[1]);
                if let Some(uf) = fields.iter_mut().find(|f| f.id == field_id) {
                    uf.items.push(EnumItem {
                        id: val::int(&r[0]),
                        value: val::text(&r[2]),
                        sort: val::int(&r[3]),
                        def: val::flag(&r[4]),
                        xml_id: val::text(&r[5]),
                    });
                }
            }
        }
        Ok(fields)
    }

    async fn uf_insert_item(
        &mut self,
        portal_id: i64,
        field_id: i64,
        item: &EnumItem,
    ) -> Result<(), ApiError> {
        self.exec_sql(
            "INSERT INTO crm_user_field_enum (portal_id, field_id, value, sort, def, xml_id) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                portal_id.into(),
                field_id.into(),
                item.value.as_str().into(),
                item.sort.into(),
                item.def.into(),
                item.xml_id.as_str().into(),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn uf_insert(
        &mut self,
        portal_id: i64,
        uf: &UserField,
    ) -> Result<i64, ApiError> {
        let rows = self
            .fetch_sql(
                "INSERT INTO crm_user_field (portal_id, entity_id, field_name, user_type_id, xml_id, sort, \
                 multiple, mandatory, show_filter, show_in_list, edit_in_list, is_searchable, settings, labels) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    uf.entity_id.as_str().into(),
                    uf.field_name.as_str().into(),
                    uf.user_type.id().into(),
                    uf.xml_id.clone().into(),
                    uf.sort.into(),
                    uf.multiple.into(),
                    uf.mandatory.into(),
                    uf.show_filter.as_str().into(),
                    uf.show_in_list.into(),
                    uf.edit_in_list.into(),
                    uf.is_searchable.into(),
                    Json::Object(uf.settings.clone()).to_string().into(),
                    uf.labels_json().to_string().into(),
                ],
            )
            .await?;
        let id = rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .unwrap_or_default();
        for item in &uf.items {
            self.uf_insert_item(portal_id, id, item).await?;
        }
        Ok(id)
    }

    pub(crate) async fn uf_update(
        &mut self,
        portal_id: i64,
        uf: &UserField,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "UPDATE crm_user_field SET xml_id = ?, sort = ?, mandatory = ?, show_filter = ?, \
                 show_in_list = ?, edit_in_list = ?, is_searchable = ?, settings = ?, labels = ? \
                 WHERE portal_id = ? AND id = ?",
                vec![
                    uf.xml_id.clone().into(),
                    uf.sort.into(),
                    uf.mandatory.into(),
                    uf.show_filter.as_str().into(),
                    uf.show_in_list.into(),
                    uf.edit_in_list.into(),
                    uf.is_searchable.into(),
                    Json::Object(uf.settings.clone()).to_string().into(),
                    uf.labels_json().to_string().into(),
                    portal_id.into(),
                    uf.id.into(),
                ],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        let stored: Vec<i64> = self
            .fetch_sql(
                "SELECT id FROM crm_user_field_enum WHERE portal_id = ? AND field_id = ?",
                vec![portal_id.into(), uf.id.into()],
            )
            .await?
            .iter()
            .map(|r| val::int(&r[0]))
            .collect();
        for id in stored
            .iter()
            .filter(|id| !uf.items.iter().any(|i| i.id == **id))
        {
            self.exec_sql(
                "DELETE FROM crm_user_field_enum WHERE portal_id = ? AND id = ?",
                vec![portal_id.into(), (*id).into()],
            )
            .await?;
        }
        for item in &uf.items {
            if item.id > 0 && stored.contains(&item.id) {
                self.exec_sql(
                    "UPDATE crm_user_field_enum SET value = ?, sort = ?, def = ?, xml_id = ? \
                     WHERE portal_id = ? AND field_id = ? AND id = ?",
                    vec![
                        item.value.as_str().into(),
                        item.sort.into(),
                        item.def.into(),
                        item.xml_id.as_str().into(),
                        portal_id.into(),
                        uf.id.into(),
                        item.id.into(),
                    ],
                )
                .await?;
            } else if item.id == 0 {
                self.uf_insert_item(portal_id, uf.id, item).await?;
            }
        }
        Ok(true)
    }

    pub(crate) async fn uf_delete(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.exec_sql(
            "DELETE FROM crm_user_field_enum WHERE portal_id = ? AND field_id = ?",
            vec![portal_id.into(), id.into()],
        )
        .await?;
        let n = self
            .exec_sql(
                "DELETE FROM crm_user_field WHERE portal_id = ? AND id = ?",
                vec![portal_id.into(), id.into()],
            )
            .await?;
        Ok(n > 0)
    }

    pub(crate) async fn uf_remove_values(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        field_name: &str,
    ) -> Result<(), ApiError> {
        let table = kind.table();
        match self.backend() {
            Backend::Postgres => {
                self.exec_sql(
                    // `(uf -> key) IS NOT NULL` rather than the `?` operator, which the `?`
                    // placeholders of hand-written SQL would take for a parameter.
                    &format!(
                        "UPDATE {table} SET uf = uf - ? WHERE portal_id = ? AND (uf -> ?) IS NOT NULL"
                    ),
                    vec![field_name.into(), portal_id.into(), field_name.into()],
                )
                .await?;
            }
            Backend::Sqlite => {
                // Names are `UF_CRM_[A-Z0-9_]+` (checked when defined), so the quoted path is exact.
                let path = format!("$.\"{field_name}\"");
                self.exec_sql(
                    &format!(
                        "UPDATE {table} SET uf = json_remove(uf, ?) \
                         WHERE portal_id = ? AND json_type(uf, ?) IS NOT NULL"
                    ),
                    vec![path.as_str().into(), portal_id.into(), path.as_str().into()],
                )
                .await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn file_insert(
        &mut self,
        portal_id: i64,
        name: &str,
        size: i64,
    ) -> Result<i64, ApiError> {
        let rows = self
            .fetch_sql(
                "INSERT INTO crm_file (portal_id, name, size, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    name.into(),
                    size.into(),
                    chrono::Utc::now().timestamp().into(),
                ],
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .unwrap_or_default())
    }
}
