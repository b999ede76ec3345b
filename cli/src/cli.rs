//! `redwire cli`: one command and exit, a file of commands pipelined, commands
//! read from a pipe, or the interactive prompt.
//!
//! Exit codes a script can trust: 0 when every reply was a success, 1 when the
//! server answered with an error reply, 2 for a usage error, 3 when the server
//! could not be reached or the connection failed.

use crate::format::{is_text_command, print, render_error, Mode};
use crate::remote::{command, Remote};
use crate::server_args::ServerArgs;
use crate::split::split_args;
use crate::target::{Target, TargetError};
use crate::{repl, stream};
use redwire::{ErrorKind, Pipeline, Value};
use redwire_resp::{BytesMut, Decoder, Frame};
use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub use crate::exit::{EXIT_ERROR_REPLY, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

/// Commands per pipeline in the file mode: large enough that round trips do
/// not matter, small enough that replies do not pile up in memory.
const BATCH: usize = 1000;

/// Options of `redwire cli`: redis-cli's connection flags, its output flags
/// and the command.
#[derive(clap::Args, Debug)]
#[command(
    disable_help_flag = true,
    after_help = "Exit status: 0 success, 1 the server answered with an error reply, \
2 usage error (an unknown option, a bad URL), 3 connection failure.\n\n\
With no -h, -p, -s, -u, -a, --user, -n, --tls (and no REDIS_URL or REDISCLI_AUTH) a throwaway redis-server \
is started from PATH; with any of them, the default server is 127.0.0.1:6379 as with redis-cli."
)]
pub struct CliArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Database number
    #[arg(short = 'n', value_name = "DB")]
    pub db: Option<i64>,
    /// Run the command this many times (-1: until interrupted)
    #[arg(short = 'r', value_name = "REPEAT", allow_negative_numbers = true)]
    pub repeat: Option<i64>,
    /// With -r, wait this many seconds between runs (0.1 for 100 ms)
    #[arg(short = 'i', value_name = "INTERVAL")]
    pub interval: Option<f64>,
    /// Print values only, strings unquoted and byte for byte (the default when stdout is not a terminal, as with redis-cli)
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
    /// Print the formatted output even when stdout is not a terminal
    #[arg(long, conflicts_with_all = ["raw", "json"])]
    pub no_raw: bool,
    /// Print each reply as one JSON document (a string that is not UTF-8 as {"base64": "…"})
    #[arg(long)]
    pub json: bool,
    /// Read the last argument of the command from stdin
    #[arg(short = 'x')]
    pub stdin_arg: bool,
    /// Run the commands in FILE ('-' for stdin), pipelined, and print a summary;
    /// one command per line (redis-cli syntax) or the RESP protocol
    #[arg(long, value_name = "FILE", conflicts_with_all = ["command", "stdin_arg", "repeat"])]
    pub pipe: Option<PathBuf>,
    /// The server is one node of a Redis Cluster: route every command by its
    /// keys, in every mode (one command, --pipe, piped lines, the prompt);
    /// follows MOVED and ASK; `DBSIZE`, `KEYS`, `FLUSHALL`… go to every primary
    #[arg(short = 'c', long)]
    pub cluster: bool,
    /// Print this help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// The command and its arguments; none starts the interactive prompt
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

/// Runs `redwire cli`.
pub fn run(args: CliArgs) -> ExitCode {
    let mode = if args.json {
        Mode::Json
    } else if args.raw || (!args.no_raw && !std::io::stdout().is_terminal()) {
        Mode::Raw
    } else {
        Mode::Human
    };
    if let Err(e) = check_usage(&args) {
        return usage(&e);
    }
    let (target, config) = match Target::resolve(&args.server, args.db) {
        Ok(both) => both,
        Err(TargetError::Usage(e)) => return usage(&e),
        Err(TargetError::Failure(e)) => return fail(&e),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let code = if let Some(path) = &args.pipe {
        match read_input(path) {
            Ok(data) => rt.block_on(run_file(config, args.cluster, data, mode, false)),
            Err(e) => {
                eprintln!("redwire: cannot read {}: {e}", path.display());
                EXIT_USAGE
            }
        }
    } else if !args.command.is_empty() || args.stdin_arg {
        let mut words: Vec<Vec<u8>> = args.command.iter().map(os_bytes).collect();
        if args.stdin_arg {
            let mut last = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut last) {
                return fail(&format!("cannot read stdin: {e}"));
            }
            words.push(last);
        }
        let repeat = Repeat {
            times: args.repeat.unwrap_or(1),
            interval: Duration::from_secs_f64(args.interval.unwrap_or(0.0)),
        };
        rt.block_on(one_shot(config, args.cluster, words, mode, repeat))
    } else if std::io::stdin().is_terminal() {
        repl::run(&rt, config, args.cluster, mode)
    } else {
        // Commands piped in (`echo PING | redwire cli`): run them all and print
        // every reply, as redis-cli does.
        let mut data = Vec::new();
        match std::io::stdin().read_to_end(&mut data) {
            Ok(_) => rt.block_on(run_file(config, args.cluster, data, mode, true)),
            Err(e) => return fail(&format!("cannot read stdin: {e}")),
        }
    };
    // The runtime, then the embedded server: no client may outlive its server.
    drop(rt);
    drop(target);
    ExitCode::from(code)
}

