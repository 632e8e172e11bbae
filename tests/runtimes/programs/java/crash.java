import java.lang.reflect.Field;
import sun.misc.Unsafe;

// Writes to address 0: the JVM reports a fatal error and aborts.
public class Main {
    public static void main(String[] args) throws Exception {
        Field field = Unsafe.class.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        ((Unsafe) field.get(null)).putAddress(0, 1);
    }
}
