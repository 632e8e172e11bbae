// Touches 600 MiB of heap, one MiB at a time.
object Main {
  def main(args: Array[String]): Unit = {
    val blocks = (0 until 600).map(i => Array.fill[Byte](1 << 20)(i.toByte))
    println(s"survived ${blocks.size}")
  }
}
