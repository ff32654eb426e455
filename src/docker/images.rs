//! Image calls: ensure (present or pulled), import (verified, never left
//! dangling), tag, pull, inspect, list, remove.
//!
//! An import is always sent *untagged* and tagged afterwards, once the
//! image it produced was verified: podman's import ignores the tag (it
//! would plant `repo:latest`), and an untagged import that fails
//! verification or tagging can be removed by the id the daemon reported,
//! so a failed import leaves no dangling image behind — also when the
//! caller's future is dropped half-way (a detached task removes it).

use super::client::{parse_json, Docker};
use super::containers::path_id;
use super::error::{Error, Result};
use super::filters::with_query;
use super::http::{encode_query, Request};
use super::models::{ImageInspect, ImageSummary};
use super::reference::ImageRef;
use super::Filters;
use crate::runtime::Handle;

impl Docker {
    /// Makes sure `reference` is on this engine: returns it if present,
    /// pulls it if not. Never imports or tags anything.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] for a malformed reference (nothing is
    /// sent), [`Error::ImageUnavailable`] when the image is missing and the
    /// pull failed, or the error of checking for it (then no pull is
    /// tried).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons a pull in progress; the daemon may
    /// still finish it.
    pub async fn ensure_image(&self, reference: &str) -> Result<ImageInspect> {
        ImageRef::parse(reference)?;
        match self.inspect_image(reference).await {
            Ok(image) => return Ok(image),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        self.pull_image(reference)
            .await
            .map_err(|source| Error::ImageUnavailable {
                reference: reference.to_owned(),
                host: self.host().to_owned(),
                source: Box::new(source),
            })
    }

    /// Imports a root filesystem tar as `repo:tag` and returns the image.
    ///
    /// The tar is imported untagged, verified, then tagged (moving the tag
    /// if it existed, as `docker import` does). The daemon answers 200
    /// even for garbage (an empty image), so an image of size 0 is an
    /// error; whatever fails after the import removes the imported image.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] for a malformed `repo:tag` (nothing is
    /// sent); the daemon's error; [`Error::Api`] with status 400 for an
    /// empty image.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future after the daemon accepted the tar removes the
    /// untagged image in a detached task.
    pub async fn import_image(&self, tar: Vec<u8>, repo: &str, tag: &str) -> Result<ImageInspect> {
        let reference = ImageRef::parse(&format!("{repo}:{tag}"))?;
        let guard = self.import_untagged(tar).await?;
        let verified = async {
            let image = self.inspect_image(&guard.id).await?;
            if image.size <= 0 {
                return Err(Error::Api {
                    status: 400,
                    message: format!(
                        "importing {reference} produced an empty image: the tar is not a valid root filesystem"
                    ),
                });
            }
            self.tag_image(&guard.id, reference.name(), reference.tag_or_latest())
                .await
        };
        match verified.await {
            Ok(()) => {
                guard.disarm();
                self.inspect_image(&reference.to_string()).await
            }
            Err(e) => {
                guard.remove().await;
                Err(e)
            }
        }
    }

    /// Sends `tar` to `POST /images/create?fromSrc=-` without a name and
    /// returns a guard holding the new image's id, which removes the image
    /// unless disarmed.
    pub(crate) async fn import_untagged(&self, tar: Vec<u8>) -> Result<ImageGuard> {
        let req = Request::new("POST", self.url("/images/create?fromSrc=-"))
            .body("application/x-tar", tar);
        let what = req.what();
        let resp = self.call_ok(req).await?;
        let id = imported_id(&resp.body);
        // The id comes before any error in the stream: remove it either way.
        let guard = id.map(|id| ImageGuard::new(self.clone(), id));
        if let Err(e) = check_progress(&what, &resp.body) {
            if let Some(guard) = guard {
                guard.remove().await;
            }
            return Err(e);
        }
        guard.ok_or_else(|| Error::Protocol(format!("{what}: the reply names no image id")))
    }

    /// `POST /images/{name}/tag`: gives `name` (an id or reference) the
    /// reference `repo:tag`, moving the tag if another image had it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] for a malformed `repo:tag`;
    /// [`Error::NotFound`] when `name` does not exist.
    ///
    /// # Cancel safety
    ///
    /// A request already sent may still take effect.
    pub async fn tag_image(&self, name: &str, repo: &str, tag: &str) -> Result<()> {
        ImageRef::parse(&format!("{repo}:{tag}"))?;
        let path = format!(
            "/images/{}/tag?repo={}&tag={}",
            path_id(name),
            encode_query(repo),
            encode_query(tag)
        );
        self.call_ok(Request::new("POST", self.url(&path))).await?;
        Ok(())
    }

    /// Pulls `reference` (`name[:tag]`, default tag `latest`) from its
    /// registry. Failures the daemon reports inside its progress stream
    /// (after a 200) are errors too.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] for a malformed reference (nothing is
    /// sent); the daemon's error.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the pull; the daemon may finish it.
    pub async fn pull_image(&self, reference: &str) -> Result<ImageInspect> {
        let r = ImageRef::parse(reference)?;
        let mut path = format!("/images/create?fromImage={}", encode_query(r.name()));
        match (r.digest(), r.tag()) {
            (Some(digest), _) => path += &format!("&tag={}", encode_query(digest)),
            (None, tag) => path += &format!("&tag={}", encode_query(tag.unwrap_or("latest"))),
        }
        let req = Request::new("POST", self.url(&path));
        let what = req.what();
        let resp = self.call_ok(req).await?;
        check_progress(&what, &resp.body)?;
        let pulled = match r.digest() {
            Some(digest) => format!("{}@{digest}", r.name()),
            None => format!("{}:{}", r.name(), r.tag_or_latest()),
        };
        self.inspect_image(&pulled).await
    }

    /// `GET /images/{name}/json`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing image, and the
    /// [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn inspect_image(&self, name: &str) -> Result<ImageInspect> {
        self.get_json(&format!("/images/{}/json", path_id(name)))
            .await
    }

