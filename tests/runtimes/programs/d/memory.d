import std.stdio;

// Touches 600 MiB, one MiB at a time.
void main() {
    ubyte[][] blocks;
    foreach (i; 0 .. 600) {
        auto block = new ubyte[1 << 20];
        block[] = cast(ubyte) i;
        blocks ~= block;
    }
    writeln("survived ", blocks.length);
}
