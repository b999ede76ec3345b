//! The library's errors in a command-line user's words: what failed and why,
//! without the client's settings (`fail-fast is on`) that the user never set.

use redwire::{Error, ErrorKind};

/// A connection-level failure as the prompt and the one-shot mode print it.
pub fn failure(e: &Error) -> String {
    phrase(e.kind(), e.message())
}

fn phrase(kind: ErrorKind, message: &str) -> String {
    let message = message.replace(" (fail-fast is on)", "");
    match kind {
        ErrorKind::NotConnected if message.starts_with("not connected") => message,
        ErrorKind::NotConnected => format!("not connected: {message}"),
        ErrorKind::ConnectionLost | ErrorKind::Io => format!("connection lost: {message}"),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_setting_is_not_shown() {
        assert_eq!(
            phrase(
                ErrorKind::NotConnected,
                "not connected to 127.0.0.1:1 (fail-fast is on): connection refused"
            ),
            "not connected to 127.0.0.1:1: connection refused"
        );
        assert_eq!(
            phrase(
                ErrorKind::NotConnected,
                "connection lost before the request was sent (fail-fast is on): reset"
            ),
            "not connected: connection lost before the request was sent: reset"
        );
    }
}
