#include "testlib.h"
int main(int argc, char* argv[]) {
    (void)argc;
    long long got = read_first(argv[2]), want = read_first(argv[3]);
    verdict(got == want, got == want ? "right sum" : "wrong sum");
}
