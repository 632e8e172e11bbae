// A tiny stand-in for a Polygon package's testlib.h (written for the tests, not a copy): enough for
// check.cpp to include it from beside its source.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <fstream>
inline long long read_first(const char* path) {
    std::ifstream file(path);
    long long value = 0;
    if (!(file >> value)) std::exit(2);
    return value;
}
[[noreturn]] inline void verdict(bool accepted, const char* message) {
    std::fputs(message, stderr);
    std::exit(accepted ? 0 : 1);
}
