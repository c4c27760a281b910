//! Who is calling: staff and customer logins, short-lived access tokens (HS256 JWT), rotating
//! refresh tokens stored hashed, password changes that revoke every session, and login
//! throttling. The [`Principal`] extractor turns a bearer token into the caller's identity, roles
//! and branches for the handlers.

pub mod jwt;
pub mod password;
pub mod principal;
pub mod service;
pub mod throttle;

pub use principal::{Principal, Role, SubjectKind};
pub use service::{AuthError, AuthService, AuthSettings, TokenPair};
