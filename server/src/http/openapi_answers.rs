//! The answers every operation may give besides its own, added to the OpenAPI document from the
//! facts the server acts on, so the document cannot drift from the server:
//!
//! - the access policy ([`super::policy::RULES`]): a protected operation declares the `bearer`
//!   scheme and answers 401 (no token, expired, or its session ended) and 403;
//! - the extractors: a JSON body may be refused with 400 (not JSON), 413 (too large) or 422
//!   (fields named); query parameters with 422; a path with an id with 404;
//! - the rate limiter in front of every route: 429 with `Retry-After`;
//! - the `Idempotency-Key` header: 1 to 255 characters, 400 when missing, 409 while the first
//!   request is still running, 422 when reused for another request;
//! - every error is a problem document, served as `application/problem+json`.
//!
//! It also declares the response links of the main journeys (register → log in; search → book
//! → see it, pay, cancel; my bookings), which the stateful tests follow.

use axum::http::Method;
use serde_json::{Map, Value, json};

use super::policy::{self, Access};

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];
const PROBLEM_TYPE: &str = "application/problem+json";

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// Adds the shared answers, security, header limits and links to every operation of `doc`.
pub(super) fn complete(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            if let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) {
                complete_operation(path, method, operation);
            }
        }
    }
    links(paths);
}

