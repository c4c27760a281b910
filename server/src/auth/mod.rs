//! Who is calling: staff and customer logins, short-lived access tokens (HS256 JWT), rotating
//! refresh tokens stored hashed, sessions checked on every request (logout, a password change or
//! a reused refresh token end them at once), and login throttling per account. The [`Principal`] extractor turns a bearer token into the caller's identity, roles
//! and branches for the handlers.

pub mod jwt;
pub mod password;
pub mod principal;
pub mod service;
pub mod session;
pub mod throttle;

pub use principal::{Principal, Role, SubjectKind};
pub use service::{AuthError, AuthService, AuthSettings, TokenPair};
