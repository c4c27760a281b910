//! Customer accounts: self-registration, the profile, changes to it. Owns the `customers` SQL;
//! `http/customers.rs` only extracts, calls and maps [`CustomerError`] to problem+json.

mod contact;
mod erasure;
mod preferences;

pub use erasure::Erased;

pub use contact::normalise_phone;
use sentra_domain::{CustomerKycStatus, MembershipTier};
use sentra_protocol::{CustomerProfile, FieldError, RegisterCustomerRequest, UpdateProfileRequest};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::{AuthError, AuthService, Principal, password};

impl From<AuthError> for CustomerError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::BadCredentials => Self::WrongPassword,
            AuthError::Throttled { retry_after } => Self::Throttled(retry_after),
            AuthError::Database(e) => Self::Database(e),
            AuthError::Internal(e) => Self::Internal(e),
            other => Self::Internal(anyhow::Error::from(other)),
        }
    }
}

/// Why a customer action failed.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// The phone number or e-mail address belongs to another account.
    #[error("phone or e-mail already registered")]
    ContactTaken,
    #[error("customer not found")]
    NotFound,
    /// The login (phone or e-mail) changes and the current password was not given.
    #[error("the current password is required to change the login")]
    PasswordRequired,
    /// The current password given is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// Too many wrong passwords for this account.
    #[error("too many wrong passwords")]
    Throttled(std::time::Duration),
    /// Rentals still open (pending, confirmed, out or not settled): finish them first.
    #[error("{0} rentals are still open")]
    OpenRentals(u32),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn taken_or(err: sqlx::Error) -> CustomerError {
    if crate::db::has_sqlstate(&err, &["23505"]) {
        CustomerError::ContactTaken
    } else {
        CustomerError::Database(err)
    }
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: Uuid,
    full_name: String,
    phone: Option<String>,
    email: Option<String>,
    #[sqlx(try_from = "String")]
    membership_tier: MembershipTier,
    #[sqlx(try_from = "String")]
    kyc_status: CustomerKycStatus,
}

/// The customer accounts.
#[derive(Debug, Clone)]
pub struct Customers {
    db: PgPool,
}

