//! Panic button devices and their pending enrolments (issue 13), in SQLite.
//!
//! Its migration is [`PANIC_DEVICES_SQL`], listed in `schema.rs` as the panic-devices
//! migration (numbered after the ones before it; renumber when merging other migrations,
//! never edit one that shipped). Functions take a connection or transaction so that the
//! API shell can run them inside `SqliteStore`'s writer.
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::location::panic::{Device, Enrolment};
use crate::location::phone::normalize;

use super::{StoreError, Timestamp};

/// Tables for devices and enrolments. Codes and keys are stored as SHA-256 hex only.
pub(super) const PANIC_DEVICES_SQL: &str = "
CREATE TABLE panic_enrolments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    code_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL
);
CREATE TABLE panic_devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE,
    registered_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    pranks INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX panic_devices_phone ON panic_devices (phone);
";

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(column: &'static str, s: &str) -> Result<[u8; 32], StoreError> {
    let corrupt = || StoreError::Corrupt {
        column,
        value: s.chars().take(80).collect(),
    };
    if s.len() != 64 || !s.is_ascii() {
        return Err(corrupt());
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| corrupt())?;
    }
    Ok(out)
}

/// Saves (or updates the attempts of) an enrolment.
pub fn save_enrolment(conn: &Connection, e: &Enrolment) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO panic_enrolments (id, name, phone, code_sha256, created_at, attempts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts",
        params![
            e.id,
            e.name,
            e.phone.as_str(),
            hex(&e.code_sha256),
            e.created_at.as_ms(),
            e.attempts
        ],
    )
    .map(drop)
    .map_err(db)
}

/// The enrolment `id`, if any.
pub fn load_enrolment(conn: &Connection, id: &str) -> Result<Option<Enrolment>, StoreError> {
    let row = conn
        .query_row(
            "SELECT id, name, phone, code_sha256, created_at, attempts FROM panic_enrolments WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, u8>(5)?,
                ))
            },
        )
        .optional()
        .map_err(db)?;
    let Some((id, name, phone, code, created_at, attempts)) = row else {
        return Ok(None);
    };
    Ok(Some(Enrolment {
        id,
        name,
        phone: normalize(&phone).map_err(|_| StoreError::Corrupt {
            column: "panic_enrolments.phone",
            value: phone.clone(),
        })?,
        code_sha256: unhex("panic_enrolments.code_sha256", &code)?,
        created_at: Timestamp::from_ms(created_at),
        attempts,
    }))
}

/// A verified enrolment becomes a device: both in one transaction.
pub fn complete_enrolment(
    conn: &mut Connection,
    enrolment_id: &str,
    device: &Device,
) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(db)?;
    tx.execute("DELETE FROM panic_enrolments WHERE id = ?1", [enrolment_id])
        .map_err(db)?;
    tx.execute(
        "INSERT INTO panic_devices (id, name, phone, key_sha256, registered_at, revoked, pranks)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            device.id,
            device.name,
            device.phone.as_str(),
            hex(&device.key_sha256),
            device.registered_at.as_ms(),
            device.revoked,
            device.pranks
        ],
    )
    .map_err(db)?;
    tx.commit().map_err(db)
}

/// Forgets enrolments begun before `before` (expired codes).
pub fn purge_enrolments(conn: &Connection, before: Timestamp) -> Result<usize, StoreError> {
    conn.execute(
        "DELETE FROM panic_enrolments WHERE created_at < ?1",
        [before.as_ms()],
    )
    .map_err(db)
}

fn device_row(r: &Row<'_>) -> rusqlite::Result<(String, String, String, String, i64, bool, u32)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

/// The device whose key hashes to `key_sha256` (see `registry::key_sha256`).
pub fn device_by_key(
    conn: &Connection,
    key_sha256: &[u8; 32],
) -> Result<Option<Device>, StoreError> {
    let row = conn
        .query_row(
            "SELECT id, name, phone, key_sha256, registered_at, revoked, pranks
             FROM panic_devices WHERE key_sha256 = ?1",
            [hex(key_sha256)],
            device_row,
        )
        .optional()
        .map_err(db)?;
    let Some((id, name, phone, key, registered_at, revoked, pranks)) = row else {
        return Ok(None);
    };
    Ok(Some(Device {
        id,
        name,
        phone: normalize(&phone).map_err(|_| StoreError::Corrupt {
            column: "panic_devices.phone",
            value: phone.clone(),
        })?,
        key_sha256: unhex("panic_devices.key_sha256", &key)?,
        registered_at: Timestamp::from_ms(registered_at),
        revoked,
        pranks,
    }))
}

/// One more alert of the device disposed as a prank. Returns the new count.
pub fn count_prank(conn: &Connection, device_id: &str) -> Result<u32, StoreError> {
    conn.query_row(
        "UPDATE panic_devices SET pranks = pranks + 1 WHERE id = ?1 RETURNING pranks",
        [device_id],
        |r| r.get(0),
    )
    .optional()
    .map_err(db)?
    .ok_or_else(|| StoreError::Backend(format!("unknown panic device {device_id:?}")))
}

/// A supervisor revokes a device (lost phone); its key stops working.
pub fn revoke(conn: &Connection, device_id: &str) -> Result<bool, StoreError> {
    conn.execute(
        "UPDATE panic_devices SET revoked = 1 WHERE id = ?1",
        [device_id],
    )
    .map(|n| n == 1)
    .map_err(db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::panic::registry::{begin, key_sha256};
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn enrol_verify_persist_and_look_up_on_a_real_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = Connection::open(dir.path().join("s.sqlite")).expect("open");
        super::super::schema::schema_up(&mut conn).expect("migrate");
        let mut rng = StdRng::seed_from_u64(1);
        let now = Timestamp::from_ms(1_764_800_000_000);
        let (mut e, code) = begin(now, "Siti", "081234567890", &mut rng).expect("begin");
        save_enrolment(&conn, &e).expect("save");
        assert_eq!(
            load_enrolment(&conn, &e.id).expect("load").as_ref(),
            Some(&e)
        );

        assert!(e.verify(now, "999999x", &mut rng).is_err());
        save_enrolment(&conn, &e).expect("attempts saved");
        let mut back = load_enrolment(&conn, &e.id).expect("load").expect("there");
        assert_eq!(back.attempts, 1);

        let (device, key) = back
            .verify(now, code.expose(), &mut rng)
            .expect("right code");
        complete_enrolment(&mut conn, &e.id, &device).expect("complete");
        assert_eq!(
            load_enrolment(&conn, &e.id).expect("load"),
            None,
            "enrolment consumed"
        );
        let found = device_by_key(&conn, &key_sha256(key.expose()))
            .expect("query")
            .expect("found by key");
        assert_eq!(found, device);
        assert_eq!(
            device_by_key(&conn, &key_sha256("dk_other")).expect("query"),
            None
        );

        for n in 1..=3 {
            assert_eq!(count_prank(&conn, &device.id).expect("count"), n);
        }
        let found = device_by_key(&conn, &key_sha256(key.expose()))
            .expect("q")
            .expect("d");
        assert!(found.flagged());
        assert!(revoke(&conn, &device.id).expect("revoke"));
        assert!(
            device_by_key(&conn, &device.key_sha256)
                .expect("q")
                .expect("d")
                .revoked
        );
        assert!(count_prank(&conn, "nope").is_err());
        assert_eq!(purge_enrolments(&conn, now.plus_ms(1)).expect("purge"), 0);
    }
}
