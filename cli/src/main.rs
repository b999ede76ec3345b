//! The `redwire` command-line tool (its subcommands land with their own issue).

fn main() {
    eprintln!(
        "redwire {}: the cli and bench subcommands are not built yet",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
