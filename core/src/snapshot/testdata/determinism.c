/* Guest for the snapshot and determinism tests: reads every clock and entropy source a
 * program can reach, forks children that race over a pipe, sleeps, and writes, renames
 * and deletes files, printing everything it saw. Under deterministic mode two runs (and a
 * snapshot-restore-continue run) must print the same bytes after the same instruction count. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void hex(const char *label, const unsigned char *b, int n) {
    printf("%s ", label);
    for (int i = 0; i < n; i++) printf("%02x", b[i]);
    printf("\n");
}

static void clocks(const char *label) {
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    printf("%s realtime %lld.%09ld monotonic %lld.%09ld time %lld\n", label, (long long)rt.tv_sec,
           rt.tv_nsec, (long long)mono.tv_sec, mono.tv_nsec, (long long)time(NULL));
}

static void spin(long n) {
    for (volatile long k = 0; k < n; k++) {
    }
}

int main(int argc, char **argv) {
    unsigned char buf[16];
    long rounds = argc > 1 ? atol(argv[1]) : 3;
    setvbuf(stdout, NULL, _IONBF, 0);
    clocks("start");
    hex("at_random", (const unsigned char *)getauxval(AT_RANDOM), 16);
    getrandom(buf, sizeof buf, 0);
    hex("getrandom", buf, sizeof buf);
    /* Without a file system (a bare ELF machine) there is no /dev/urandom: say so, go on. */
    int urandom = open("/dev/urandom", O_RDONLY);
    memset(buf, 0, sizeof buf);
    printf("urandom open %s read %d\n", urandom < 0 ? "failed" : "ok",
           (int)read(urandom, buf, sizeof buf));
    hex("urandom", buf, sizeof buf);

    /* An eventfd, a periodic timerfd and an epoll set over both live through the whole run,
       so snapshots taken at any point hold them. */
    int efd = eventfd(5, 0);
    int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec period = {{0, 700000}, {0, 700000}};
    timerfd_settime(tfd, 0, &period, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
    ev.data.u64 = 2;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    printf("eventfd %d timerfd %d epoll %d\n", efd >= 0, tfd >= 0, ep >= 0);

    int pipefd[2];
    if (pipe(pipefd) != 0) return 11;
    for (long i = 0; i < rounds; i++) {
        pid_t child = fork();
        if (child == 0) {
            close(pipefd[0]);
            char line[160];
            for (int step = 0; step < 3; step++) {
                /* Long enough to cross time slices, so the scheduler interleaves children. */
                spin(150000 * (rounds - i) + 40000 * step);
                struct timespec t;
                clock_gettime(CLOCK_MONOTONIC, &t);
                unsigned r;
                getrandom(&r, sizeof r, 0);
                int n = snprintf(line, sizeof line, "child %ld step %d pid %d t %lld.%09ld r %08x\n",
                                 i, step, (int)getpid(), (long long)t.tv_sec, t.tv_nsec, r);
                write(pipefd[1], line, n);
            }
            _exit((int)i + 1);
        }
    }
    close(pipefd[1]);
    char chunk[97];
    ssize_t n;
    while ((n = read(pipefd[0], chunk, sizeof chunk - 1)) > 0) {
        chunk[n] = 0;
        fputs(chunk, stdout);
    }
    int status;
    pid_t pid;
    while ((pid = wait(&status)) > 0) printf("reaped %d status %d\n", (int)pid, WEXITSTATUS(status));

    struct timespec nap = {0, 2500000};
    nanosleep(&nap, NULL);
    clocks("after sleep");
    struct epoll_event ready[4];
    int nready = epoll_wait(ep, ready, 4, 50);
    printf("epoll ready %d:", nready);
    for (int i = 0; i < nready; i++) printf(" %llu", (unsigned long long)ready[i].data.u64);
    uint64_t value = 0;
    printf("\neventfd read %d value %llu", (int)read(efd, &value, sizeof value), (unsigned long long)value);
    value = 0;
    printf(" timerfd read %d ticks>0 %d\n", (int)read(tfd, &value, sizeof value), value > 0);

    int f = open("/tmp/state.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    dprintf(f, "written at %lld\n", (long long)time(NULL));
    close(f);
    rename("/tmp/state.txt", "/tmp/renamed.txt");
    struct stat st;
    if (stat("/tmp/renamed.txt", &st) == 0)
        printf("file size %lld mtime %lld\n", (long long)st.st_size, (long long)st.st_mtime);
    unlink("/tmp/renamed.txt");
    printf("after unlink exists %d\n", access("/tmp/renamed.txt", F_OK) == 0);
    memset(buf, 0, sizeof buf);
    printf("urandom again read %d\n", (int)read(urandom, buf, sizeof buf));
    hex("urandom again", buf, sizeof buf);
    clocks("end");
    return 0;
}
