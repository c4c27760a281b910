//! Inventory: the branches, the SKUs customers book, the assets that serve them, moving assets
//! between branches, and asset QR labels. Handlers in `http::inventory` call in here; every
//! function takes the caller and answers "not found" for other branches' assets.

pub mod assets;
pub mod catalogue;
pub mod transfer;
