//! `lt_fold(text)`: the Unicode lower-casing that case-insensitive filters compare through, the
//! same on both backends (spec decision C5; Cyrillic names must match whatever their case).
//!
//! SQLite's own `lower()` folds ASCII only, and PostgreSQL's folds by the column's collation ("C"
//! here, so ASCII only). PostgreSQL gets `lt_fold` from the first migration (ICU's root locale);
//! SQLite gets it registered on every connection from Rust's `str::to_lowercase`, which follows
//! the same Unicode default case mapping. Rust folds the bound values, so both sides agree.

use libsqlite3_sys as ffi;
use sqlx::sqlite::SqliteConnection;
use std::os::raw::{c_char, c_int};

/// The SQL function name, as used by the query compiler and the expression indexes.
pub const FUNCTION: &str = "lt_fold";

/// Folds a value the way `lt_fold` folds a column.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Registers `lt_fold` on a SQLite connection; must run before any statement that uses it,
/// including the migrations that create the indexes.
pub async fn register(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is a live connection handle locked for our exclusive use; the name is a static
    // NUL-terminated string; the callback only reads its argument and sets a transient result.
    let rc = unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            c"lt_fold".as_ptr(),
            1,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
            std::ptr::null_mut(),
            Some(lt_fold),
            None,
            None,
            None,
        )
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!(
            "cannot register lt_fold (SQLite code {rc})"
        )))
    }
}

unsafe extern "C" fn lt_fold(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    if argc != 1 {
        ffi::sqlite3_result_null(ctx);
        return;
    }
    let value = *argv;
    if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
        ffi::sqlite3_result_null(ctx);
        return;
    }
    // sqlite3_value_text converts numbers to their text, as lower() does.
    let text = ffi::sqlite3_value_text(value);
    let len = ffi::sqlite3_value_bytes(value);
    if text.is_null() || len <= 0 {
        ffi::sqlite3_result_text(ctx, c"".as_ptr(), 0, ffi::SQLITE_TRANSIENT());
        return;
    }
    let bytes = std::slice::from_raw_parts(text, len as usize);
    let folded = fold(&String::from_utf8_lossy(bytes));
    ffi::sqlite3_result_text(
        ctx,
        folded.as_ptr() as *const c_char,
        folded.len() as c_int,
        ffi::SQLITE_TRANSIENT(),
    );
}
