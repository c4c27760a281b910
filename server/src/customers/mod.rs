//! Customer accounts: self-registration, the profile, changes to it. Owns the `customers` SQL;
//! `http/customers.rs` only extracts, calls and maps [`CustomerError`] to problem+json.

mod contact;

pub use contact::normalise_phone;
use sentra_domain::{CustomerKycStatus, MembershipTier};
use sentra_protocol::{CustomerProfile, FieldError, RegisterCustomerRequest, UpdateProfileRequest};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::password;

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

    /// Changes a customer's name, phone or e-mail (the fields given).
    #[tracing::instrument(name = "customers.update", skip_all, fields(customer = %id))]
    pub async fn update(
        &self,
        id: Uuid,
        request: &UpdateProfileRequest,
    ) -> Result<CustomerProfile, CustomerError> {
        let mut errors = Vec::new();
        let (name, phone, email) = contact::contact(
            request.full_name.as_deref(),
            request.phone.as_deref(),
            request.email.as_deref(),
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(CustomerError::Invalid(errors));
        }
        sqlx::query(
            "UPDATE customers SET full_name = coalesce($2, full_name), phone = coalesce($3, phone), \
             email = coalesce($4, email) WHERE id = $1",
        )
        .bind(id)
        .bind(name)
        .bind(phone)
        .bind(email)
        .execute(&self.db)
        .await
        .map_err(taken_or)?;
        self.profile(id).await
    }
}
