use std::process::Command;

use super::*;
use crate::pdf::Mark;

fn line(description: &str, reference: &str, amount: &str) -> InvoiceLine {
    InvoiceLine {
        description: description.to_owned(),
        reference: reference.to_owned(),
        amount: amount.to_owned(),
    }
}

fn invoice(lines: Vec<InvoiceLine>) -> Invoice {
    Invoice {
        number: "INV/JKT01/2026/000017".to_owned(),
        issued_at: "04-12-2026 10:40 WIB".to_owned(),
        branch_name: "Jakarta Selatan".to_owned(),
        branch_address: "Jl. TB Simatupang No. 18, Jakarta Selatan".to_owned(),
        renter_name: "Ni Luh Putu Ayu Saraswati".to_owned(),
        booking_reference: "0193a7c2-5e1f-7d2a-9b64-3f0c8e21d4a7".to_owned(),
        plate: "B 1234 SRT".to_owned(),
        vehicle: "Toyota Avanza 1.3 G AT".to_owned(),
        period: "01-12-2026 s.d. 04-12-2026".to_owned(),
        payment_method: "Kartu kredit (Midtrans)".to_owned(),
        lines,
        total: "Rp 1.775.000".to_owned(),
        hold: "Rp 2.050.000".to_owned(),
        captured: "Rp 1.775.000".to_owned(),
        released: "Rp 275.000".to_owned(),
        outstanding: "Rp 0".to_owned(),
    }
}

fn return_lines() -> Vec<InvoiceLine> {
    vec![
        line("Sewa 3 hari × Rp 350.000", "", "Rp 1.050.000"),
        line("Keterlambatan 5 jam", "", "Rp 225.000"),
        line(
            "Kerusakan: bumper depan (penyok)",
            "Inspeksi INS/JKT01/2026/000417, foto 3",
            "Rp 500.000",
        ),
    ]
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

/// Renders `invoice` into `dir/name` (kept when asked) and returns its path.
fn rendered(invoice: &Invoice, dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, render_invoice(invoice).expect("render")).expect("write");
    keep(&path);
    path
}

fn pages(pdf: &std::path::Path) -> u32 {
    let out = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("poppler-utils");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count")
}

