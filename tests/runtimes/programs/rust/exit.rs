fn main() {
    println!("partial");
    std::process::exit(3);
}
