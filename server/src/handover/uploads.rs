//! Photos and signature images for inspection records.
//!
//! Through the server, a photo is streamed into object storage part by part (never whole in
//! memory), hashed on the way, and recorded as COMPLETE only once all of it is stored; a body
//! cut short or over the limit aborts the upload, so nothing half-written is ever referred to.
//! A signature is small: it is read whole, encrypted like a KTP image, then stored.
//!
//! With S3, a photo can also go straight to the bucket: the client asks for a presigned URL
//! (declaring the size and SHA-256), puts the bytes under a staging key, and asks to complete;
//! the server checks the size, reads the object back, and only if it matches what was declared
//! copies it to the key records refer to (which no URL can write) and removes the staging copy.

use chrono::{DateTime, Utc};
use sentra_protocol::{PresignRequest, PresignedUpload, Upload, UploadPurpose};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{HandoverError, Handovers, records::hex};

/// Largest photo accepted.
pub const MAX_PHOTO_BYTES: u64 = 10 * 1024 * 1024;
/// Largest signature image accepted.
pub const MAX_SIGNATURE_BYTES: u64 = 512 * 1024;
/// How long a presigned URL stays valid.
const PRESIGN_VALID: std::time::Duration = std::time::Duration::from_mins(15);

/// The accepted image type of these first bytes, read from the bytes (not from what the client
/// says they are).
pub fn sniff(first: &[u8]) -> Option<&'static str> {
    if first.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if first.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if first.len() >= 12 && &first[..4] == b"RIFF" && &first[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Where a presigned upload's bytes land before they are checked.
fn staging_key(key: &str) -> String {
    format!("staging/{key}")
}

/// The limit for a purpose.
pub fn limit(purpose: UploadPurpose) -> u64 {
    match purpose {
        UploadPurpose::Photo => MAX_PHOTO_BYTES,
        UploadPurpose::Signature => MAX_SIGNATURE_BYTES,
    }
}

fn purpose_name(purpose: UploadPurpose) -> &'static str {
    match purpose {
        UploadPurpose::Photo => "PHOTO",
        UploadPurpose::Signature => "SIGNATURE",
    }
}

/// A file arriving in chunks (a multipart field).
pub trait Chunks {
    /// The next chunk, `None` at the end; an error when the body broke off.
    fn next_chunk(
        &mut self,
    ) -> impl Future<Output = Result<Option<bytes::Bytes>, HandoverError>> + Send;
}