/// The text of `page` (every page if `None`) as `pdftotext -layout` reads it, with the runs of
/// spaces between columns collapsed (a description and its amount read as one line).
fn text(pdf: &std::path::Path, page: Option<u32>) -> String {
    let mut command = Command::new("pdftotext");
    command.args(["-layout", "-enc", "UTF-8"]);
    if let Some(page) = page {
        command.args(["-f", &page.to_string(), "-l", &page.to_string()]);
    }
    let out = command.arg(pdf).arg("-").output().expect("pdftotext");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_invoice_prints_every_line_the_total_and_what_became_of_the_hold() {
    let dir = tempfile::tempdir().expect("temp dir");
    let invoice = invoice(return_lines());
    let path = rendered(&invoice, &dir, "invoice.pdf");
    assert_eq!(pages(&path), 1);
    let text = text(&path, None);
    for expected in [
        "SentraRental",
        "Cabang Jakarta Selatan — Jl. TB Simatupang No. 18, Jakarta Selatan",
        "FAKTUR / RINCIAN BIAYA SEWA",
        "Nomor: INV/JKT01/2026/000017",
        "Tanggal: 04-12-2026 10:40 WIB",
        "Nama Ni Luh Putu Ayu Saraswati",
        "Nomor pemesanan 0193a7c2-5e1f-7d2a-9b64-3f0c8e21d4a7",
        "Metode pembayaran Kartu kredit (Midtrans)",
        "Nomor polisi B 1234 SRT",
        "Merek / tipe Toyota Avanza 1.3 G AT",
        "Masa sewa 01-12-2026 s.d. 04-12-2026",
        "Uraian Jumlah",
        // Each description with its amount on the same line, and the reference under it.
        "Sewa 3 hari × Rp 350.000 Rp 1.050.000",
        "Keterlambatan 5 jam Rp 225.000",
        "Kerusakan: bumper depan (penyok) Rp 500.000 Inspeksi INS/JKT01/2026/000417, foto 3",
        "Total biaya Rp 1.775.000",
        "Jaminan ditahan Rp 2.050.000",
        "Diambil dari jaminan Rp 1.775.000",
        "Dikembalikan ke pelanggan Rp 275.000",
        "Ditagih terpisah Rp 0",
        "Jumlah yang dikembalikan (Rp 275.000)",
        "sesuai waktu proses bank penerbit kartu",
        "FAKTUR / RINCIAN BIAYA SEWA · INV/JKT01/2026/000017",
        "Halaman 1 dari 1",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from: {text}");
    }
    assert!(!text.contains('{'), "a placeholder left unfilled: {text}");
}

#[test]
fn sixty_lines_run_over_pages_with_the_column_titles_repeated_and_every_line_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines: Vec<InvoiceLine> = (0..60)
        .map(|i| {
            let reference = if i % 3 == 0 {
                format!("Inspeksi INS/JKT01/2026/{:06}", 500 + i)
            } else {
                String::new()
            };
            line(
                &format!("Kerusakan panel {:02} (baret)", i + 1),
                &reference,
                &format!("Rp {}.000", 100 + i),
            )
        })
        .collect();
    let mut invoice = invoice(lines.clone());
    invoice.total = "Rp 7.770.000".to_owned();
    invoice.captured = "Rp 2.050.000".to_owned();
    invoice.released = "Rp 0".to_owned();
    invoice.outstanding = "Rp 5.720.000".to_owned();
    let path = rendered(&invoice, &dir, "invoice-60.pdf");
    let count = pages(&path);
    assert!(count >= 2, "{count} pages");
    let all = text(&path, None);
    for line in &lines {
        let row = format!("{} {}", line.description, line.amount);
        assert_eq!(all.matches(&row).count(), 1, "{row:?} in: {all}");
        if !line.reference.is_empty() {
            assert_eq!(
                all.matches(&line.reference).count(),
                1,
                "{:?}",
                line.reference
            );
        }
    }
    // Every page the table runs onto starts with its column titles.
    for page in 2..=count {
        let text = text(&path, Some(page));
        if text.contains("Kerusakan panel") {
            assert!(
                text.contains("Uraian (lanjutan) Jumlah"),
                "page {page}: {text}"
            );
        }
        assert!(
            text.contains(&format!("Halaman {page} dari {count}")),
            "{text}"
        );
    }
    let last = text(&path, Some(count));
    for expected in [
        "Total biaya Rp 7.770.000",
        "Jaminan ditahan Rp 2.050.000",
        "Diambil dari jaminan Rp 2.050.000",
        "Dikembalikan ke pelanggan Rp 0",
        "Ditagih terpisah Rp 5.720.000",
    ] {
        assert!(last.contains(expected), "{expected:?} missing from: {last}");
    }
    assert!(all.contains(&format!("Halaman 1 dari {count}")), "{all}");
}

#[test]
fn an_invoice_without_lines_still_renders() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut invoice = invoice(Vec::new());
    invoice.payment_method = "Tunai".to_owned();
    invoice.total = "Rp 0".to_owned();
    invoice.hold = "Rp 1.000.000".to_owned();
    invoice.captured = "Rp 0".to_owned();
    invoice.released = "Rp 1.000.000".to_owned();
    let path = rendered(&invoice, &dir, "invoice-empty.pdf");
    assert_eq!(pages(&path), 1);
    let text = text(&path, None);
    for expected in [
        "Nomor: INV/JKT01/2026/000017",
        "Metode pembayaran Tunai",
        "Uraian Jumlah",
        "Tidak ada biaya yang dikenakan.",
        "Total biaya Rp 0",
        "Jaminan ditahan Rp 1.000.000",
        "Diambil dari jaminan Rp 0",
        "Dikembalikan ke pelanggan Rp 1.000.000",
        "Ditagih terpisah Rp 0",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from: {text}");
    }
}

