// Writes to address 0: the JVM reports a fatal error and aborts.
object Main {
  def main(args: Array[String]): Unit = {
    val field = classOf[sun.misc.Unsafe].getDeclaredField("theUnsafe")
    field.setAccessible(true)
    field.get(null).asInstanceOf[sun.misc.Unsafe].putAddress(0, 1)
  }
}
