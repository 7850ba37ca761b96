/* waitid (exited and killed children, WNOHANG, WNOWAIT, P_PGID, errors) and select/pselect on pipes
   (ready read/write, timeouts, a child writing later, hang-up, EBADF, a signal let in by the mask).
   Output never depends on timing precision. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err_name(int e) {
    switch (e) {
    case 0: return "ok";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    default: return "other";
    }
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Prints what waitid reported, with the pid and uid compared rather than printed. */
static void show_waitid(const char *what, int ret, const siginfo_t *si, pid_t expect) {
    printf("%s: ret=%d errno=%s signo=%d si_errno=%d code=%d pid_ok=%d uid_ok=%d status=%d\n", what,
           ret, err_name(ret < 0 ? errno : 0), si->si_signo, si->si_errno, si->si_code,
           si->si_pid == expect, si->si_uid == getuid(), si->si_status);
}

static pid_t child_exiting(int code) {
    pid_t pid = fork();
    if (pid == 0)
        _exit(code);
    return pid;
}

static void waitid_cases(void) {
    siginfo_t si;
    int ret;

    pid_t pid = child_exiting(7);
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_PID, pid, &si, WEXITED);
    show_waitid("exited", ret, &si, pid);

    /* Killed by another process, and by its own (default-action) signal. */
    int gate[2];
    pipe(gate);
    pid = fork();
    if (pid == 0) {
        char c;
        read(gate[0], &c, 1);
        _exit(1);
    }
    kill(pid, SIGKILL);
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_ALL, 0, &si, WEXITED);
    show_waitid("killed", ret, &si, pid);
    pid = fork();
    if (pid == 0) {
        raise(SIGTERM);
        _exit(1);
    }
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_PID, pid, &si, WEXITED);
    show_waitid("raised", ret, &si, pid);

    /* WNOHANG with a child still running: nothing reaped, fields cleared, 0. */
    pid = fork();
    if (pid == 0) {
        char c;
        read(gate[0], &c, 1);
        _exit(3);
    }
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
    /* Only si_pid is promised; Linux also zeroes the rest, qemu leaves them. */
    printf("nohang-running: ret=%d errno=%s pid=%d\n", ret, err_name(ret < 0 ? errno : 0), (int)si.si_pid);
    write(gate[1], "x", 1);
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_ALL, 0, &si, WEXITED);
    show_waitid("after-release", ret, &si, pid);

    /* WNOWAIT leaves the zombie to be waited for again, by waitid and by waitpid. */
    pid = child_exiting(5);
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    show_waitid("nowait", ret, &si, pid);
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    show_waitid("nowait-again", ret, &si, pid);
    int status = 0;
    pid_t got = waitpid(pid, &status, 0);
    printf("waitpid after nowait: pid_ok=%d exited=%d code=%d\n", got == pid, WIFEXITED(status),
           WEXITSTATUS(status));
    ret = waitid(P_PID, pid, &si, WEXITED | WNOHANG);
    printf("reaped: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));

    /* Process groups: the caller's (0 and explicit), and a child's own new group. */
    pid = child_exiting(9);
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_PGID, 0, &si, WEXITED);
    show_waitid("pgid-own", ret, &si, pid);
    pid = child_exiting(10);
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_PGID, getpgrp(), &si, WEXITED);
    show_waitid("pgid-explicit", ret, &si, pid);
    int ready[2];
    pipe(ready);
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        write(ready[1], "r", 1);
        char c;
        read(gate[0], &c, 1);
        _exit(11);
    }
    char r;
    read(ready[0], &r, 1);
    close(ready[0]);
    close(ready[1]);
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_PGID, getpgrp(), &si, WEXITED | WNOHANG);
    printf("pgid-other-group: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    write(gate[1], "x", 1);
    memset(&si, 0x55, sizeof si);
    ret = waitid(P_PGID, pid, &si, WEXITED);
    show_waitid("pgid-child-group", ret, &si, pid);

    /* Errors. */
    ret = waitid(P_ALL, 0, &si, WEXITED);
    printf("no-children: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    pid = child_exiting(1);
    ret = waitid(P_ALL, 0, &si, WNOHANG);
    printf("no-wexited: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    ret = waitid((idtype_t)42, 0, &si, WEXITED);
    printf("bad-idtype: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    ret = waitid(P_PID, 0, &si, WEXITED);
    printf("pid-zero: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    ret = waitid(P_PID, pid, &si, WEXITED | 0x10000);
    printf("bad-option: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    ret = wait4(pid, NULL, WNOWAIT, NULL);
    printf("wait4-nowait: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    ret = waitid(P_PID, pid + 1000, &si, WEXITED);
    printf("not-a-child: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    ret = waitid(P_PID, pid, &si, WEXITED);
    show_waitid("last", ret, &si, pid);
    close(gate[0]);
    close(gate[1]);
}

static void show_sets(const char *what, int ret, int fd_count, fd_set *r, fd_set *w) {
    printf("%s: ret=%d errno=%s read=", what, ret, err_name(ret < 0 ? errno : 0));
    for (int fd = 0; fd < fd_count; fd++)
        putchar(r && FD_ISSET(fd, r) ? '1' : '0');
    printf(" write=");
    for (int fd = 0; fd < fd_count; fd++)
        putchar(w && FD_ISSET(fd, w) ? '1' : '0');
    putchar('\n');
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static void select_cases(void) {
    int p[2];
    pipe(p);
    int n = p[1] + 1;
    fd_set r, w;
    struct timeval tv;

    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv = (struct timeval){0, 0};
    int ret = select(n, &r, NULL, NULL, &tv);
    show_sets("empty-poll", ret, n, &r, NULL);
    printf("  left=%ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);

    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv = (struct timeval){0, 20000};
    ret = select(n, &r, NULL, NULL, &tv);
    show_sets("short-timeout", ret, n, &r, NULL);
    printf("  left=%ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);

    FD_ZERO(&r);
    FD_SET(p[0], &r);
    FD_ZERO(&w);
    FD_SET(p[1], &w);
    tv = (struct timeval){5, 0};
    ret = select(n, &r, &w, NULL, &tv);
    show_sets("write-ready", ret, n, &r, &w);
    printf("  left-in-range=%d\n", tv.tv_sec <= 5 && (tv.tv_sec >= 4 || tv.tv_usec > 0) &&
                                       !(tv.tv_sec == 5 && tv.tv_usec > 0));

    write(p[1], "ab", 2);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    FD_SET(p[1], &r);
    FD_ZERO(&w);
    FD_SET(p[0], &w);
    FD_SET(p[1], &w);
    ret = select(n, &r, &w, NULL, NULL);
    show_sets("both-ready", ret, n, &r, &w);
    char buf[8];
    read(p[0], buf, sizeof buf);

    /* A child writes later; the parent waits with no timeout. */
    pid_t pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        write(p[1], "z", 1);
        _exit(0);
    }
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    ret = select(n, &r, NULL, NULL, NULL);
    show_sets("child-wrote", ret, n, &r, NULL);
    read(p[0], buf, 1);
    waitpid(pid, NULL, 0);

    /* pselect: a blocked, pending signal let in by the mask interrupts the wait. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, open;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    struct timespec ts = {0, 30000000};
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    ret = pselect(n, &r, NULL, NULL, &ts, &block);
    show_sets("pselect-masked", ret, n, &r, NULL);
    printf("  handler ran: %d\n", got_signal);
    sigemptyset(&open);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    ret = pselect(n, &r, NULL, NULL, NULL, &open);
    printf("pselect-unmasked: ret=%d errno=%s handler ran: %d\n", ret, err_name(ret < 0 ? errno : 0),
           got_signal);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("  mask restored: %d\n", sigismember(&now, SIGUSR1));

    /* The raw ppoll writes back the time left too (glibc's ppoll hides it). */
    struct pollfd pfd = {p[1], POLLOUT, 0};
    ts = (struct timespec){5, 0};
    ret = syscall(SYS_ppoll, &pfd, 1, &ts, NULL, 8);
    printf("ppoll-ready: ret=%d revents=%d left-in-range=%d\n", ret, pfd.revents,
           ts.tv_sec <= 5 && ts.tv_sec >= 4 && !(ts.tv_sec == 5 && ts.tv_nsec > 0));
    pfd = (struct pollfd){p[0], POLLIN, 0};
    ts = (struct timespec){0, 20000000};
    ret = syscall(SYS_ppoll, &pfd, 1, &ts, NULL, 8);
    printf("ppoll-timeout: ret=%d revents=%d left=%ld.%09ld\n", ret, pfd.revents, (long)ts.tv_sec,
           ts.tv_nsec);

    /* Hang-up makes the read end readable. */
    close(p[1]);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    ret = select(p[0] + 1, &r, NULL, NULL, NULL);
    show_sets("hangup", ret, p[0] + 1, &r, NULL);

    /* Errors: a closed fd in a set, a negative count. */
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    FD_SET(p[1], &r);
    tv = (struct timeval){0, 0};
    ret = select(n, &r, NULL, NULL, &tv);
    printf("closed-fd: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    /* fd 60, not 100: Linux ignores fds beyond its fd table's allocated size (64 in a
     * fresh process, more in one that ever held many fds), so a high fd's result depends on
     * the history of the process qemu-riscv64 runs in. */
    FD_ZERO(&w);
    FD_SET(60, &w);
    ret = select(61, NULL, &w, NULL, &tv);
    printf("fd-60: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    ret = select(-1, NULL, NULL, NULL, &tv);
    printf("negative-nfds: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    /* Linux caps nfds at its fd table's size instead of refusing a large one. */
    ret = select(2000, NULL, NULL, NULL, &tv);
    printf("huge-nfds: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    /* Bits beyond nfds are ignored. */
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    FD_SET(100, &r);
    ret = select(p[0] + 1, &r, NULL, NULL, &tv);
    printf("beyond-nfds: ret=%d errno=%s\n", ret, err_name(ret < 0 ? errno : 0));
    close(p[0]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    waitid_cases();
    select_cases();
    return 0;
}
