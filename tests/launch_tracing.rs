//! The `tracing` feature: a batch's progress, its sweep and the client's
//! requests reach a subscriber as structured events with the right fields
//! and levels — and a failing container is a warning that names its kind.
#![cfg(feature = "tracing")]

#[path = "util/docker.rs"]
mod dutil;
mod util;

use dutil::{docker, image};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use stevedore::docker::launch::{LaunchOptions, Launcher};
use stevedore::docker::ContainerSpec;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;
use util::rt;

/// One recorded event: level, target and every field as text.
#[derive(Debug, Clone)]
struct Seen {
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Seen {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            fields,
        });
    }
}

#[test]
fn a_batch_reports_its_containers_sweep_and_requests_as_events() {
    let recorder = Recorder::default();
    // Worker threads emit the events: the subscriber must be global (this
    // is the only test in this binary).
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(recorder.clone()))
        .expect("no other subscriber in this test binary");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let launcher = Launcher::new(vec![d.clone()]);
        let mut opts = LaunchOptions::new(3);
        opts.concurrency = 2;
        let spec = ContainerSpec::new(&img)
            .cmd(["sh", "-c", "exit 1"])
            .network_mode("none");
        let report = launcher.launch(&spec, &opts, None).await.unwrap();
        assert_eq!(report.failed, 3, "{report}");
        let batch = report.batch.clone();

        let seen = recorder.0.lock().unwrap().clone();
        let of_batch = |msg: &str| {
            seen.iter()
                .filter(|e| {
                    e.target == "stevedore::launch"
                        && e.fields.get("message").map(String::as_str) == Some(msg)
                        && e.fields.get("batch") == Some(&batch)
                })
                .cloned()
                .collect::<Vec<_>>()
        };
        for step in ["created", "started", "exited", "removed"] {
            let events = of_batch(step);
            assert_eq!(events.len(), 3, "{step}: {events:?}");
            assert!(events.iter().all(|e| e.level == Level::DEBUG));
        }
        let failed = of_batch("failed");
        assert_eq!(failed.len(), 3, "{seen:?}");
        for e in &failed {
            assert_eq!(e.level, Level::WARN);
            assert_eq!(e.fields["kind"], "NonZeroExit", "{e:?}");
        }
        let swept = of_batch("swept");
        assert_eq!(swept.len(), 1, "{seen:?}");
        assert_eq!(swept[0].fields["removed"], "0");
        assert_eq!(swept[0].fields["host"], d.host());

        let creates = seen
            .iter()
            .filter(|e| {
                e.target == "stevedore::docker"
                    && e.fields.get("message").map(String::as_str) == Some("request")
                    && e.fields["request"].starts_with("POST ")
                    && e.fields["request"].contains("/containers/create?name=")
                    && e.fields["request"].contains(&batch)
            })
            .count();
        assert_eq!(creates, 3, "one create request per container");
    });
}
