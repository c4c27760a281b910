//! A local HTTP server implementing the documented Verihubs contract (shared/reference
//! payments-kyc.md §3.1): `App-ID`/`API-Key` headers, KTP OCR with quality validation, the
//! government data check and face compare with liveness, a per-call quota that runs out with
//! `403 INSUFFICIENT_QUOTA`, and the `FAIL_ON_<bits>` face-compare failures.
//!
//! Tests register what the "world" looks like: which KTP photo shows which card, which people
//! the population records know, and how each KTP/selfie pair compares.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub(crate) const APP_ID: &str = "sentra-test-app";
pub(crate) const API_KEY: &str = "sentra-test-api-key-0123456789";

/// What a KTP photo shows.
#[derive(Debug, Clone)]
pub(crate) struct Card {
    pub(crate) nik: &'static str,
    pub(crate) name: &'static str,
    /// `DD-MM-YYYY`, as Verihubs writes dates.
    pub(crate) birth_date: &'static str,
    /// `LAKI-LAKI` or `PEREMPUAN`.
    pub(crate) gender: &'static str,
}

/// How a KTP photo and a selfie compare.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Face {
    Same,
    Different,
    NotLive,
    TwoFaces,
}

#[derive(Debug, Default)]
pub(crate) struct World {
    pub(crate) quota: u32,
    cards: HashMap<[u8; 32], Card>,
    /// (NIK, upper-case name, DD-MM-YYYY) the population records know.
    records: HashSet<(String, String, String)>,
    faces: HashMap<([u8; 32], [u8; 32]), Face>,
    /// Paths called, in order.
    pub(crate) calls: Vec<String>,
}

/// The running fake. Stops when dropped.
pub(crate) struct FakeVerihubs {
    pub(crate) url: String,
    pub(crate) world: Arc<Mutex<World>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeVerihubs {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A small PNG-looking photo with `label` inside, distinct per label.
pub(crate) fn photo(label: &str) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(label.as_bytes());
    bytes.extend(std::iter::repeat_n(0xAB, 2048));
    bytes
}

impl FakeVerihubs {
    pub(crate) async fn start(quota: u32) -> anyhow::Result<Self> {
        let world = Arc::new(Mutex::new(World {
            quota,
            ..World::default()
        }));
        let app = Router::new()
            .route("/v2/ktp/extract", post(extract))
            .route("/data-verification/id-verification/verify", post(verify))
            .route("/v1/face/compare", post(compare))
            .with_state(world.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            url: format!("http://{addr}"),
            world,
            task,
        })
    }

    /// The photo `ktp` shows `card`; the records know the person when `registered`.
    pub(crate) fn card(&self, ktp: &[u8], card: Card, registered: bool) {
        let mut world = self.world.lock().expect("world");
        if registered {
            world.records.insert((
                card.nik.to_owned(),
                card.name.to_uppercase(),
                card.birth_date.to_owned(),
            ));
        }
        world.cards.insert(sha(ktp), card);
    }

    /// How `ktp` and `selfie` compare.
    pub(crate) fn face(&self, ktp: &[u8], selfie: &[u8], face: Face) {
        self.world
            .lock()
            .expect("world")
            .faces
            .insert((sha(ktp), sha(selfie)), face);
    }

    pub(crate) fn calls(&self) -> Vec<String> {
        self.world.lock().expect("world").calls.clone()
    }
}

type Answer = (StatusCode, Json<Value>);

/// Authentication and quota, as every endpoint applies them.
fn admit(world: &mut World, headers: &HeaderMap, path: &str) -> Result<(), Answer> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    if header("App-ID") != APP_ID || header("API-Key") != API_KEY {
        return Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Unauthorized", "status_code": 401})),
        ));
    }
    if world.quota == 0 {
        return Err((
            StatusCode::FORBIDDEN,
            Json(
                json!({"message": "Insufficient quota", "error_code": "INSUFFICIENT_QUOTA", "status_code": 403}),
            ),
        ));
    }
    world.quota -= 1;
    world.calls.push(path.to_owned());
    Ok(())
}

