//! The typed geospatial commands against a real redis-server, over RESP2 and
//! RESP3: `GEOADD` and its options, distances in each unit, positions,
//! hashes, and every `GEOSEARCH` option changing what the server answers.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use support::{both_protocols, flush};

const PALERMO: (f64, f64) = (13.361389, 38.115556);
const CATANIA: (f64, f64) = (15.087269, 37.502669);

/// Sicily: four cities. (Geo sets store positions to about 0.6 m, so
/// positions are compared to 1e-5 degrees.)
async fn sicily(client: &Client) {
    let added = client
        .geoadd(
            "sicily",
            [
                (PALERMO.0, PALERMO.1, "Palermo"),
                (CATANIA.0, CATANIA.1, "Catania"),
                (13.583333, 37.316667, "Agrigento"),
                (15.554, 38.193, "Messina"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(added, 4);
}

fn close(a: (f64, f64), b: (f64, f64)) -> bool {
    (a.0 - b.0).abs() < 1e-5 && (a.1 - b.1).abs() < 1e-5
}

#[tokio::test]
async fn add_positions_distances_and_hashes() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        sicily(&client).await;

        let pos = client
            .geopos("sicily", ["Palermo", "nowhere", "Catania"])
            .await
            .unwrap();
        assert_eq!(pos.len(), 3);
        assert!(close(pos[0].unwrap(), PALERMO));
        assert_eq!(pos[1], None);
        assert!(close(pos[2].unwrap(), CATANIA));

        // The documented distances, in each unit; a missing member is None.
        let dist = |unit| client.geodist("sicily", "Palermo", "Catania", unit);
        assert_eq!(dist(GeoUnit::Meters).await.unwrap(), Some(166274.1516));
        assert_eq!(dist(GeoUnit::Kilometers).await.unwrap(), Some(166.2742));
        assert_eq!(dist(GeoUnit::Miles).await.unwrap(), Some(103.3182));
        assert_eq!(dist(GeoUnit::Feet).await.unwrap(), Some(545518.87));
        let none = client
            .geodist("sicily", "Palermo", "nowhere", GeoUnit::Meters)
            .await
            .unwrap();
        assert_eq!(none, None);

        let hashes = client
            .geohash("sicily", ["Palermo", "Catania", "nowhere"])
            .await
            .unwrap();
        assert_eq!(
            hashes,
            [
                Some("sqc8b49rny0".to_string()),
                Some("sqdtr74hyu0".to_string()),
                None
            ]
        );

        // NX adds new members but moves none.
        let moved_palermo = (PALERMO.0, PALERMO.1, "Palermo");
        let moved = (14.0, 38.0, "Palermo");
        let nx = GeoAddOptions::new().nx();
        let added = client
            .geoadd_with("sicily", [moved, (14.5, 37.5, "Enna")], nx)
            .await
            .unwrap();
        assert_eq!(added, 1);
        assert!(close(
            client.geopos("sicily", "Palermo").await.unwrap()[0].unwrap(),
            PALERMO
        ));
        // XX moves existing members but adds none.
        let xx = GeoAddOptions::new().xx();
        let added = client
            .geoadd_with("sicily", [moved, (12.5, 37.8, "Marsala")], xx)
            .await
            .unwrap();
        assert_eq!(added, 0);
        assert!(close(
            client.geopos("sicily", "Palermo").await.unwrap()[0].unwrap(),
            (14.0, 38.0)
        ));
        assert_eq!(client.geopos("sicily", "Marsala").await.unwrap(), [None]);
        // CH counts the moved member as well as the added one.
        let ch = GeoAddOptions::new().ch();
        let changed = client
            .geoadd_with("sicily", [moved_palermo, (12.5, 37.8, "Marsala")], ch)
            .await
            .unwrap();
        assert_eq!(changed, 2);
        let plain = client
            .geoadd("sicily", [(14.0, 38.0, "Palermo")])
            .await
            .unwrap();
        assert_eq!(plain, 0, "without CH a move is not counted");
    }
}

#[tokio::test]
async fn search_shapes_orders_counts_and_extras() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        sicily(&client).await;

        // A radius and a box around the same centre catch different cities.
        let palermo = GeoSearch::from_member("Palermo");
        let radius = palermo.by_radius(180.0, GeoUnit::Kilometers).asc();
        let found: Vec<String> = client.geosearch("sicily", radius).await.unwrap();
        assert_eq!(found, ["Palermo", "Agrigento", "Catania"]);
        let wide_flat = palermo.by_box(400.0, 100.0, GeoUnit::Kilometers).asc();
        let found: Vec<String> = client.geosearch("sicily", wide_flat).await.unwrap();
        assert_eq!(found, ["Palermo", "Messina"]);
        // The unit scales the shape: 180 m holds Palermo alone.
        let tiny = palermo.by_radius(180.0, GeoUnit::Meters);
        let found: Vec<String> = client.geosearch("sicily", tiny).await.unwrap();
        assert_eq!(found, ["Palermo"]);

        // From a longitude and latitude; DESC reverses ASC.
        let south = GeoSearch::from_lonlat(15.0, 37.0).by_radius(200.0, GeoUnit::Kilometers);
        let found: Vec<String> = client.geosearch("sicily", south.asc()).await.unwrap();
        assert_eq!(found, ["Catania", "Agrigento", "Messina", "Palermo"]);
        let found: Vec<String> = client.geosearch("sicily", south.desc()).await.unwrap();
        assert_eq!(found, ["Palermo", "Messina", "Agrigento", "Catania"]);

        // COUNT keeps the nearest; COUNT … ANY the first found, here not the nearest.
        let found: Vec<String> = client.geosearch("sicily", south.count(1)).await.unwrap();
        assert_eq!(found, ["Catania"]);
        let found: Vec<String> = client
            .geosearch("sicily", south.count_any(1))
            .await
            .unwrap();
        assert_eq!(found, ["Agrigento"]);
        let found: Vec<String> = client
            .geosearch("sicily", south.desc().count(2))
            .await
            .unwrap();
        assert_eq!(found, ["Palermo", "Messina"]);

        // Each WITH… option fills its field, and only its field.
        let two = south.asc().count(2);
        let plain: Vec<GeoMatch> = client
            .geosearch_with("sicily", two, GeoWith::new())
            .await
            .unwrap();
        assert_eq!(
            plain,
            [
                GeoMatch {
                    member: "Catania".to_string(),
                    dist: None,
                    hash: None,
                    coord: None
                },
                GeoMatch {
                    member: "Agrigento".to_string(),
                    dist: None,
                    hash: None,
                    coord: None
                },
            ]
        );
        let dist: Vec<GeoMatch> = client
            .geosearch_with("sicily", two, GeoWith::new().dist())
            .await
            .unwrap();
        assert_eq!(dist[0].dist, Some(56.4413));
        assert_eq!(dist[1].dist, Some(130.4235));
        assert_eq!((dist[0].hash, dist[0].coord), (None, None));
        let hash: Vec<GeoMatch> = client
            .geosearch_with("sicily", two, GeoWith::new().hash())
            .await
            .unwrap();
        assert_eq!(hash[0].hash, Some(3479447370796909));
        assert_eq!((hash[0].dist, hash[0].coord), (None, None));
        let coord: Vec<GeoMatch> = client
            .geosearch_with("sicily", two, GeoWith::new().coord())
            .await
            .unwrap();
        assert!(close(coord[0].coord.unwrap(), CATANIA));
        assert_eq!((coord[0].dist, coord[0].hash), (None, None));
        let all: Vec<GeoMatch<bytes::Bytes>> = client
            .geosearch_with("sicily", two, GeoWith::new().dist().hash().coord())
            .await
            .unwrap();
        assert_eq!(all[1].member, "Agrigento");
        assert_eq!(all[1].dist, Some(130.4235));
        assert_eq!(all[1].hash, Some(3479030013248308));
        assert!(close(all[1].coord.unwrap(), (13.583333, 37.316667)));

        // GEOSEARCHSTORE keeps geohashes (a geo set); STOREDIST distances.
        let stored = client
            .geosearchstore("near", "sicily", radius)
            .await
            .unwrap();
        assert_eq!(stored, 3);
        let pos = client.geopos("near", "Catania").await.unwrap();
        assert!(close(pos[0].unwrap(), CATANIA));
        let stored = client
            .geosearchstore_dist("dists", "sicily", radius)
            .await
            .unwrap();
        assert_eq!(stored, 3);
        let scores: Vec<(String, f64)> = client
            .query(&cmd("ZRANGE").arg("dists").arg(0).arg(-1).arg("WITHSCORES"))
            .await
            .unwrap();
        assert_eq!(scores[0], ("Palermo".to_string(), 0.0));
        assert_eq!(scores[2].0, "Catania");
        assert!((scores[2].1 - 166.2742).abs() < 1e-3);
    }
}
