//! The typed vector set commands against a real redis-server (Redis 8.0+),
//! over RESP2 and RESP3: each method's effect or result, each option as the
//! server received it (read back from the slow log), and the same Rust
//! value from both protocols' reply shapes (flat arrays and bulk-string
//! scores in RESP2, maps and doubles in RESP3). A server without vector
//! sets (Redis 7, Valkey 8.0) makes each test say so and pass.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use support::{both_protocols, flush, lacks};

/// Four 3-d points with distinct similarities to `a`: `a` itself 1, `d`
/// (45° away) about 0.854, `b` (90°) 0.5, `c` (opposite) 0.
const POINTS: [(&str, [f32; 3]); 4] = [
    ("a", [1.0, 0.0, 0.0]),
    ("b", [0.0, 1.0, 0.0]),
    ("c", [-1.0, 0.0, 0.0]),
    ("d", [1.0, 1.0, 0.0]),
];

/// Adds [`POINTS`] to `key` unquantized, so that their vectors stay exact.
async fn add_points(client: &Client, key: &str) {
    let exact = VAddOptions::new().quantization(Quantization::NoQuant);
    for (name, v) in POINTS {
        assert!(client
            .vadd(key, Vector::Values(&v), name, exact)
            .await
            .unwrap());
    }
}