fn complete_operation(path: &str, method: &str, operation: &mut Map<String, Value>) {
    let access = Method::from_bytes(method.to_uppercase().as_bytes())
        .ok()
        .and_then(|m| policy::rule(&m, path));
    let parameters = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut);
    let mut has_query = false;
    let mut has_idempotency_key = false;
    for parameter in parameters.into_iter().flatten() {
        match parameter["in"].as_str() {
            Some("query") => has_query = true,
            Some("header")
                if parameter["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case("idempotency-key")) =>
            {
                has_idempotency_key = true;
                parameter["schema"] = json!({"type": "string", "minLength": 1, "maxLength": 255});
            }
            _ => {}
        }
    }
    let has_body = operation.contains_key("requestBody");
    let protected = matches!(access, Some(Access::Authenticated | Access::Roles(_)));
    if protected && !operation.contains_key("security") {
        operation.insert("security".to_owned(), json!([{"bearer": []}]));
    }
    let responses = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else { return };
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    if protected {
        add(
            "401",
            "Not logged in: no access token, or it expired or its session ended",
        );
        add(
            "403",
            "The caller's role may not do this, or the resource is not theirs",
        );
    }
    if path.contains('{') {
        add("404", "No such resource (or not one the caller may see)");
    }
    if has_body {
        add(
            "400",
            "The body is not JSON, or not sent as application/json",
        );
        add("413", "The body is larger than this endpoint accepts");
        add("422", "Fields are not valid; each is named in `errors`");
    }
    if has_query {
        add(
            "422",
            "A query parameter is not valid; each is named in `errors`",
        );
    }
    if has_idempotency_key {
        add("400", "The Idempotency-Key header is missing");
        add(
            "409",
            "The first request with this Idempotency-Key is still being processed",
        );
        add("422", "This Idempotency-Key was used for another request");
    }
    add(
        "429",
        "Too many requests from this address or caller; see `Retry-After`",
    );
    if let Some(limited) = responses.get_mut("429").and_then(Value::as_object_mut) {
        limited.entry("headers").or_insert_with(|| {
            json!({"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}})
        });
    }
    for answer in responses.values_mut() {
        serve_problems_as_problem_json(answer);
    }
}

/// A response documented with the `Problem` schema as `application/json` is served as
/// `application/problem+json`.
fn serve_problems_as_problem_json(answer: &mut Value) {
    let Some(content) = answer.get_mut("content").and_then(Value::as_object_mut) else {
        return;
    };
    let is_problem = content
        .get("application/json")
        .and_then(|c| c["schema"]["$ref"].as_str())
        .is_some_and(|r| r.ends_with("/Problem"));
    if is_problem && let Some(json) = content.remove("application/json") {
        content.insert(PROBLEM_TYPE.to_owned(), json);
    }
}

/// A link: its name, the target operation (path, method), its parameters and request body.
type Link = (
    &'static str,
    (&'static str, &'static str),
    Value,
    Option<Value>,
);

/// The main journeys, as links from an answer (path, method, status) to what follows it.
fn journey_links() -> Vec<(&'static str, &'static str, &'static str, Vec<Link>)> {
    let id = || json!({"id": "$response.body#/id"});
    let booking = "/api/v1/bookings/{id}";
    let entry = "/api/v1/waitlist/{id}";
    vec![
        (
            "/api/v1/customers",
            "post",
            "201",
            vec![(
                "LogIn",
                ("/api/v1/auth/customer/login", "post"),
                json!({}),
                Some(
                    json!({"login": "$request.body#/email", "password": "$request.body#/password"}),
                ),
            )],
        ),
        (
            "/api/v1/auth/customer/login",
            "post",
            "200",
            vec![
                (
                    "MyProfile",
                    ("/api/v1/customers/me", "get"),
                    json!({}),
                    None,
                ),
                (
                    "MyBookings",
                    ("/api/v1/customers/me/bookings", "get"),
                    json!({}),
                    None,
                ),
            ],
        ),
        (
            "/api/v1/bookings",
            "post",
            "201",
            vec![
                ("GetBooking", (booking, "get"), id(), None),
                ("Quote", ("/api/v1/bookings/{id}/quote", "get"), id(), None),
                (
                    "Payment",
                    ("/api/v1/bookings/{id}/payment", "get"),
                    id(),
                    None,
                ),
                (
                    "Cancel",
                    ("/api/v1/bookings/{id}/cancel", "post"),
                    id(),
                    None,
                ),
                (
                    "MyBookings",
                    ("/api/v1/customers/me/bookings", "get"),
                    json!({}),
                    None,
                ),
            ],
        ),
        (
            "/api/v1/bookings/{id}/cancel",
            "post",
            "200",
            vec![("GetCancelled", (booking, "get"), id(), None)],
        ),
        (
            "/api/v1/waitlist",
            "post",
            "201",
            vec![
                ("GetEntry", (entry, "get"), id(), None),
                ("Leave", (entry, "delete"), id(), None),
            ],
        ),
    ]
}

/// `#/paths/<path as a JSON pointer token>/<method>`.
fn operation_ref(path: &str, method: &str) -> String {
    format!(
        "#/paths/{}/{method}",
        path.replace('~', "~0").replace('/', "~1")
    )
}

fn links(paths: &mut Map<String, Value>) {
    for (path, method, status, links) in journey_links() {
        let targets: Vec<bool> = links
            .iter()
            .map(|(_, (to, to_method), _, _)| {
                paths
                    .get(*to)
                    .is_some_and(|item| item.get(*to_method).is_some())
            })
            .collect();
        let Some(answer) = paths
            .get_mut(path)
            .and_then(|item| item.get_mut(method))
            .and_then(|op| op.get_mut("responses"))
            .and_then(|r| r.get_mut(status))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let declared = answer
            .entry("links")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        let Some(declared) = declared else { continue };
        for ((name, (to, to_method), parameters, body), exists) in links.into_iter().zip(targets) {
            if !exists {
                continue;
            }
            let mut link = json!({"operationRef": operation_ref(to, to_method)});
            if parameters.as_object().is_some_and(|p| !p.is_empty()) {
                link["parameters"] = parameters;
            }
            if let Some(body) = body {
                link["requestBody"] = body;
            }
            declared.insert(name.to_owned(), link);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        super::super::openapi::document()
    }

    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(path, item)| {
                METHODS.iter().filter_map(move |m| {
                    item.get(*m)
                        .map(|op| (path.clone(), (*m).to_owned(), op.clone()))
                })
            })
            .collect()
    }

    #[test]
    fn every_error_is_documented_as_problem_json_and_protected_operations_name_their_scheme() {
        let doc = document();
        let operations = operations(&doc);
        assert!(operations.len() > 50, "{} operations", operations.len());
        for (path, method, op) in &operations {
            for (status, answer) in op["responses"].as_object().into_iter().flatten() {
                assert!(
                    answer["content"].get("application/json").is_none()
                        || answer["content"]["application/json"]["schema"]["$ref"]
                            .as_str()
                            .is_none_or(|r| !r.ends_with("/Problem")),
                    "{method} {path} {status}: a problem documented as application/json"
                );
            }
            let access = policy::rule(
                &Method::from_bytes(method.to_uppercase().as_bytes()).unwrap_or(Method::GET),
                path,
            );
            if matches!(access, Some(Access::Authenticated | Access::Roles(_))) {
                assert_eq!(op["security"], json!([{"bearer": []}]), "{method} {path}");
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
            }
            assert!(op["responses"]["429"].is_object(), "{method} {path}");
        }
    }

    #[test]
    fn the_idempotency_key_is_one_to_255_characters_and_the_journeys_are_linked() {
        let doc = document();
        let create = &doc["paths"]["/api/v1/bookings"]["post"];
        let key = create["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "Idempotency-Key")
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            key["schema"],
            json!({"type": "string", "minLength": 1, "maxLength": 255})
        );
        let links = &create["responses"]["201"]["links"];
        assert_eq!(
            links["Cancel"]["operationRef"],
            "#/paths/~1api~1v1~1bookings~1{id}~1cancel/post"
        );
        assert_eq!(
            doc["paths"]["/api/v1/customers"]["post"]["responses"]["201"]["links"]["LogIn"]["requestBody"]
                ["login"],
            "$request.body#/email"
        );
    }
}
