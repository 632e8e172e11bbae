public class Program {
    static volatile int counter;

    public static void Main() {
        while (true) counter++;
    }
}
