//! Logins, token issuing and rotation, logout and password changes.

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    Role, SubjectKind, jwt, password,
    principal::{Claims, Principal},
    session::{self, EndedBecause},
    throttle,
};

/// Token lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    /// Access token lifetime (each request also checks the token's session, so it ends with it).
    pub access_ttl: Duration,
    /// Refresh token lifetime.
    pub refresh_ttl: Duration,
}

/// A freshly issued pair.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub principal: Principal,
}

/// Why an auth action failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong login or password (deliberately not saying which).
    #[error("wrong login or password")]
    BadCredentials,
    /// Too many failures for this account or address.
    #[error("too many failed logins")]
    Throttled { retry_after: Duration },
    /// The refresh token is unknown, expired, revoked or was already used.
    #[error("the refresh token is not valid")]
    BadRefreshToken,
    /// The access token is not valid, or its session ended.
    #[error("the access token is not valid or its session ended")]
    NotSignedIn,
    /// The new password is too short.
    #[error("the new password must have at least {0} characters")]
    WeakPassword(usize),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Debug)]
struct Inner {
    db: PgPool,
    secret: SecretString,
    settings: AuthSettings,
    /// Verified against when a login does not exist, so timing does not reveal which do.
    dummy_hash: String,
}

/// The authentication service (cheap to clone).
#[derive(Debug, Clone)]
pub struct AuthService(Arc<Inner>);

