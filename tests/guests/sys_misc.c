/* System-call surface a typical program touches, printing only host-independent facts: clocks are
   checked for sanity and monotonicity, random bytes only for count/success, uname only for
   sysname/machine, ids only for being valid. */
#define _GNU_SOURCE /* gettid */
#include "guest.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static i64 ns(const struct timespec *t) { return (i64)t->tv_sec * 1000000000 + t->tv_nsec; }

int main(void)
{
    struct timespec a, b;
    int ok = 1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 2000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        ok &= ns(&b) >= ns(&a) && b.tv_nsec >= 0 && b.tv_nsec < 1000000000;
        a = b;
    }
    printf("monotonic non-decreasing %d\n", ok);
    struct timespec req = {0, 2000000}, t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int slept = nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("nanosleep 2ms ret %d elapsed>=2ms %d\n", slept, ns(&t1) - ns(&t0) >= 2000000);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    time_t now = time(NULL);
    /* 2020-01-01 .. 2100-01-01 */
    printf("realtime plausible %d gettimeofday plausible %d time plausible %d\n",
           rt.tv_sec > 1577836800 && rt.tv_sec < 4102444800,
           tv.tv_sec > 1577836800 && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
           now > 1577836800 && now < 4102444800);
    struct timespec res;
    printf("clock_getres monotonic ret %d\n", clock_getres(CLOCK_MONOTONIC, &res));
    clock_t c = clock();
    printf("clock() nonnegative %d\n", c >= 0);

    unsigned char rnd[64], big[4096];
    memset(rnd, 0, sizeof rnd);
    ssize_t got = getrandom(rnd, sizeof rnd, 0);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof rnd; i++)
        nonzero |= rnd[i];
    printf("getrandom 64 -> %zd any-nonzero %d\n", got, nonzero != 0);
    printf("getrandom 4096 -> %zd\n", getrandom(big, sizeof big, 0));
    printf("getrandom 0 -> %zd\n", getrandom(big, 0, 0));

    struct utsname u;
    printf("uname ret %d sysname %s machine %s\n", uname(&u), u.sysname, u.machine);
    printf("getpid>0 %d getppid>=0 %d gettid==getpid %d\n", getpid() > 0, getppid() >= 0,
           gettid() == getpid());
    printf("uid/gid/euid/egid valid %d\n",
           (int)getuid() >= 0 && (int)getgid() >= 0 && (int)geteuid() >= 0 && (int)getegid() >= 0);
    printf("pagesize %ld\n", sysconf(_SC_PAGESIZE));
    char cwd[4096];
    printf("getcwd ok %d absolute %d\n", getcwd(cwd, sizeof cwd) != NULL, cwd[0] == '/');
    struct rlimit rl;
    printf("getrlimit stack ret %d\n", getrlimit(RLIMIT_STACK, &rl));
    /* stdout and stdin are pipes in the harness; both runs must see that. */
    printf("isatty(0) %d isatty(1) %d\n", isatty(0), isatty(1));
    errno = 0;
    ssize_t w = write(-1, "x", 1);
    printf("write(-1) -> %zd errno EBADF %d\n", w, errno == EBADF);
    errno = 0;
    int fd = open("/nonexistent-friscy-path/x", O_RDONLY);
    printf("open missing -> %d errno ENOENT %d\n", fd, errno == ENOENT);
    int p[2];
    if (pipe(p) == 0) {
        char in[] = "through a pipe", out[32] = {0};
        ssize_t wn = write(p[1], in, sizeof in);
        ssize_t rn = read(p[0], out, sizeof out);
        printf("pipe write %zd read %zd [%s]\n", wn, rn, out);
        close(p[0]);
        close(p[1]);
    } else {
        printf("pipe failed\n");
    }
    fflush(stdout); /* keep the dup'd-fd line in program order */
    int d = dup(1);
    printf("dup(1) > 2 %d\n", d > 2);
    dprintf(d, "written through dup'd fd\n");
    close(d);
    fflush(stdout);
    return 0;
}