impl Handovers {
    /// Stores one file for `branch`, streamed from `body`.
    pub async fn upload(
        &self,
        uploader: Uuid,
        branch: Uuid,
        purpose: UploadPurpose,
        body: &mut impl Chunks,
    ) -> Result<Upload, HandoverError> {
        let id = Uuid::now_v7();
        let key = format!("handover/{branch}/{id}");
        let max = limit(purpose);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head: Vec<u8> = Vec::new();
        let mut content_type = None;
        // Photos go out part by part; signatures are kept (small) to be encrypted whole.
        let mut writer = None;
        let mut whole = Vec::new();
        while let Some(chunk) = body.next_chunk().await? {
            size += chunk.len() as u64;
            if size > max {
                if let Some(w) = writer.take() {
                    crate::storage::ObjectWriter::abort(w).await;
                }
                return Err(HandoverError::TooLarge { limit: max });
            }
            hasher.update(&chunk);
            if content_type.is_none() {
                head.extend_from_slice(&chunk[..chunk.len().min(16 - head.len().min(16))]);
                if head.len() >= 12 {
                    content_type = Some(sniff(&head).ok_or_else(|| {
                        HandoverError::MediaType("send a JPEG, PNG or WebP image".to_owned())
                    })?);
                }
            }
            match purpose {
                UploadPurpose::Signature => whole.extend_from_slice(&chunk),
                UploadPurpose::Photo => {
                    if writer.is_none() {
                        writer = Some(self.storage.writer(&key).await?);
                    }
                    if let Some(w) = writer.as_mut() {
                        w.write(&chunk).await?;
                    }
                }
            }
        }
        let content_type = match content_type.or_else(|| sniff(&head)) {
            Some(t) if size > 0 => t,
            _ => {
                if let Some(w) = writer.take() {
                    crate::storage::ObjectWriter::abort(w).await;
                }
                return Err(HandoverError::MediaType(
                    "the file is empty or not a JPEG, PNG or WebP image".to_owned(),
                ));
            }
        };
        let sha256 = hex(&hasher.finalize());
        let mut wrapped = None;
        match purpose {
            UploadPurpose::Photo => {
                if let Some(w) = writer.take() {
                    w.finish().await?;
                }
            }
            UploadPurpose::Signature => {
                // Bound to its object key, which the inspection record it joins signs.
                let sealed = self.vault.seal(&key, &whole)?;
                self.storage.put(&key, sealed.ciphertext).await?;
                wrapped = Some((sealed.wrapped_key, sealed.key_id, sealed.format));
            }
        }
        let inserted = sqlx::query(
            "INSERT INTO uploads (id, branch_id, purpose, object_key, content_type, status, sha256, \
               size_bytes, wrapped_key, key_id, format, uploaded_by, completed_at) \
             VALUES ($1, $2, $3, $4, $5, 'COMPLETE', $6, $7, $8, $9, coalesce($10, 0), $11, now())",
        )
        .bind(id)
        .bind(branch)
        .bind(purpose_name(purpose))
        .bind(&key)
        .bind(content_type)
        .bind(&sha256)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(wrapped.as_ref().map(|w| &w.0))
        .bind(wrapped.as_ref().map(|w| &w.1))
        .bind(wrapped.as_ref().map(|w| w.2))
        .bind(uploader)
        .execute(&self.db)
        .await;
        if let Err(e) = inserted {
            // Not recorded: the object must not linger unreferenced.
            let _ = self.storage.delete(&key).await;
            return Err(e.into());
        }
        tracing::info!(upload = %id, purpose = purpose_name(purpose), size, "file stored");
        Ok(Upload {
            id,
            purpose,
            content_type: content_type.to_owned(),
            status: "COMPLETE".to_owned(),
            size_bytes: Some(size),
            sha256: Some(sha256),
        })
    }

    /// A presigned URL to put a photo straight into S3.
    pub async fn presign(
        &self,
        uploader: Uuid,
        branch: Uuid,
        request: &PresignRequest,
    ) -> Result<PresignedUpload, HandoverError> {
        let mut problems = Vec::new();
        if !["image/jpeg", "image/png", "image/webp"].contains(&request.content_type.as_str()) {
            problems.push("content_type: image/jpeg, image/png or image/webp");
        }
        if request.size_bytes == 0 || request.size_bytes > MAX_PHOTO_BYTES {
            problems.push("size_bytes: 1 byte to 10 MiB");
        }
        let sha_ok = request.sha256.len() == 64
            && request
                .sha256
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !sha_ok {
            problems.push("sha256: 64 lowercase hex digits");
        }
        if !problems.is_empty() {
            return Err(HandoverError::Invalid(problems.join("; ")));
        }
        let id = Uuid::now_v7();
        let key = format!("handover/{branch}/{id}");
        let Some(url) = self
            .storage
            .presigned_put(&staging_key(&key), PRESIGN_VALID)
            .await?
        else {
            return Err(HandoverError::Unsupported(
                "files are stored by this server, not in S3: upload through POST /api/v1/uploads",
            ));
        };
        let expires_at: DateTime<Utc> =
            Utc::now() + chrono::Duration::from_std(PRESIGN_VALID).unwrap_or_default();
        sqlx::query(
            "INSERT INTO uploads (id, branch_id, purpose, object_key, content_type, status, \
               declared_sha256, declared_size, uploaded_by) \
             VALUES ($1, $2, 'PHOTO', $3, $4, 'PENDING', $5, $6, $7)",
        )
        .bind(id)
        .bind(branch)
        .bind(&key)
        .bind(&request.content_type)
        .bind(&request.sha256)
        .bind(i64::try_from(request.size_bytes).unwrap_or(i64::MAX))
        .bind(uploader)
        .execute(&self.db)
        .await?;
        Ok(PresignedUpload {
            upload: Upload {
                id,
                purpose: UploadPurpose::Photo,
                content_type: request.content_type.clone(),
                status: "PENDING".to_owned(),
                size_bytes: None,
                sha256: None,
            },
            url,
            method: "PUT".to_owned(),
            expires_at,
        })
    }

