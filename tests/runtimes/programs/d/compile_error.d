void main() {
    int x = undeclared;
}
