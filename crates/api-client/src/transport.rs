//! Building a request from an [`Endpoint`] and reading its answer: the bearer token, path
//! parameters (each percent-encoded as one segment), JSON bodies, and the mapping of every
//! failure into [`ApiError`].

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode, header};
use sentra_protocol::Problem;
use serde::de::DeserializeOwned;

use crate::{ApiClient, ApiError, endpoints::Endpoint};

impl ApiClient {
    /// A request to `endpoint` with its `{…}` parameters replaced by `args`, in order, carrying
    /// the client's token when it has one.
    pub(crate) fn request(
        &self,
        endpoint: Endpoint,
        args: &[&str],
    ) -> Result<RequestBuilder, ApiError> {
        let mut url = self.base.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| ApiError::InvalidBaseUrl {
                    url: self.base.to_string(),
                    reason: "the URL cannot have a path".to_owned(),
                })?;
            segments.pop_if_empty();
            let mut args = args.iter();
            for part in endpoint.path.trim_start_matches('/').split('/') {
                if part.starts_with('{') && part.ends_with('}') {
                    let value = args.next().ok_or_else(|| missing(endpoint))?;
                    // The URL would drop or fold these segments and call another endpoint.
                    if matches!(*value, "" | "." | "..") {
                        return Err(ApiError::InvalidRequest(format!(
                            "{value:?} is not a valid {part} for {}",
                            endpoint.path
                        )));
                    }
                    segments.push(value);
                } else {
                    segments.push(part);
                }
            }
            if args.next().is_some() {
                return Err(missing(endpoint));
            }
        }
        let request = self.http.request(endpoint.method.to_reqwest(), url);
        Ok(match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        })
    }

    /// Sends `request`; only a missing answer is an error here.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Response, ApiError> {
        let (client, request) = request.build_split();
        // A header value that is not allowed (a token or key with a line break): the caller's bug.
        let request = request.map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
        let url = request.url().to_string();
        client
            .execute(request)
            .await
            .map_err(|source| ApiError::Unreachable { url, source })
    }

    /// Sends `request` and decodes a JSON answer with one of the `accepted` statuses.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        accepted: &[StatusCode],
    ) -> Result<T, ApiError> {
        let (_, body) = self.json_with_status(request, accepted).await?;
        Ok(body)
    }

    /// Like [`ApiClient::json`], with the status that came with the answer.
    pub(crate) async fn json_with_status<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        accepted: &[StatusCode],
    ) -> Result<(StatusCode, T), ApiError> {
        let response = self.send(request).await?;
        let status = response.status();
        let bytes = body_of(response, accepted).await?;
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok((status, value)),
            // An accepted error status (readiness' 503) can still carry a problem instead.
            Err(_) if !status.is_success() && serde_json::from_slice::<Problem>(&bytes).is_ok() => {
                Err(problem_error(status, &bytes, None))
            }
            Err(e) => Err(ApiError::InvalidResponse {
                status: status.as_u16(),
                reason: format!("the body does not match the contract: {e}"),
            }),
        }
    }

    /// Sends `request` and expects an answer without a body to read (204).
    pub(crate) async fn empty(&self, request: RequestBuilder) -> Result<(), ApiError> {
        let response = self.send(request).await?;
        body_of(response, &[StatusCode::NO_CONTENT]).await.map(drop)
    }

    /// Sends `request` and returns the raw bytes and content type of a 200 answer.
    pub(crate) async fn bytes(
        &self,
        request: RequestBuilder,
    ) -> Result<(String, Vec<u8>), ApiError> {
        let response = self.send(request).await?;
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = body_of(response, &[StatusCode::OK]).await?;
        Ok((content_type, bytes))
    }
}

fn missing(endpoint: Endpoint) -> ApiError {
    ApiError::InvalidRequest(format!(
        "{} needs exactly its path parameters",
        endpoint.path
    ))
}

/// The body of an answer with an `accepted` status, or the error the answer carries.
async fn body_of(response: Response, accepted: &[StatusCode]) -> Result<Vec<u8>, ApiError> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ApiError::InvalidResponse {
            status: status.as_u16(),
            reason: format!("reading the body failed: {e}"),
        })?;
    if accepted.contains(&status) {
        return Ok(bytes.to_vec());
    }
    Err(problem_error(status, &bytes, retry_after))
}

/// The error an answer with status `status` and body `bytes` carries.
fn problem_error(status: StatusCode, bytes: &[u8], retry_after: Option<Duration>) -> ApiError {
    match serde_json::from_slice::<Problem>(bytes) {
        Ok(problem) => ApiError::Server {
            status: status.as_u16(),
            problem: Box::new(problem),
            retry_after,
        },
        Err(_) => ApiError::InvalidResponse {
            status: status.as_u16(),
            reason: "an error without a problem document".to_owned(),
        },
    }
}
