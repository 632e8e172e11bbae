// Touches 600 MiB, one MiB at a time.
fn main() {
    let blocks: Vec<Vec<u8>> = (0..600).map(|i| vec![i as u8; 1 << 20]).collect();
    println!("survived {}", blocks.len());
}
