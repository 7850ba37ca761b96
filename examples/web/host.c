/* host.c: the Emscripten host of libfriscy; exports a small fw_* API to JavaScript (machines, slices, stdin, output callback, terminal). */
#include <emscripten.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "friscy.h"

/*
 * One session = one machine plus the host state its callbacks use. JavaScript holds the
 * session pointer as a number and calls the fw_* functions below (see friscy-session.mjs).
 *
 * Console model: guest output goes to JavaScript at once through Module.onGuestOutput;
 * keystrokes are pushed by JavaScript into a byte queue here, and a guest read with an empty
 * queue answers FRISCY_IO_PENDING, so friscy_machine_run returns FRISCY_STOP_PENDING_IO and
 * JavaScript runs the machine again after the next push. The line discipline (echo, line
 * editing in canonical mode, Ctrl-C -> SIGINT) lives in JavaScript, driven by the termios
 * local flags the guest set (fw_console_mode). A read returns at most one line, as a
 * canonical terminal's does (a short read is also fine in raw mode), and an end-of-file
 * mark (Ctrl-D at the start of a line) makes exactly one read return 0 at its place in the
 * queue.
 */

typedef struct session {
    friscy_machine *machine;
    friscy_stop stop;     /* the last run's stop */
    int is_terminal;      /* console fds 0..2 are a terminal */
    uint16_t rows, cols;  /* terminal size the guest sees */
    int stdin_closed;     /* no more input: reads return 0 (end of file) once the queue is empty */
    uint8_t *in;          /* stdin queue: bytes in[in_head..in_tail) */
    size_t in_head, in_tail, in_cap;
    uint64_t consumed;    /* bytes the guest has read so far, in total */
    uint64_t eof_at;      /* with eof_count > 0: the value of `consumed` where reads return 0 */
    uint32_t eof_count;   /* end-of-file marks pending at eof_at (Ctrl-D at a line start) */
} session;

/* Guest output to JavaScript. The bytes are copied: `data` points into guest memory. */
EM_JS(void, js_guest_output, (session *s, int fd, const uint8_t *data, size_t len), {
    if (Module["onGuestOutput"])
        Module["onGuestOutput"](s, fd, HEAPU8.slice(data, data + len));
});

/* Last error text for JavaScript (fw_error): static, overwritten by the next failure. */
static char error_text[640];

static void set_error(const char *what, friscy_result r, const friscy_machine *m) {
    char msg[128] = "?", detail[480] = "";
    size_t n;
    friscy_result_message((int32_t)r, msg, sizeof msg, &n);
    if (m)
        friscy_machine_last_error(m, detail, sizeof detail, &n);
    else
        friscy_last_error(detail, sizeof detail, &n);
    size_t off = 0;
    const char *parts[] = {what, ": ", msg, detail[0] ? " (" : "", detail, detail[0] ? ")" : ""};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t l = strlen(parts[i]);
        if (off + l >= sizeof error_text)
            l = sizeof error_text - 1 - off;
        memcpy(error_text + off, parts[i], l);
        off += l;
    }
    error_text[off] = 0;
}

/* ---- friscy_host_io callbacks ---- */

static int64_t console_write(void *userdata, int32_t fd, const uint8_t *data, size_t len) {
    js_guest_output(userdata, fd, data, len);
    return (int64_t)len;
}

static int64_t console_read(void *userdata, int32_t fd, uint8_t *buf, size_t len) {
    session *s = userdata;
    (void)fd;
    if (s->eof_count > 0 && s->consumed == s->eof_at) {
        s->eof_count--;
        return 0;
    }
    size_t avail = s->in_tail - s->in_head;
    if (avail == 0)
        return s->stdin_closed ? 0 : FRISCY_IO_PENDING;
    if (s->eof_count > 0 && s->eof_at - s->consumed < avail)
        avail = (size_t)(s->eof_at - s->consumed); /* stop at the end-of-file mark */
    size_t n = avail < len ? avail : len;
    const uint8_t *nl = memchr(s->in + s->in_head, '\n', n);
    if (nl)
        n = (size_t)(nl - (s->in + s->in_head)) + 1; /* at most one line */
    memcpy(buf, s->in + s->in_head, n);
    s->in_head += n;
    s->consumed += n;
    if (s->in_head == s->in_tail)
        s->in_head = s->in_tail = 0;
    return (int64_t)n;
}

static int32_t host_clock(void *userdata, friscy_clock clock, friscy_timespec *out) {
    (void)userdata;
    struct timespec t; /* Emscripten: Date.now() / performance.now() */
    if (clock_gettime(clock == FRISCY_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC, &t) != 0)
        return -1;
    out->seconds = t.tv_sec;
    out->nanoseconds = (uint32_t)t.tv_nsec;
    return 0;
}

