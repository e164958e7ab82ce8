//! Bearer-token check (RFC 6750 §2.1) for the `/api` routes.
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::ApiState;

/// The SHA-256 of a token; the API keeps only this, never the token itself.
pub(super) fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// Compares two digests in time independent of where they differ. Hashing first also hides
/// the configured token's length.
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(req: &Request) -> Option<&[u8]> {
    let value = req.headers().get(AUTHORIZATION)?.as_bytes();
    let (scheme, token) = value.split_at_checked(7)?;
    scheme.eq_ignore_ascii_case(b"Bearer ").then_some(token)
}

/// Middleware: runs the route when the bearer token matches `api.token`, else 401.
pub(super) async fn require_token(
    State(state): State<ApiState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match bearer(&req) {
        Some(token) if same_digest(&digest(token), &state.token_digest) => Ok(next.run(req).await),
        _ => Err(ApiError::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_compare_by_value() {
        assert!(same_digest(&digest(b"s3cret"), &digest(b"s3cret")));
        assert!(!same_digest(&digest(b"s3cret"), &digest(b"s3cres")));
        assert!(!same_digest(&digest(b""), &digest(b"s3cret")));
    }
}
