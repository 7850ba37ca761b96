/* Signal handlers: raise/kill to self, SA_SIGINFO, masks, SA_RESETHAND, SIGSEGV recovery, SIGCHLD from a child. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits, last_sig, info_code_ok, chld;
static sigjmp_buf recover;

static void on_usr(int sig) { hits++; last_sig = sig; }
static void on_info(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    info_code_ok = si->si_signo == sig;
    hits++;
}
static void on_segv(int sig) { (void)sig; siglongjmp(recover, 1); }
static void on_chld(int sig) { (void)sig; chld++; }

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    printf("usr1 hits=%d last=%d\n", (int)hits, (int)last_sig);

    /* Blocked signals wait until unblocked. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    printf("while blocked hits=%d\n", (int)hits);
    sigset_t pend;
    sigpending(&pend);
    printf("pending=%d\n", sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("after unblock hits=%d\n", (int)hits);

    /* SA_SIGINFO handlers get siginfo. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    printf("siginfo ok=%d hits=%d reset=%d\n", (int)info_code_ok, (int)hits, now.sa_handler == SIG_DFL);

    /* Registers and FP state survive a handler. */
    volatile double d = 1.5;
    volatile long l = 12345;
    raise(SIGUSR1);
    printf("state d=%.2f l=%ld\n", d * 2, l + 1);

    /* A SIGSEGV handler recovers with siglongjmp. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(recover, 1) == 0) {
        volatile int *p = (int *)16;
        *p = 1;
        puts("not reached");
    } else {
        puts("recovered from SIGSEGV");
    }

    /* SIGCHLD arrives when a child exits; sigsuspend waits for it. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t child = fork();
    if (child == 0)
        _exit(7);
    sigset_t wait_mask;
    sigemptyset(&wait_mask);
    while (!chld)
        sigsuspend(&wait_mask);
    sigprocmask(SIG_SETMASK, &old, NULL);
    int status = 0;
    waitpid(child, &status, 0);
    printf("sigchld=%d child status=%d\n", (int)chld, WEXITSTATUS(status));

    /* Ignored signals do nothing; default SIGTERM ends the process. */
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    puts("ignored ok");
    fflush(stdout);
    raise(SIGTERM);
    puts("not reached either");
    return 0;
}