    /// Checks a presigned upload's bytes against what was declared and completes it.
    pub async fn complete_upload(
        &self,
        branches: &[Uuid],
        any_branch: bool,
        id: Uuid,
    ) -> Result<Upload, HandoverError> {
        type Pending = (
            Uuid,
            String,
            String,
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<i64>,
        );
        let row: Option<Pending> = sqlx::query_as(
            "SELECT branch_id, object_key, content_type, status, declared_sha256, declared_size, \
                    sha256, size_bytes FROM uploads WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db)
        .await?;
        let Some((branch, key, content_type, status, declared_sha, declared_size, sha, size)) = row
        else {
            return Err(HandoverError::NotFound("Upload"));
        };
        if !any_branch && !branches.contains(&branch) {
            return Err(HandoverError::NotFound("Upload"));
        }
        let done = |sha256: Option<String>, size: Option<i64>| Upload {
            id,
            purpose: UploadPurpose::Photo,
            content_type: content_type.clone(),
            status: "COMPLETE".to_owned(),
            size_bytes: size.and_then(|s| u64::try_from(s).ok()),
            sha256,
        };
        if status == "COMPLETE" {
            return Ok(done(sha, size));
        }
        // The staging copy, or (completion interrupted after the copy) the final one.
        let staging = staging_key(&key);
        let (source, stored_size) = match self.storage.size(&staging).await? {
            Some(size) => (staging.clone(), size),
            None => match self.storage.size(&key).await? {
                Some(size) => (key.clone(), size),
                None => {
                    return Err(HandoverError::Upload(
                        "nothing was put at the presigned URL yet".to_owned(),
                    ));
                }
            },
        };
        let size_ok = declared_size.and_then(|s| u64::try_from(s).ok()) == Some(stored_size);
        let mut hasher = Sha256::new();
        let mut head = Vec::new();
        if size_ok {
            self.storage
                .read_each(&source, |chunk| {
                    if head.len() < 16 {
                        head.extend_from_slice(&chunk[..chunk.len().min(16 - head.len())]);
                    }
                    hasher.update(chunk);
                })
                .await?;
        }
        let sha256 = hex(&hasher.finalize());
        let type_ok = sniff(&head) == Some(content_type.as_str());
        if !size_ok || declared_sha.as_deref() != Some(sha256.as_str()) || !type_ok {
            // The bytes are not what was declared: they go, and the upload stays pending (the
            // client may put the right bytes and complete again).
            self.storage.delete(&source).await?;
            return Err(HandoverError::Checksum(
                "the stored object does not match the declared SHA-256, size or type; put the file again"
                    .to_owned(),
            ));
        }
        if source == staging {
            self.storage.copy(&staging, &key).await?;
            self.storage.delete(&staging).await?;
        }
        sqlx::query(
            "UPDATE uploads SET status = 'COMPLETE', sha256 = $2, size_bytes = $3, completed_at = now() \
             WHERE id = $1 AND status = 'PENDING'",
        )
        .bind(id)
        .bind(&sha256)
        .bind(i64::try_from(stored_size).unwrap_or(i64::MAX))
        .execute(&self.db)
        .await?;
        Ok(done(Some(sha256), i64::try_from(stored_size).ok()))
    }
}

impl Handovers {
    /// Forgets presigned uploads never completed within [`PENDING_KEPT`] (their URL expired long
    /// ago): the row and any bytes put under the staging key. Answers how many went.
    pub async fn sweep_pending_uploads(&self) -> Result<usize, HandoverError> {
        let stale: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT id, object_key FROM uploads WHERE status = 'PENDING' AND created_at < now() - $1::interval \
             ORDER BY created_at LIMIT 500",
        )
        .bind(format!("{} seconds", PENDING_KEPT.as_secs()))
        .fetch_all(&self.db)
        .await?;
        for (id, key) in &stale {
            self.storage.delete(&staging_key(key)).await?;
            sqlx::query("DELETE FROM uploads WHERE id = $1 AND status = 'PENDING'")
                .bind(id)
                .execute(&self.db)
                .await?;
        }
        Ok(stale.len())
    }
}

/// How long an uncompleted presigned upload is kept.
pub const PENDING_KEPT: std::time::Duration = std::time::Duration::from_hours(1);
