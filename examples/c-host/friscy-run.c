/* friscy-run: a native C host that runs a static riscv64 Linux program under libfriscy. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "friscy.h"

/* The host API this example offers guests (see guest/guest.c). */
#define HOST_ADD 0x10001  /* returns a0 + a1 */
#define HOST_LOG 0x10002  /* prints the guest string at a0; returns its length or -EFAULT */
#define HOST_STOP 0x10003 /* stops the run (the host resumes it); returns 0 */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* ---- Console and clock callbacks (friscy_host_io) ---- */

static int64_t console_write(void *userdata, int32_t fd, const uint8_t *data, size_t len) {
    (void)userdata;
    ssize_t n = write(fd == 2 ? STDERR_FILENO : STDOUT_FILENO, data, len);
    if (n >= 0)
        return n;
    if (errno == EAGAIN)
        return FRISCY_IO_PENDING; /* the run stops; we wait and run again */
    return -errno;
}

/* Never blocks: with no input ready, answer PENDING so friscy_machine_run returns and the
 * host stays in control; the run loop waits for input and runs again (the read is retried). */
static int64_t console_read(void *userdata, int32_t fd, uint8_t *buf, size_t len) {
    (void)userdata;
    (void)fd;
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    if (poll(&p, 1, 0) == 0)
        return FRISCY_IO_PENDING;
    ssize_t n = read(STDIN_FILENO, buf, len);
    if (n >= 0)
        return n;
    return errno == EAGAIN ? FRISCY_IO_PENDING : -errno;
}

static int32_t host_clock(void *userdata, friscy_clock clock, friscy_timespec *out) {
    (void)userdata;
    struct timespec t;
    if (clock_gettime(clock == FRISCY_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC, &t) != 0)
        return -1;
    out->seconds = t.tv_sec;
    out->nanoseconds = (uint32_t)t.tv_nsec;
    return 0;
}

static int32_t host_entropy(void *userdata, uint8_t *buf, size_t len) {
    FILE *f = userdata;
    return f && fread(buf, 1, len, f) == len ? 0 : -1;
}

static int32_t host_is_terminal(void *userdata, int32_t fd) {
    (void)userdata;
    return isatty(fd);
}

/* ---- Custom system calls ---- */

static int64_t host_add(void *userdata, friscy_guest *guest, uint64_t number, const uint64_t *args) {
    (void)userdata;
    (void)guest;
    (void)number;
    return (int64_t)(args[0] + args[1]);
}

static int64_t host_log(void *userdata, friscy_guest *guest, uint64_t number, const uint64_t *args) {
    (void)userdata;
    (void)number;
    char text[256];
    size_t len;
    friscy_result r = friscy_guest_read_string(guest, args[0], text, sizeof text, &len);
    if (r == FRISCY_ERR_BUFFER_TOO_SMALL)
        return -7; /* E2BIG */
    if (r != FRISCY_OK)
        return -14; /* EFAULT: the guest passed a bad pointer */
    fprintf(stderr, "[host] guest says: %s\n", text);
    return (int64_t)len;
}

static int64_t host_stop(void *userdata, friscy_guest *guest, uint64_t number, const uint64_t *args) {
    (void)userdata;
    (void)number;
    (void)args;
    friscy_guest_stop(guest); /* the run returns FRISCY_STOP_HOST_STOP after this call */
    return 0;
}

/* ---- Helpers ---- */