impl Customers {
    /// The service over `db`.
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }

    /// One customer's profile.
    #[tracing::instrument(name = "customers.profile", skip_all, fields(customer = %id))]
    pub async fn profile(&self, id: Uuid) -> Result<CustomerProfile, CustomerError> {
        let row: ProfileRow = sqlx::query_as(
            "SELECT id, full_name, phone, email, membership_tier, kyc_status FROM customers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db)
        .await?
        .ok_or(CustomerError::NotFound)?;
        Ok(CustomerProfile {
            id: row.id,
            full_name: row.full_name,
            phone: row.phone,
            email: row.email,
            membership_tier: row.membership_tier,
            kyc_status: row.kyc_status,
        })
    }

    /// Registers an account (the password hashed off the async threads).
    #[tracing::instrument(name = "customers.register", skip_all)]
    pub async fn register(
        &self,
        request: RegisterCustomerRequest,
    ) -> Result<CustomerProfile, CustomerError> {
        let mut errors = Vec::new();
        let (name, phone, email) = contact::contact(
            Some(&request.full_name),
            request.phone.as_deref(),
            request.email.as_deref(),
            &mut errors,
        );
        if phone.is_none() && email.is_none() {
            errors.push(FieldError::new(
                "phone",
                "give a phone number or an e-mail address",
            ));
        }
        if request.password.chars().count() < password::MIN_LENGTH {
            errors.push(FieldError::new(
                "password",
                format!("must have at least {} characters", password::MIN_LENGTH),
            ));
        }
        if !errors.is_empty() {
            return Err(CustomerError::Invalid(errors));
        }
        let hash = tokio::task::spawn_blocking(move || password::hash(&request.password))
            .await
            .map_err(anyhow::Error::from)??;
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO customers (id, full_name, phone, email, password_hash) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(phone)
        .bind(email)
        .bind(hash)
        .execute(&self.db)
        .await
        .map_err(taken_or)?;
        self.profile(id).await
    }

    /// Changes a customer's name, phone or e-mail (the fields given). Changing the login (phone
    /// or e-mail) needs the current password, and the old address is told: a message is queued
    /// for it in the same transaction as the change.
    #[tracing::instrument(name = "customers.update", skip_all, fields(customer = %who.id))]
    pub async fn update(
        &self,
        who: &Principal,
        request: &UpdateProfileRequest,
        auth: &AuthService,
    ) -> Result<CustomerProfile, CustomerError> {
        let mut errors = Vec::new();
        // A field sent empty is a mistake, not "no change" (leave it out to keep it).
        for (field, value) in [("phone", &request.phone), ("email", &request.email)] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                errors.push(FieldError::new(
                    field,
                    "must not be empty; leave it out to keep it",
                ));
            }
        }
        let (name, phone, email) = contact::contact(
            request.full_name.as_deref(),
            request.phone.as_deref(),
            request.email.as_deref(),
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(CustomerError::Invalid(errors));
        }
        let current = self.profile(who.id).await?;
        let phone = phone.filter(|p| current.phone.as_ref() != Some(p));
        let email = email.filter(|e| current.email.as_ref() != Some(e));
        if phone.is_some() || email.is_some() {
            let password = request
                .current_password
                .as_deref()
                .ok_or(CustomerError::PasswordRequired)?;
            auth.check_password(who, password).await?;
        }
        let mut tx = self.db.begin().await?;
        let (old_phone, old_email): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT phone, email FROM customers WHERE id = $1 FOR UPDATE")
                .bind(who.id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(CustomerError::NotFound)?;
        sqlx::query(
            "UPDATE customers SET full_name = coalesce($2, full_name), phone = coalesce($3, phone), \
             email = coalesce($4, email) WHERE id = $1",
        )
        .bind(who.id)
        .bind(&name)
        .bind(&phone)
        .bind(&email)
        .execute(&mut *tx)
        .await
        .map_err(taken_or)?;
        // Every address the account had is told which login field changed (an added e-mail is
        // told to the phone, a replaced one to the old e-mail).
        let changed: Vec<&str> = [("phone", phone.is_some()), ("email", email.is_some())]
            .into_iter()
            .filter_map(|(field, is_changed)| is_changed.then_some(field))
            .collect();
        if !changed.is_empty() {
            login_changed(&mut tx, who.id, &changed, old_phone, old_email).await?;
        }
        // A verified identity no longer matches a new name or phone: back to a reviewer.
        let renamed = name.as_ref().is_some_and(|n| *n != current.full_name);
        if renamed || phone.is_some() {
            crate::kyc::review_again::after_profile_change(&mut tx, who.id).await?;
        }
        tx.commit().await?;
        self.profile(who.id).await
    }
}

/// Tells every address the account had that a login field changed (an added e-mail is told to
/// the phone, a replaced one to the old e-mail), through the outbox, in the caller's
/// transaction.
async fn login_changed(
    tx: &mut sqlx::PgConnection,
    customer: Uuid,
    changed: &[&str],
    old_phone: Option<String>,
    old_email: Option<String>,
) -> Result<(), CustomerError> {
    use sentra_domain::notification::{Channel, MessageKind};
    let language: String = sqlx::query_scalar("SELECT language FROM customers WHERE id = $1")
        .bind(customer)
        .fetch_one(&mut *tx)
        .await?;
    let change_id = Uuid::now_v7();
    for (channel, old) in [(Channel::Whatsapp, old_phone), (Channel::Email, old_email)] {
        let Some(old) = old else { continue };
        let planned = crate::notify::Planned {
            kind: MessageKind::LoginChanged,
            idempotency_key: format!("login_changed:{change_id}"),
            recipient: crate::notify::Recipient::Address {
                channel,
                address: old,
                language: language.parse().unwrap_or_default(),
                customer: Some(customer),
            },
            values: std::collections::BTreeMap::from([("changed", changed.join(", "))]),
            due: chrono::Utc::now(),
            zone: sentra_domain::calendar::BranchTimeZone::Wib,
            branch_id: None,
            booking_id: None,
            event_id: None,
            processor_request_id: None,
        };
        crate::notify::outbox::queue(&mut *tx, &planned).await?;
    }
    Ok(())
}
