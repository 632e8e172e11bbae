import std.stdio;

void main() {
    while (true) {
        writeln("y");
    }
}
