//! Finding the `redis-server` executable: an explicit path, `REDWIRE_REDIS_SERVER`,
//! or the `PATH`, with an error that tells the reader how to get one.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};

/// The environment variable that names the `redis-server` executable to use.
///
/// It wins over the `PATH`, so a machine with several Redis versions can pick one
/// without changing the tests.
///
/// ```
/// assert_eq!(redwire_testkit::REDIS_SERVER_ENV, "REDWIRE_REDIS_SERVER");
/// ```
pub const REDIS_SERVER_ENV: &str = "REDWIRE_REDIS_SERVER";

const INSTALL_HINT: &str = "install the Debian package `redis-server` \
     (`apt-get install redis-server`), or point REDWIRE_REDIS_SERVER at a redis-server binary";

/// Locates `redis-server` the way every launcher in this crate does: the
/// `REDWIRE_REDIS_SERVER` environment variable if set, else the first
/// `redis-server` on the `PATH`.
///
/// The error says what was looked at and how to install the server.
///
/// ```no_run
/// let path = redwire_testkit::find_redis_server()?;
/// println!("using {}", path.display());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn find_redis_server() -> io::Result<PathBuf> {
    locate(
        std::env::var_os(REDIS_SERVER_ENV).as_deref(),
        std::env::var_os("PATH").as_deref(),
    )
}

/// The lookup itself, with the environment passed in so it can be tested without
/// touching the process environment (other tests run in parallel threads).
pub(crate) fn locate(env_value: Option<&OsStr>, path: Option<&OsStr>) -> io::Result<PathBuf> {
    if let Some(explicit) = env_value.filter(|v| !v.is_empty()) {
        return check_explicit(Path::new(explicit), REDIS_SERVER_ENV);
    }
    path.into_iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("redis-server was not found on the PATH: {INSTALL_HINT}"),
            )
        })
}

/// Checks a path given explicitly (by the builder or the environment variable).
pub(crate) fn check_explicit(path: &Path, source: &str) -> io::Result<PathBuf> {
    if is_executable(path) {
        Ok(path.to_path_buf())
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "redis-server given by {source} ({}) does not exist or is not executable: {INSTALL_HINT}",
                path.display()
            ),
        ))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_variable_wins_over_the_path() {
        let found = locate(
            Some(OsStr::new("/bin/sh")),
            Some(OsStr::new("/nonexistent")),
        )
        .unwrap();
        assert_eq!(found, PathBuf::from("/bin/sh"));
    }

    #[test]
    fn a_missing_server_names_the_package() {
        let err = locate(None, Some(OsStr::new("/nonexistent:/also-missing"))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains("apt-get install redis-server"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_explicit_path_is_named_in_the_error() {
        let err = locate(Some(OsStr::new("/nope/redis-server")), None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/nope/redis-server"), "{text}");
        assert!(text.contains(REDIS_SERVER_ENV), "{text}");
        assert!(text.contains("apt-get install redis-server"), "{text}");
    }

    #[test]
    fn the_path_is_searched_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("redis-server");
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths([Path::new("/nonexistent"), dir.path()]).unwrap();
        assert_eq!(locate(None, Some(&path)).unwrap(), fake);
    }
}
