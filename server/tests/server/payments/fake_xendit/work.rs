//! What each Xendit call does to the contract server's world: creating a payment request,
//! capturing and refunding a payment, with the documented refusals.

use serde_json::{Value, json};

use super::*;

/// Checks the fixed fields of a manual-capture card payment request.
fn check_request(body: &Value) -> Result<(), Reply> {
    if !body.is_object() {
        return Err(invalid("request body must be a JSON object"));
    }
    for (field, expected) in [
        ("type", "PAY"),
        ("country", "ID"),
        ("currency", "IDR"),
        ("capture_method", "MANUAL"),
        ("channel_code", "CARDS"),
    ] {
        if body[field].as_str() != Some(expected) {
            return Err(invalid(&format!("{field} must be {expected}")));
        }
    }
    if !body["channel_properties"].is_object() {
        return Err(invalid("channel_properties is required for CARDS"));
    }
    Ok(())
}

pub(super) fn create_work(world: &mut XenditWorld, base_url: &str, raw: &[u8]) -> Reply {
    let body = serde_json::from_slice::<Value>(raw).unwrap_or_default();
    if let Err(refused) = check_request(&body) {
        return refused;
    }
    let Some(reference_id) = body["reference_id"].as_str().filter(|id| !id.is_empty()) else {
        return invalid("reference_id is required");
    };
    let Some(request_amount) = idr(&body["request_amount"]) else {
        return invalid("request_amount must be a positive whole IDR amount");
    };
    let properties = &body["channel_properties"];
    let token = properties["payment_token_id"]
        .as_str()
        .or_else(|| body["payment_token_id"].as_str());
    if token.is_none() && !properties["card_details"].is_object() {
        return invalid("channel_properties needs payment_token_id or card_details");
    }
    if world
        .payments
        .values()
        .any(|payment| payment.reference_id == reference_id)
    {
        return error(409, "DUPLICATE_ERROR", "reference_id has already been used");
    }
    let token = token.unwrap_or_default();
    let (status, failure_code) = if token.starts_with("tok-decline") {
        ("FAILED", Some("CARD_DECLINED".to_owned()))
    } else if token.starts_with("tok-3ds") {
        ("REQUIRES_ACTION", None)
    } else {
        ("AUTHORIZED", None)
    };
    let created = now();
    let payment = Payment {
        payment_id: format!("py-{}", uuid::Uuid::new_v4()),
        payment_request_id: format!("pr-{}", uuid::Uuid::new_v4()),
        reference_id: reference_id.to_owned(),
        status: status.to_owned(),
        request_amount,
        captured: 0,
        captures: Vec::new(),
        refunded: 0,
        failure_code,
        history: vec![status.to_owned()],
        description: body["description"].clone(),
        metadata: body["metadata"].clone(),
        created: created.clone(),
        updated: created,
    };
    let actions = if status == "REQUIRES_ACTION" {
        let url = format!("{base_url}/3ds/{}", payment.payment_id);
        json!([{"type": "REDIRECT_CUSTOMER", "descriptor": "WEB_URL", "value": url}])
    } else {
        json!([])
    };
    let mut channel_properties = properties.clone();
    if let Some(properties) = channel_properties.as_object_mut() {
        properties.remove("card_details");
    }
    let mut answer = json!({
        "payment_request_id": payment.payment_request_id,
        "reference_id": payment.reference_id,
        "business_id": BUSINESS_ID,
        "latest_payment_id": payment.payment_id,
        "type": "PAY",
        "country": "ID",
        "currency": "IDR",
        "request_amount": request_amount,
        "capture_method": "MANUAL",
        "channel_code": "CARDS",
        "channel_properties": channel_properties,
        "status": status,
        "actions": actions,
        "description": payment.description,
        "metadata": payment.metadata,
        "created": payment.created,
        "updated": payment.updated,
    });
    if let Some(code) = &payment.failure_code {
        answer["failure_code"] = json!(code);
    }
    world.payments.insert(payment.payment_id.clone(), payment);
    (201, answer)
}

pub(super) fn capture_work(world: &mut XenditWorld, payment_id: &str, raw: &[u8]) -> Reply {
    let body = serde_json::from_slice::<Value>(raw).unwrap_or_default();
    let Some(amount) = idr(&body["capture_amount"]) else {
        return invalid("capture_amount must be a positive whole IDR amount");
    };
    let Some(payment) = world.payments.get_mut(payment_id) else {
        return not_found();
    };
    if payment.status != "AUTHORIZED" {
        return ineligible(&payment.status);
    }
    if amount > payment.request_amount - payment.captured {
        return error(
            400,
            "CAPTURE_AMOUNT_EXCEEDED",
            "Capture amount must be less than or equal to uncaptured authorization amount",
        );
    }
    payment.captured += amount;
    payment.captures.push(Capture {
        capture_id: format!("cap-{}", uuid::Uuid::new_v4()),
        capture_amount: amount,
        capture_timestamp: now(),
    });
    moved(payment, "SUCCEEDED");
    (200, payment_json(payment, "SUCCEEDED"))
}

/// `POST /v3/refunds`: a refund of a SUCCEEDED payment, at most what was captured and not
/// refunded yet; a `reference_id` seen before answers the same refund again.
pub(super) fn refund_work(world: &mut XenditWorld, raw: &[u8]) -> Reply {
    let body = serde_json::from_slice::<Value>(raw).unwrap_or_default();
    let reference = body["reference_id"].as_str().unwrap_or_default().to_owned();
    let payment_id = body["payment_id"].as_str().unwrap_or_default().to_owned();
    if reference.is_empty() || payment_id.is_empty() || !body["reason"].is_string() {
        return invalid("reference_id, payment_id and reason are required");
    }
    if let Some(done) = world
        .refunds
        .iter()
        .find(|r| r["reference_id"] == reference.as_str())
    {
        return (200, done.clone());
    }
    let Some(payment) = world.payments.get_mut(&payment_id) else {
        return not_found();
    };
    if payment.status != "SUCCEEDED" {
        return ineligible(&payment.status);
    }
    let refundable = payment.captured - payment.refunded;
    let amount = match body.get("amount") {
        None | Some(Value::Null) => refundable,
        Some(value) => match idr(value) {
            Some(amount) => amount,
            None => return invalid("amount must be a whole IDR amount"),
        },
    };
    if amount <= 0 || amount > refundable {
        return invalid("amount must be positive and at most the refundable amount");
    }
    payment.refunded += amount;
    let refund = json!({
        "id": format!("rfd-{}", uuid::Uuid::new_v4()),
        "payment_id": payment_id,
        "payment_request_id": payment.payment_request_id,
        "reference_id": reference,
        "amount": amount,
        "currency": "IDR",
        "status": "SUCCEEDED",
        "reason": body["reason"],
        "refund_method": "DIRECT",
        "created": now(),
        "updated": now(),
    });
    world.refunds.push(refund.clone());
    (200, refund)
}
