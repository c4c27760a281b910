//! What each Midtrans call does to the contract server's world: a card or `GoPay` charge, a
//! capture, a cancel and a refund, with the documented refusals.

use serde_json::{Value, json};

use super::{
    CANNOT_MODIFY, CARD, DEFAULT_BANK, DENIED, DUPLICATE, GOPAY, MidtransWorld, NOT_FOUND, PENDING,
    TIME_FORMAT, Txn, error_body, invalid, lifetime, moved, now_wib, txn_body,
};

/// A validated charge request.
struct Charge {
    order_id: String,
    gross_amount: i64,
    payment_type: &'static str,
    token: String,
    bank: String,
}

fn parse_charge(raw: &[u8]) -> Result<Charge, Value> {
    let Ok(body) = serde_json::from_slice::<Value>(raw) else {
        return Err(invalid(&["request body must be a JSON object"]));
    };
    let mut problems = Vec::new();
    let details = &body["transaction_details"];
    let order_id = details["order_id"].as_str().unwrap_or_default();
    if order_id.is_empty() {
        problems.push("transaction_details.order_id is required");
    } else if order_id.len() > 50
        || !order_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_~.".contains(c))
    {
        problems.push("transaction_details.order_id must be at most 50 of A-Z a-z 0-9 - _ ~ .");
    }
    let gross_amount = details["gross_amount"].as_i64().unwrap_or_default();
    if gross_amount < 1 {
        problems.push("transaction_details.gross_amount must be a positive integer");
    }
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let (payment_type, token, bank) = match body["payment_type"].as_str() {
        Some(CARD) => {
            let card = &body["credit_card"];
            if card["type"].as_str() != Some("authorize") {
                problems.push("credit_card.type must be authorize");
            }
            let bank = card["bank"].as_str().unwrap_or(DEFAULT_BANK).to_lowercase();
            (CARD, text(&card["token_id"]), bank)
        }
        Some(GOPAY) => {
            let gopay = &body["gopay"];
            if text(&gopay["account_id"]).is_empty() {
                problems.push("gopay.account_id is required");
            }
            if gopay["pre_auth"].as_bool() != Some(true) {
                problems.push("gopay.pre_auth must be true");
            }
            (GOPAY, text(&gopay["payment_option_token"]), String::new())
        }
        _ => {
            problems.push("payment_type must be credit_card or gopay");
            (CARD, String::new(), String::new())
        }
    };
    if token.is_empty() {
        problems.push("credit_card.token_id or gopay.payment_option_token is required");
    }
    if !problems.is_empty() {
        return Err(invalid(&problems));
    }
    Ok(Charge {
        order_id: order_id.to_owned(),
        gross_amount,
        payment_type,
        token,
        bank,
    })
}

pub(super) fn charge_work(world: &mut MidtransWorld, base_url: &str, raw: &[u8]) -> Value {
    let charge = match parse_charge(raw) {
        Ok(charge) => charge,
        Err(refused) => return refused,
    };
    if world.txns.contains_key(&charge.order_id) {
        return error_body(406, DUPLICATE);
    }
    let (status, message) = match charge.token.as_str() {
        token if token.starts_with("tok-decline") => ("deny", DENIED),
        token if token.starts_with("tok-3ds") => ("pending", PENDING),
        _ if charge.payment_type == GOPAY => ("authorize", "GoPay transaction is authorized"),
        _ => (
            "authorize",
            "Success, Credit Card transaction is successful",
        ),
    };
    let transaction_id = uuid::Uuid::new_v4();
    let now = now_wib();
    let txn = Txn {
        order_id: charge.order_id.clone(),
        transaction_id: transaction_id.to_string(),
        payment_type: charge.payment_type.to_owned(),
        gross_amount: charge.gross_amount,
        captured: None,
        refunds: Vec::new(),
        status: status.to_owned(),
        bank: charge.bank,
        history: vec![status.to_owned()],
        fraud_status: "accept".to_owned(),
        approval_code: format!("{:06}", transaction_id.as_u128() % 1_000_000),
        transaction_time: now.format(TIME_FORMAT).to_string(),
        expiry_time: (now + lifetime(charge.payment_type, status))
            .format(TIME_FORMAT)
            .to_string(),
    };
    let mut body = txn_body(&txn, status, message);
    if status == "pending" {
        let redirect = format!("{base_url}/3ds/{}", charge.order_id);
        if charge.payment_type == GOPAY {
            body["actions"] = json!([
                {"name": "verification-link-url", "method": "GET", "url": redirect},
            ]);
        }
        body["redirect_url"] = json!(redirect);
    }
    world.txns.insert(charge.order_id, txn);
    body
}

