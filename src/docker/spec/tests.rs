//! Parse and body tests: every `docker run` format, and adversarial input
//! (empty, huge, malformed, overflowing, NUL bytes).

use super::*;
use serde_json::json;

#[test]
fn memory_units() {
    let cases = [
        ("0", 0),
        ("4096", 4096),
        ("4096b", 4096),
        ("1k", 1024),
        ("1K", 1024),
        ("1kb", 1024),
        ("1KiB", 1024),
        ("64m", 64 << 20),
        ("64 MB", 64 << 20),
        ("1.5g", 3 << 29),
        ("2t", 2 << 40),
        ("1p", 1 << 50),
        ("0.5k", 512),
        ("1.0001k", 1024),
        ("000064m", 64 << 20),
        (".5m", 512 << 10),
        ("8191p", 8191 << 50),
    ];
    for (s, want) in cases {
        assert_eq!(parse_memory(s), Ok(want), "{s}");
    }
}

#[test]
fn memory_rejects() {
    assert_eq!(
        parse_memory(""),
        Err(SpecError::Empty { option: "--memory" })
    );
    for bad in [
        "m", "-1m", "64x", "64mm", "1.5.5m", "1.", ".", " 64m", "64m ", "64  m", "1e9", "0x10",
        "64m\0", "６４m", "+64",
    ] {
        assert!(
            matches!(parse_memory(bad), Err(SpecError::InvalidMemory { .. })),
            "{bad:?}: {:?}",
            parse_memory(bad)
        );
    }
    for big in [
        "8192p",
        "9223372036854775808",
        "99999999999999999999999999999k",
    ] {
        assert!(
            matches!(parse_memory(big), Err(SpecError::Overflow { .. })),
            "{big}: {:?}",
            parse_memory(big)
        );
    }
    assert_eq!(parse_memory("9223372036854775807"), Ok(i64::MAX));
    let huge = "9".repeat(100_000);
    assert!(matches!(
        parse_memory(&huge),
        Err(SpecError::TooLong { .. })
    ));
}

#[test]
fn cpus() {
    let cases = [
        ("1", 1_000_000_000),
        ("1.5", 1_500_000_000),
        ("0.25", 250_000_000),
        (".5", 500_000_000),
        ("0.000000001", 1),
        ("2.000000000000", 2_000_000_000),
        ("9223372036", 9_223_372_036_000_000_000),
    ];
    for (s, want) in cases {
        assert_eq!(parse_cpus(s), Ok(want), "{s}");
    }
    assert!(matches!(
        parse_cpus("0.0000000001"),
        Err(SpecError::CpusTooPrecise { .. })
    ));
    assert!(matches!(
        parse_cpus("0"),
        Err(SpecError::NotPositive { .. })
    ));
    assert!(matches!(
        parse_cpus("0.000"),
        Err(SpecError::NotPositive { .. })
    ));
    for bad in ["-1", "1.", "abc", "1,5", "1e3", "3/2", " 1", "NaN", "inf"] {
        assert!(
            matches!(parse_cpus(bad), Err(SpecError::InvalidCpus { .. })),
            "{bad}"
        );
    }
    for big in ["9223372037", "99999999999999999999"] {
        assert!(
            matches!(parse_cpus(big), Err(SpecError::Overflow { .. })),
            "{big}"
        );
    }
    assert_eq!(parse_cpus(""), Err(SpecError::Empty { option: "--cpus" }));
    assert!(matches!(
        parse_cpus(&"1".repeat(1000)),
        Err(SpecError::TooLong { .. })
    ));
}

