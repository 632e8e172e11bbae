// Writes to address 0: the JVM reports a fatal error and aborts.
fun main() {
    val field = sun.misc.Unsafe::class.java.getDeclaredField("theUnsafe")
    field.isAccessible = true
    (field.get(null) as sun.misc.Unsafe).putAddress(0, 1)
}
