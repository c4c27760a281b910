//! The local schema, versioned with SQLite's `user_version`: each step runs once, in order, in
//! one transaction with the version bump.

use rusqlite::Connection;

/// Schema steps; the index + 1 is the version after the step.
const STEPS: &[&str] = &[
    // 1: the branch's records (the JSON body is what the server sent) and the sync cursor.
    "CREATE TABLE skus (id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
     CREATE TABLE assets (id TEXT PRIMARY KEY, plate_key TEXT NOT NULL, status TEXT NOT NULL,
                          body TEXT NOT NULL);
     CREATE INDEX assets_plate ON assets (plate_key);
     CREATE TABLE bookings (id TEXT PRIMARY KEY, asset_id TEXT NOT NULL, start_date TEXT NOT NULL,
                            end_date TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL);
     CREATE INDEX bookings_start ON bookings (start_date);
     CREATE INDEX bookings_end ON bookings (end_date);
     CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 2: the outbox (what staff did on this PC, waiting to be pushed, each with its operation id)
    //    and the answers the user must look at (conflicts and rejections).
    "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, op_id TEXT NOT NULL UNIQUE,
                          action TEXT NOT NULL, created_at TEXT NOT NULL,
                          attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
     CREATE TABLE conflicts (op_id TEXT PRIMARY KEY, action TEXT NOT NULL, result TEXT NOT NULL,
                             received_at TEXT NOT NULL);",
    // 3: the branch's handover records, printed documents and work orders, as the server sent
    //    them (inspections never change; documents neither; work orders close).
    "CREATE TABLE handover_records (entity TEXT NOT NULL, id TEXT NOT NULL, booking_id TEXT,
                                    asset_id TEXT, body TEXT NOT NULL, PRIMARY KEY (entity, id));
     CREATE INDEX handover_records_booking ON handover_records (booking_id);
     CREATE INDEX handover_records_asset ON handover_records (asset_id);",
];

/// Brings the schema of `conn` up to date.
pub(super) fn run(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (version, step) in (1_i64..).zip(STEPS) {
        if version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}
