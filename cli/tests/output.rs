//! What `redwire cli` prints, compared with what redis-cli 7 prints for the
//! same reply: byte-exact `--raw` and `--json` for binary values, maps with
//! values of several lines, verbatim strings, the text commands (INFO,
//! LATENCY DOCTOR…) and RESP3 maps in `--raw`.

mod support;

use base64::Engine;
use redwire_testkit::{Frame, RedisServer};
use support::{cli_port, stderr, stdout};

/// 256 bytes, every value once, in a scrambled order (a fixed permutation,
/// so a failure is reproducible).
fn all_bytes() -> Vec<u8> {
    (0u16..256).map(|i| ((i * 167 + 13) % 256) as u8).collect()
}

#[test]
fn raw_output_is_the_stored_bytes_exactly() {
    let server = RedisServer::start().unwrap();
    let value = all_bytes();
    server
        .command(&[b"SET".as_slice(), b"bin", &value])
        .unwrap();
    // Piped: raw by default, as with redis-cli; and with --raw.
    for args in [&["GET", "bin"][..], &["--raw", "GET", "bin"]] {
        let out = cli_port(server.port(), args);
        assert!(out.status.success(), "{}", stderr(&out));
        let mut want = value.clone();
        want.push(b'\n');
        assert_eq!(out.stdout, want, "{args:?}");
    }
}

#[test]
fn json_gives_binary_as_base64_and_text_as_a_string() {
    let server = RedisServer::start().unwrap();
    let value = all_bytes();
    server
        .command(&[b"SET".as_slice(), b"bin", &value])
        .unwrap();
    server.command(&["SET", "text", "héllo\n"]).unwrap();
    let out = cli_port(server.port(), &["--json", "GET", "bin"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let b64 = doc["base64"].as_str().expect("a base64 object");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(decoded, value);
    let out = cli_port(server.port(), &["--json", "MGET", "text", "bin", "none"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc[0], "héllo\n");
    assert!(doc[1]["base64"].is_string());
    assert!(doc[2].is_null());
}

#[test]
fn human_output_escapes_binary_as_redis_cli_does() {
    let server = RedisServer::start().unwrap();
    server
        .command(&[b"SET".as_slice(), b"k", b"a\x00\xff\"\\\r\n"])
        .unwrap();
    let out = cli_port(server.port(), &["--no-raw", "GET", "k"]);
    assert_eq!(stdout(&out), "\"a\\x00\\xff\\\"\\\\\\r\\n\"\n");
}

const NESTED: &str = r#"redis.setresp(3); return {map={outer={map={inner={"x","y"}}}}}"#;
const ONE_LINE: &str = r#"redis.setresp(3); return {map={one={1}}}"#;

#[test]
fn map_values_of_several_lines_start_on_their_own_line() {
    let server = RedisServer::start().unwrap();
    let port = server.port();
    // Each expected text is what redis-cli 7.0 -3 --no-raw prints.
    let out = cli_port(port, &["-3", "--no-raw", "EVAL", NESTED, "0"]);
    assert_eq!(
        stdout(&out),
        "1# \"outer\" => \n   1# \"inner\" => \n      1) \"x\"\n      2) \"y\"\n",
        "{}",
        stderr(&out)
    );
    let out = cli_port(port, &["-3", "--no-raw", "EVAL", ONE_LINE, "0"]);
    assert_eq!(stdout(&out), "1# \"one\" => 1) (integer) 1\n");
    server
        .command(&["XADD", "st", "1-1", "a", "1", "b", "2"])
        .unwrap();
    server.command(&["XADD", "st", "2-1", "c", "3"]).unwrap();
    let out = cli_port(port, &["-3", "--no-raw", "XINFO", "STREAM", "st"]);
    let text = stdout(&out);
    let tail = &text[text.find(" 9# \"first-entry\"").expect(&text)..];
    assert_eq!(
        tail,
        " 9# \"first-entry\" => \n    1) \"1-1\"\n    2) 1) \"a\"\n       2) \"1\"\n       \
         3) \"b\"\n       4) \"2\"\n10# \"last-entry\" => \n    1) \"2-1\"\n    2) 1) \"c\"\n       \
         2) \"3\"\n"
    );
}

#[test]
fn raw_resp3_maps_print_key_space_value_as_redis_cli_3() {
    let server = RedisServer::start().unwrap();
    let port = server.port();
    server.command(&["HSET", "h", "f", "v"]).unwrap();
    assert_eq!(stdout(&cli_port(port, &["-3", "HGETALL", "h"])), "f v\n");
    let out = cli_port(port, &["-3", "--raw", "EVAL", NESTED, "0"]);
    assert_eq!(stdout(&out), "outer inner x\ny\n");
    // RESP2 has no maps: a flat array, a line each.
    assert_eq!(stdout(&cli_port(port, &["-2", "HGETALL", "h"])), "f\nv\n");
}

#[test]
fn text_commands_print_their_text_as_it_is_in_resp2_and_resp3() {
    let server = RedisServer::start().unwrap();
    let port = server.port();
    let Frame::Bulk(doctor) = server.command(&["LATENCY", "DOCTOR"]).unwrap() else {
        panic!("LATENCY DOCTOR is a string");
    };
    let Frame::Bulk(memory) = server.command(&["MEMORY", "DOCTOR"]).unwrap() else {
        panic!("MEMORY DOCTOR is a string");
    };
    for proto in ["-2", "-3"] {
        let out = cli_port(port, &[proto, "--no-raw", "LATENCY", "DOCTOR"]);
        assert_eq!(out.stdout, with_newline(&doctor), "{proto}");
        let out = cli_port(port, &[proto, "--no-raw", "MEMORY", "DOCTOR"]);
        assert_eq!(out.stdout, with_newline(&memory), "{proto}");
        // CLIENT INFO and INFO end their own last line: no blank line after.
        let out = cli_port(port, &[proto, "--no-raw", "CLIENT", "INFO"]);
        let text = stdout(&out);
        assert!(text.starts_with("id="), "{text}");
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{text:?}");
        assert!(!text.contains('"'), "not quoted: {text}");
        let out = cli_port(port, &[proto, "--no-raw", "INFO", "server"]);
        let text = stdout(&out);
        assert!(
            text.starts_with("# Server\r\n") && text.ends_with("\r\n"),
            "{text:?}"
        );
        assert!(!text.ends_with("\r\n\n"), "{text:?}");
    }
}

/// redis-cli's rule for a text that does not end its last line.
fn with_newline(text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

#[test]
fn a_verbatim_string_ending_in_a_newline_gets_no_blank_line() {
    let server = RedisServer::start().unwrap();
    // RESP3 CLIENT INFO is a verbatim string (`=txt:…`) ending in "\n".
    let out = cli_port(server.port(), &["-3", "--no-raw", "CLIENT", "INFO"]);
    let text = stdout(&out);
    // Servers add fields after `resp=` (Valkey, Redis 8): only the ending is
    // the point here.
    assert!(
        text.contains(" resp=3") && text.ends_with('\n') && !text.ends_with("\n\n"),
        "{text:?}"
    );
}
