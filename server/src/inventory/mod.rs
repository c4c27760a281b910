//! Inventory: the branches, the SKUs customers book, the assets that serve them, moving assets
//! between branches, and asset QR labels. Handlers in `http::inventory` call in here; every
//! function takes the caller and answers "not found" for other branches' assets, and fails with
//! an [`InventoryError`].

pub mod assets;
pub mod catalogue;
mod error;
pub mod transfer;

pub use error::InventoryError;
