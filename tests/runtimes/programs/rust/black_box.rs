use std::hint::black_box;

// std::hint::black_box is stable since Rust 1.66: Debian's old rustc 1.63 refused it.
fn main() {
    let sum: u64 = (1..=100u64).map(black_box).sum();
    println!("{sum}");
}
