//! `sentra-server rotate-data-key`: brings every stored wrapped key to the current data key and
//! the current format, so a retired (or leaked) key can be dropped from the configuration.
//!
//! - An identity document sealed in format 1 under an older key gets its data key re-wrapped;
//!   the document itself stays as it is.
//! - An identity document from before the keyring (format 0: bound to its object key only) is
//!   re-encrypted bound to its case, customer and kind, into a new object. The row is switched in
//!   one statement, only if nothing changed it meanwhile, and then the old object is deleted.
//! - A signature's data key is re-wrapped (its binding stays its object key, which the signed
//!   inspection record names).
//!
//! Each row is switched only if its wrapped key is still the one read (a purge or another run
//! meanwhile wins), so the command can be interrupted and run again.

use sentra_domain::IdentityDocument;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    documents::binding,
    vault::{Sealed, Vault, Wrapped},
};
use crate::storage::Storage;

/// What a rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Data keys wrapped again under the current key.
    pub rewrapped: usize,
    /// Documents from before the keyring, encrypted again under their binding.
    pub reencrypted: usize,
    /// Rows that changed while they were being rotated (left for the next run).
    pub skipped: usize,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    case_id: Uuid,
    #[sqlx(try_from = "String")]
    kind: IdentityDocument,
    object_key: String,
    wrapped_key: Vec<u8>,
    key_id: String,
    format: i16,
    customer_id: Uuid,
}

/// Rotates every wrapped key not yet under the current key in the current format; `progress`
/// is told after each row.
pub async fn rotate_data_key(
    db: &PgPool,
    storage: &Storage,
    vault: &Vault,
    progress: &dyn Fn(&Rotation),
) -> anyhow::Result<Rotation> {
    let current = vault.current_key_id();
    let mut done = Rotation::default();
    let documents: Vec<DocumentRow> = sqlx::query_as(
        "SELECT d.case_id, d.kind, d.object_key, d.wrapped_key, d.key_id, d.format, c.customer_id \
         FROM kyc_documents d JOIN kyc_cases c ON c.id = d.case_id \
         WHERE d.wrapped_key IS NOT NULL AND (d.key_id <> $1 OR d.format <> 1)",
    )
    .bind(current)
    .fetch_all(db)
    .await?;
    for row in documents {
        let switched = if row.format == 0 {
            reencrypt(db, storage, vault, &row).await?
        } else {
            rewrap_document(db, vault, &row).await?
        };
        match (switched, row.format) {
            (false, _) => done.skipped += 1,
            (true, 0) => done.reencrypted += 1,
            (true, _) => done.rewrapped += 1,
        }
        progress(&done);
    }
    let signatures: Vec<(Uuid, String, Vec<u8>, String, i16)> = sqlx::query_as(
        "SELECT id, object_key, wrapped_key, key_id, format FROM uploads \
         WHERE wrapped_key IS NOT NULL AND (key_id <> $1 OR format <> 1)",
    )
    .bind(current)
    .fetch_all(db)
    .await?;
    for (id, object_key, wrapped_key, key_id, format) in signatures {
        let wrapped = Wrapped {
            wrapped_key: &wrapped_key,
            key_id: &key_id,
            format,
        };
        let sealed = vault
            .rewrap(&object_key, wrapped)
            .map_err(|e| anyhow::anyhow!("signature upload {id}: {e}"))?;
        let changed = sqlx::query(
            "UPDATE uploads SET wrapped_key = $2, key_id = $3, format = $4 \
             WHERE id = $1 AND wrapped_key = $5",
        )
        .bind(id)
        .bind(&sealed.wrapped_key)
        .bind(&sealed.key_id)
        .bind(sealed.format)
        .bind(&wrapped_key)
        .execute(db)
        .await?
        .rows_affected();
        if changed == 1 {
            done.rewrapped += 1;
        } else {
            done.skipped += 1;
        }
        progress(&done);
    }
    Ok(done)
}

async fn rewrap_document(db: &PgPool, vault: &Vault, row: &DocumentRow) -> anyhow::Result<bool> {
    let bound = binding(row.case_id, row.customer_id, row.kind);
    let sealed = vault
        .rewrap(&bound, wrapped(row))
        .map_err(|e| anyhow::anyhow!("case {} {}: {e}", row.case_id, row.kind))?;
    switch_row(db, row, &row.object_key, &sealed).await
}

async fn reencrypt(
    db: &PgPool,
    storage: &Storage,
    vault: &Vault,
    row: &DocumentRow,
) -> anyhow::Result<bool> {
    let Some(ciphertext) = storage.get(&row.object_key).await? else {
        anyhow::bail!(
            "case {} {}: the object {} is missing",
            row.case_id,
            row.kind,
            row.object_key
        );
    };
    let plain = vault
        .open(&row.object_key, wrapped(row), &ciphertext)
        .map_err(|e| anyhow::anyhow!("case {} {}: {e}", row.case_id, row.kind))?;
    let mut sealed = vault.seal(&binding(row.case_id, row.customer_id, row.kind), &plain)?;
    drop(plain);
    let new_key = format!("{}.v1", row.object_key);
    storage
        .put(&new_key, std::mem::take(&mut sealed.ciphertext))
        .await?;
    let switched = switch_row(db, row, &new_key, &sealed).await?;
    // Whichever object no row points at any more goes.
    let unused = if switched { &row.object_key } else { &new_key };
    storage.delete(unused).await?;
    Ok(switched)
}

/// Points the document's row at `object_key` and the newly sealed key, only if its wrapped key
/// is still the one read (a purge or another run meanwhile wins). Whether it switched.
async fn switch_row(
    db: &PgPool,
    row: &DocumentRow,
    object_key: &str,
    sealed: &Sealed,
) -> anyhow::Result<bool> {
    let changed = sqlx::query(
        "UPDATE kyc_documents SET object_key = $3, wrapped_key = $4, key_id = $5, format = $6 \
         WHERE case_id = $1 AND kind = $2 AND wrapped_key = $7",
    )
    .bind(row.case_id)
    .bind(row.kind.as_str())
    .bind(object_key)
    .bind(&sealed.wrapped_key)
    .bind(&sealed.key_id)
    .bind(sealed.format)
    .bind(&row.wrapped_key)
    .execute(db)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

fn wrapped(row: &DocumentRow) -> Wrapped<'_> {
    Wrapped {
        wrapped_key: &row.wrapped_key,
        key_id: &row.key_id,
        format: row.format,
    }
}