#[test]
fn mounts_parse() {
    let m: Mount = "/h:/c".parse().unwrap();
    assert_eq!(m, Mount::bind("/h", "/c"));
    assert_eq!(m.bind_entry().as_deref(), Some("/h:/c"));
    let m: Mount = "/h:/c:ro".parse().unwrap();
    assert_eq!(m.bind_entry().as_deref(), Some("/h:/c:ro"));
    let m: Mount = "/h:/c:rw,z".parse().unwrap();
    assert!(!m.is_read_only());
    assert_eq!(m.to_string(), "/h:/c:z");
    let m: Mount = "/h:/c:ro,rslave".parse().unwrap();
    assert_eq!(m.to_string(), "/h:/c:ro,rslave");
    let m: Mount = "vol-1:/data:nocopy".parse().unwrap();
    assert_eq!(m.source(), &MountSource::Volume("vol-1".into()));
    let m: Mount = "/anon".parse().unwrap();
    assert_eq!(m.source(), &MountSource::Anonymous);
    assert_eq!(m.bind_entry(), None);

    let format = |s: &str| matches!(s.parse::<Mount>(), Err(SpecError::MountFormat { .. }));
    for bad in ["/a:/b:ro:x", ":/c", "/h:", "/h:/c:", "a:b:c:d:e"] {
        assert!(format(bad), "{bad}: {:?}", bad.parse::<Mount>());
    }
    assert_eq!("".parse::<Mount>(), Err(SpecError::Empty { option: "-v" }));
    for bad in ["/h:c", "/h:/", "relative", "/h:./c"] {
        assert!(
            matches!(
                bad.parse::<Mount>(),
                Err(SpecError::InvalidContainerPath { .. })
            ),
            "{bad}: {:?}",
            bad.parse::<Mount>()
        );
    }
    for bad in ["./h:/c", "a:/c", "-x:/c", "a b:/c", "~/h:/c"] {
        assert!(
            matches!(
                bad.parse::<Mount>(),
                Err(SpecError::InvalidVolumeName { .. })
            ),
            "{bad}: {:?}",
            bad.parse::<Mount>()
        );
    }
    for bad in [
        "/h:/c:ro,rw",
        "/h:/c:ro,ro",
        "/h:/c:z,Z",
        "/h:/c:nocopy",
        "v1:/c:shared",
        "/h:/c:exec",
        "/h:/c:ro,",
    ] {
        assert!(
            matches!(
                bad.parse::<Mount>(),
                Err(SpecError::InvalidMountOption { .. })
            ),
            "{bad}: {:?}",
            bad.parse::<Mount>()
        );
    }
    assert!(matches!(
        "/h\0:/c".parse::<Mount>(),
        Err(SpecError::NulByte { .. })
    ));
    let long = format!("/{}:/c", "a".repeat(5000));
    assert!(matches!(
        long.parse::<Mount>(),
        Err(SpecError::TooLong { .. })
    ));
    assert!(matches!(
        "x".repeat(1 << 20).parse::<Mount>(),
        Err(SpecError::TooLong { .. })
    ));
    assert!(matches!(
        Mount::anonymous("/a").read_only(true).validate(),
        Err(SpecError::InvalidMountOption { .. })
    ));
}

#[test]
fn ports_parse() {
    let entries = |s: &str| s.parse::<PortBinding>().unwrap().entries();
    let e = |p: &str, ip: &str, h: &str| (p.to_owned(), ip.to_owned(), h.to_owned());
    assert_eq!(entries("80"), [e("80/tcp", "", "")]);
    assert_eq!(entries("8080:80"), [e("80/tcp", "", "8080")]);
    assert_eq!(entries(":80"), [e("80/tcp", "", "")]);
    assert_eq!(entries("53:53/udp"), [e("53/udp", "", "53")]);
    assert_eq!(
        entries("127.0.0.1:8080:80"),
        [e("80/tcp", "127.0.0.1", "8080")]
    );
    assert_eq!(entries("127.0.0.1::80"), [e("80/tcp", "127.0.0.1", "")]);
    assert_eq!(entries("[::1]:8080:80/sctp"), [e("80/sctp", "::1", "8080")]);
    assert_eq!(
        entries("8000-8001:80-81"),
        [e("80/tcp", "", "8000"), e("81/tcp", "", "8001")]
    );
    assert_eq!(entries("8000-8010:80"), [e("80/tcp", "", "8000-8010")]);
    assert_eq!(entries("65535:1"), [e("1/tcp", "", "65535")]);
    for s in ["8080:80/udp", "127.0.0.1:8080:80", "[::1]::80", "80"] {
        let p: PortBinding = s.parse().unwrap();
        assert_eq!(p.to_string().parse::<PortBinding>(), Ok(p.clone()), "{s}");
    }

    let check = |s: &str, f: fn(&SpecError) -> bool| {
        let r = s.parse::<PortBinding>();
        assert!(r.as_ref().is_err_and(f), "{s:?}: {r:?}");
    };
    check("", |e| matches!(e, SpecError::Empty { .. }));
    for bad in [
        "0",
        "65536",
        "8080:0",
        "x:80",
        "80-",
        "-80",
        "81-80",
        "+80",
        "99999999999999999999",
    ] {
        check(bad, |e| matches!(e, SpecError::InvalidPort { .. }));
    }
    for bad in ["8080:80/icmp", "80/", "80/TCP"] {
        check(bad, |e| matches!(e, SpecError::InvalidProtocol { .. }));
    }
    for bad in ["1.2.3:8080:80", "host:8080:80", "[nope]:1:2"] {
        check(bad, |e| matches!(e, SpecError::InvalidIp { .. }));
    }
    for bad in ["1:2:3:4", "[::1]:80", "[::1:8080:80"] {
        check(bad, |e| matches!(e, SpecError::PortFormat { .. }));
    }
    check("8000-8002:80-81", |e| {
        matches!(e, SpecError::PortRangeMismatch { .. })
    });
    check(&"8".repeat(10_000), |e| {
        matches!(e, SpecError::TooLong { .. })
    });
}