/// The combinations of flags that make no sense, found before anything
/// connects.
fn check_usage(args: &CliArgs) -> Result<(), String> {
    if args.stdin_arg && args.command.is_empty() {
        return Err("-x needs a command to add the argument to".into());
    }
    if let Some(r) = args.repeat {
        if r == 0 || r < -1 {
            return Err("-r takes a number of runs of at least 1, or -1 for forever".into());
        }
        if args.command.is_empty() {
            return Err("-r repeats a command: give one".into());
        }
    }
    if let Some(i) = args.interval {
        if !(i >= 0.0 && i.is_finite()) {
            return Err("-i takes a number of seconds, 0 or more".into());
        }
    }
    if args.db.is_some_and(|db| db < 0) {
        return Err("-n takes a database number, 0 or more".into());
    }
    Ok(())
}

/// `-r N -i SECONDS`: how often to run a one-shot command and how long to
/// wait between runs.
#[derive(Debug, Clone, Copy)]
struct Repeat {
    /// Runs; -1 for until interrupted.
    times: i64,
    interval: Duration,
}

impl Repeat {
    /// True when run `done` (from 0) is to happen.
    fn more(&self, done: i64) -> bool {
        self.times < 0 || done < self.times
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("redwire: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("redwire: {message}");
    ExitCode::from(EXIT_FAILURE)
}

fn os_bytes(s: &OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_bytes().to_vec()
}

fn read_input(path: &PathBuf) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut data = Vec::new();
        std::io::stdin().read_to_end(&mut data)?;
        Ok(data)
    } else {
        std::fs::read(path)
    }
}

async fn one_shot(
    config: redwire::Config,
    cluster: bool,
    words: Vec<Vec<u8>>,
    mode: Mode,
    repeat: Repeat,
) -> u8 {
    if stream::is_streaming(&words[0]) {
        return match stream::run(&config, &words, mode).await {
            Ok(true) => EXIT_OK,
            Ok(false) => EXIT_ERROR_REPLY,
            Err(e) => {
                eprintln!("redwire: {e}");
                EXIT_FAILURE
            }
        };
    }
    let remote = match Remote::connect(config, cluster).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("redwire: {e}");
            return EXIT_FAILURE;
        }
    };
    let (cmd, text) = (command(&words), is_text_command(&words));
    let mut code = EXIT_OK;
    let mut done = 0;
    while repeat.more(done) {
        if done > 0 && !repeat.interval.is_zero() {
            tokio::time::sleep(repeat.interval).await;
        }
        let this = print_result(remote.send(&cmd).await, mode, text);
        code = code.max(this);
        done += 1;
        if this == EXIT_FAILURE {
            break;
        }
    }
    code
}

/// Prints one reply: values on stdout, error replies on stderr (so stdout holds
/// only data), and says which exit code it deserves.
fn print_result(result: redwire::Result<Value>, mode: Mode, text_command: bool) -> u8 {
    match result {
        Ok(value) => {
            print(&value, mode, text_command);
            EXIT_OK
        }
        Err(e) if e.kind() == ErrorKind::Server => {
            eprintln!("{}", render_error(e.message(), mode));
            EXIT_ERROR_REPLY
        }
        Err(e) => {
            eprintln!("redwire: {}", crate::words::failure(&e));
            EXIT_FAILURE
        }
    }
}

/// One command of a file and the line it came from.
struct Line {
    number: usize,
    words: Vec<Vec<u8>>,
}

