using System;

public class Program {
    public static void Main() {
        while (true) Console.WriteLine("y");
    }
}
