use proptest::prelude::*;

use super::*;

fn rp(n: i64) -> Money {
    Money::from_rupiah(n)
}

#[test]
fn a_hold_is_captured_in_part_and_the_rest_released() {
    let mut ledger = Vec::new();
    let (hold, e) = Hold::pending()
        .authorise(rp(1_000_000))
        .expect("authorised");
    ledger.push(e);
    let (hold, e) = hold.capture(rp(350_000)).expect("captured");
    ledger.push(e);
    assert_eq!(hold.held(), rp(650_000));
    let (hold, e) = hold.release().expect("released");
    ledger.push(e);
    assert_eq!(e, LedgerEntry::Released(rp(650_000)));
    assert_eq!(hold.status, HoldStatus::Released);
    assert_eq!(hold.held(), Money::ZERO);
    assert!(balances(&hold, &ledger));
}

#[test]
fn a_capture_above_the_hold_is_impossible_and_the_excess_is_a_separate_charge() {
    let (hold, _) = Hold::pending()
        .authorise(rp(1_000_000))
        .expect("authorised");
    assert_eq!(
        hold.capture(rp(1_000_001)),
        Err(HoldError::AboveHold {
            asked: rp(1_000_001),
            held: rp(1_000_000)
        })
    );
    assert_eq!(hold.capture(rp(0)), Err(HoldError::NotPositive));
    assert_eq!(
        cover(rp(1_250_000), hold.held()),
        (rp(1_000_000), rp(250_000))
    );
    assert_eq!(cover(rp(300_000), hold.held()), (rp(300_000), Money::ZERO));
}

#[test]
fn the_state_never_goes_back() {
    let (hold, _) = Hold::pending().authorise(rp(500_000)).expect("authorised");
    let (captured, _) = hold.capture(rp(100_000)).expect("captured");
    assert!(matches!(
        captured.capture(rp(1)),
        Err(HoldError::IllegalTransition { .. })
    ));
    assert!(matches!(
        captured.void(),
        Err(HoldError::IllegalTransition { .. })
    ));
    let (released, _) = captured.release().expect("released");
    for status in HoldStatus::ALL {
        assert!(!released.status.next().contains(status));
    }
    assert!(matches!(
        Hold::pending().capture(rp(1)),
        Err(HoldError::IllegalTransition { .. })
    ));
    assert_eq!(
        Hold::pending().fail().map(|h| h.status),
        Ok(HoldStatus::Failed)
    );
    let (voided, entry) = hold.void().expect("voided");
    assert_eq!(
        (voided.status, entry),
        (HoldStatus::Voided, LedgerEntry::Voided(rp(500_000)))
    );
}

proptest! {
    /// Whatever happens to a hold, in any order, refused steps change nothing and the ledger of the
    /// accepted ones always balances.
    #[test]
    fn the_ledger_always_balances(
        amount in 1_i64..5_000_000,
        steps in proptest::collection::vec((0_u8..5, 0_i64..6_000_000), 0..8),
    ) {
        let mut hold = Hold::pending();
        let mut ledger = Vec::new();
        for (step, value) in steps {
            let done = match step {
                0 => hold.authorise(rp(amount)),
                1 => hold.capture(rp(value)),
                2 => hold.release(),
                3 => hold.void(),
                _ => hold.expire(),
            };
            if let Ok((next, entry)) = done {
                prop_assert!(hold.status.next().contains(&next.status), "{:?} -> {:?}", hold.status, next.status);
                hold = next;
                ledger.push(entry);
            }
            prop_assert!(balances(&hold, &ledger), "{hold:?} {ledger:?}");
            prop_assert!(hold.held() >= Money::ZERO && hold.captured <= hold.authorised);
        }
    }
}

fn remote(state: RemoteState, authorised: i64, captured: i64) -> Remote {
    Remote {
        state,
        authorised: rp(authorised),
        captured: rp(captured),
    }
}

#[test]
fn a_hold_catches_up_with_the_provider_and_never_goes_back() {
    // A capture webhook seen before the authorisation one: both steps, in order.
    let steps = Hold::pending()
        .catch_up(
            &remote(RemoteState::Captured, 900_000, 400_000),
            CancelMeaning::Lapsed,
        )
        .expect("followed");
    let entries: Vec<_> = steps.iter().filter_map(|(_, e)| *e).collect();
    assert_eq!(
        entries,
        [
            LedgerEntry::Authorised(rp(900_000)),
            LedgerEntry::Captured(rp(400_000))
        ]
    );
    let captured = steps.last().expect("a step").0;
    // The late authorisation webhook then changes nothing.
    assert_eq!(
        captured.catch_up(
            &remote(RemoteState::Authorised, 900_000, 0),
            CancelMeaning::Lapsed
        ),
        Ok(vec![])
    );
    // A provider that captured something else is reported, not followed.
    assert!(matches!(
        captured.catch_up(
            &remote(RemoteState::Captured, 900_000, 500_000),
            CancelMeaning::Lapsed
        ),
        Err(HoldError::CapturedDiffers { .. })
    ));
    // A cancel means what we asked for.
    let (held, _) = Hold::pending().authorise(rp(900_000)).expect("authorised");
    for (meaning, status) in [
        (CancelMeaning::Voided, HoldStatus::Voided),
        (CancelMeaning::Released, HoldStatus::Released),
        (CancelMeaning::Lapsed, HoldStatus::Expired),
    ] {
        let steps = held
            .catch_up(&remote(RemoteState::Cancelled, 900_000, 0), meaning)
            .expect("followed");
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].0.status, status);
    }
    assert_eq!(
        Hold::pending()
            .catch_up(&remote(RemoteState::Failed, 0, 0), CancelMeaning::Voided)
            .map(|s| s.iter().map(|(h, _)| h.status).collect::<Vec<_>>()),
        Ok(vec![HoldStatus::Failed])
    );
}

#[test]
fn a_deposit_captured_before_its_hold_lapsed_is_refunded_in_part() {
    let mut ledger = Vec::new();
    let (hold, e) = Hold::pending()
        .authorise(rp(2_000_000))
        .expect("authorised");
    ledger.push(e);
    let (hold, e) = hold.capture(rp(2_000_000)).expect("captured early");
    ledger.push(e);
    assert_eq!(
        hold.refund(rp(2_000_001)),
        Err(HoldError::AboveRefundable {
            asked: rp(2_000_001),
            refundable: rp(2_000_000)
        })
    );
    let (hold, e) = hold.refund(rp(650_000)).expect("refunded");
    ledger.push(e);
    assert_eq!(hold.status, HoldStatus::Released);
    assert!(balances(&hold, &ledger));
    // A partly captured hold releases its rest instead: no refund while money is held.
    let (authorised, _) = Hold::pending().authorise(rp(900_000)).expect("authorised");
    let (part, _) = authorised.capture(rp(100_000)).expect("captured");
    assert!(matches!(
        part.refund(rp(1)),
        Err(HoldError::AboveRefundable { .. })
    ));
}
