using System;
using System.Collections.Generic;

// Touches 600 MiB, one MiB at a time.
public class Program {
    public static void Main() {
        var blocks = new List<byte[]>();
        for (int i = 0; i < 600; i++) {
            var block = new byte[1 << 20];
            for (int j = 0; j < block.Length; j += 4096) block[j] = (byte)i;
            blocks.Add(block);
        }
        Console.WriteLine("survived " + blocks.Count);
    }
}
