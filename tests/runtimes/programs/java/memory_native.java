import java.lang.reflect.Field;
import sun.misc.Unsafe;

// Touches 600 MiB outside the heap, where -Xmx does not reach.
public class Main {
    public static void main(String[] args) throws Exception {
        Field field = Unsafe.class.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        Unsafe unsafe = (Unsafe) field.get(null);
        long size = 600L << 20;
        long address = unsafe.allocateMemory(size);
        unsafe.setMemory(address, size, (byte) 1);
        System.out.println("survived");
    }
}
