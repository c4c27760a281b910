use std::process::Command;

use super::*;
use sentra_test_support::pdf::read_back_page;

fn rental(renter: &str) -> RentalDocument {
    RentalDocument {
        number: "SJ/DPS01/2026/000042".to_owned(),
        issued_at: "02-12-2026 09:15 WITA".to_owned(),
        branch_name: "Denpasar".to_owned(),
        branch_address: "Jl. Bypass Ngurah Rai No. 1, Denpasar, Bali".to_owned(),
        time_zone: "Waktu Indonesia Tengah (WITA)".to_owned(),
        renter_name: renter.to_owned(),
        renter_nik: "************0003".to_owned(),
        renter_phone: "+62 812-3456-7890".to_owned(),
        plate: "DK 1234 AB".to_owned(),
        vehicle: "Toyota Avanza 1.3 G AT".to_owned(),
        colour: "Putih".to_owned(),
        odometer_km: "42.100".to_owned(),
        fuel: "6/8".to_owned(),
        period_start: "02-12-2026 09:15 WITA".to_owned(),
        period_end: "05-12-2026 12:00 WITA".to_owned(),
        days: 3,
        daily_rate: "Rp 450.000".to_owned(),
        total: "Rp 1.350.000".to_owned(),
        deposit: "Rp 1.000.000".to_owned(),
        late_fee_rule: "Rp 45.000 per jam setelah 60 menit, paling banyak Rp 450.000 per hari"
            .to_owned(),
        handover_hash: "9f".repeat(32),
        verify_url: format!("https://sewa.example.id/v/{}", "9f".repeat(32)),
    }
}

/// Keeps a copy for people to look at when `SENTRA_KEEP_DOCUMENTS` names a directory.
fn keep(path: &std::path::Path) {
    if let Some(dir) = std::env::var_os("SENTRA_KEEP_DOCUMENTS") {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::copy(
            path,
            std::path::Path::new(&dir).join(path.file_name().unwrap_or_default()),
        );
    }
}

fn tool(program: &str, pdf: &std::path::Path) -> String {
    let out = Command::new(program)
        .arg(pdf)
        .output()
        .expect("poppler-utils");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pages(pdf: &std::path::Path) -> u32 {
    tool("pdfinfo", pdf)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count")
}

/// Collapses the runs of spaces `pdftotext -layout` puts between columns.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_surat_jalan_prints_its_facts_and_a_qr_that_opens_the_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let doc = rental("Ni Luh Putu Ayu Saraswati");
    let path = dir.path().join("sj.pdf");
    let pdf = render_surat_jalan(&doc).expect("render");
    std::fs::write(&path, &pdf).expect("write");
    keep(&path);
    let (qr, text) = read_back_page(&path, 1);
    assert_eq!(qr, doc.verify_url, "the QR opens the verify page");
    let text = words(&text);
    for expected in [
        "SURAT JALAN",
        "Nomor: SJ/DPS01/2026/000042",
        "Ni Luh Putu Ayu Saraswati",
        "************0003",
        "DK 1234 AB",
        "Toyota Avanza 1.3 G AT",
        "42.100 km",
        "6/8",
        "05-12-2026 12:00 WITA",
        "Waktu Indonesia Tengah (WITA)",
        "Petugas cabang",
        "Penyewa",
        "Halaman 1 dari",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from: {text}");
    }
    // Both faces embedded (with a Unicode map, so text extracts), and only the glyphs used: the
    // two DejaVu files are 1.4 MB, the whole document is a fraction of one.
    let fonts = tool("pdffonts", &path);
    let embedded: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(embedded.len(), 2, "{fonts}");
    assert!(
        embedded
            .iter()
            .all(|l| l.contains("CID TrueType") && l.contains(" yes ")),
        "{fonts}"
    );
    assert!(
        pdf.len() < 200_000,
        "{} bytes: the fonts are not subsetted",
        pdf.len()
    );
}

#[test]
fn the_agreement_runs_over_pages_with_numbers_clauses_and_the_meterai_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut doc = rental("Nguyễn Thị Minh Khai");
    doc.number = "PS/DPS01/2026/000042".to_owned();
    let path = dir.path().join("ps.pdf");
    let pdf = render_agreement(&doc).expect("render");
    std::fs::write(&path, &pdf).expect("write");
    keep(&path);
    let count = pages(&path);
    assert!(count >= 2, "{count} pages");
    let (qr, text) = read_back_page(&path, count);
    assert_eq!(qr, doc.verify_url);
    let text = words(&text);
    for expected in [
        "PERJANJIAN SEWA KENDARAAN",
        "Nomor: PS/DPS01/2026/000042",
        "Nguyễn Thị Minh Khai, NIK ************0003",
        "pre-otorisasi",
        "Rp 1.000.000",
        "dilepas paling lambat 24 jam",
        "Rp 45.000 per jam setelah 60 menit",
        "e-Meterai",
        "Rp10.000",
        "PIHAK PERTAMA",
        "PIHAK KEDUA",
        &format!("Halaman 1 dari {count}"),
        &format!("Halaman {count} dari {count}"),
    ] {
        assert!(text.contains(expected), "{expected:?} missing from: {text}");
    }
    // Twelve numbered clauses, in order.
    let mut at = 0;
    for n in 1..=12 {
        let found = text[at..].find(&format!("{n}. ")).map(|i| i + at);
        at = found.unwrap_or_else(|| panic!("clause {n} missing"));
    }
}

#[test]
fn a_document_without_its_number_or_record_is_refused() {
    let mut doc = rental("Budi");
    doc.handover_hash.clear();
    assert_eq!(
        render_surat_jalan(&doc),
        Err(RenderError::Content("handover_hash is required".to_owned()))
    );
}
