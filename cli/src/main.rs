//! The `redwire` command-line tool: `redwire cli` talks to a server like
//! redis-cli, `redwire bench` loads it like redis-benchmark. With no
//! connection flag (`-h`, `-p`, `-s`, `-u`…) and no `REDIS_URL`, both start a
//! throwaway `redis-server` from the `PATH`.

mod bench;
mod cli;
mod double;
mod exit;
mod format;
mod json;
mod remote;
mod repl;
mod server_args;
mod split;
mod stream;
mod target;
mod words;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// redwire: a redis-cli style client and a load generator, built on the redwire client.
#[derive(Parser, Debug)]
#[command(name = "redwire", version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one command, a file of commands, or an interactive prompt
    Cli(cli::CliArgs),
    /// Load a server like redis-benchmark: throughput and latency percentiles
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::Cli(a)) => cli::run(a),
        Some(Command::Bench(a)) => bench::run(a),
        None => {
            let _ = Args::command().print_help();
            ExitCode::from(exit::EXIT_USAGE)
        }
    }
}