#[test]
fn long_descriptions_wrap_inside_their_column_and_amounts_align_right() {
    let description = "Kerusakan: bumper depan penyok, lampu kabut kiri pecah, baret panjang pada \
                       pintu belakang kanan dan velg depan kiri tergores saat parkir \
                       SuatuKataYangSangatPanjangTanpaSpasiSamaSekaliSehinggaHarusDipotong";
    let reference = "Inspeksi INS/JKT01/2026/000417 — foto 1, 2, 3, 4 dan 5; catatan petugas \
                     pengembalian tentang bagian yang rusak dan perkiraan biaya bengkel";
    let invoice = invoice(vec![line(description, reference, "Rp 12.500.000")]);
    let dir = tempfile::tempdir().expect("temp dir");
    rendered(&invoice, &dir, "invoice-long.pdf");
    let pages = draw_invoice(&invoice).expect("draw");
    let fonts = fonts::shipped();
    let marks: Vec<(f64, f64, f64, String)> = pages[0]
        .marks()
        .iter()
        .filter_map(|mark| {
            let Mark::Text {
                x_mm,
                y_mm,
                size_pt,
                bold,
                text,
            } = mark
            else {
                return None;
            };
            Some((
                *x_mm,
                *y_mm,
                fonts.width_mm(text, *size_pt, *bold),
                text.clone(),
            ))
        })
        .collect();
    // The table: from the column titles' baseline down to (not including) the total's.
    let baseline = |text: &str| {
        marks
            .iter()
            .find(|m| m.3 == text)
            .unwrap_or_else(|| panic!("{text:?} not drawn"))
            .1
    };
    let (top, bottom) = (baseline("Uraian"), baseline("Total biaya"));
    let table: Vec<(f64, f64, String)> = marks
        .iter()
        .filter(|m| m.1 >= top && m.1 < bottom)
        .map(|m| (m.0, m.2, m.3.clone()))
        .collect();
    let column_end = MARGIN_MM + description_mm();
    let right = A4.0 - MARGIN_MM;
    let (left, amounts): (Vec<_>, Vec<_>) = table.iter().partition(|t| t.0 < column_end);
    for (x, width, text) in &left {
        assert!(
            x + width <= column_end + 1e-6,
            "{text:?} runs into the amounts"
        );
    }
    let printed: String = left
        .iter()
        .map(|t| t.2.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(left.len() >= 6, "not wrapped: {left:?}");
    for word in description
        .split_whitespace()
        .chain(reference.split_whitespace())
    {
        if word.len() < 30 {
            assert!(printed.contains(word), "{word:?} missing from {printed:?}");
        }
    }
    assert!(
        printed
            .replace(' ', "")
            .contains("SuatuKataYangSangatPanjangTanpaSpasiSamaSekaliSehinggaHarusDipotong")
    );
    for (x, width, text) in &amounts {
        assert!(*x >= column_end + GUTTER_MM - 1e-6, "{text:?}");
        assert!(
            (x + width - right).abs() < 1e-6,
            "{text:?} is not right-aligned"
        );
    }
    let amounts: Vec<&str> = amounts.iter().map(|t| t.2.as_str()).collect();
    assert_eq!(amounts, ["Jumlah", "Rp 12.500.000"]);
}

#[test]
fn an_invoice_without_its_number_or_a_line_s_amount_is_refused() {
    let mut without_number = invoice(return_lines());
    without_number.number = " ".to_owned();
    assert_eq!(
        render_invoice(&without_number),
        Err(RenderError::Content("number is required".to_owned()))
    );
    let mut lines = return_lines();
    lines[1].amount.clear();
    assert_eq!(
        draw_invoice(&invoice(lines)).map(|pages| pages.len()),
        Err(RenderError::Content(
            "lines[1].amount is required".to_owned()
        ))
    );
}

#[test]
fn placeholders_fill_in_one_pass_and_the_template_uses_only_known_ones() {
    assert_eq!(
        fill("{a} {b} {c}", &[("{a}", "{b}"), ("{b}", "x")]),
        "{b} x {c}"
    );
    let template: serde_json::Value = serde_json::from_str(TEMPLATE).expect("template");
    let invoice = invoice(return_lines());
    let object = template.as_object().expect("an object");
    for (key, value) in object.iter().filter(|(key, _)| *key != "comment") {
        let text = value.as_str().expect("texts only");
        let filled = invoice.fill(text, "SentraRental");
        assert!(!filled.contains('{'), "{key}: {filled}");
    }
}
