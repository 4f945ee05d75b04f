//! `omg`: the command line. Thin: parsing, talking to omgd, rendering.

fn main() -> std::process::ExitCode {
    omg::cli::run()
}
