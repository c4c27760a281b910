//! Reading a rendered PDF back as a printer and a scanner would: poppler rasterises a page and
//! extracts the text, rqrr decodes the QR code.

use std::process::Command;

/// What a PDF shows when printed: its one QR code, decoded from a 300 dpi raster made by
/// poppler (what a scanner pointed at the paper reads), and its text.
pub fn read_back(pdf: &std::path::Path) -> (String, String) {
    read_back_page(pdf, 1)
}

/// [`read_back`] of page `page` (1-based).
pub fn read_back_page(pdf: &std::path::Path, page: u32) -> (String, String) {
    let raster = pdf.with_extension("");
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            "300",
            "-gray",
            "-singlefile",
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
        ])
        .arg(pdf)
        .arg(&raster)
        .status()
        .expect("pdftoppm (poppler-utils) is installed by `make test`");
    assert!(status.success());
    let pgm = std::fs::read(raster.with_extension("pgm")).expect("raster");
    let (width, height, pixels) = parse_pgm(&pgm);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    let text = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    (content, String::from_utf8_lossy(&text.stdout).into_owned())
}

/// The binary PGM (P5) that `pdftoppm -gray` writes.
fn parse_pgm(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    let width: usize = fields[1].parse().expect("width");
    let height: usize = fields[2].parse().expect("height");
    (width, height, bytes[at + 1..].to_vec())
}
