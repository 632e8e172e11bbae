@Volatile var counter = 0L

fun main() {
    while (true) counter++
}
