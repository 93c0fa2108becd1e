//! `cargo xtask`: ferrograd's developer harnesses.

fn main() {
    eprintln!("usage: cargo xtask fuzz-symbolic [--seed S] [--iters N]");
    std::process::exit(2);
}
