//! What a machine without redis-server sees. It changes the process environment,
//! so it lives alone in its own test binary.

use redwire_testkit::{RedisServer, REDIS_SERVER_ENV};

#[test]
fn a_missing_redis_server_names_the_package_to_install() {
    // The variable points nowhere: the error names it and the package.
    std::env::set_var(REDIS_SERVER_ENV, "/nonexistent/redis-server");
    let err = RedisServer::start().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    let text = err.to_string();
    assert!(text.contains(REDIS_SERVER_ENV), "{text}");
    assert!(text.contains("/nonexistent/redis-server"), "{text}");
    assert!(text.contains("apt-get install redis-server"), "{text}");

    // No variable and nothing on the PATH.
    std::env::remove_var(REDIS_SERVER_ENV);
    let empty = tempfile::tempdir().unwrap();
    std::env::set_var("PATH", empty.path());
    let err = RedisServer::start().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    let text = err.to_string();
    assert!(
        text.contains("redis-server was not found on the PATH"),
        "{text}"
    );
    assert!(text.contains("Debian package `redis-server`"), "{text}");
}