pub(super) fn capture_work(world: &mut MidtransWorld, raw: &[u8]) -> Value {
    let Ok(body) = serde_json::from_slice::<Value>(raw) else {
        return invalid(&["request body must be a JSON object"]);
    };
    let Some(transaction_id) = body["transaction_id"].as_str().filter(|id| !id.is_empty()) else {
        return invalid(&["transaction_id is required"]);
    };
    let requested = match &body["gross_amount"] {
        Value::Null => None,
        value => match value.as_i64() {
            Some(idr) if idr > 0 => Some(idr),
            _ => return invalid(&["gross_amount must be a positive integer"]),
        },
    };
    let Some(txn) = world
        .txns
        .values_mut()
        .find(|txn| txn.transaction_id == transaction_id)
    else {
        return error_body(404, NOT_FOUND);
    };
    if txn.status != "authorize" {
        return error_body(412, CANNOT_MODIFY);
    }
    let captured = requested.unwrap_or(txn.gross_amount);
    if captured > txn.gross_amount {
        return invalid(&["gross_amount must not exceed the pre-authorized gross_amount"]);
    }
    if txn.payment_type == GOPAY && captured != txn.gross_amount {
        return invalid(&["partial capture not supported for GoPay"]);
    }
    txn.captured = Some(captured);
    moved(txn, "capture");
    txn_body(
        txn,
        "capture",
        "Success, Credit Card capture transaction is successful",
    )
}

pub(super) fn cancel_work(world: &mut MidtransWorld, id: &str) -> Value {
    let Some(txn) = world.find_mut(id) else {
        return error_body(404, NOT_FOUND);
    };
    let allowed = match txn.status.as_str() {
        "authorize" => {
            txn.payment_type == GOPAY || matches!(txn.bank.as_str(), "bca" | "bri" | "maybank")
        }
        "capture" => true,
        _ => false,
    };
    if !allowed {
        return error_body(412, CANNOT_MODIFY);
    }
    moved(txn, "cancel");
    let mut body = txn_body(txn, "cancel", "Success, transaction is canceled");
    // The answer to the merchant's own cancel is a success; the notification says 202.
    body["status_code"] = json!("200");
    body
}

/// `POST /v2/{id}/refund`: only a settled capture is refunded (before that: 412, use cancel),
/// at most what was captured and not refunded yet. A `refund_key` seen before answers the
/// same refund again.
pub(super) fn refund_work(world: &mut MidtransWorld, id: &str, raw: &[u8]) -> Value {
    let Ok(body) = serde_json::from_slice::<Value>(raw) else {
        return invalid(&["the body is not JSON"]);
    };
    let key = body["refund_key"].as_str().unwrap_or_default().to_owned();
    let Some(txn) = world.find_mut(id) else {
        return error_body(404, NOT_FOUND);
    };
    if let Some(done) = txn
        .refunds
        .iter()
        .find(|(k, _)| !key.is_empty() && *k == key)
    {
        let amount = done.1;
        return refunded_body(txn, &key, amount);
    }
    if !matches!(txn.status.as_str(), "settlement" | "partial_refund") {
        return error_body(412, CANNOT_MODIFY);
    }
    let captured = txn.captured.unwrap_or(txn.gross_amount);
    let already: i64 = txn.refunds.iter().map(|(_, a)| a).sum();
    let amount = body["amount"].as_i64().unwrap_or(captured - already);
    if amount <= 0 || amount > captured - already {
        return invalid(&["amount must be positive and at most the refundable amount"]);
    }
    txn.refunds.push((key.clone(), amount));
    let status = if already + amount == captured {
        "refund"
    } else {
        "partial_refund"
    };
    moved(txn, status);
    refunded_body(txn, &key, amount)
}

fn refunded_body(txn: &Txn, key: &str, amount: i64) -> Value {
    let mut body = txn_body(txn, &txn.status, "Success, refund request is approved");
    body["status_code"] = json!("200");
    body["refund_key"] = json!(key);
    body["refund_amount"] = json!(super::amount(amount));
    body
}
