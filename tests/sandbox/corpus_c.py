"""The C corpus: the compiler as a weapon, and what C reaches that Python does not (see corpus.py)."""

from tests.sandbox.corpus import CE, MLE, RE, TLE, Attack, attack
from tests.sandbox.harness import SMALL_LIMITS


def c_probe(body: str, includes: str = "") -> str:
    """A C probe: ``body`` sets ``breach`` (a message) when the attack worked; exit 0 only then."""
    return f"""
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
{includes}
int main(void) {{
    const char *breach = NULL;
{body}
    printf("breach: %s\\n", breach ? breach : "none");
    return breach ? 0 : 1;
}}
"""


C_MACRO_BOMB = """
#define A x x x x x x x x x x
#define B A A A A A A A A A A
#define C B B B B B B B B B B
#define D C C C C C C C C C C
#define E D D D D D D D D D D
#define F E E E E E E E E E E
#define G F F F F F F F F F F
#define H G G G G G G G G G G
int main(void) { H H H H H H H H H H }
"""

C_FORK_BOMB = """
#include <unistd.h>
int main(void) {
    for (;;) {
        fork();
    }
}
"""

C_X32_ABI = c_probe(
    """
    fflush(stdout);
    long r = syscall(0x40000000 | 39); /* getpid through the x32 ABI */
    printf("x32 getpid: %ld %s\\n", r, strerror(errno));
    if (r > 0) breach = "x32 system calls are allowed";
""",
    includes="#include <sys/syscall.h>",
)

C_INT80 = c_probe(
    """
    fflush(stdout);
    int eax = 20; /* getpid through the 32-bit int 0x80 entry */
    __asm__ volatile("int $0x80" : "+a"(eax) : : "memory");
    printf("int 0x80 getpid: %d\\n", eax);
    if (eax > 0) breach = "32-bit system calls are allowed";
"""
)

C_PRIVILEGES = c_probe(
    """
    if (setuid(0) == 0) breach = "setuid(0)";
    if (unshare(CLONE_NEWUSER) == 0) breach = "new user namespace";
    if (unshare(CLONE_NEWNET) == 0) breach = "new network namespace";
    printf("last error: %s\\n", strerror(errno));
""",
    includes="#include <sched.h>",
)

C_STACK_OVERFLOW = """
int down(int n) { volatile char pad[4096]; pad[0] = (char)n; return down(n + 1) + pad[0]; }
int main(void) { return down(0); }
"""


def c_attacks() -> list[Attack]:
    """The C corpus: the compiler runs in the same sandbox as the program."""
    return [
        attack("include_itself", '#include "main.c"\nint main(void) { return 0; }', CE),
        attack("include_dev_zero", '#include "/dev/zero"\nint main(void) { return 0; }', CE),
        attack("macro_bomb", C_MACRO_BOMB, CE),
        attack("fork_bomb", C_FORK_BOMB, TLE, MLE, limits={**SMALL_LIMITS, "memory_mb": 512}),
        attack("x32_system_calls", C_X32_ABI, RE),
        attack("32_bit_system_calls", C_INT80, RE),
        attack("privileges", C_PRIVILEGES, RE),
        attack("stack_overflow", C_STACK_OVERFLOW, RE, MLE),
    ]
