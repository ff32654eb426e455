//! TCP echo ping-pong over loopback, stevedore vs tokio, 2 workers each,
//! same group, same parameters.
//!
//! * 1 connection × 100,000 round trips of 64 bytes;
//! * 100 connections × 1,000 round trips of 64 bytes each, concurrently.
//!
//! `cargo bench --bench net`

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;

const WORKERS: usize = 2;
const MSG: usize = 64;

struct Shape {
    name: &'static str,
    conns: usize,
    round_trips: usize,
}

const SHAPES: [Shape; 2] = [
    Shape {
        name: "1_conn_100k_round_trips",
        conns: 1,
        round_trips: 100_000,
    },
    Shape {
        name: "100_conns_1k_round_trips",
        conns: 100,
        round_trips: 1_000,
    },
];

mod st {
    use super::*;
    use stevedore::net::{TcpListener, TcpStream};

    pub(super) fn run(rt: &stevedore::Runtime, s: &Shape) {
        let (conns, rounds) = (s.conns, s.round_trips);
        rt.block_on(rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = stevedore::spawn(async move {
                for _ in 0..conns {
                    let (mut c, _) = listener.accept().await.unwrap();
                    c.set_nodelay(true).unwrap();
                    stevedore::spawn(async move {
                        let mut buf = [0u8; MSG];
                        for _ in 0..rounds {
                            read_exact(&mut c, &mut buf).await;
                            c.write_all(&buf).await.unwrap();
                        }
                    });
                }
            });
            let wg = stevedore::sync::WaitGroup::new();
            for _ in 0..conns {
                wg.spawn(async move {
                    let mut c = TcpStream::connect(addr).await.unwrap();
                    c.set_nodelay(true).unwrap();
                    let mut buf = [7u8; MSG];
                    for _ in 0..rounds {
                        c.write_all(&buf).await.unwrap();
                        read_exact(&mut c, &mut buf).await;
                    }
                });
            }
            wg.wait().await;
            server.await.unwrap();
        }))
        .unwrap();
    }

    async fn read_exact(c: &mut TcpStream, mut buf: &mut [u8]) {
        while !buf.is_empty() {
            let n = c.read(buf).await.unwrap();
            assert!(n > 0, "peer closed");
            buf = &mut buf[n..];
        }
    }
}

mod tk {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    pub(super) fn run(rt: &tokio::runtime::Runtime, s: &Shape) {
        let (conns, rounds) = (s.conns, s.round_trips);
        rt.block_on(rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                for _ in 0..conns {
                    let (mut c, _) = listener.accept().await.unwrap();
                    c.set_nodelay(true).unwrap();
                    tokio::spawn(async move {
                        let mut buf = [0u8; MSG];
                        for _ in 0..rounds {
                            c.read_exact(&mut buf).await.unwrap();
                            c.write_all(&buf).await.unwrap();
                        }
                    });
                }
            });
            let mut clients = Vec::new();
            for _ in 0..conns {
                clients.push(tokio::spawn(async move {
                    let mut c = TcpStream::connect(addr).await.unwrap();
                    c.set_nodelay(true).unwrap();
                    let mut buf = [7u8; MSG];
                    for _ in 0..rounds {
                        c.write_all(&buf).await.unwrap();
                        c.read_exact(&mut buf).await.unwrap();
                    }
                }));
            }
            for c in clients {
                c.await.unwrap();
            }
            server.await.unwrap();
        }))
        .unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let stevedore = stevedore::Runtime::builder()
        .worker_threads(WORKERS)
        .build()
        .unwrap();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap();
    for s in &SHAPES {
        let mut g = c.benchmark_group(format!("net/{}", s.name));
        g.sample_size(10).measurement_time(Duration::from_secs(10));
        g.bench_function("stevedore", |b| b.iter(|| st::run(&stevedore, s)));
        g.bench_function("tokio", |b| b.iter(|| tk::run(&tokio, s)));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
