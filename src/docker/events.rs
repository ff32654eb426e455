//! `events`: the daemon's event feed as a `Stream`.

use super::client::{Docker, Streaming};
use super::error::{Error, Result};
use super::filters::with_query;
use super::http::Request;
use super::models::Event;
use super::Filters;
use futures::Stream;
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Options of [`Docker::events`].
#[derive(Debug, Clone, Default)]
pub struct EventsOptions {
    /// `type`, `event`, `container`, `label`, … filters.
    pub filters: Filters,
    /// Replay events since this Unix time.
    pub since: Option<i64>,
    /// End the stream at this Unix time (otherwise it never ends).
    pub until: Option<i64>,
}

/// Events as they happen. One JSON object may span several chunks, or
/// several share one; a half object at the end is an error item.
pub struct EventStream {
    inner: Pin<Box<dyn Stream<Item = Result<Event>> + Send>>,
}

struct State {
    source: Streaming,
    buf: Vec<u8>,
    pending: VecDeque<Event>,
    done: bool,
}

impl State {
    fn parse(&mut self) -> Result<()> {
        let mut iter = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Event>();
        let mut used = 0;
        loop {
            match iter.next() {
                Some(Ok(ev)) => {
                    used = iter.byte_offset();
                    self.pending.push_back(ev);
                }
                Some(Err(e)) if e.is_eof() => break,
                Some(Err(e)) => {
                    return Err(Error::Protocol(format!(
                        "{}: invalid event JSON: {e}",
                        self.source.what
                    )))
                }
                None => {
                    used = self.buf.len();
                    break;
                }
            }
        }
        self.buf.drain(..used);
        Ok(())
    }

    async fn step(mut self) -> Option<(Result<Event>, State)> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Some((Ok(ev), self));
            }
            if self.done {
                return None;
            }
            match self.source.next().await {
                Ok(Some(bytes)) => {
                    self.buf.extend_from_slice(&bytes);
                    if let Err(e) = self.parse() {
                        self.done = true;
                        return Some((Err(e), self));
                    }
                }
                Ok(None) => {
                    self.done = true;
                    if self.buf.iter().any(|b| !b.is_ascii_whitespace()) {
                        let what = self.source.what.clone();
                        return Some((
                            Err(Error::Protocol(format!(
                                "{what}: event stream ended inside an event"
                            ))),
                            self,
                        ));
                    }
                }
                Err(e) => {
                    self.done = true;
                    return Some((Err(e), self));
                }
            }
        }
    }
}

impl Stream for EventStream {
    type Item = Result<Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventStream")
    }
}

impl Docker {
    /// Subscribes to events; returns once the daemon has acknowledged the
    /// subscription, so actions taken afterwards are seen.
    ///
    /// # Errors
    ///
    /// `Error::Api` (400) for a rejected filter or time range, and the
    /// [common errors](crate::docker#errors); the stream's items fail with
    /// [`Error::Io`] or [`Error::Protocol`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future or the stream ends the subscription.
    pub async fn events(&self, opts: &EventsOptions) -> Result<EventStream> {
        let path = with_query(
            "/events".to_owned(),
            [
                opts.since.map(|s| format!("since={s}")),
                opts.until.map(|u| format!("until={u}")),
                opts.filters.query(),
            ],
        );
        let source = self.stream(Request::new("GET", self.url(&path))).await?;
        let state = State {
            source,
            buf: Vec::new(),
            pending: VecDeque::new(),
            done: false,
        };
        Ok(EventStream {
            inner: Box::pin(futures::stream::unfold(state, State::step)),
        })
    }
}
