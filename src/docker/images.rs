//! Image calls: import (verified), inspect, list, remove.

use super::client::{parse_json, Docker};
use super::containers::path_id;
use super::error::{Error, Result};
use super::filters::with_query;
use super::http::{encode_query, Request};
use super::models::{ImageInspect, ImageSummary};
use super::Filters;

impl Docker {
    /// Imports a root filesystem tar as `repo:tag` and returns the image.
    ///
    /// The daemon answers 200 even for garbage (yielding an empty image), so
    /// the result is verified: an image of size 0 is removed again and
    /// reported as an error.
    pub async fn import_image(&self, tar: Vec<u8>, repo: &str, tag: &str) -> Result<ImageInspect> {
        let path = format!(
            "/images/create?fromSrc=-&repo={}&tag={}",
            encode_query(repo),
            encode_query(tag)
        );
        let req = Request::new("POST", self.url(&path)).body("application/x-tar", tar);
        let what = req.what();
        let resp = self.call_ok(req).await?;
        check_progress(&what, &resp.body)?;
        let reference = format!("{repo}:{tag}");
        let image = self.inspect_image(&reference).await?;
        if image.size <= 0 {
            let _ = self.remove_image(&reference, true).await;
            return Err(Error::Api {
                status: 400,
                message: format!("importing {reference} produced an empty image: the tar is not a valid root filesystem"),
            });
        }
        Ok(image)
    }

    /// Pulls `reference` (`name[:tag]`, default tag `latest`) from its
    /// registry. Failures the daemon reports inside its progress stream
    /// (after a 200) are errors too.
    pub async fn pull_image(&self, reference: &str) -> Result<ImageInspect> {
        let (name, tag) = split_reference(reference);
        let path = format!(
            "/images/create?fromImage={}&tag={}",
            encode_query(name),
            encode_query(tag)
        );
        let req = Request::new("POST", self.url(&path));
        let what = req.what();
        let resp = self.call_ok(req).await?;
        check_progress(&what, &resp.body)?;
        self.inspect_image(&format!("{name}:{tag}")).await
    }

    /// `GET /images/{name}/json`.
    pub async fn inspect_image(&self, name: &str) -> Result<ImageInspect> {
        self.get_json(&format!("/images/{}/json", path_id(name)))
            .await
    }

    /// `GET /images/json`.
    pub async fn list_images(&self, filters: &Filters) -> Result<Vec<ImageSummary>> {
        let path = with_query("/images/json".to_owned(), [filters.query()]);
        self.get_json(&path).await
    }

    /// Removes an image.
    pub async fn remove_image(&self, name: &str, force: bool) -> Result<()> {
        let path = format!("/images/{}?force={}", path_id(name), u8::from(force));
        let req = Request::new("DELETE", self.url(&path));
        let what = req.what();
        let resp = self.call_ok(req).await?;
        let _: serde_json::Value = parse_json(&what, &resp.body).unwrap_or_default();
        Ok(())
    }
}

/// `name[:tag]` → `(name, tag)`; a `:` inside a registry host:port is not a
/// tag separator.
fn split_reference(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, "latest"),
    }
}

/// A progress stream of JSON objects; failures arrive as
/// `{"errorDetail":…,"error":"…"}` after a 200 status.
fn check_progress(what: &str, body: &[u8]) -> Result<()> {
    for value in serde_json::Deserializer::from_slice(body).into_iter::<serde_json::Value>() {
        let value =
            value.map_err(|e| Error::Protocol(format!("{what}: invalid progress JSON: {e}")))?;
        if let Some(err) = value.get("error").and_then(|e| e.as_str()) {
            return Err(Error::Api {
                status: 500,
                message: err.to_owned(),
            });
        }
    }
    Ok(())
}
