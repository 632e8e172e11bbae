#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Touches 600 MiB, one MiB at a time. */
int main(void) {
    for (int i = 0; i < 600; i++) {
        char *block = malloc(1 << 20);
        if (block == NULL) return 3;
        memset(block, i, 1 << 20);
    }
    puts("survived");
    return 0;
}