#[test]
fn restart_ulimit_hosts() {
    assert_eq!("no".parse(), Ok(RestartPolicy::No));
    assert_eq!("always".parse(), Ok(RestartPolicy::Always));
    assert_eq!(
        "on-failure".parse(),
        Ok(RestartPolicy::OnFailure { max_retries: None })
    );
    for bad in [
        "",
        "on-failure:",
        "on-failure:-1",
        "on-failure:x",
        "always:3",
        "on-failure:99999999999",
    ] {
        assert!(bad.parse::<RestartPolicy>().is_err(), "{bad}");
    }

    let u: Ulimit = "nofile=1024".parse().unwrap();
    assert_eq!((u.soft(), u.hard()), (1024, 1024));
    let u: Ulimit = "core=-1:-1".parse().unwrap();
    assert_eq!((u.soft(), u.hard()), (-1, -1));
    assert!("nofile=100:-1".parse::<Ulimit>().is_ok());
    assert!(matches!(
        "nofile=-1:100".parse::<Ulimit>(),
        Err(SpecError::UlimitSoftAboveHard { .. })
    ));
    assert!(matches!(
        "nofiles=1".parse::<Ulimit>(),
        Err(SpecError::UnknownUlimit { .. })
    ));
    for bad in [
        "nofile",
        "nofile=",
        "nofile=a",
        "nofile=1:2:3",
        "nofile=-2",
        "nofile=99999999999999999999",
    ] {
        assert!(
            matches!(bad.parse::<Ulimit>(), Err(SpecError::UlimitFormat { .. })),
            "{bad}: {:?}",
            bad.parse::<Ulimit>()
        );
    }

    let h: ExtraHost = "db=10.0.0.5".parse().unwrap();
    assert_eq!(h.to_string(), "db:10.0.0.5");
    let h: ExtraHost = "db:[::1]".parse().unwrap();
    assert_eq!(h.to_string(), "db:::1");
    for bad in [
        "",
        "db",
        ":1.2.3.4",
        "db:",
        "db:1.2.3",
        "d b:1.2.3.4",
        "db:host-gw",
    ] {
        assert!(bad.parse::<ExtraHost>().is_err(), "{bad}");
    }
}