static int32_t host_entropy(void *userdata, uint8_t *buf, size_t len) {
    (void)userdata;
    /* Emscripten's getentropy uses crypto.getRandomValues; at most 256 bytes a call. */
    while (len > 0) {
        size_t n = len < 256 ? len : 256;
        if (getentropy(buf, n) != 0)
            return -1;
        buf += n;
        len -= n;
    }
    return 0;
}

static int32_t host_is_terminal(void *userdata, int32_t fd) {
    session *s = userdata;
    return s->is_terminal && fd >= 0 && fd <= 2;
}

static int32_t host_terminal_size(void *userdata, int32_t fd, uint16_t *rows, uint16_t *cols) {
    session *s = userdata;
    (void)fd;
    if (!s->is_terminal)
        return -1;
    *rows = s->rows; /* what JavaScript last set from xterm.js (fw_set_terminal) */
    *cols = s->cols;
    return 0;
}

/* ---- The API JavaScript calls ---- */

/* Split a block of `count` NUL-terminated strings into a freshly allocated pointer array. */
static const char **split_strings(const char *block, size_t count) {
    const char **v = calloc(count ? count : 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        v[i] = block;
        block += strlen(block) + 1;
    }
    return v;
}

/* Create a session: from the static riscv64 ELF bytes[0..len) (program NULL), or from the
 * root file-system tar bytes[0..len), running `program` from it (searched on the guest's
 * PATH without a '/'). argv/env are blocks of argc/envc NUL-terminated strings. Returns
 * the session, or 0 (see fw_error). */
static session *new_session(const uint8_t *bytes, size_t len, const char *program, const char *argv_block,
                            size_t argc, const char *env_block, size_t envc, uint32_t memory_mib,
                            uint32_t flags, uint32_t seed_lo, uint32_t seed_hi) {
    session *s = calloc(1, sizeof *s);
    const char **argv = split_strings(argv_block, argc);
    const char **envp = split_strings(env_block, envc);
    if (!s || !argv || !envp) {
        strcpy(error_text, "out of memory");
        free(s);
        free(argv);
        free(envp);
        return 0;
    }
    s->rows = 24;
    s->cols = 80;

    friscy_config cfg;
    friscy_config_init(&cfg, sizeof cfg);
    cfg.memory_size = (uint64_t)memory_mib << 20;
    cfg.flags = flags;
    cfg.seed = (uint64_t)seed_hi << 32 | seed_lo;
    cfg.argv = argv;
    cfg.argc = argc;
    cfg.envp = envp;
    cfg.envc = envc;

    friscy_host_io io;
    friscy_host_io_init(&io, sizeof io);
    io.userdata = s;
    io.console_write = console_write;
    io.console_read = console_read;
    io.clock = host_clock;
    io.entropy = host_entropy;
    io.is_terminal = host_is_terminal;
    io.terminal_size = host_terminal_size;

    friscy_result r = program ? friscy_machine_new_from_rootfs(&cfg, bytes, len, program, &io, &s->machine)
                              : friscy_machine_new_from_elf(&cfg, bytes, len, &io, &s->machine);
    free(argv); /* the machine copied the strings */
    free(envp);
    if (r != FRISCY_OK) {
        set_error(program ? "cannot boot the root file system" : "cannot load the program", r, NULL);
        free(s);
        return 0;
    }
    return s;
}

EMSCRIPTEN_KEEPALIVE session *fw_new_from_elf(const uint8_t *elf, size_t len, const char *argv_block,
                                              size_t argc, const char *env_block, size_t envc,
                                              uint32_t memory_mib, uint32_t flags, uint32_t seed_lo,
                                              uint32_t seed_hi) {
    return new_session(elf, len, NULL, argv_block, argc, env_block, envc, memory_mib, flags, seed_lo, seed_hi);
}

/* Boot the root file-system tar tar[0..len) (copied) and run argv[0] from it. */
EMSCRIPTEN_KEEPALIVE session *fw_new_from_rootfs(const uint8_t *tar, size_t len, const char *argv_block,
                                                 size_t argc, const char *env_block, size_t envc,
                                                 uint32_t memory_mib, uint32_t flags, uint32_t seed_lo,
                                                 uint32_t seed_hi) {
    if (argc == 0) {
        strcpy(error_text, "no program to run (empty argv)");
        return 0;
    }
    return new_session(tar, len, argv_block, argv_block, argc, env_block, envc, memory_mib, flags, seed_lo,
                       seed_hi);
}

EMSCRIPTEN_KEEPALIVE void fw_free(session *s) {
    if (!s)
        return;
    friscy_machine_free(s->machine);
    free(s->in);
    free(s);
}

/* Run at most `budget` instructions (a JavaScript number: whole, 0..2^53). Returns the
 * friscy_stop_kind, or -1 on an error (see fw_error); details of the stop via fw_stop_*. */
