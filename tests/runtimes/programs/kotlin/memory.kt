// Touches 600 MiB of heap, one MiB at a time.
fun main() {
    val blocks = ArrayList<ByteArray>()
    for (i in 0 until 600) blocks.add(ByteArray(1 shl 20) { i.toByte() })
    println("survived ${blocks.size}")
}
