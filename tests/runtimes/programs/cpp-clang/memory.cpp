#include <iostream>
#include <vector>

// Touches 600 MiB, one MiB at a time.
int main() {
    std::vector<std::vector<char>> blocks;
    for (int i = 0; i < 600; i++) blocks.emplace_back(1 << 20, static_cast<char>(i));
    std::cout << "survived " << blocks.size() << std::endl;
}