/// The commands of a file: RESP (what `redis-cli --pipe` takes) when it starts
/// with `*`, else one command per line in redis-cli's syntax; blank lines and
/// lines starting with `#` are skipped.
fn parse_commands(data: Vec<u8>) -> Result<Vec<Line>, String> {
    let start = data.iter().position(|b| !b.is_ascii_whitespace());
    if start.map(|i| data[i]) == Some(b'*') {
        let mut buf = BytesMut::from(&data[start.unwrap_or(0)..]);
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        while let Some(frame) = decoder
            .decode(&mut buf)
            .map_err(|e| format!("bad RESP in command {}: {e}", out.len() + 1))?
        {
            let words = match frame {
                Frame::Array(items) => items
                    .into_iter()
                    .map(|f| match f {
                        Frame::Bulk(b) | Frame::Simple(b) => Ok(b.to_vec()),
                        _ => Err(format!("command {} is not bulk strings", out.len() + 1)),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err(format!("command {} is not an array", out.len() + 1)),
            };
            out.push(Line {
                number: out.len() + 1,
                words,
            });
        }
        if buf.iter().any(|b| !b.is_ascii_whitespace()) {
            return Err("the RESP input ends in the middle of a command".into());
        }
        return Ok(out);
    }
    let text = String::from_utf8_lossy(&data);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let words = split_args(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        if !words.is_empty() {
            out.push(Line {
                number: i + 1,
                words,
            });
        }
    }
    Ok(out)
}

/// Sends every command of `data` in pipelines of [`BATCH`]. With `print`, every
/// reply is printed; without (`--pipe`), errors go to stderr with their line
/// and a summary ends the run, as with `redis-cli --pipe`.
async fn run_file(
    config: redwire::Config,
    cluster: bool,
    data: Vec<u8>,
    mode: Mode,
    print: bool,
) -> u8 {
    let lines = match parse_commands(data) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("redwire: {e}");
            return EXIT_USAGE;
        }
    };
    if let Some(l) = lines.iter().find(|l| stream::is_streaming(&l.words[0])) {
        eprintln!(
            "redwire: line {}: {} streams messages and cannot run from a file; run it alone",
            l.number,
            String::from_utf8_lossy(&l.words[0])
        );
        return EXIT_USAGE;
    }
    // The shared connection refuses some commands (MULTI, SELECT…): say which
    // line before anything runs, rather than failing a whole batch.
    let refused = lines
        .iter()
        .find_map(|l| command(&l.words).check_shareable().err().map(|e| (l, e)));
    if let Some((l, e)) = refused {
        eprintln!("redwire: line {}: {}", l.number, e.message());
        return EXIT_USAGE;
    }
    let remote = match Remote::connect(config, cluster).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("redwire: {e}");
            return EXIT_FAILURE;
        }
    };
    let (mut errors, mut replies, mut code) = (0usize, 0usize, EXIT_OK);
    for chunk in lines.chunks(BATCH) {
        let mut p = Pipeline::new();
        for l in chunk {
            p.add(command(&l.words));
        }
        let results = match remote.pipeline(&p).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!(
                    "redwire: the pipeline from line {} failed: {e}",
                    chunk[0].number
                );
                return EXIT_FAILURE;
            }
        };
        for (l, result) in chunk.iter().zip(results) {
            replies += 1;
            let this = if print {
                print_result(result, mode, is_text_command(&l.words))
            } else {
                match result {
                    Ok(_) => EXIT_OK,
                    Err(e) => {
                        eprintln!("line {}: {}", l.number, render_error(e.message(), mode));
                        EXIT_ERROR_REPLY
                    }
                }
            };
            if this != EXIT_OK {
                errors += 1;
                code = code.max(this);
            }
        }
    }
    if !print {
        match mode {
            Mode::Json => println!(
                "{}",
                serde_json::json!({ "errors": errors, "replies": replies })
            ),
            _ => println!("errors: {errors}, replies: {replies}"),
        }
    }
    let _ = std::io::stdout().flush();
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_lines_and_of_resp() {
        let lines = parse_commands(b"# c\nSET a 1\n\n  GET \"a\"\n".to_vec()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].number, lines[1].number), (2, 4));
        assert_eq!(lines[1].words, [b"GET".to_vec(), b"a".to_vec()]);

        let resp = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n".to_vec();
        let lines = parse_commands(resp).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].words, [b"PING".to_vec()]);
        assert!(parse_commands(b"*2\r\n$3\r\nGET\r\n".to_vec()).is_err());
    }
}
