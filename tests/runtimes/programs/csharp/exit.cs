using System;

public class Program {
    public static void Main() {
        Console.WriteLine("partial");
        Environment.Exit(3);
    }
}
