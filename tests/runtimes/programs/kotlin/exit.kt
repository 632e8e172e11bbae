import kotlin.system.exitProcess

fun main() {
    println("partial")
    exitProcess(3)
}
