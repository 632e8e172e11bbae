import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

// Touches 600 MiB of heap, one MiB at a time.
public class Main {
    public static void main(String[] args) {
        List<byte[]> blocks = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            byte[] block = new byte[1 << 20];
            Arrays.fill(block, (byte) i);
            blocks.add(block);
        }
        System.out.println("survived " + blocks.size());
    }
}
