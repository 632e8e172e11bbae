import core.volatile : volatileLoad, volatileStore;

void main() {
    ulong n = 0;
    while (true) {
        volatileStore(&n, volatileLoad(&n) + 1);
    }
}