fn image(body: &Value, field: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(body[field].as_str()?)
        .ok()
}

async fn extract(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Answer {
    let mut world = world.lock().expect("world");
    if let Err(refused) = admit(&mut world, &headers, "/v2/ktp/extract") {
        return refused;
    }
    let Some(photo) = image(&body, "image") else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "image is required", "error_code": "INVALID_PAYLOAD"})),
        );
    };
    let blurry = photo.windows(6).any(|w| w == b"BLURRY");
    if blurry && body["validate_quality"].as_bool() == Some(true) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "message": "Image quality validation failed",
                "error_code": "IMAGE_QUALITY_NOT_PASSED",
                "image_quality": {"blur": true, "dark": false, "flashlight": false, "grayscale": false}
            })),
        );
    }
    let Some(card) = world.cards.get(&sha(&photo)).cloned() else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "KTP not detected", "error_code": "KTP_NOT_DETECTED"})),
        );
    };
    (
        StatusCode::OK,
        Json(json!({
            "message": "Extract KTP success",
            "status_code": 200,
            "image_quality": {"blur": false, "dark": false, "flashlight": false, "grayscale": false},
            "data": {
                "nik": card.nik, "full_name": card.name.to_uppercase(), "date_of_birth": card.birth_date,
                "gender": card.gender, "address": "JL. MERDEKA NO. 1", "administrative_village": "GAMBIR",
                "district": "GAMBIR", "city": "JAKARTA PUSAT", "blood_type": "O", "marital_status": "BELUM KAWIN",
                "nationality": "WNI"
            }
        })),
    )
}

async fn verify(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Answer {
    let mut world = world.lock().expect("world");
    if let Err(refused) = admit(
        &mut world,
        &headers,
        "/data-verification/id-verification/verify",
    ) {
        return refused;
    }
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
    let (nik, name, birth_date) = (text("nik"), text("name").to_uppercase(), text("birth_date"));
    if nik.len() != 16 || !nik.chars().all(|c| c.is_ascii_digit()) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "nik must be 16 digits", "error_code": "INVALID_PAYLOAD"})),
        );
    }
    let known = |f: &dyn Fn(&(String, String, String)) -> bool| world.records.iter().any(f);
    let by_nik: Vec<&(String, String, String)> =
        world.records.iter().filter(|r| r.0 == nik).collect();
    let data = json!({
        "id": uuid::Uuid::new_v4(),
        "nik": known(&|r| r.0 == nik),
        "name": by_nik.iter().any(|r| r.1 == name),
        "birth_date": by_nik.iter().any(|r| r.2 == birth_date),
        "reference_id": body["reference_id"],
    });
    (
        StatusCode::OK,
        Json(json!({"message": "ID Check verification has been done", "data": data})),
    )
}

async fn compare(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Answer {
    let mut world = world.lock().expect("world");
    if let Err(refused) = admit(&mut world, &headers, "/v1/face/compare") {
        return refused;
    }
    let (Some(first), Some(second)) = (image(&body, "image_1"), image(&body, "image_2")) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "image_1 and image_2 are required"})),
        );
    };
    let face = world
        .faces
        .get(&(sha(&first), sha(&second)))
        .copied()
        .unwrap_or(Face::Different);
    let answer = match face {
        Face::Same => {
            json!({"message": "Compare success", "similarity_status": true, "similarity": 0.93})
        }
        Face::Different => {
            json!({"message": "Face not similar", "similarity_status": false, "error_code": "FAIL_ON_16"})
        }
        Face::NotLive => {
            json!({"message": "Liveness failed", "similarity_status": true, "error_code": "FAIL_ON_1"})
        }
        Face::TwoFaces => {
            json!({"message": "More than one face", "similarity_status": false, "error_code": "FAIL_ON_8"})
        }
    };
    (StatusCode::OK, Json(answer))
}
