//! What a scan opens at the counter (`sentra-client-core`): asset labels and booking codes,
//! online through the server and offline from the branch's copy, replaced labels refused both
//! ways.

use sentra_client_core::{
    lookup::{Opened, open_offline, open_online},
    scanner::{ScanTarget, decode},
    store::Store,
    sync::pull,
};
use sentra_domain::label::{self, LabelKind};

use crate::{
    fixtures::{assets, customers, day, seed, unit_booking},
    support::TestApp,
};

use super::desk::{Desktop, JAKARTA_ADMIN};

#[tokio::test]
async fn a_scanned_label_opens_its_asset_online_and_offline_and_a_replaced_one_is_refused()
-> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let hq = app.api();
    let car = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let mut store = Store::in_memory()?;
    pull(&desk.api, &desk.token, &mut store, |_| {}).await?;

    let old = decode(&hq.label(car).await?.payload)?;
    let opened = open_online(&desk.api, &old).await?;
    assert!(matches!(&opened, Opened::Asset { asset, offline: false } if asset.id == car));
    let opened = open_offline(&store, &old)?;
    assert!(matches!(&opened, Opened::Asset { asset, offline: true } if asset.id == car));

    // The label is re-issued (the sticker was damaged): the old one opens nothing, anywhere.
    let new = decode(&hq.reissue_label(car).await?.payload)?;
    let err = open_online(&desk.api, &old).await.expect_err("replaced");
    assert_eq!(err.code, "invalid_label", "{err}");
    assert!(err.message.contains("replaced"), "{err}");
    // Before the copy hears of it, a newer label sends the counter to the server.
    assert_eq!(
        open_offline(&store, &new)
            .expect_err("newer than the copy")
            .code,
        "offline_copy_stale"
    );
    // The feed shows a change once every older transaction has ended: pull until it arrives.
    let started = std::time::Instant::now();
    while store.asset(car)?.map(|a| a.label_version) != Some(2) {
        anyhow::ensure!(
            started.elapsed().as_secs() < 20,
            "the re-issue never reached the copy"
        );
        pull(&desk.api, &desk.token, &mut store, |_| {}).await?;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let err = open_offline(&store, &old).expect_err("replaced, offline too");
    assert_eq!(err.code, "invalid_label", "the same answer offline");
    assert!(err.message.contains("replaced"), "{err}");
    assert!(matches!(
        open_offline(&store, &new)?,
        Opened::Asset { offline: true, .. }
    ));
    Ok(())
}

#[tokio::test]
async fn a_booking_code_opens_the_booking_from_the_offline_copy() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    app.as_hq().await?;
    let people = customers(&app.db).await?;
    let car = assets(&app.db, "AVANZA-13G-AT", "JKT01").await?[0];
    let booking = app
        .api()
        .create_booking("scan-1", &unit_booking(car, people[0], day(1), day(3)))
        .await?;
    let desk = Desktop::register(&app, JAKARTA_ADMIN, "JKT01").await?;
    let mut store = Store::in_memory()?;
    pull(&desk.api, &desk.token, &mut store, |_| {}).await?;

    // The copy holds no key, so any well-formed code for a booking it has opens it, marked
    // offline; the server checks the signature when it answers.
    let code = label::sign(
        b"any key: the copy does not check",
        LabelKind::Booking,
        booking.id,
        0,
    );
    let target = decode(&code)?;
    assert!(matches!(target, ScanTarget::Booking { id, .. } if id == booking.id));
    let Opened::Booking {
        booking: shown,
        customer,
        offline,
    } = open_offline(&store, &target)?
    else {
        panic!("a booking screen");
    };
    assert!(offline);
    assert_eq!(shown.id, booking.id);
    assert_eq!(customer.map(|c| c.id), Some(people[0]));

    let stranger = decode(&label::sign(
        b"k",
        LabelKind::Booking,
        uuid::Uuid::now_v7(),
        0,
    ))?;
    assert_eq!(
        open_offline(&store, &stranger).expect_err("not here").code,
        "not_in_offline_copy"
    );
    Ok(())
}
