//! Sessions: what one login starts. Its refresh tokens form one family and every access token
//! issued to it names it (`sid`). Each authenticated request looks the session up, so an access
//! token stops working the moment its session ends, and the caller's role and branches come from
//! the account as it is now, not from the claims signed up to 15 minutes ago.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Principal, Role, SubjectKind};

/// Why sessions ended (stored, for the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBecause {
    /// The user logged out.
    Logout,
    /// The password changed: every session of the account ends.
    PasswordChanged,
    /// A refresh token that had been exchanged already came back: somebody holds a copy.
    RefreshTokenReused,
    /// The customer's account was erased.
    AccountErased,
}

impl EndedBecause {
    fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::PasswordChanged => "password_changed",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::AccountErased => "account_erased",
        }
    }
}

/// Records a new session of `subject`.
pub(super) async fn start(db: &PgPool, kind: SubjectKind, subject: Uuid) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO auth_sessions (id, subject_kind, subject_id) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(kind.as_str())
        .bind(subject)
        .execute(db)
        .await?;
    Ok(id)
}

/// Ends one session and revokes its refresh tokens.
pub(super) async fn end(
    conn: &mut PgConnection,
    session: Uuid,
    because: EndedBecause,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_because = $2 \
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session)
    .bind(because.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(session)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends every session of an account and revokes all its refresh tokens.
pub(crate) async fn end_all(
    conn: &mut PgConnection,
    kind: SubjectKind,
    subject: Uuid,
    because: EndedBecause,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_because = $3 \
         WHERE subject_kind = $1 AND subject_id = $2 AND revoked_at IS NULL",
    )
    .bind(kind.as_str())
    .bind(subject)
    .bind(because.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() \
         WHERE subject_kind = $1 AND subject_id = $2 AND revoked_at IS NULL",
    )
    .bind(kind.as_str())
    .bind(subject)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The caller behind a live session, as the account is now: `None` when the session ended, the
/// staff account was disabled, or the token's subject does not own the session.
pub(super) async fn caller(
    db: &PgPool,
    session: Uuid,
    kind: SubjectKind,
    subject: Uuid,
) -> sqlx::Result<Option<Principal>> {
    let row: Option<(String, Vec<Uuid>)> = match kind {
        SubjectKind::Staff => {
            sqlx::query_as(
                "SELECT u.role, ARRAY(SELECT branch_id FROM user_branches \
                                      WHERE user_id = u.id ORDER BY branch_id) \
                 FROM auth_sessions s JOIN users u ON u.id = s.subject_id \
                 WHERE s.id = $1 AND s.subject_kind = 'staff' AND s.subject_id = $2 \
                   AND s.revoked_at IS NULL AND u.disabled_at IS NULL",
            )
            .bind(session)
            .bind(subject)
            .fetch_optional(db)
            .await?
        }
        SubjectKind::Customer => {
            sqlx::query_as(
                "SELECT 'customer', '{}'::uuid[] FROM auth_sessions s \
                 WHERE s.id = $1 AND s.subject_kind = 'customer' AND s.subject_id = $2 \
                   AND s.revoked_at IS NULL",
            )
            .bind(session)
            .bind(subject)
            .fetch_optional(db)
            .await?
        }
    };
    Ok(row.and_then(|(role, branches)| {
        Some(Principal {
            id: subject,
            kind,
            role: Role::parse(&role)?,
            branches,
        })
    }))
}
