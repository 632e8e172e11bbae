#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Touches 600 MiB, one MiB at a time. The blocks are read back at the end: Clang removes a malloc and
   memset whose memory is never used. */
static unsigned char *blocks[600];

int main(void) {
    unsigned long total = 0;
    for (int i = 0; i < 600; i++) {
        blocks[i] = malloc(1 << 20);
        if (blocks[i] == NULL) return 3;
        memset(blocks[i], i, 1 << 20);
    }
    for (int i = 0; i < 600; i++) total += blocks[i][(i * 4099) % (1 << 20)];
    printf("survived %lu\n", total);
    return 0;
}
