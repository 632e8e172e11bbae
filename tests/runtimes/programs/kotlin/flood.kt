fun main() {
    while (true) println("y")
}
