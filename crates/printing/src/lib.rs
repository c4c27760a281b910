//! Document rendering for the branch printer: turns a template from `printer-templates/` and a
//! document's data into PDF bytes. It never talks to a printer; the desktop app hands the bytes
//! to the OS spooler and the server stores them.
//!
//! It owns the catalogue of printable documents, the pages and their PDF written with `printpdf`
//! in the shipped, embedded fonts ([`pdf`], [`fonts`]), flowing text over A4 pages ([`layout`]),
//! the print preview drawn from the same page ([`preview`]) and the renderers: the asset QR
//! label ([`label`]), the surat jalan and the rental agreement ([`documents`]) and the deposit
//! invoice ([`invoice`]).

pub mod documents;
pub mod fonts;
pub mod invoice;
pub mod label;
pub mod layout;
pub mod pdf;
pub mod preview;
pub mod qr;

use std::path::{Path, PathBuf};

pub use documents::{
    RentalDocument, draw_agreement, draw_surat_jalan, render_agreement, render_surat_jalan,
};
pub use invoice::{Invoice, InvoiceLine, draw_invoice, render_invoice};
pub use label::{AssetLabel, LabelTemplate, draw_asset_label, render_asset_label};

/// Why a document could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The template is broken (a packaging error, not the user's).
    #[error("the document template is invalid: {0}")]
    Template(String),
    /// The document's data cannot be printed this way.
    #[error("{0}")]
    Content(String),
}

/// A document SentraRental prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// Surat jalan: the delivery note that travels with a rented vehicle.
    SuratJalan,
    /// Perjanjian sewa: the rental agreement the customer signs at pickup.
    RentalAgreement,
    /// The QR label stuck on an asset.
    AssetLabel,
    /// Faktur / rincian biaya sewa: the bill at return and what became of the deposit hold.
    Invoice,
}

impl DocumentKind {
    /// Every document kind.
    pub const ALL: [DocumentKind; 4] = [
        DocumentKind::SuratJalan,
        DocumentKind::RentalAgreement,
        DocumentKind::AssetLabel,
        DocumentKind::Invoice,
    ];

    /// The template's directory name under `printer-templates/`.
    pub fn template_name(self) -> &'static str {
        match self {
            DocumentKind::SuratJalan => "surat-jalan",
            DocumentKind::RentalAgreement => "rental-agreement",
            DocumentKind::AssetLabel => "asset-label",
            DocumentKind::Invoice => "invoice",
        }
    }

    /// Where this kind's template lives inside a templates root.
    pub fn template_dir(self, templates_root: &Path) -> PathBuf {
        templates_root.join(self.template_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_are_distinct_and_path_safe() {
        let mut names: Vec<_> = DocumentKind::ALL
            .iter()
            .map(|k| k.template_name())
            .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DocumentKind::ALL.len());
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        );
        assert_eq!(
            DocumentKind::SuratJalan.template_dir(Path::new("printer-templates")),
            Path::new("printer-templates/surat-jalan")
        );
    }
}
