//! The `ceremony` binary: everything is in the library; this wires it to the process.

fn main() -> std::process::ExitCode {
    ceremony_cli::run(std::env::args_os(), &mut ceremony_cli::RealEnv::default())
}
