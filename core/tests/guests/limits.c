/* Guest for core/tests/limits.rs: probes the memory, open-file and process limits and
 * prints what it found, one "name value" pair per line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    printf("nofile %ld %ld\n", (long)r.rlim_cur, (long)r.rlim_max);
    getrlimit(RLIMIT_NPROC, &r);
    printf("nproc %ld\n", (long)r.rlim_cur);
    getrlimit(RLIMIT_DATA, &r);
    printf("data %ld\n", (long)r.rlim_cur);

    int dups = 0;
    while (dup(0) >= 0) dups++;
    printf("dups %d errno %d\n", dups, errno);
    errno = 0;
    printf("dup2 %d errno %d\n", dup2(0, (int)r.rlim_cur + 1000), errno);

    static void *mapped[256];
    long maps = 0;
    for (;;) {
        void *p = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) break;
        ((char *)p)[0] = 1;
        mapped[maps++] = p;
        if (maps >= 256) break; /* bounded under an unlimited runner */
    }
    printf("maps %ld errno %d\n", maps, errno);
    errno = 0;
    printf("sbrk_fails %d errno %d\n", sbrk(1 << 20) == (void *)-1, errno);

    /* Forks copy the pages in use: give the mappings back first. */
    for (long i = 0; i < maps; i++) munmap(mapped[i], 1 << 20);

    int forks = 0;
    for (;;) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid < 0) break;
        if (++forks >= 100) break; /* bounded under an unlimited runner */
    }
    printf("forks %d errno %d\n", forks, errno);
    while (wait(0) > 0) {}
    return 0;
}
