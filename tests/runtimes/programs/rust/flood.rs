use std::io::Write;

fn main() {
    let mut out = std::io::stdout().lock();
    loop {
        out.write_all(b"y\n").unwrap();
    }
}