/// The arguments of the most recent `name` command in the slow log (the
/// server logs every command once `slowlog-log-slower-than` is 0): what
/// the server received.
async fn logged(client: &Client, name: &str) -> Vec<String> {
    let entries = client.slowlog_get(-1).await.unwrap();
    let entry = entries
        .into_iter()
        .find(|e| {
            e.args
                .first()
                .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
        })
        .unwrap_or_else(|| panic!("no {name} in the slow log"));
    entry
        .args
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[tokio::test]
async fn vadd_vsim_and_scores_read_the_same_from_both_protocols() {
    let server = RedisServer::start().unwrap();
    if lacks(&server, "VADD") {
        return;
    }
    let clients = both_protocols(&server).await;
    for (client, resp3) in clients.iter().zip([false, true]) {
        flush(client).await;
        add_points(client, "v").await;
        // The shapes the typed replies below read alike.
        let raw = client
            .send(&cmd("VSIM").arg("v").arg("ELE").arg("a").arg("WITHSCORES"))
            .await
            .unwrap();
        match raw {
            Value::Map(pairs) => {
                assert!(resp3, "a map in RESP2");
                assert!(matches!(pairs[0].1, Value::Double(_)), "{pairs:?}");
            }
            Value::Array(items) => {
                assert!(!resp3, "a flat array in RESP3");
                assert!(matches!(items[1], Value::Bulk(_)), "{items:?}");
            }
            other => panic!("VSIM WITHSCORES answered {other:?}"),
        }
        // A vector as an FP32 blob, into a set of its own.
        let e = [0.5_f32, -0.25, 2.0];
        let blob = VAddOptions::new().quantization(Quantization::NoQuant);
        assert!(client
            .vadd("blob", Vector::Fp32(&e), "e", blob)
            .await
            .unwrap());
        assert_eq!(client.vemb("blob", "e").await.unwrap(), Some(e.to_vec()));

        // Adding an element again updates it: false.
        let exact = VAddOptions::new().quantization(Quantization::NoQuant);
        assert!(!client
            .vadd("v", Vector::Values(&POINTS[0].1), "a", exact)
            .await
            .unwrap());
        assert_eq!(client.vcard("v").await.unwrap(), 4);
        assert_eq!(client.vcard("missing").await.unwrap(), 0);
        assert_eq!(client.vdim("v").await.unwrap(), 3);
        let err = client.vdim("missing").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");

        // Most similar first, the element itself at the top.
        let near: Vec<String> = client.vsim("v", VSim::element("a")).await.unwrap();
        assert_eq!(near, ["a", "d", "b", "c"]);
        let two: Vec<String> = client.vsim("v", VSim::element("a").count(2)).await.unwrap();
        assert_eq!(two, ["a", "d"]);
        let q = [0.0_f32, 1.0, 0.0];
        let by_values: Vec<String> = client
            .vsim("v", VSim::vector(Vector::Values(&q)).count(1))
            .await
            .unwrap();
        assert_eq!(by_values, ["b"]);
        let by_blob: Vec<String> = client
            .vsim("v", VSim::vector(Vector::Fp32(&q)).count(1))
            .await
            .unwrap();
        assert_eq!(by_blob, ["b"]);
        let err = client
            .vsim::<String>("v", VSim::element("zz"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        let none: Vec<String> = client
            .vsim("missing", VSim::vector(Vector::Values(&q)))
            .await
            .unwrap();
        assert!(none.is_empty());

        // Scores: flat bulk strings in RESP2, a map of doubles in RESP3.
        let scored: Vec<(String, f64)> = client
            .vsim_withscores("v", VSim::element("a"))
            .await
            .unwrap();
        let names: Vec<&str> = scored.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "d", "b", "c"]);
        let want = [1.0, (1.0 + std::f64::consts::FRAC_1_SQRT_2) / 2.0, 0.5, 0.0];
        for ((name, got), want) in scored.iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{name}: {got} for {want}");
        }

        // EPSILON: within a distance of 1 - cosine (0.29 for d, 1 for b).
        let close: Vec<(String, f64)> = client
            .vsim_withscores("v", VSim::element("a").epsilon(0.35))
            .await
            .unwrap();
        let names: Vec<&str> = close.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "d"]);
        let closer: Vec<String> = client
            .vsim("v", VSim::element("a").epsilon(0.2))
            .await
            .unwrap();
        assert_eq!(closer, ["a"]);

        // Every search option at once, as the server received it.
        client
            .config_set("slowlog-log-slower-than", 0)
            .await
            .unwrap();
        let all = VSim::element("a")
            .count(3)
            .epsilon(0.9)
            .ef(50)
            .filter(".n > 0")
            .filter_ef(100)
            .truth()
            .nothread();
        let _: Vec<String> = client.vsim("v", all).await.unwrap();
        assert_eq!(
            logged(client, "VSIM").await,
            [
                "VSIM",
                "v",
                "ELE",
                "a",
                "COUNT",
                "3",
                "EPSILON",
                "0.9",
                "EF",
                "50",
                "FILTER",
                ".n > 0",
                "FILTER-EF",
                "100",
                "TRUTH",
                "NOTHREAD"
            ]
        );
        let _: Vec<(String, f64)> = client
            .vsim_withscores("v", VSim::vector(Vector::Values(&q)).truth())
            .await
            .unwrap();
        assert_eq!(
            logged(client, "VSIM").await,
            [
                "VSIM",
                "v",
                "VALUES",
                "3",
                "0",
                "1",
                "0",
                "TRUTH",
                "WITHSCORES"
            ]
        );
        client
            .config_set("slowlog-log-slower-than", 10_000)
            .await
            .unwrap();
    }

    // The set the last pass left, read through both protocols: the same
    // Rust values.
    let mut reads = Vec::new();
    for client in &clients {
        let q = [0.5_f32, 0.5, 0.0];
        reads.push((
            client
                .vsim_withscores::<String>("v", VSim::element("a"))
                .await
                .unwrap(),
            client
                .vsim_withscores::<String>("v", VSim::vector(Vector::Fp32(&q)).truth())
                .await
                .unwrap(),
            client
                .vsim::<String>("v", VSim::element("a").epsilon(0.35))
                .await
                .unwrap(),
        ));
    }
    assert_eq!(reads[0], reads[1], "RESP2 and RESP3 read differently");
}

