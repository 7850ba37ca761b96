/* Ways a process ends: exit/_exit/return codes (truncated to 8 bits), atexit order, stdio flushing at
   exit, stderr output, abort (SIGABRT) and a fatal SIGSEGV. Usage: exit_codes MODE [CODE]. */
#include "guest.h"
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static void first(void) { printf("atexit first-registered runs last\n"); }
static void second(void) { printf("atexit second-registered runs first\n"); }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "return";
    int code = argc > 2 ? atoi(argv[2]) : 0;
    atexit(first);
    atexit(second);
    /* No newline: the buffered text must still come out when the process exits normally. */
    printf("mode %s code %d (unflushed)", mode, code);
    fprintf(stderr, "to stderr: mode %s\n", mode);
    if (!strcmp(mode, "exit"))
        exit(code);
    if (!strcmp(mode, "_exit")) {
        fflush(stdout);
        _exit(code); /* skips atexit handlers */
    }
    if (!strcmp(mode, "abort")) {
        fflush(stdout);
        abort();
    }
    if (!strcmp(mode, "segv")) {
        fflush(stdout);
        int *volatile bad = (int *)16; /* volatile pointer: the compiler cannot prove the fault */
        *bad = 1;
    }
    if (!strcmp(mode, "kill")) {
        fflush(stdout);
        raise(SIGTERM);
    }
    if (!strcmp(mode, "stderr-only")) {
        fputs("line one\nline two without newline", stderr);
        return 3;
    }
    return code;
}
