#include <iostream>

int main() {
    for (;;) std::cout << "y\n";
}