#[derive(sqlx::FromRow)]
struct Account {
    id: Uuid,
    password_hash: Option<String>,
    #[sqlx(try_from = "String")]
    role: Role,
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl AuthService {
    /// Builds the service; `secret` signs access tokens.
    pub fn new(db: PgPool, secret: SecretString, settings: AuthSettings) -> anyhow::Result<Self> {
        let dummy_hash = password::hash("sentra-no-such-account")?;
        Ok(Self(Arc::new(Inner {
            db,
            secret,
            settings,
            dummy_hash,
        })))
    }

    /// The caller behind an access token: its signature and expiry are checked, then its
    /// session (ended sessions and disabled accounts are refused), and the role and branches are
    /// read from the account as it is now.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let claims: Claims = jwt::verify(
            self.0.secret.expose_secret().as_bytes(),
            token,
            Utc::now().timestamp(),
        )
        .map_err(|e| {
            tracing::debug!(reason = %e, "access token refused");
            AuthError::NotSignedIn
        })?;
        session::caller(&self.0.db, claims.sid, claims.kind, claims.sub)
            .await?
            .ok_or_else(|| {
                tracing::debug!("access token of an ended session refused");
                AuthError::NotSignedIn
            })
    }

    /// Staff login by e-mail.
    #[tracing::instrument(name = "auth.staff_login", skip_all)]
    pub async fn staff_login(
        &self,
        email: &str,
        password: &str,
        client: &str,
    ) -> Result<TokenPair, AuthError> {
        let email = email.trim().to_lowercase();
        let account: Option<Account> = sqlx::query_as(
            "SELECT id, password_hash, role FROM users WHERE email = $1 AND disabled_at IS NULL",
        )
        .bind(&email)
        .fetch_optional(&self.0.db)
        .await?;
        self.login(SubjectKind::Staff, &email, account, password, client)
            .await
    }

    /// Customer login by e-mail or phone number (a phone typed as `0812…` or `62812…` is the
    /// same account as `+62812…`).
    #[tracing::instrument(name = "auth.customer_login", skip_all)]
    pub async fn customer_login(
        &self,
        login: &str,
        password: &str,
        client: &str,
    ) -> Result<TokenPair, AuthError> {
        let login = login.trim().to_lowercase();
        let login = if login.contains('@') {
            login
        } else {
            crate::customers::normalise_phone(&login).unwrap_or(login)
        };
        let account: Option<Account> = sqlx::query_as(
            "SELECT id, password_hash, 'customer' AS role FROM customers WHERE email = $1 OR phone = $1",
        )
        .bind(&login)
        .fetch_optional(&self.0.db)
        .await?;
        self.login(SubjectKind::Customer, &login, account, password, client)
            .await
    }

    /// Checks a password. Failures count against the account the login string resolves to
    /// (so guessing by e-mail and then by phone shares one counter), against the login string
    /// when no account has it (the same queries, so timing does not tell which exist), and
    /// against the client's address.
    async fn login(
        &self,
        kind: SubjectKind,
        login: &str,
        account: Option<Account>,
        password: &str,
        client: &str,
    ) -> Result<TokenPair, AuthError> {
        let account_key = match &account {
            Some(account) => throttle::account_key(kind, account.id),
            None => format!("login:{}:{login}", kind.as_str()),
        };
        let keys = [
            (account_key.clone(), throttle::ACCOUNT_LIMIT),
            (format!("ip:{client}"), throttle::ADDRESS_LIMIT),
        ];
        let names = [keys[0].0.clone(), keys[1].0.clone()];
        if let Some(retry_after) = throttle::locked_for(&self.0.db, &names).await? {
            return Err(AuthError::Throttled { retry_after });
        }
        let stored = account
            .as_ref()
            .and_then(|a| a.password_hash.clone())
            .unwrap_or_else(|| self.0.dummy_hash.clone());
        let candidate = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
            .await
            .map_err(anyhow::Error::from)?;
        let Some(account) = account.filter(|a| matches && a.password_hash.is_some()) else {
            throttle::record_failure(&self.0.db, &keys).await?;
            return Err(AuthError::BadCredentials);
        };
        throttle::clear(&self.0.db, &account_key).await?;
        let session = session::start(&self.0.db, kind, account.id).await?;
        self.issue(kind, account.id, account.role, session).await
    }

    /// Issues an access token and a new refresh token of `session`.
    async fn issue(
        &self,
        kind: SubjectKind,
        subject: Uuid,
        role: Role,
        session: Uuid,
    ) -> Result<TokenPair, AuthError> {
        let branches: Vec<Uuid> = if kind == SubjectKind::Staff {
            sqlx::query_scalar(
                "SELECT branch_id FROM user_branches WHERE user_id = $1 ORDER BY branch_id",
            )
            .bind(subject)
            .fetch_all(&self.0.db)
            .await?
        } else {
            Vec::new()
        };
        let now = Utc::now();
        let access_ttl = i64::try_from(self.0.settings.access_ttl.as_secs()).unwrap_or(900);
        let claims = Claims {
            sub: subject,
            sid: session,
            kind,
            role,
            branches: branches.clone(),
            iat: now.timestamp(),
            exp: now.timestamp() + access_ttl,
        };
        let access_token = jwt::sign(self.0.secret.expose_secret().as_bytes(), &claims);
        let refresh_token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let refresh_expires_at = now + self.0.settings.refresh_ttl;
        sqlx::query(
            "INSERT INTO refresh_tokens (id, subject_kind, subject_id, family_id, token_hash, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(kind.as_str())
        .bind(subject)
        .bind(session)
        .bind(token_hash(&refresh_token))
        .bind(refresh_expires_at)
        .execute(&self.0.db)
        .await?;
        Ok(TokenPair {
            access_token,
            expires_in: self.0.settings.access_ttl.as_secs(),
            refresh_token,
            refresh_expires_at,
            principal: Principal {
                id: subject,
                kind,
                role,
                branches,
            },
        })
    }

    /// Exchanges a refresh token for a new pair. A token that was already exchanged revokes its
    /// whole family: somebody else holds a copy.
    #[tracing::instrument(name = "auth.refresh", skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AuthError> {
        let mut tx = self.0.db.begin().await?;
        let row: Option<(Uuid, String, Uuid, Uuid, bool, bool, bool)> = sqlx::query_as(
            "SELECT id, subject_kind, subject_id, family_id, replaced_at IS NOT NULL, \
                    revoked_at IS NOT NULL, expires_at <= now() \
             FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(token_hash(refresh_token))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, kind, subject, family, replaced, revoked, expired)) = row else {
            return Err(AuthError::BadRefreshToken);
        };
        if replaced && !revoked {
            tracing::warn!(session = %family, "a used refresh token came back: ending its session");
            session::end(&mut tx, family, EndedBecause::RefreshTokenReused).await?;
            tx.commit().await?;
            return Err(AuthError::BadRefreshToken);
        }
        if replaced || revoked || expired {
            return Err(AuthError::BadRefreshToken);
        }
        sqlx::query("UPDATE refresh_tokens SET replaced_at = now() WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let kind = SubjectKind::parse(&kind).ok_or(AuthError::BadRefreshToken)?;
        let role = if kind == SubjectKind::Staff {
            let role: Option<String> =
                sqlx::query_scalar("SELECT role FROM users WHERE id = $1 AND disabled_at IS NULL")
                    .bind(subject)
                    .fetch_optional(&mut *tx)
                    .await?;
            role.and_then(|r| Role::parse(&r))
                .ok_or(AuthError::BadRefreshToken)?
        } else {
            Role::Customer
        };
        tx.commit().await?;
        self.issue(kind, subject, role, family).await
    }

    /// Ends the session the refresh token belongs to, its access tokens included. Unknown
    /// tokens are ignored.
    #[tracing::instrument(name = "auth.logout", skip_all)]
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AuthError> {
        let family: Option<Uuid> =
            sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
                .bind(token_hash(refresh_token))
                .fetch_optional(&self.0.db)
                .await?;
        if let Some(family) = family {
            let mut tx = self.0.db.begin().await?;
            session::end(&mut tx, family, EndedBecause::Logout).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Checks the caller's current password before a sensitive change. Failures count like
    /// failed logins against the account, so a stolen access token cannot guess the password.
    pub async fn check_password(&self, who: &Principal, current: &str) -> Result<(), AuthError> {
        let account_key = throttle::account_key(who.kind, who.id);
        if let Some(retry_after) =
            throttle::locked_for(&self.0.db, std::slice::from_ref(&account_key)).await?
        {
            return Err(AuthError::Throttled { retry_after });
        }
        let table = match who.kind {
            SubjectKind::Staff => "users",
            SubjectKind::Customer => "customers",
        };
        let stored: Option<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT password_hash FROM {table} WHERE id = $1"
        )))
        .bind(who.id)
        .fetch_optional(&self.0.db)
        .await?;
        let stored = stored
            .flatten()
            .unwrap_or_else(|| self.0.dummy_hash.clone());
        let candidate = current.to_owned();
        if tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
            .await
            .map_err(anyhow::Error::from)?
        {
            Ok(())
        } else {
            throttle::record_failure(&self.0.db, &[(account_key, throttle::ACCOUNT_LIMIT)]).await?;
            Err(AuthError::BadCredentials)
        }
    }

    /// Changes the caller's password and ends every session they have (this one included).
    #[tracing::instrument(name = "auth.change_password", skip_all)]
    pub async fn change_password(
        &self,
        who: &Principal,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        if new.chars().count() < password::MIN_LENGTH {
            return Err(AuthError::WeakPassword(password::MIN_LENGTH));
        }
        self.check_password(who, current).await?;
        let table = match who.kind {
            SubjectKind::Staff => "users",
            SubjectKind::Customer => "customers",
        };
        let new = new.to_owned();
        let new_hash = tokio::task::spawn_blocking(move || password::hash(&new))
            .await
            .map_err(anyhow::Error::from)??;
        let mut tx = self.0.db.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET password_hash = $2 WHERE id = $1"
        )))
        .bind(who.id)
        .bind(new_hash)
        .execute(&mut *tx)
        .await?;
        session::end_all(&mut tx, who.kind, who.id, EndedBecause::PasswordChanged).await?;
        tx.commit().await?;
        Ok(())
    }
}
