/* epoll, eventfd, timerfd and interval timers: readiness rules, counters, expirations, signals interrupting blocking calls.
   Modes: epoll, eventfd, timerfd, alarm, itimer, alarm-kill. Output never depends on timing precision. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL

static const char *err_name(int e) {
    switch (e) {
    case 0: return "ok";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case EFAULT: return "EFAULT";
    default: return "other";
    }
}

/* "ok" or the errno name of a call's result. */
static const char *res(long r) { return r < 0 ? err_name(errno) : "ok"; }

static int64_t now_ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct timespec ts_of(int64_t ns) {
    struct timespec t = {ns / 1000000000LL, ns % 1000000000LL};
    return t;
}

static void sleep_until(int64_t mono_ns) {
    struct timespec t = ts_of(mono_ns);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {
    }
}

/* Print the events of one epoll_wait; events sorted by data so the order never matters. */
static int show_wait(const char *what, int ep, int timeout) {
    struct epoll_event out[8];
    int n = epoll_wait(ep, out, 8, timeout);
    if (n < 0) {
        printf("%s: %s\n", what, err_name(errno));
        return n;
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (out[j].data.u64 < out[i].data.u64) {
                struct epoll_event t = out[i];
                out[i] = out[j];
                out[j] = t;
            }
    printf("%s: %d", what, n);
    for (int i = 0; i < n; i++) {
        unsigned e = out[i].events;
        printf(" [%llu:%s%s%s%s]", (unsigned long long)out[i].data.u64, e & EPOLLIN ? "IN" : "",
               e & EPOLLOUT ? "OUT" : "", e & EPOLLERR ? "ERR" : "", e & EPOLLHUP ? "HUP" : "");
    }
    printf("\n");
    return n;
}

static int ctl(int ep, int op, int fd, unsigned events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, op, fd, &ev);
}

static void go(int fd) { (void)!write(fd, "g", 1); }
static void await_go(int fd) {
    char c;
    (void)!read(fd, &c, 1);
}

static void drain(int fd, int n) {
    char buf[16];
    (void)!read(fd, buf, n);
}

