use super::*;

fn file(key: &str, checklist_key: Option<&str>) -> FileRef {
    FileRef {
        object_key: key.to_owned(),
        sha256: "ab".repeat(32),
        checklist_key: checklist_key.map(str::to_owned),
    }
}

fn template() -> Vec<ChecklistItem> {
    vec![
        ChecklistItem {
            key: "body".to_owned(),
            label_id: "Bodi".to_owned(),
            label_en: "Body".to_owned(),
            requires_photo: true,
        },
        ChecklistItem {
            key: "spare_tyre".to_owned(),
            label_id: "Ban serep".to_owned(),
            label_en: "Spare tyre".to_owned(),
            requires_photo: false,
        },
    ]
}

fn record() -> InspectionRecord {
    InspectionRecord {
        id: Uuid::from_u128(1),
        asset_id: Uuid::from_u128(2),
        branch_id: Uuid::from_u128(5),
        booking_id: Some(Uuid::from_u128(3)),
        kind: InspectionKind::Pickup,
        corrects: None,
        checklist: vec![
            ChecklistAnswer {
                key: "body".to_owned(),
                ok: true,
                note: String::new(),
            },
            ChecklistAnswer {
                key: "spare_tyre".to_owned(),
                ok: false,
                note: "kempes".to_owned(),
            },
        ],
        odometer_km: 42_100,
        fuel_eighths: 6,
        damages: vec![DamageMark {
            area: "bemper depan".to_owned(),
            kind: "gores".to_owned(),
            severity: DamageSeverity::Minor,
            note: String::new(),
        }],
        photos: vec![file("p/1", Some("body"))],
        signatures: Signatures {
            customer: Some(file("s/c", None)),
            staff: file("s/s", None),
        },
        inspector_id: Uuid::from_u128(4),
        device_id: None,
        recorded_at: "2026-12-02T05:00:00.000Z".to_owned(),
        seq: 1,
        prev_hash: None,
    }
}

#[test]
fn the_hash_is_the_sha256_of_the_canonical_payload_and_covers_every_member() {
    let base = record();
    let hash = base.tamper_proof_hash();
    assert_eq!(
        hash,
        evidence_hash(&base.to_json()).expect("canonical"),
        "the hash is the evidence hash of the stored JSON"
    );
    let mut other = base.clone();
    other.odometer_km += 1;
    assert_ne!(other.tamper_proof_hash(), hash);
    let mut other = base.clone();
    other.photos[0].sha256 = "cd".repeat(32);
    assert_ne!(other.tamper_proof_hash(), hash);
    let mut other = base;
    other.prev_hash = Some("00".repeat(32));
    assert_ne!(
        other.tamper_proof_hash(),
        hash,
        "the chain link is hashed too"
    );
}

#[test]
fn an_altered_member_is_named() {
    let base = record().to_json();
    let recorded = member_hashes(&base).expect("hashes");
    assert!(altered_members(&base, &recorded).is_empty());
    let mut changed = base.clone();
    changed["fuel_eighths"] = serde_json::json!(8);
    changed["damages"][0]["note"] = serde_json::json!("x");
    assert_eq!(
        altered_members(&changed, &recorded),
        ["damages", "fuel_eighths"]
    );
    let mut lost = base;
    lost.as_object_mut().expect("object").remove("device_id");
    assert_eq!(altered_members(&lost, &recorded), ["device_id"]);
}

#[test]
fn a_missing_or_misplaced_link_is_named() {
    let link = |seq: u32, hash: &str, prev: Option<&str>| ChainLink {
        seq,
        hash: hash.to_owned(),
        prev_hash: prev.map(str::to_owned),
    };
    let whole = vec![
        link(1, "a", None),
        link(2, "b", Some("a")),
        link(3, "c", Some("b")),
    ];
    assert!(chain_breaks(&whole, 3).is_empty());
    let gap = vec![whole[0].clone(), whole[2].clone()];
    assert_eq!(chain_breaks(&gap, 3), [ChainBreak::Missing { seq: 2 }]);
    let forged = vec![whole[0].clone(), link(2, "b", Some("z")), whole[2].clone()];
    assert_eq!(
        chain_breaks(&forged, 3),
        [ChainBreak::WrongPrevious { seq: 2 }]
    );
}

#[test]
fn content_is_checked_against_the_template() {
    assert_eq!(validate(&record(), &template()), Ok(()));
    let mut r = record();
    r.checklist.pop();
    assert_eq!(
        validate(&r, &template()),
        Err(InspectionError::Unanswered("spare_tyre".to_owned()))
    );
    let mut r = record();
    r.photos.clear();
    assert_eq!(
        validate(&r, &template()),
        Err(InspectionError::PhotoRequired("body".to_owned()))
    );
    let mut r = record();
    r.checklist[1].key = "radio".to_owned();
    assert_eq!(
        validate(&r, &template()),
        Err(InspectionError::UnknownLine("radio".to_owned()))
    );
    let mut r = record();
    r.fuel_eighths = 9;
    assert_eq!(validate(&r, &template()), Err(InspectionError::Fuel));
    let mut r = record();
    r.damages[0].area = "bemper\u{202e}".to_owned();
    assert!(
        matches!(validate(&r, &template()), Err(InspectionError::Text { .. })),
        "a direction override would print the area reversed"
    );
    r.damages[0].area = "bemper depan".to_owned();
    r.damages[0].note = "gores\u{200b} halus".to_owned();
    assert!(
        matches!(validate(&r, &template()), Err(InspectionError::Text { .. })),
        "zero-width characters in a note"
    );
    r.damages[0].note = "Lecet kecil, dicatat oleh Nguyễn\nbaris kedua".to_owned();
    assert_eq!(
        validate(&r, &template()),
        Ok(()),
        "letters of any script and line breaks in a note"
    );
    r.damages[0].area = "a\u{7}".to_owned();
    assert!(matches!(
        validate(&r, &template()),
        Err(InspectionError::Text { .. })
    ));
    let mut r = record();
    r.signatures.customer = None;
    assert_eq!(
        validate(&r, &template()),
        Err(InspectionError::CustomerSignature(InspectionKind::Pickup))
    );
    r.kind = InspectionKind::Transfer;
    assert_eq!(validate(&r, &template()), Ok(()));
}

#[test]
fn record_times_have_a_fixed_form() {
    let instant = DateTime::parse_from_rfc3339("2026-12-02T12:34:56.789123+07:00")
        .expect("time")
        .to_utc();
    assert_eq!(record_time(instant), "2026-12-02T05:34:56.789Z");
}