    /// `GET /images/json`.
    ///
    /// # Errors
    ///
    /// `Error::Api` (400) for a rejected filter, and the
    /// [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn list_images(&self, filters: &Filters) -> Result<Vec<ImageSummary>> {
        let path = with_query("/images/json".to_owned(), [filters.query()]);
        self.get_json(&path).await
    }

    /// Removes an image (`force`: even if a container uses it).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing image, [`Error::Conflict`] for one a
    /// container uses (without `force`), and the
    /// [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the removal may still happen after the future is
    /// dropped.
    pub async fn remove_image(&self, name: &str, force: bool) -> Result<()> {
        let path = format!("/images/{}?force={}", path_id(name), u8::from(force));
        let req = Request::new("DELETE", self.url(&path));
        let what = req.what();
        let resp = self.call_ok(req).await?;
        let _: serde_json::Value = parse_json(&what, &resp.body).unwrap_or_default();
        Ok(())
    }
}

/// Removes an image when dropped armed: an import whose verification or
/// tagging failed, or whose caller went away. Runs as a detached task.
#[derive(Debug)]
pub(crate) struct ImageGuard {
    docker: Option<Docker>,
    pub(crate) id: String,
}

impl ImageGuard {
    fn new(docker: Docker, id: String) -> ImageGuard {
        ImageGuard {
            docker: Some(docker),
            id,
        }
    }

    /// Keeps the image.
    pub(crate) fn disarm(mut self) {
        self.docker = None;
    }

    /// Removes the image now (not forced: an image a container already
    /// uses stays); errors are ignored, as there is nothing more to do.
    pub(crate) async fn remove(mut self) {
        if let Some(docker) = self.docker.take() {
            let _ = docker.remove_image(&self.id, false).await;
        }
    }
}

impl Drop for ImageGuard {
    fn drop(&mut self) {
        let Some(docker) = self.docker.take() else {
            return;
        };
        let id = std::mem::take(&mut self.id);
        match Handle::try_current() {
            // Not forced: an image a container already uses stays.
            Some(h) => drop(h.spawn(async move {
                let _ = docker.remove_image(&id, false).await;
            })),
            None => crate::docker::trace::cleanup_impossible("image", &id),
        }
    }
}

/// The image id an import reports: dockerd sends `{"status":"sha256:…"}`,
/// podman adds `"id":"sha256:…"`.
fn imported_id(body: &[u8]) -> Option<String> {
    let is_id = |s: &str| {
        let hex = s.strip_prefix("sha256:").unwrap_or(s);
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
    };
    let mut found = None;
    for value in serde_json::Deserializer::from_slice(body).into_iter::<serde_json::Value>() {
        let Ok(value) = value else { break };
        for key in ["id", "status"] {
            if let Some(s) = value.get(key).and_then(|v| v.as_str()) {
                if is_id(s.trim()) {
                    found = Some(s.trim().to_owned());
                }
            }
        }
    }
    found
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