static void test_epoll(void) {
    int p[2], q[2];
    pipe(p);
    pipe(q);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    printf("epoll_create1 bad flags: %s\n", res(epoll_create1(1)));
    printf("add: %s\n", res(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 7)));
    printf("add again: %s\n", res(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 7)));
    printf("mod unknown: %s\n", res(ctl(ep, EPOLL_CTL_MOD, q[0], EPOLLIN, 1)));
    printf("del unknown: %s\n", res(epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL)));
    printf("add itself: %s\n", res(ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 1)));
    printf("add bad fd: %s\n", res(ctl(ep, EPOLL_CTL_ADD, 99, EPOLLIN, 1)));
    printf("ctl on a pipe: %s\n", res(ctl(p[0], EPOLL_CTL_ADD, q[0], EPOLLIN, 1)));
    printf("bad op: %s\n", res(ctl(ep, 9, q[0], EPOLLIN, 1)));
    printf("exclusive mod: %s\n", res(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1)));
    struct epoll_event one;
    printf("wait maxevents 0: %s\n", res(epoll_wait(ep, &one, 0, 0)));
    printf("wait on a pipe: %s\n", res(epoll_wait(p[0], &one, 1, 0)));
    show_wait("empty", ep, 0);

    pid_t child = fork();
    if (child == 0) {
        close(p[0]);
        close(q[1]);
        (void)!write(p[1], "ab", 2);
        await_go(q[0]);
        (void)!write(p[1], "cd", 2);
        await_go(q[0]);
        (void)!write(p[1], "e", 1);
        await_go(q[0]);
        (void)!write(p[1], "f", 1);
        await_go(q[0]);
        (void)!write(p[1], "g", 1);
        _exit(0);
    }
    close(p[1]);
    close(q[0]);
    /* Level-triggered: reported while data is left. */
    show_wait("lt first", ep, -1);
    show_wait("lt again", ep, 0);
    drain(p[0], 1);
    show_wait("lt one byte left", ep, 0);
    drain(p[0], 1);
    show_wait("lt drained", ep, 0);

    /* Edge-triggered: once per write, not while data stays. */
    printf("mod et: %s\n", res(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 8)));
    go(q[1]);
    show_wait("et write", ep, -1);
    show_wait("et no new write", ep, 0);
    drain(p[0], 1);
    show_wait("et after partial read", ep, 0);
    go(q[1]);
    show_wait("et second write", ep, -1);
    drain(p[0], 2);

    /* One-shot: silent after one report until re-armed. */
    printf("mod oneshot: %s\n", res(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 9)));
    go(q[1]);
    show_wait("oneshot", ep, -1);
    show_wait("oneshot spent", ep, 0);
    printf("rearm: %s\n", res(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 10)));
    show_wait("rearmed", ep, 0);
    drain(p[0], 1);

    /* The writer writes and exits: data, then a hang-up. */
    go(q[1]);
    int status;
    waitpid(child, &status, 0);
    show_wait("writer gone", ep, -1);
    drain(p[0], 1);
    show_wait("hup only", ep, 0);
    printf("del: %s\n", res(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL)));
    show_wait("after del", ep, 0);

    /* A write end: writable, then in error once the reader is gone. */
    int w[2];
    pipe(w);
    ctl(ep, EPOLL_CTL_ADD, w[1], EPOLLOUT, 11);
    show_wait("write end", ep, 0);
    close(w[0]);
    show_wait("reader closed", ep, 0);
    close(w[1]);
    show_wait("write end closed", ep, 0);

    /* Interests belong to the description: a dup keeps it alive, the last close removes it. */
    int efd = eventfd(1, 0);
    ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 12);
    int dupd = dup(efd);
    close(efd);
    show_wait("closed fd, dup alive", ep, 0);
    close(dupd);
    show_wait("last reference closed", ep, 0);

    /* Nested instances, and loops refused. */
    int inner = epoll_create1(0), outer = epoll_create1(0);
    int ev2 = eventfd(0, EFD_NONBLOCK);
    ctl(inner, EPOLL_CTL_ADD, ev2, EPOLLIN, 13);
    printf("nest: %s\n", res(ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 14)));
    printf("loop: %s\n", res(ctl(inner, EPOLL_CTL_ADD, outer, EPOLLIN, 15)));
    show_wait("outer idle", outer, 0);
    uint64_t one_v = 1;
    (void)!write(ev2, &one_v, 8);
    show_wait("outer sees inner", outer, 0);
    show_wait("inner", inner, 0);

    /* Shared across fork: the child's wait sees what the parent added. */
    int r2[2];
    pipe(r2);
    ctl(ep, EPOLL_CTL_ADD, r2[0], EPOLLIN, 16);
    child = fork();
    if (child == 0) {
        struct epoll_event e;
        int n = epoll_wait(ep, &e, 1, -1);
        printf("child wait: %d data=%llu\n", n, (unsigned long long)e.data.u64);
        fflush(stdout);
        _exit(0);
    }
    (void)!write(r2[1], "z", 1);
    waitpid(child, &status, 0);
    show_wait("parent after child", ep, 0);
}

