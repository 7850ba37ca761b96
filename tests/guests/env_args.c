/* argv, environ and auxv-derived values as a program sees them at startup. The environment is
   printed sorted because qemu-user (the reference) hands it to the guest in reverse order. */
#include "guest.h"
#include <stdlib.h>
#include <sys/auxv.h>

extern char **environ;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    /* argv[0] is whatever path the runner used; only its last component is comparable. */
    const char *base = strrchr(argv[0], '/');
    printf("argc %d argv0-basename [%s] argv[argc]==NULL %d\n", argc, base ? base + 1 : argv[0],
           argv[argc] == NULL);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] len %zu [%s]\n", i, strlen(argv[i]), argv[i]);
    size_t n = 0;
    while (environ[n])
        n++;
    char **sorted = malloc((n + 1) * sizeof *sorted);
    memcpy(sorted, environ, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_str);
    printf("envc %zu\n", n);
    for (size_t i = 0; i < n; i++)
        printf("env [%s]\n", sorted[i]);
    const char *home = getenv("HOME"), *missing = getenv("FRISCY_SURELY_UNSET");
    printf("getenv HOME [%s] missing %d\n", home ? home : "(null)", missing == NULL);
    setenv("ADDED", "1", 1);
    unsetenv("HOME");
    printf("after setenv/unsetenv: ADDED=%s HOME=%s\n", getenv("ADDED"),
           getenv("HOME") ? getenv("HOME") : "(null)");
    /* Stack alignment at entry is part of the ABI; argv lives on the initial stack. */
    printf("argv 8-aligned %d\n", ((uintptr_t)argv & 7) == 0);
    printf("AT_PAGESZ %lu AT_SECURE %lu AT_RANDOM present %d\n", getauxval(AT_PAGESZ),
           getauxval(AT_SECURE), getauxval(AT_RANDOM) != 0);
    return 0;
}