#[tokio::test]
async fn vadd_options_reach_the_set() {
    let server = RedisServer::start().unwrap();
    if lacks(&server, "VADD") {
        return;
    }
    for client in both_protocols(&server).await {
        flush(&client).await;
        let v4 = [1.0_f32, 2.0, 3.0, 4.0];

        // REDUCE: a 4-d vector projected to 2 dimensions.
        let reduce = VAddOptions::new().reduce(2);
        assert!(client
            .vadd("r", Vector::Values(&v4), "x", reduce)
            .await
            .unwrap());
        assert_eq!(client.vdim("r").await.unwrap(), 2);
        let info = client.vinfo("r").await.unwrap().unwrap();
        assert_eq!((info.vector_dim, info.projection_input_dim), (2, 4));

        // The quantization is the first VADD's; another one is refused.
        for (key, q, name) in [
            ("q8", Quantization::Q8, "int8"),
            ("f32", Quantization::NoQuant, "f32"),
            ("bin", Quantization::Bin, "bin"),
        ] {
            let options = VAddOptions::new().quantization(q);
            assert!(client
                .vadd(key, Vector::Values(&v4), "x", options)
                .await
                .unwrap());
            let info = client.vinfo(key).await.unwrap().unwrap();
            assert_eq!(info.quant_type, name);
            assert_eq!(info.quantization(), Some(q));
            let raw = client.vemb_raw(key, "x").await.unwrap().unwrap();
            assert_eq!(raw.quantization(), Some(q));
        }
        let other = VAddOptions::new().quantization(Quantization::Bin);
        let err = client
            .vadd("q8", Vector::Values(&v4), "y", other)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.message().contains("quantization"), "{err}");

        // M is the graph's; SETATTR the element's attributes.
        let options = VAddOptions::new().m(8).ef(100).setattr(r#"{"n":1}"#);
        assert!(client
            .vadd("m", Vector::Values(&v4), "x", options)
            .await
            .unwrap());
        let info = client.vinfo("m").await.unwrap().unwrap();
        assert_eq!((info.hnsw_m, info.attributes_count), (8, 1));
        assert_eq!(
            client.vgetattr("m", "x").await.unwrap().as_deref(),
            Some(r#"{"n":1}"#)
        );

        // Every option at once, as the server received it (REDUCE before
        // the vector, as the server wants it).
        client
            .config_set("slowlog-log-slower-than", 0)
            .await
            .unwrap();
        let all = VAddOptions::new()
            .reduce(2)
            .cas()
            .quantization(Quantization::Q8)
            .ef(40)
            .setattr("{}")
            .m(6);
        assert!(client
            .vadd("all", Vector::Values(&v4), "x", all)
            .await
            .unwrap());
        assert_eq!(
            logged(&client, "VADD").await,
            [
                "VADD", "all", "REDUCE", "2", "VALUES", "4", "1", "2", "3", "4", "x", "CAS", "Q8",
                "EF", "40", "SETATTR", "{}", "M", "6"
            ]
        );
        client
            .config_set("slowlog-log-slower-than", 10_000)
            .await
            .unwrap();
        assert_eq!(client.vdim("all").await.unwrap(), 2);
        assert_eq!(client.vinfo("all").await.unwrap().unwrap().hnsw_m, 6);
    }
}

#[tokio::test]
async fn attributes_and_filters() {
    let server = RedisServer::start().unwrap();
    if lacks(&server, "VSETATTR") {
        return;
    }
    for client in both_protocols(&server).await {
        flush(&client).await;
        add_points(&client, "v").await;

        assert!(client.vsetattr("v", "b", r#"{"year":1950}"#).await.unwrap());
        assert!(client.vsetattr("v", "c", r#"{"year":1990}"#).await.unwrap());
        assert!(!client.vsetattr("v", "zz", "{}").await.unwrap());
        assert!(!client.vsetattr("missing", "a", "{}").await.unwrap());
        assert_eq!(
            client.vgetattr("v", "b").await.unwrap().as_deref(),
            Some(r#"{"year":1950}"#)
        );
        assert_eq!(client.vgetattr("v", "a").await.unwrap(), None, "none set");
        assert_eq!(client.vgetattr("v", "zz").await.unwrap(), None);
        assert_eq!(client.vgetattr("missing", "a").await.unwrap(), None);

        // FILTER keeps elements whose attributes pass; none means no pass.
        let late: Vec<String> = client
            .vsim("v", VSim::element("a").filter(".year > 1960"))
            .await
            .unwrap();
        assert_eq!(late, ["c"]);
        let dated: Vec<String> = client
            .vsim("v", VSim::element("a").filter(".year > 0").filter_ef(10))
            .await
            .unwrap();
        assert_eq!(dated, ["b", "c"]);

        // An empty text removes them.
        assert!(client.vsetattr("v", "c", "").await.unwrap());
        assert_eq!(client.vgetattr("v", "c").await.unwrap(), None);
        assert_eq!(
            client.vinfo("v").await.unwrap().unwrap().attributes_count,
            1
        );
    }
}

#[cfg(feature = "serde_json")]
#[tokio::test]
async fn attributes_as_json() {
    use std::collections::BTreeMap;
    let server = RedisServer::start().unwrap();
    if lacks(&server, "VSETATTR") {
        return;
    }
    for client in both_protocols(&server).await {
        flush(&client).await;
        add_points(&client, "v").await;

        let attrs = serde_json::json!({"year": 1950, "tags": ["old", "film"]});
        assert!(client.vsetattr("v", "b", &attrs).await.unwrap());
        assert_eq!(client.vgetattr_json("v", "b").await.unwrap(), Some(attrs));
        assert_eq!(client.vgetattr_json("v", "a").await.unwrap(), None);

        client.vsetattr("v", "c", r#"{"x":1,"y":2}"#).await.unwrap();
        let Json(map) = client
            .vgetattr_as::<BTreeMap<String, u8>>("v", "c")
            .await
            .unwrap()
            .expect("attributes");
        assert_eq!(map, BTreeMap::from([("x".into(), 1), ("y".into(), 2)]));
        assert!(client.vgetattr_as::<u8>("v", "zz").await.unwrap().is_none());

        // Attributes of the wrong shape for T: a type error that says so.
        let err = client.vgetattr_as::<Vec<u8>>("v", "c").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type);
        assert!(err.message().contains("JSON"), "{err}");
    }
}

#[tokio::test]
async fn embeddings_links_info_and_random_members() {
    let server = RedisServer::start().unwrap();
    if lacks(&server, "VEMB") {
        return;
    }
    let clients = both_protocols(&server).await;
    for client in &clients {
        flush(client).await;
        add_points(client, "v").await;

        // Unquantized, the vector comes back as it went in (normalized and
        // scaled back).
        let d = client.vemb("v", "d").await.unwrap().expect("d's vector");
        assert_eq!(d.len(), 3);
        for (got, want) in d.iter().zip([1.0, 1.0, 0.0]) {
            assert!((got - want).abs() < 1e-6, "{d:?}");
        }
        assert_eq!(client.vemb("v", "zz").await.unwrap(), None);
        assert_eq!(client.vemb("missing", "a").await.unwrap(), None);

        // RAW: f32 components, normalized, and the norm taken out.
        let raw = client.vemb_raw("v", "d").await.unwrap().unwrap();
        assert_eq!(raw.quant_type, "f32");
        assert_eq!(raw.range, None);
        let half = std::f32::consts::FRAC_1_SQRT_2;
        let want: Vec<u8> = [half, half, 0.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(raw.data, want);
        assert!((raw.l2_norm - std::f64::consts::SQRT_2).abs() < 1e-6);
        // The raw bytes go back in as FP32 bytes.
        let exact = VAddOptions::new().quantization(Quantization::NoQuant);
        client
            .vadd("copy", Vector::Fp32Bytes(&raw.data), "d", exact)
            .await
            .unwrap();
        let copied: Vec<String> = client
            .vsim("v", VSim::vector(Vector::Fp32Bytes(&raw.data)).count(1))
            .await
            .unwrap();
        assert_eq!(copied, ["d"]);
        assert_eq!(client.vemb_raw("v", "zz").await.unwrap(), None);
        // int8 has a range.
        let q8 = [3.0_f32, -1.5, 0.0];
        client
            .vadd("q8", Vector::Values(&q8), "x", VAddOptions::new())
            .await
            .unwrap();
        let raw = client.vemb_raw("q8", "x").await.unwrap().unwrap();
        assert_eq!((raw.quant_type.as_str(), raw.data.len()), ("int8", 3));
        assert!(raw.range.is_some_and(|r| r > 0.0), "{raw:?}");

        let info = client.vinfo("v").await.unwrap().unwrap();
        assert_eq!(info.size, 4);
        assert_eq!(info.vector_dim, 3);
        assert_eq!(info.quantization(), Some(Quantization::NoQuant));
        assert_eq!(info.get("size"), Some("4"));
        assert!(info.get("vset-uid").is_some(), "{info:?}");
        assert_eq!(client.vinfo("missing").await.unwrap(), None);

        // Links: one list per layer, the neighbours among the others.
        let links: Vec<Vec<String>> = client.vlinks("v", "a").await.unwrap().unwrap();
        assert!(!links.is_empty());
        for level in &links {
            assert!(
                level.iter().all(|n| ["b", "c", "d"].contains(&n.as_str())),
                "{links:?}"
            );
        }
        let scored: Vec<Vec<(String, f64)>> =
            client.vlinks_withscores("v", "a").await.unwrap().unwrap();
        assert_eq!(scored.len(), links.len());
        for (plain, scored) in links.iter().zip(&scored) {
            let mut names: Vec<&String> = scored.iter().map(|(n, _)| n).collect();
            let mut plain: Vec<&String> = plain.iter().collect();
            names.sort();
            plain.sort();
            assert_eq!(names, plain);
            assert!(
                scored.iter().all(|(_, s)| (0.0..=1.0).contains(s)),
                "{scored:?}"
            );
        }
        assert_eq!(client.vlinks::<String>("v", "zz").await.unwrap(), None);
        assert_eq!(
            client
                .vlinks_withscores::<String>("missing", "a")
                .await
                .unwrap(),
            None
        );

        let one: Option<String> = client.vrandmember("v").await.unwrap();
        assert!(one.is_some_and(|m| ["a", "b", "c", "d"].contains(&m.as_str())));
        assert_eq!(client.vrandmember::<String>("missing").await.unwrap(), None);
        let mut all: Vec<String> = client.vrandmember_count("v", 10).await.unwrap();
        all.sort();
        assert_eq!(all, ["a", "b", "c", "d"]);
        assert_eq!(
            client
                .vrandmember_count::<String>("v", 2)
                .await
                .unwrap()
                .len(),
            2
        );
        let repeated: Vec<String> = client.vrandmember_count("copy", -3).await.unwrap();
        assert_eq!(repeated, ["d", "d", "d"]);
        assert!(client
            .vrandmember_count::<String>("missing", 3)
            .await
            .unwrap()
            .is_empty());

        assert!(client.vrem("v", "c").await.unwrap());
        assert!(!client.vrem("v", "c").await.unwrap());
        assert!(!client.vrem("missing", "c").await.unwrap());
        assert_eq!(client.vcard("v").await.unwrap(), 3);
    }

    // The sets the last pass left, read through both protocols: the same
    // Rust values.
    let mut reads = Vec::new();
    for client in &clients {
        reads.push((
            client.vinfo("v").await.unwrap(),
            client.vemb("v", "b").await.unwrap(),
            client.vemb_raw("q8", "x").await.unwrap(),
            client.vlinks::<String>("v", "a").await.unwrap(),
            client.vlinks_withscores::<String>("v", "a").await.unwrap(),
            client
                .vrandmember_count::<String>("copy", -2)
                .await
                .unwrap(),
        ));
    }
    assert_eq!(reads[0], reads[1], "RESP2 and RESP3 read differently");
}

#[tokio::test]
async fn vismember() {
    let server = RedisServer::start().unwrap();
    if lacks(&server, "VISMEMBER") {
        return;
    }
    for client in both_protocols(&server).await {
        flush(&client).await;
        add_points(&client, "v").await;
        // A question, not a change: asked twice, the same answer.
        assert!(client.vismember("v", "a").await.unwrap());
        assert!(client.vismember("v", "a").await.unwrap());
        assert_eq!(client.vcard("v").await.unwrap(), 4);
        assert!(!client.vismember("v", "zz").await.unwrap());
        assert!(!client.vismember("missing", "a").await.unwrap());
    }
}