static void test_eventfd(void) {
    int fd = eventfd(3, 0);
    uint64_t v = 0;
    printf("read: %ld value=%llu\n", (long)read(fd, &v, 8), (unsigned long long)v);
    v = 5;
    (void)!write(fd, &v, 8);
    v = 7;
    (void)!write(fd, &v, 8);
    v = 0;
    printf("read sum: %ld value=%llu\n", (long)read(fd, &v, 8), (unsigned long long)v);
    printf("short read: %s\n", res(read(fd, &v, 4)));
    v = 1;
    printf("short write: %s\n", res(write(fd, &v, 4)));
    v = UINT64_MAX;
    printf("write max: %s\n", res(write(fd, &v, 8)));
    printf("bad flags: %s\n", res(eventfd(0, 0x40)));

    int nb = eventfd(0, EFD_NONBLOCK);
    printf("empty nonblocking read: %s\n", res(read(nb, &v, 8)));
    int ep = epoll_create1(0);
    ctl(ep, EPOLL_CTL_ADD, nb, EPOLLIN | EPOLLOUT, 1);
    show_wait("zero", ep, 0);
    v = UINT64_MAX - 1;
    printf("write to the limit: %s\n", res(write(nb, &v, 8)));
    show_wait("full", ep, 0);
    v = 1;
    printf("overflow write: %s\n", res(write(nb, &v, 8)));
    printf("read full: %ld\n", (long)read(nb, &v, 8));
    printf("value is max-1: %d\n", v == UINT64_MAX - 1);

    int sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (int i = 0; i < 4; i++) {
        v = 0;
        long r = read(sem, &v, 8);
        printf("semaphore read %d: %s %llu\n", i, res(r), (unsigned long long)v);
    }

    /* A blocking read wakes when another process writes. */
    int b = eventfd(0, 0);
    pid_t child = fork();
    if (child == 0) {
        uint64_t w = 42;
        (void)!write(b, &w, 8);
        _exit(0);
    }
    v = 0;
    printf("blocking read: %ld value=%llu\n", (long)read(b, &v, 8), (unsigned long long)v);
    int status;
    waitpid(child, &status, 0);
    printf("cloexec flag: %d\n", fcntl(eventfd(0, EFD_CLOEXEC), F_GETFD));
}

