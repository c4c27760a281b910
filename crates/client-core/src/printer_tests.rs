//! Printing against a real CUPS scheduler with a CUPS-PDF queue (started by the test harness):
//! the printed file is read back and its text checked.

use std::time::Duration;

use sentra_domain::label::{self, LabelKind};
use sentra_printing::label::{AssetLabel, LabelTemplate, render_asset_label};
use sentra_test_support::CupsServer;
use uuid::Uuid;

use super::*;

fn label_pdf(plate: &str) -> Vec<u8> {
    let payload = label::sign(b"test-key", LabelKind::Asset, Uuid::now_v7(), 1);
    let template = LabelTemplate::shipped().expect("the shipped template");
    render_asset_label(
        &template,
        &AssetLabel {
            payload,
            plate: plate.to_owned(),
            sku_name: "Toyota Avanza 1.3 G AT".to_owned(),
            branch_code: "JKT01".to_owned(),
            label_version: 1,
        },
    )
    .expect("renders")
}

#[tokio::test]
async fn a_label_sent_to_the_pdf_queue_is_printed_with_its_text() {
    let cups = tokio::task::spawn_blocking(CupsServer::start)
        .await
        .expect("join")
        .expect("cupsd starts");
    cups.add_pdf_printer("Label_Printer").expect("queue added");

    let found = printers(&cups.url()).await.expect("listed");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "Label_Printer");
    assert_eq!(found[0].state, PrinterStatus::Idle);
    assert!(found[0].accepting_jobs);

    let plate = format!("B {} TST", 1000 + (Uuid::now_v7().as_u128() % 8999));
    let title = format!("SENTRA-{}", Uuid::now_v7().simple());
    let settings = PrinterSettings {
        server: cups.url(),
        printer: None, // the only one: chosen as the default
    };
    let job = PrintJob {
        title: title.clone(),
        user: "kasir-jkt01".to_owned(),
        pdf: label_pdf(&plate),
    };
    let mut seen = Vec::new();
    let id = print_and_follow(&settings, &job, Duration::from_mins(1), |s| seen.push(s))
        .await
        .unwrap_or_else(|err| {
            panic!(
                "{err}\n{}",
                std::fs::read_to_string(cups.log_path()).unwrap_or_default()
            )
        });
    assert!(id > 0);
    assert_eq!(seen.last(), Some(&JobStatus::Completed), "{seen:?}");
    assert_eq!(
        job_status(&settings, id).await.expect("status"),
        JobStatus::Completed
    );

    let text = CupsServer::take_printed(&title).expect("the printed file");
    assert!(
        text.contains(&plate),
        "the plate is on the printed label: {text:?}"
    );
    // (OCR may read the 0 of JKT01 as an O.)
    assert!(text.contains("Cabang JKT"), "{text:?}");
}

#[tokio::test]
async fn without_a_printer_the_user_is_told_and_can_still_save_the_pdf() {
    let cups = tokio::task::spawn_blocking(CupsServer::start)
        .await
        .expect("join")
        .expect("cupsd starts");
    let job = PrintJob {
        title: "Surat jalan".to_owned(),
        user: "kasir".to_owned(),
        pdf: label_pdf("B 1 A"),
    };
    let none_set_up = PrinterSettings {
        server: cups.url(),
        printer: None,
    };
    assert_eq!(
        print_pdf(&none_set_up, &job)
            .await
            .expect_err("no printer")
            .code,
        "no_printer"
    );
    let gone = PrinterSettings {
        server: cups.url(),
        printer: Some("Removed_Printer".to_owned()),
    };
    assert_eq!(
        print_pdf(&gone, &job)
            .await
            .expect_err("no such queue")
            .code,
        "printer_not_found"
    );
    // Several printers and no default: the app asks, it does not guess.
    cups.add_pdf_printer("Front_Desk").expect("queue");
    cups.add_pdf_printer("Back_Office").expect("queue");
    assert_eq!(
        print_pdf(&none_set_up, &job)
            .await
            .expect_err("which one?")
            .code,
        "printer_not_chosen"
    );
    let port = sentra_test_support::free_port().expect("port");
    let down = PrinterSettings {
        server: format!("http://127.0.0.1:{port}"),
        printer: Some("Any".to_owned()),
    };
    assert_eq!(
        print_pdf(&down, &job)
            .await
            .expect_err("nothing listens")
            .code,
        "printer_unreachable"
    );

    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("surat-jalan.pdf");
    save_pdf(&path, &job.pdf).expect("saved");
    assert_eq!(std::fs::read(&path).expect("read back"), job.pdf);
    let err = save_pdf(&dir.path().join("missing/dir/x.pdf"), &job.pdf).expect_err("no such dir");
    assert_eq!(err.code, "save_failed");
}