#[test]
fn body_has_every_option() {
    let spec = ContainerSpec::new("img:1")
        .cmd(["sh", "-c", "true"])
        .entrypoint(["/bin/sh"])
        .env("A", "1")
        .env("B", "x=y")
        .label("l", "v")
        .hostname("box-1")
        .working_dir("/w")
        .user("1000:1000")
        .mount("/h:/c:ro".parse().unwrap())
        .mount("/anon".parse().unwrap())
        .publish("127.0.0.1:8080:80".parse().unwrap())
        .publish("53/udp".parse().unwrap())
        .restart(RestartPolicy::OnFailure {
            max_retries: Some(2),
        })
        .read_only_rootfs(true)
        .cap_add("net_admin")
        .cap_drop("ALL")
        .ulimit("nofile=10:20".parse().unwrap())
        .extra_host("db:10.0.0.5".parse().unwrap())
        .init(true)
        .memory(parse_memory("64m").unwrap())
        .nano_cpus(parse_cpus("1.5").unwrap());
    let body = spec.create_body().unwrap();
    assert_eq!(body["Image"], "img:1");
    assert_eq!(body["Entrypoint"], json!(["/bin/sh"]));
    assert_eq!(body["Env"], json!(["A=1", "B=x=y"]));
    assert_eq!(body["Hostname"], "box-1");
    assert_eq!(body["WorkingDir"], "/w");
    assert_eq!(body["User"], "1000:1000");
    assert_eq!(body["Volumes"], json!({"/anon": {}}));
    assert_eq!(body["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
    assert!(body.get("OpenStdin").is_none());
    let h = &body["HostConfig"];
    assert_eq!(h["Binds"], json!(["/h:/c:ro"]));
    assert_eq!(
        h["PortBindings"],
        json!({
            "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
            "53/udp": [{"HostIp": "", "HostPort": ""}],
        })
    );
    assert_eq!(
        h["RestartPolicy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 2})
    );
    assert_eq!(h["ReadonlyRootfs"], true);
    assert_eq!(h["CapAdd"], json!(["CAP_NET_ADMIN"]));
    assert_eq!(h["CapDrop"], json!(["ALL"]));
    assert_eq!(
        h["Ulimits"],
        json!([{"Name": "nofile", "Soft": 10, "Hard": 20}])
    );
    assert_eq!(h["ExtraHosts"], json!(["db:10.0.0.5"]));
    assert_eq!(h["Init"], true);
    assert_eq!(h["Memory"], 64 << 20);
    assert_eq!(h["NanoCpus"], 1_500_000_000i64);
}

#[test]
fn raw_patches_merge_last() {
    let spec = ContainerSpec::new("img")
        .memory(1 << 30)
        .label("a", "1")
        .raw_host_config(json!({"Memory": null, "ShmSize": 1024}))
        .raw_host_config(json!({"ShmSize": 2048, "Devices": []}))
        .raw_config(json!({"Labels": {"a": null}}))
        .raw_config(json!({"Labels": {"b": "2"}, "StopSignal": "SIGINT"}));
    let body = spec.create_body().unwrap();
    let h = &body["HostConfig"];
    assert!(h.get("Memory").is_none(), "null removes: {h}");
    assert_eq!(h["ShmSize"], 2048);
    assert_eq!(h["Devices"], json!([]));
    assert_eq!(body["Labels"], json!({"b": "2"}));
    assert_eq!(body["StopSignal"], "SIGINT");

    assert_eq!(
        ContainerSpec::new("i").raw_config(json!([1])).validate(),
        Err(SpecError::RawNotObject { target: "Config" })
    );
    assert_eq!(
        ContainerSpec::new("i")
            .raw_host_config(json!("x"))
            .validate(),
        Err(SpecError::RawNotObject {
            target: "HostConfig"
        })
    );
    assert_eq!(
        ContainerSpec::new("i")
            .raw_config(json!({"HostConfig": {}}))
            .validate(),
        Err(SpecError::RawHostConfigInConfig)
    );
    // A later non-object patch replaces the held one (and is refused).
    assert!(ContainerSpec::new("i")
        .raw_config(json!({"a": 1}))
        .raw_config(json!(null))
        .validate()
        .is_err());
}

#[test]
fn validate_refuses_bad_options() {
    let base = || ContainerSpec::new("img");
    type Case = (ContainerSpec, fn(&SpecError) -> bool);
    let cases: Vec<Case> = vec![
        (base().env("", "x"), |e| {
            matches!(e, SpecError::InvalidEnv { .. })
        }),
        (base().env("A=B", "x"), |e| {
            matches!(e, SpecError::InvalidEnv { .. })
        }),
        (base().env("A", "x\0"), |e| {
            matches!(e, SpecError::NulByte { .. })
        }),
        (base().label("", "x"), |e| {
            matches!(e, SpecError::InvalidLabel { .. })
        }),
        (base().working_dir("rel"), |e| {
            matches!(e, SpecError::InvalidContainerPath { .. })
        }),
        (base().working_dir(""), |e| {
            matches!(e, SpecError::Empty { .. })
        }),
        (base().user(""), |e| matches!(e, SpecError::Empty { .. })),
        (base().user("u".repeat(300)), |e| {
            matches!(e, SpecError::TooLong { .. })
        }),
        (base().hostname("-bad"), |e| {
            matches!(e, SpecError::InvalidHostname { .. })
        }),
        (base().hostname("a".repeat(64)), |e| {
            matches!(e, SpecError::InvalidHostname { .. })
        }),
        (base().hostname("a_b"), |e| {
            matches!(e, SpecError::InvalidHostname { .. })
        }),
        (base().cap_add("NET ADMIN"), |e| {
            matches!(e, SpecError::InvalidCapability { .. })
        }),
        (base().cap_drop(""), |e| {
            matches!(e, SpecError::InvalidCapability { .. })
        }),
        (base().cap_drop("CAP_"), |e| {
            matches!(e, SpecError::InvalidCapability { .. })
        }),
        (base().memory(-1), |e| {
            matches!(e, SpecError::NotPositive { .. })
        }),
        (base().nano_cpus(-5), |e| {
            matches!(e, SpecError::NotPositive { .. })
        }),
        (base().cmd(["a\0b"]), |e| {
            matches!(e, SpecError::NulByte { .. })
        }),
        (base().entrypoint(["\0"]), |e| {
            matches!(e, SpecError::NulByte { .. })
        }),
        (base().mount(Mount::bind("rel", "/c")), |e| {
            matches!(e, SpecError::InvalidVolumeName { .. })
        }),
        (base().mount(Mount::volume("v1", "/")), |e| {
            matches!(e, SpecError::InvalidContainerPath { .. })
        }),
        (base().publish(PortBinding::tcp(0)), |e| {
            matches!(e, SpecError::InvalidPort { .. })
        }),
        (base().ulimit(Ulimit::new("nofile", 5, 1)), |e| {
            matches!(e, SpecError::UlimitSoftAboveHard { .. })
        }),
        (
            base().extra_host(ExtraHost::new("", HostAddr::HostGateway)),
            |e| matches!(e, SpecError::InvalidExtraHost { .. }),
        ),
        (
            base().auto_remove(true).restart(RestartPolicy::Always),
            |e| matches!(e, SpecError::Conflict { .. }),
        ),
    ];
    for (i, (spec, want)) in cases.into_iter().enumerate() {
        let r = spec.validate();
        assert!(r.as_ref().is_err_and(want), "case {i}: {r:?}");
        // Every error has a readable message naming the option or value.
        assert!(!r.unwrap_err().to_string().is_empty());
    }
    assert!(base()
        .auto_remove(true)
        .restart(RestartPolicy::No)
        .validate()
        .is_ok());
}

mod prop {
    use super::super::*;
    use proptest::prelude::*;

    proptest! {
        /// No input makes a parser panic; whatever parses validates, and
        /// ports and mounts print back to what they parse from.
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = parse_memory(&s);
            let _ = parse_cpus(&s);
            let _ = s.parse::<RestartPolicy>();
            let _ = s.parse::<ExtraHost>();
            if let Ok(u) = s.parse::<Ulimit>() {
                prop_assert!(u.validate().is_ok());
            }
            if let Ok(m) = s.parse::<Mount>() {
                prop_assert!(m.validate().is_ok());
                prop_assert_eq!(m.to_string().parse::<Mount>(), Ok(m));
            }
            if let Ok(p) = s.parse::<PortBinding>() {
                prop_assert!(p.validate().is_ok());
                prop_assert_eq!(p.to_string().parse::<PortBinding>(), Ok(p));
            }
        }

        #[test]
        fn port_shapes(ip in proptest::option::of(any::<std::net::IpAddr>()),
                       host in proptest::option::of(1u16..),
                       ctr in 1u16.., udp in any::<bool>()) {
            let proto = if udp { "/udp" } else { "" };
            let s = match (ip, host) {
                (Some(std::net::IpAddr::V6(ip)), h) => format!("[{ip}]:{}:{ctr}{proto}", h.map(|h| h.to_string()).unwrap_or_default()),
                (Some(ip), h) => format!("{ip}:{}:{ctr}{proto}", h.map(|h| h.to_string()).unwrap_or_default()),
                (None, Some(h)) => format!("{h}:{ctr}{proto}"),
                (None, None) => format!("{ctr}{proto}"),
            };
            let p: PortBinding = s.parse().map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
            prop_assert_eq!(p.container_port().start(), ctr);
            prop_assert_eq!(p.host_port_range().map(|r| r.start()), host);
            prop_assert_eq!(p.get_host_ip(), ip);
        }

        #[test]
        fn memory_is_exact(n in 0i64..(1 << 40), unit in 0usize..5) {
            let (suffix, shift) = [("", 0), ("k", 10), ("m", 20), ("g", 30), ("b", 0)][unit];
            let s = format!("{n}{suffix}");
            let want = (i128::from(n) << shift).min(i128::from(i64::MAX) + 1);
            match parse_memory(&s) {
                Ok(v) => prop_assert_eq!(i128::from(v), want),
                Err(SpecError::Overflow { .. }) => prop_assert!(want > i128::from(i64::MAX)),
                Err(e) => prop_assert!(false, "{}: {}", s, e),
            }
        }
    }
}
