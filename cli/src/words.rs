//! The library's errors in a command-line user's words: what failed and why,
//! without the client's settings (`fail-fast is on`) that the user never set,
//! and with the cli's flags where the library names its own API (`HELLO` and
//! `AUTH` are the cli's handshake, chosen by `-2`/`-3`, `--user`, `-a`).

use redwire::{Error, ErrorKind};

/// A connection-level failure as the prompt and the one-shot mode print it.
pub fn failure(e: &Error) -> String {
    phrase(e.kind(), e.message())
}

fn phrase(kind: ErrorKind, message: &str) -> String {
    let message = message.replace(" (fail-fast is on)", "");
    if kind == ErrorKind::Unsupported {
        if let Some(name) = handshake_command(&message) {
            return handshake_hint(name);
        }
    }
    match kind {
        ErrorKind::NotConnected if message.starts_with("not connected") => message,
        ErrorKind::NotConnected => format!("not connected: {message}"),
        ErrorKind::ConnectionLost | ErrorKind::Io => format!("connection lost: {message}"),
        _ => message,
    }
}

/// `HELLO` or `AUTH` when the message is the library refusing to send it.
fn handshake_command(message: &str) -> Option<&'static str> {
    ["HELLO", "AUTH"]
        .into_iter()
        .find(|name| message.starts_with(&format!("{name} cannot be sent")))
}

fn handshake_hint(name: &str) -> String {
    let how = match name {
        "HELLO" => {
            "choose the protocol with -2 (RESP2) or -3 (RESP3, the default where the \
             server has it), the user with --user and -a or in the URL"
        }
        _ => "give the user and password with --user and -a, REDISCLI_AUTH, or in the URL",
    };
    format!("{name} is sent by redwire cli itself, when it connects and on every reconnect: {how}")
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

    #[test]
    fn the_handshake_commands_name_the_flags_not_the_library() {
        let refused = "HELLO cannot be sent on a shared client: protocol and credentials \
                       are set by the Config on every connect (ConfigBuilder::protocol)";
        let text = phrase(ErrorKind::Unsupported, refused);
        assert!(
            text.starts_with("HELLO is sent by redwire cli itself"),
            "{text}"
        );
        assert!(
            text.contains("-2") && !text.contains("ConfigBuilder"),
            "{text}"
        );
        let auth = phrase(
            ErrorKind::Unsupported,
            &refused.replacen("HELLO", "AUTH", 1),
        );
        assert!(auth.contains("--user and -a"), "{auth}");
        // Other refusals keep the library's words.
        let other = "MULTI cannot be sent on a shared client: use Pipeline::atomic";
        assert_eq!(phrase(ErrorKind::Unsupported, other), other);
    }
}