static void test_timerfd(void) {
    printf("bad clock: %s\n", res(timerfd_create(99, 0)));
    printf("bad flags: %s\n", res(timerfd_create(CLOCK_MONOTONIC, 0x40)));
    int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec cur;
    timerfd_gettime(tfd, &cur);
    printf("disarmed: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);
    struct itimerspec its = {.it_value = ts_of(40 * MS)};
    printf("settime: %s\n", res(timerfd_settime(tfd, 0, &its, NULL)));
    timerfd_gettime(tfd, &cur);
    int64_t left = (int64_t)cur.it_value.tv_sec * 1000000000LL + cur.it_value.tv_nsec;
    printf("armed: left in (0, 40ms]: %d interval=%ld\n", left > 0 && left <= 40 * MS,
           (long)cur.it_interval.tv_nsec);
    uint64_t n = 0;
    printf("one-shot read: %ld count=%llu\n", (long)read(tfd, &n, 8), (unsigned long long)n);
    timerfd_gettime(tfd, &cur);
    printf("after expiry: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);
    printf("short read: %s\n", res(read(tfd, &n, 4)));
    printf("write: %s\n", res(write(tfd, &n, 8)));
    printf("bad settime flags: %s\n", res(timerfd_settime(tfd, 8, &its, NULL)));
    struct itimerspec bad = {.it_value = {0, 1000000000}};
    printf("bad nsec: %s\n", res(timerfd_settime(tfd, 0, &bad, NULL)));
    int efd = eventfd(0, 0);
    printf("settime on eventfd: %s\n", res(timerfd_settime(efd, 0, &its, NULL)));
    printf("gettime on eventfd: %s\n", res(timerfd_gettime(efd, &cur)));

    /* Interval timer on absolute deadlines: after the 4th expiry at least 4 are counted. */
    int64_t start = now_ns(CLOCK_MONOTONIC) + 20 * MS;
    struct itimerspec iv = {.it_interval = ts_of(20 * MS), .it_value = ts_of(start)};
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &iv, NULL);
    sleep_until(start + 3 * 20 * MS + 5 * MS);
    n = 0;
    read(tfd, &n, 8);
    printf("interval: at least 4 expirations: %d\n", n >= 4);
    struct itimerspec old;
    struct itimerspec off = {0};
    timerfd_settime(tfd, 0, &off, &old);
    printf("old interval: %ld ms\n", (long)(old.it_interval.tv_nsec / MS));
    int nb = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    printf("nonblocking read disarmed: %s\n", res(read(nb, &n, 8)));

    /* epoll waits for a timer; a realtime absolute timer fires too. */
    int ep = epoll_create1(0);
    ctl(ep, EPOLL_CTL_ADD, tfd, EPOLLIN, 5);
    struct itimerspec soon = {.it_value = ts_of(30 * MS)};
    timerfd_settime(tfd, 0, &soon, NULL);
    show_wait("epoll on timer", ep, -1);
    read(tfd, &n, 8);
    show_wait("timer read", ep, 0);
    int rt = timerfd_create(CLOCK_REALTIME, 0);
    struct itimerspec at = {.it_value = ts_of(now_ns(CLOCK_REALTIME) + 30 * MS)};
    timerfd_settime(rt, TFD_TIMER_ABSTIME, &at, NULL);
    n = 0;
    printf("realtime absolute: %ld count=%llu\n", (long)read(rt, &n, 8), (unsigned long long)n);
    /* poll waits for a timer too, and times out on its own. */
    timerfd_settime(tfd, 0, &soon, NULL);
    struct pollfd pf = {.fd = tfd, .events = POLLIN};
    printf("poll on timer: %d revents=%d\n", poll(&pf, 1, -1), pf.revents);
    read(tfd, &n, 8);
    printf("poll timeout: %d revents=%d\n", poll(&pf, 1, 20), pf.revents);
    /* epoll_wait's own timeout expires with nothing ready. */
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    show_wait("timeout", ep, 30);
    printf("waited at least 30ms: %d\n", now_ns(CLOCK_MONOTONIC) - t0 >= 30 * MS);
}

static volatile sig_atomic_t alarms;
static int self_pipe[2];
static void on_alarm(int sig) {
    (void)sig;
    alarms++;
}
static void on_alarm_write(int sig) {
    (void)sig;
    alarms++;
    (void)!write(self_pipe[1], "x", 1);
}

static void arm_ms(long ms) {
    struct itimerval it = {.it_value = {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void handle(void (*fn)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
}

static void test_alarm(void) {
    char c;
    pipe(self_pipe);
    handle(on_alarm, 0);
    arm_ms(30);
    long r = read(self_pipe[0], &c, 1);
    printf("read interrupted: %s alarms=%d\n", res(r), (int)alarms);

    handle(on_alarm_write, SA_RESTART);
    arm_ms(30);
    c = 0;
    r = read(self_pipe[0], &c, 1);
    printf("read restarted: %ld '%c' alarms=%d\n", r, c, (int)alarms);

    handle(on_alarm, SA_RESTART);
    arm_ms(30);
    struct timespec req = {10, 0}, rem = {0, 0};
    r = nanosleep(&req, &rem);
    printf("nanosleep: %s rem>5s: %d alarms=%d\n", res(r), rem.tv_sec >= 5, (int)alarms);

    arm_ms(30);
    r = pause();
    printf("pause: %s alarms=%d\n", res(r), (int)alarms);

    int ep = epoll_create1(0);
    int q[2];
    pipe(q);
    ctl(ep, EPOLL_CTL_ADD, q[0], EPOLLIN, 1);
    arm_ms(30);
    struct epoll_event ev;
    r = epoll_wait(ep, &ev, 1, -1);
    printf("epoll_wait under SA_RESTART: %s alarms=%d\n", res(r), (int)alarms);

    /* epoll_pwait's mask lets SIGALRM in only during the wait. */
    sigset_t block, none;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &block, NULL);
    arm_ms(30);
    r = epoll_pwait(ep, &ev, 1, -1, &none);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("epoll_pwait: %s alarms=%d mask restored=%d\n", res(r), (int)alarms,
           sigismember(&now, SIGALRM));
    sigprocmask(SIG_UNBLOCK, &block, NULL);

    sigset_t old;
    sigprocmask(SIG_BLOCK, &block, &old);
    arm_ms(30);
    sigsuspend(&none);
    printf("sigsuspend woke: alarms=%d\n", (int)alarms);
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* A blocked alarm stays pending through a sleep. */
    sigprocmask(SIG_BLOCK, &block, NULL);
    arm_ms(10);
    struct timespec short_sleep = {0, 40 * MS};
    r = nanosleep(&short_sleep, NULL);
    sigset_t pend;
    sigpending(&pend);
    printf("blocked alarm: sleep %s pending=%d alarms=%d\n", res(r), sigismember(&pend, SIGALRM),
           (int)alarms);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    printf("unblocked: alarms=%d\n", (int)alarms);

    /* An interval timer keeps firing. */
    struct itimerval it = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
    int before = alarms;
    setitimer(ITIMER_REAL, &it, NULL);
    while (alarms - before < 3)
        pause();
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("interval: 3 alarms\n");
}

static volatile sig_atomic_t vt, prof;
static void on_vt(int sig) { (void)sig; vt++; }
static void on_prof(int sig) { (void)sig; prof++; }

static void test_itimer(void) {
    struct itimerval set = {.it_interval = {2, 500000}, .it_value = {10, 0}}, got, old;
    printf("setitimer: %s\n", res(setitimer(ITIMER_REAL, &set, NULL)));
    getitimer(ITIMER_REAL, &got);
    printf("interval: %ld.%06ld\n", (long)got.it_interval.tv_sec, (long)got.it_interval.tv_usec);
    printf("value in (9s, 10s]: %d\n",
           got.it_value.tv_sec == 9 || (got.it_value.tv_sec == 10 && got.it_value.tv_usec == 0));
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, &old);
    printf("old interval: %ld.%06ld old value>9s: %d\n", (long)old.it_interval.tv_sec,
           (long)old.it_interval.tv_usec, old.it_value.tv_sec >= 9);
    getitimer(ITIMER_REAL, &got);
    printf("disarmed: %ld %ld\n", (long)got.it_value.tv_sec, (long)got.it_value.tv_usec);
    printf("bad which: %s\n", res(setitimer(7, &set, NULL)));
    printf("getitimer bad which: %s\n", res(getitimer(7, &got)));
    struct itimerval bad = {.it_value = {0, 1000000}};
    printf("bad usec: %s\n", res(setitimer(ITIMER_REAL, &bad, NULL)));
    printf("alarm first: %u\n", alarm(5));
    printf("alarm again: %u\n", alarm(0));

    /* Children start without timers. */
    setitimer(ITIMER_REAL, &set, NULL);
    pid_t child = fork();
    if (child == 0) {
        getitimer(ITIMER_REAL, &got);
        printf("child timer: %ld %ld\n", (long)got.it_value.tv_sec, (long)got.it_value.tv_usec);
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    setitimer(ITIMER_REAL, &off, NULL);

    /* Virtual and profiling timers count the process's own running time. */
    signal(SIGVTALRM, on_vt);
    signal(SIGPROF, on_prof);
    struct itimerval v = {.it_value = {0, 20000}};
    setitimer(ITIMER_VIRTUAL, &v, NULL);
    setitimer(ITIMER_PROF, &v, NULL);
    volatile unsigned long spin = 0;
    while (!vt || !prof)
        spin++;
    printf("virtual fired: %d prof fired: %d\n", (int)vt, (int)prof);
    getitimer(ITIMER_VIRTUAL, &got);
    printf("virtual disarmed: %ld %ld\n", (long)got.it_value.tv_sec, (long)got.it_value.tv_usec);
}

static void alarm_kill(void) {
    int p[2];
    pipe(p);
    printf("waiting for the alarm\n");
    fflush(stdout);
    arm_ms(30);
    char c;
    (void)!read(p[0], &c, 1);
    printf("not reached\n");
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "epoll"))
        test_epoll();
    else if (!strcmp(mode, "eventfd"))
        test_eventfd();
    else if (!strcmp(mode, "timerfd"))
        test_timerfd();
    else if (!strcmp(mode, "alarm"))
        test_alarm();
    else if (!strcmp(mode, "itimer"))
        test_itimer();
    else if (!strcmp(mode, "alarm-kill"))
        alarm_kill();
    else
        return 2;
    return 0;
}