static void report(const char *what, friscy_result r, const friscy_machine *m) {
    char msg[128] = "?", detail[512] = "";
    size_t n;
    friscy_result_message((int32_t)r, msg, sizeof msg, &n);
    if (m)
        friscy_machine_last_error(m, detail, sizeof detail, &n);
    else
        friscy_last_error(detail, sizeof detail, &n);
    fprintf(stderr, "friscy-run: %s: %s (%s)\n", what, msg, detail);
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    size_t cap = 0, used = 0;
    for (;;) {
        if (used == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *bigger = realloc(data, cap);
            if (!bigger) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = bigger;
        }
        size_t n = fread(data + used, 1, cap - used, f);
        used += n;
        if (n == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(data);
        return NULL;
    }
    *len = used;
    return data;
}

static void usage(void) {
    fprintf(stderr, "usage: friscy-run [-m MIB] [-s SLICE] [-d] [-r SEED] [-i] [-e KEY=VALUE]... PROGRAM [ARG]...\n"
                    "  -m MIB    guest memory in MiB (default 256)\n"
                    "  -s SLICE  instructions per run call (default 100000)\n"
                    "  -d        deterministic clocks and randomness\n"
                    "  -r SEED   seed of the guest's pseudo-random bytes (with -d: of all of them)\n"
                    "  -i        print the retired instruction count on stderr at the end\n"
                    "  -e        add a guest environment variable\n");
}

int main(int argc, char **argv) {
    uint64_t memory_mib = 256, slice = 100000;
    int deterministic = 0, report_instructions = 0, seeded = 0;
    uint64_t seed = 0;
    const char *env[64];
    size_t envc = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-d")) {
            deterministic = 1;
        } else if (!strcmp(argv[i], "-i")) {
            report_instructions = 1;
        } else if (i + 1 < argc && !strcmp(argv[i], "-r")) {
            seed = strtoull(argv[++i], NULL, 0);
            seeded = 1;
        } else if (i + 1 < argc && !strcmp(argv[i], "-m")) {
            memory_mib = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && !strcmp(argv[i], "-s")) {
            slice = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && !strcmp(argv[i], "-e") && envc < 64) {
            env[envc++] = argv[++i];
        } else {
            usage();
            return 2;
        }
    }
    if (i >= argc || slice == 0) {
        usage();
        return 2;
    }
    const char *path = argv[i];
    size_t elf_len = 0;
    uint8_t *elf = read_file(path, &elf_len);
    if (!elf) {
        fprintf(stderr, "friscy-run: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }

    /* Settings: the guest's argv is ours from PROGRAM on. */
    friscy_config cfg;
    friscy_config_init(&cfg, sizeof cfg);
    cfg.memory_size = memory_mib << 20;
    cfg.argv = (const char *const *)&argv[i];
    cfg.argc = (size_t)(argc - i);
    cfg.envp = env;
    cfg.envc = envc;
    if (deterministic)
        cfg.flags |= FRISCY_CONFIG_DETERMINISTIC;

    FILE *urandom = fopen("/dev/urandom", "rb");
    /* A random seed makes the guest's AT_RANDOM (stack canaries) unpredictable. */
    if (seeded)
        cfg.seed = seed;
    else if (!deterministic && urandom && fread(&cfg.seed, sizeof cfg.seed, 1, urandom) != 1)
        cfg.seed ^= (uint64_t)time(NULL);
    friscy_host_io io;
    friscy_host_io_init(&io, sizeof io);
    io.userdata = urandom; /* only host_entropy uses it */
    io.console_write = console_write;
    io.console_read = console_read;
    io.clock = host_clock;
    io.entropy = host_entropy;
    io.is_terminal = host_is_terminal;

    friscy_machine *m = NULL;
    friscy_result r = friscy_machine_new_from_elf(&cfg, elf, elf_len, &io, &m);
    free(elf); /* the machine keeps its own copy */
    if (r != FRISCY_OK) {
        report(path, r, NULL);
        if (urandom)
            fclose(urandom);
        return 126;
    }
    friscy_machine_set_syscall_handler(m, HOST_ADD, host_add, NULL);
    friscy_machine_set_syscall_handler(m, HOST_LOG, host_log, NULL);
    friscy_machine_set_syscall_handler(m, HOST_STOP, host_stop, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);

    /* The run loop: bounded slices keep the host in control between them. */
    int status = -1;
    while (status < 0) {
        friscy_stop stop;
        r = friscy_machine_run(m, slice, &stop);
        if (r != FRISCY_OK) {
            report("run", r, m);
            status = 125;
            break;
        }
        switch (stop.kind) {
        case FRISCY_STOP_BUDGET_SPENT:
            if (interrupted) { /* a host would do its other work here */
                fprintf(stderr, "friscy-run: interrupted after %llu instructions\n",
                        (unsigned long long)friscy_machine_instructions(m));
                status = 130;
            }
            break;
        case FRISCY_STOP_PENDING_IO: {
            /* Wait until the guest's fd can make progress, then run again (the call is retried). */
            struct pollfd p = {.fd = stop.fd == 0 ? STDIN_FILENO : stop.fd,
                               .events = stop.fd == 0 ? POLLIN : POLLOUT};
            while (!interrupted && poll(&p, 1, 100) == 0) {
            }
            if (interrupted)
                status = 130;
            break;
        }
        case FRISCY_STOP_HOST_STOP:
            fprintf(stderr, "[host] run stopped at pc 0x%llx on request; resuming\n",
                    (unsigned long long)stop.pc);
            break;
        case FRISCY_STOP_PAUSED:   /* ready for guest calls: this host makes none, so go on */
        case FRISCY_STOP_RETURNED: /* only guest calls report it */
            break;
        case FRISCY_STOP_EXITED:
            status = stop.exit_status;
            break;
        case FRISCY_STOP_SIGNALED:
            status = 128 + (int)stop.signal;
            break;
        case FRISCY_STOP_FAULT:
            fprintf(stderr, "friscy-run: memory fault at 0x%llx (pc 0x%llx)\n",
                    (unsigned long long)stop.fault_address, (unsigned long long)stop.pc);
            status = 128 + (int)stop.signal;
            break;
        case FRISCY_STOP_ILLEGAL_INSTRUCTION:
            fprintf(stderr, "friscy-run: illegal instruction 0x%08x at pc 0x%llx\n",
                    (unsigned)stop.instruction_bits, (unsigned long long)stop.pc);
            status = 128 + (int)stop.signal;
            break;
        case FRISCY_STOP_BREAKPOINT:
            fprintf(stderr, "friscy-run: breakpoint at pc 0x%llx\n", (unsigned long long)stop.pc);
            status = 128 + (int)stop.signal;
            break;
        }
    }
    if (report_instructions)
        fprintf(stderr, "friscy-run: %llu instructions\n",
                (unsigned long long)friscy_machine_instructions(m));
    friscy_machine_free(m);
    if (urandom)
        fclose(urandom);
    return status;
}