EMSCRIPTEN_KEEPALIVE int fw_run(session *s, double budget) {
    uint64_t n = budget > 0 ? (budget < 9007199254740992.0 ? (uint64_t)budget : 9007199254740992u) : 0;
    friscy_result r = friscy_machine_run(s->machine, n, &s->stop);
    if (r != FRISCY_OK) {
        set_error("run", r, s->machine);
        return -1;
    }
    return (int)s->stop.kind;
}

EMSCRIPTEN_KEEPALIVE int fw_stop_exit_status(session *s) { return s->stop.exit_status; }
EMSCRIPTEN_KEEPALIVE int fw_stop_signal(session *s) { return (int)s->stop.signal; }
EMSCRIPTEN_KEEPALIVE int fw_stop_fd(session *s) { return s->stop.fd; }
/* Guest addresses fit in a double exactly (guest memory is far below 2^53). */
EMSCRIPTEN_KEEPALIVE double fw_stop_pc(session *s) { return (double)s->stop.pc; }
EMSCRIPTEN_KEEPALIVE double fw_stop_fault_address(session *s) { return (double)s->stop.fault_address; }
EMSCRIPTEN_KEEPALIVE uint32_t fw_stop_instruction_bits(session *s) { return s->stop.instruction_bits; }

/* Instructions retired so far (exact up to 2^53). */
EMSCRIPTEN_KEEPALIVE double fw_instructions(session *s) {
    return (double)friscy_machine_instructions(s->machine);
}

/* Append input bytes for the guest's stdin. Returns 0, or -1 if out of memory. */
EMSCRIPTEN_KEEPALIVE int fw_push_stdin(session *s, const uint8_t *data, size_t len) {
    if (s->in_tail + len > s->in_cap) {
        size_t used = s->in_tail - s->in_head;
        memmove(s->in, s->in + s->in_head, used);
        s->in_head = 0;
        s->in_tail = used;
        if (used + len > s->in_cap) {
            size_t cap = s->in_cap ? s->in_cap : 256;
            while (cap < used + len)
                cap *= 2;
            uint8_t *bigger = realloc(s->in, cap);
            if (!bigger)
                return -1;
            s->in = bigger;
            s->in_cap = cap;
        }
    }
    memcpy(s->in + s->in_tail, data, len);
    s->in_tail += len;
    return 0;
}

/* One end of file (Ctrl-D at the start of a line): once the bytes queued so far are
 * read, one guest read returns 0; later input is read normally. */
EMSCRIPTEN_KEEPALIVE void fw_push_eof(session *s) {
    uint64_t at = s->consumed + (s->in_tail - s->in_head);
    if (s->eof_count > 0 && s->eof_at != at)
        return; /* one pending mark position at a time; a second one elsewhere is dropped */
    s->eof_at = at;
    s->eof_count++;
}

/* End of input: once the queue is drained, guest reads return 0. */
EMSCRIPTEN_KEEPALIVE void fw_close_stdin(session *s) { s->stdin_closed = 1; }

/* Bytes of stdin queued but not yet read by the guest, plus pending end-of-file marks
 * (0: a guest read would wait). */
EMSCRIPTEN_KEEPALIVE size_t fw_stdin_queued(session *s) { return s->in_tail - s->in_head + s->eof_count; }

/* The termios local flags the guest set (FRISCY_CONSOLE_*), or -1 on an error. Only
 * between runs (JavaScript calls it while handling a key). */
EMSCRIPTEN_KEEPALIVE int fw_console_mode(session *s) {
    uint32_t lflag = 0;
    friscy_result r = friscy_machine_console_mode(s->machine, &lflag);
    if (r != FRISCY_OK) {
        set_error("console mode", r, s->machine);
        return -1;
    }
    return (int)lflag;
}

/* Send `signal` to guest process `pid` (0: the console's foreground process group, as
 * Ctrl-C does with SIGINT). Returns the friscy_result (0: sent; 500, FRISCY_ERR_NOT_FOUND: no such process). */
EMSCRIPTEN_KEEPALIVE int fw_signal(session *s, int pid, int signal) {
    return (int)friscy_machine_signal(s->machine, pid, signal);
}

/* Console fds 0..2 are a terminal of rows x cols (is_terminal 0: a pipe, no size). A
 * resize only changes what the next TIOCGWINSZ answers (no SIGWINCH). */
EMSCRIPTEN_KEEPALIVE void fw_set_terminal(session *s, int is_terminal, uint32_t rows, uint32_t cols) {
    s->is_terminal = is_terminal != 0;
    s->rows = (uint16_t)(rows ? rows : 24);
    s->cols = (uint16_t)(cols ? cols : 80);
}

/* Ask a running machine to stop after its next system call (FRISCY_STOP_HOST_STOP). */
EMSCRIPTEN_KEEPALIVE void fw_stop(session *s) { friscy_machine_stop(s->machine); }

EMSCRIPTEN_KEEPALIVE const char *fw_error(void) { return error_text; }

EMSCRIPTEN_KEEPALIVE const char *fw_version(void) { return friscy_version(); }
