/* test_api: checks the libfriscy C API end to end (usage: test_api GUEST_ELF DYNAMIC_GUEST_ELF). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "friscy.h"

static int passed, failed;
static const char *current;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) {                                                                      \
            passed++;                                                                    \
        } else {                                                                         \
            failed++;                                                                    \
            fprintf(stderr, "FAIL %s (%s:%d): %s\n", current, __FILE__, __LINE__, #cond); \
        }                                                                                \
    } while (0)

#define CHECK_EQ(a, b)                                                                       \
    do {                                                                                     \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                \
        if (va_ == vb_) {                                                                    \
            passed++;                                                                        \
        } else {                                                                             \
            failed++;                                                                        \
            fprintf(stderr, "FAIL %s (%s:%d): %s == %s: %lld != %lld\n", current, __FILE__, \
                    __LINE__, #a, #b, va_, vb_);                                             \
        }                                                                                    \
    } while (0)

/* ---- Fixtures ---- */

static uint8_t *guest_elf, *dynamic_elf;
static size_t guest_len, dynamic_len;

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long size = ftell(f);
    rewind(f);
    uint8_t *data = size > 0 ? malloc((size_t)size) : NULL;
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return data;
}

/* A growable byte buffer. */
typedef struct {
    char data[8192];
    size_t len;
} text;

static void text_add(text *t, const void *p, size_t n) {
    if (n > sizeof t->data - 1 - t->len)
        n = sizeof t->data - 1 - t->len;
    memcpy(t->data + t->len, p, n);
    t->len += n;
    t->data[t->len] = 0;
}

/* Host state shared by the callbacks through userdata. */
typedef struct {
    text out, err;
    char input[256];
    size_t input_len, input_pos;
    int input_eof;    /* after the input is consumed: 1 = end of file, 0 = PENDING */
    int write_pending; /* answer the next N writes with PENDING */
    int reads, writes, clock_calls, entropy_calls;
    friscy_machine *machine; /* for calls made from inside callbacks */
    int stop_after_first_write;
    int free_inside_callback;
} host;

static int64_t cb_write(void *ud, int32_t fd, const uint8_t *data, size_t len) {
    host *h = ud;
    h->writes++;
    if (h->write_pending > 0) {
        h->write_pending--;
        return FRISCY_IO_PENDING;
    }
    text_add(fd == 2 ? &h->err : &h->out, data, len);
    if (h->stop_after_first_write) {
        h->stop_after_first_write = 0;
        friscy_machine_stop(h->machine);
    }
    if (h->free_inside_callback) {
        h->free_inside_callback = 0;
        friscy_machine_free(h->machine); /* refused while running: must do nothing */
    }
    return (int64_t)len;
}

static int64_t cb_read(void *ud, int32_t fd, uint8_t *buf, size_t len) {
    host *h = ud;
    (void)fd;
    h->reads++;
    size_t avail = h->input_len - h->input_pos;
    if (avail == 0)
        return h->input_eof ? 0 : FRISCY_IO_PENDING;
    if (len > avail)
        len = avail;
    memcpy(buf, h->input + h->input_pos, len);
    h->input_pos += len;
    return (int64_t)len;
}

static void feed(host *h, const char *s) {
    size_t n = strlen(s);
    memcpy(h->input + h->input_len, s, n);
    h->input_len += n;
}

static int32_t cb_clock(void *ud, friscy_clock clock, friscy_timespec *out) {
    host *h = ud;
    h->clock_calls++;
    out->seconds = clock == FRISCY_CLOCK_REALTIME ? 1234 : 56;
    out->nanoseconds = 5;
    return 0;
}

static int32_t cb_entropy(void *ud, uint8_t *buf, size_t len) {
    host *h = ud;
    h->entropy_calls++;
    memset(buf, 0xab, len);
    return 0;
}

static int32_t cb_is_terminal(void *ud, int32_t fd) {
    (void)ud;
    return fd == 1;
}

static friscy_host_io host_io(host *h) {
    friscy_host_io io;
    friscy_host_io_init(&io, sizeof io);
    io.userdata = h;
    io.console_write = cb_write;
    io.console_read = cb_read;
    io.clock = cb_clock;
    io.entropy = cb_entropy;
    io.is_terminal = cb_is_terminal;
    return io;
}

static friscy_config config(void) {
    friscy_config cfg;
    friscy_config_init(&cfg, sizeof cfg);
    cfg.memory_size = 64u << 20;
    return cfg;
}

/* A machine running the guest in `mode` with extra arguments. */
static friscy_machine *start(host *h, const char *mode, const char *arg, uint32_t flags) {
    const char *argv[3] = {"guest", mode, arg};
    friscy_config cfg = config();
    cfg.argv = argv;
    cfg.argc = arg ? 3 : 2;
    cfg.flags = flags;
    friscy_host_io io = host_io(h);
    friscy_machine *m = NULL;
    friscy_result r = friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, &io, &m);
    CHECK_EQ(r, FRISCY_OK);
    h->machine = m;
    return m;
}

static friscy_stop run(friscy_machine *m, uint64_t budget) {
    friscy_stop stop;
    memset(&stop, 0xff, sizeof stop);
    CHECK_EQ(friscy_machine_run(m, budget, &stop), FRISCY_OK);
    return stop;
}

static friscy_stop run_to_end(friscy_machine *m) {
    friscy_stop s;
    do
        s = run(m, 1000000);
    while (s.kind == FRISCY_STOP_BUDGET_SPENT);
    return s;
}

static const char *machine_error(const friscy_machine *m) {
    static char buf[512];
    size_t n;
    if (friscy_machine_last_error(m, buf, sizeof buf, &n) != FRISCY_OK)
        strcpy(buf, "(no last error)");
    return buf;
}

static const char *thread_error(void) {
    static char buf[512];
    size_t n;
    if (friscy_last_error(buf, sizeof buf, &n) != FRISCY_OK)
        strcpy(buf, "(no last error)");
    return buf;
}

/* ---- Tests ---- */

static const friscy_result all_codes[] = {
    FRISCY_OK,
    FRISCY_ERR_NULL_POINTER,
    FRISCY_ERR_INVALID_ARGUMENT,
    FRISCY_ERR_BUFFER_TOO_SMALL,
    FRISCY_ERR_UNSUPPORTED,
    FRISCY_ERR_BUSY,
    FRISCY_ERR_POISONED,
    FRISCY_ERR_TERMINATED,
    FRISCY_ERR_CALL_IN_PROGRESS,
    FRISCY_ERR_NO_CALL,
    FRISCY_ERR_NOT_CALLABLE,
    FRISCY_ERR_NOT_ELF,
    FRISCY_ERR_WRONG_MACHINE,
    FRISCY_ERR_NOT_EXECUTABLE,
    FRISCY_ERR_MALFORMED_ELF,
    FRISCY_ERR_NEEDS_INTERPRETER,
    FRISCY_ERR_PROGRAM_TOO_BIG,
    FRISCY_ERR_STACK_TOO_SMALL,
    FRISCY_ERR_OUT_OF_MEMORY,
    FRISCY_ERR_BAD_MEMORY_SIZE,
    FRISCY_ERR_GUEST_ADDRESS,
    FRISCY_ERR_NOT_FOUND,
    FRISCY_ERR_DEBUGGER,
    FRISCY_ERR_BAD_SNAPSHOT,
    FRISCY_ERR_SNAPSHOT_MISMATCH,
    FRISCY_ERR_ROOTFS_NOT_SHAREABLE,
    FRISCY_ERR_INTERNAL,
};

static void test_version(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", FRISCY_VERSION_MAJOR, FRISCY_VERSION_MINOR,
             FRISCY_VERSION_PATCH);
    CHECK(strcmp(friscy_version(), want) == 0);
}

static void test_result_messages(void) {
    char buf[128], seen[sizeof all_codes / sizeof all_codes[0]][128];
    size_t n, count = sizeof all_codes / sizeof all_codes[0];
    for (size_t i = 0; i < count; i++) {
        size_t need = 0;
        CHECK_EQ(friscy_result_message((int32_t)all_codes[i], NULL, 0, &need), FRISCY_OK);
        CHECK(need > 0 && need < 128);
        CHECK_EQ(friscy_result_message((int32_t)all_codes[i], buf, sizeof buf, &n), FRISCY_OK);
        CHECK_EQ(n, need);
        CHECK_EQ(strlen(buf), n);
        strcpy(seen[i], buf);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(seen[j], buf) != 0); /* every message is distinct */
        n = 777;
        CHECK_EQ(friscy_result_message((int32_t)all_codes[i], buf, need, &n), FRISCY_ERR_BUFFER_TOO_SMALL);
        CHECK_EQ(n, 777); /* outputs only on success */
    }
    CHECK_EQ(friscy_result_message(FRISCY_OK, buf, sizeof buf, &n), FRISCY_OK);
    CHECK(strcmp(buf, "success") == 0);
    CHECK_EQ(friscy_result_message(-1, buf, sizeof buf, &n), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_result_message(99999, buf, sizeof buf, &n), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_result_message(FRISCY_OK, buf, sizeof buf, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_result_message(FRISCY_OK, NULL, 10, &n), FRISCY_ERR_NULL_POINTER);
}

static void test_struct_init(void) {
    friscy_config cfg;
    CHECK_EQ(friscy_config_init(NULL, sizeof cfg), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_config_init(&cfg, 3), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_config_init(&cfg, sizeof cfg), FRISCY_OK);
    CHECK_EQ(cfg.struct_size, sizeof cfg);
    CHECK_EQ(cfg.memory_size, 1u << 30);
    CHECK_EQ(cfg.stack_size, 8u << 20);
    CHECK(cfg.argv == NULL && cfg.argc == 0 && cfg.envp == NULL && cfg.working_directory == NULL);
    friscy_host_io io;
    CHECK_EQ(friscy_host_io_init(NULL, sizeof io), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_host_io_init(&io, 1), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_host_io_init(&io, sizeof io), FRISCY_OK);
    CHECK(io.console_write == NULL && io.console_read == NULL && io.userdata == NULL);

    /* A caller built against a newer header: a larger struct whose extra bytes are zero is
     * accepted, non-zero extra bytes are refused. */
    struct {
        friscy_config base;
        uint64_t future_field;
    } big;
    CHECK_EQ(friscy_config_init(&big.base, sizeof big), FRISCY_OK);
    CHECK_EQ(big.future_field, 0);
    big.base.memory_size = 64u << 20;
    friscy_machine *m = NULL;
    CHECK_EQ(friscy_machine_new_from_elf(&big.base, guest_elf, guest_len, NULL, &m), FRISCY_OK);
    friscy_machine_free(m);
    m = NULL;
    big.future_field = 1;
    CHECK_EQ(friscy_machine_new_from_elf(&big.base, guest_elf, guest_len, NULL, &m), FRISCY_ERR_UNSUPPORTED);
    CHECK(m == NULL);
    cfg.flags = 0x80;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, NULL, &m), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(thread_error(), "flags") != NULL);
    cfg = config();
    cfg.working_directory = "relative/dir";
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, NULL, &m), FRISCY_ERR_INVALID_ARGUMENT);
    cfg = config();
    cfg.argc = 2; /* argv NULL */
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, NULL, &m), FRISCY_ERR_NULL_POINTER);
    CHECK(strstr(thread_error(), "argv") != NULL);
    CHECK(m == NULL);
}

static int64_t noop_handler(void *ud, friscy_guest *g, uint64_t nr, const uint64_t *args) {
    (void)ud, (void)g, (void)nr, (void)args;
    return 0;
}

static void test_null_arguments(void) {
    friscy_stop stop;
    friscy_registers regs;
    uint8_t buf[8];
    uint64_t v;
    size_t n;
    char text_buf[64];
    friscy_machine *m = NULL;

    friscy_machine_free(NULL); /* no-op */
    friscy_machine_stop(NULL); /* no-op */
    CHECK_EQ(friscy_machine_instructions(NULL), 0);
    CHECK_EQ(friscy_machine_new_from_elf(NULL, NULL, 0, NULL, &m), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_new_from_elf(NULL, guest_elf, guest_len, NULL, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_run(NULL, 10, &stop), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_get_registers(NULL, &regs), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_set_registers(NULL, &regs), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_read_memory(NULL, 0x10000, buf, 8), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_write_memory(NULL, 0x10000, buf, 8), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_memory_size(NULL, &v), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_symbol(NULL, "main", &v), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_set_syscall_handler(NULL, 0x10001, noop_handler, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_last_error(NULL, text_buf, sizeof text_buf, &n), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_last_error(text_buf, sizeof text_buf, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_guest_read_memory(NULL, 0x10000, buf, 8), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_guest_write_memory(NULL, 0x10000, buf, 8), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_guest_read_string(NULL, 0x10000, text_buf, sizeof text_buf, &n), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_guest_stop(NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_guest_memory_size(NULL), 0);

    host h = {0};
    m = start(&h, "hello", NULL, 0);
    CHECK_EQ(friscy_machine_run(m, 10, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK(strcmp(machine_error(m), "out_stop is NULL") == 0);
    CHECK_EQ(friscy_machine_get_registers(m, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_set_registers(m, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_read_memory(m, 0x10000, NULL, 8), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_write_memory(m, 0x10000, NULL, 8), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_memory_size(m, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_symbol(m, NULL, &v), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_symbol(m, "main", NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_last_error(m, text_buf, sizeof text_buf, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_last_error(m, NULL, 5, &n), FRISCY_ERR_NULL_POINTER);
    /* NULL config and NULL host_io are allowed: defaults and no services. */
    friscy_machine *plain = NULL;
    CHECK_EQ(friscy_machine_new_from_elf(NULL, guest_elf, guest_len, NULL, &plain), FRISCY_OK);
    friscy_stop s = run_to_end(plain);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED); /* output fails with ENOSYS; exit still works */
    CHECK_EQ(s.exit_status, 0);
    friscy_machine_free(plain);
    friscy_machine_free(m);
}

static void test_bad_programs(void) {
    friscy_config cfg = config();
    friscy_machine *m = NULL;
    friscy_machine *const untouched = (friscy_machine *)&cfg; /* a sentinel, never used */
    m = untouched;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, (const uint8_t *)"#!/bin/sh\necho\n", 15, NULL, &m),
             FRISCY_ERR_NOT_ELF);
    CHECK(m == untouched); /* outputs only on success */
    CHECK(strstr(thread_error(), "ELF magic") != NULL);
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, 0, NULL, &m), FRISCY_ERR_NOT_ELF);

    /* This test program itself is an ELF for the host machine, not RISC-V. */
    size_t self_len = 0;
    uint8_t *self = read_file("/proc/self/exe", &self_len);
    CHECK(self != NULL);
    if (self) {
        CHECK_EQ(friscy_machine_new_from_elf(&cfg, self, self_len, NULL, &m), FRISCY_ERR_WRONG_MACHINE);
        CHECK(strstr(thread_error(), "e_machine 62") != NULL);
        free(self);
    }
    /* Truncations: inside the ELF header, inside the program headers, inside the segments. */
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, 40, NULL, &m), FRISCY_ERR_MALFORMED_ELF);
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, 100, NULL, &m), FRISCY_ERR_MALFORMED_ELF);
    CHECK(strstr(thread_error(), "program headers") != NULL);
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len / 2, NULL, &m), FRISCY_ERR_MALFORMED_ELF);
    CHECK(strstr(thread_error(), "segment") != NULL);
    /* A relocatable object (e_type ET_REL). */
    uint8_t *copy = malloc(guest_len);
    memcpy(copy, guest_elf, guest_len);
    copy[16] = 1;
    copy[17] = 0;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, copy, guest_len, NULL, &m), FRISCY_ERR_NOT_EXECUTABLE);
    free(copy);
    /* Dynamically linked. */
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, dynamic_elf, dynamic_len, NULL, &m), FRISCY_ERR_NEEDS_INTERPRETER);
    CHECK(strstr(thread_error(), "ld-linux-riscv64") != NULL);
    /* Memory sizes. */
    cfg.memory_size = 12345;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, NULL, &m), FRISCY_ERR_BAD_MEMORY_SIZE);
    cfg.memory_size = 256u << 10; /* the program is loaded at 0x10000 and is bigger than this */
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, NULL, &m), FRISCY_ERR_PROGRAM_TOO_BIG);
    /* An environment too large for the stack. */
    cfg = config();
    cfg.stack_size = 4096;
    static char big_env[8192];
    memset(big_env, 'x', sizeof big_env - 1);
    big_env[0] = 'A';
    big_env[1] = '=';
    const char *envp[1] = {big_env};
    cfg.envp = envp;
    cfg.envc = 1;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, NULL, &m), FRISCY_ERR_STACK_TOO_SMALL);
    CHECK(m == untouched);
}

static void test_hello_args_env_cwd(void) {
    host h = {0};
    const char *argv[] = {"guest", "hello", "one", "two words"};
    const char *envp[] = {"WHO=tester", "HOME=/root"};
    friscy_config cfg = config();
    cfg.argv = argv;
    cfg.argc = 4;
    cfg.envp = envp;
    cfg.envc = 2;
    cfg.working_directory = "/srv/app";
    friscy_host_io io = host_io(&h);
    friscy_machine *m = NULL;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, &io, &m), FRISCY_OK);
    friscy_stop s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK_EQ(s.exit_status, 0);
    CHECK(strcmp(h.out.data, "hello from riscv64, argc=4 [one] [two words]\nWHO=tester cwd=/srv/app\n") == 0);
    CHECK(strcmp(h.err.data, "to stderr\n") == 0);
    /* Exited stays exited. */
    s = run(m, 100);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    friscy_machine_free(m);
}

static void test_budget_exact(void) {
    host whole = {0}, sliced = {0};
    friscy_machine *a = start(&whole, "spin", "200000", 0);
    friscy_stop s = run(a, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    uint64_t total = friscy_machine_instructions(a);
    CHECK(total > 200000 * 3);

    friscy_machine *b = start(&sliced, "spin", "200000", 0);
    CHECK_EQ(friscy_machine_instructions(b), 0);
    s = run(b, 0);
    CHECK_EQ(s.kind, FRISCY_STOP_BUDGET_SPENT);
    CHECK_EQ(friscy_machine_instructions(b), 0);
    uint64_t slices = 0, bad_slices = 0;
    for (;;) {
        uint64_t before = friscy_machine_instructions(b);
        s = run(b, 100000);
        slices++;
        if (s.kind != FRISCY_STOP_BUDGET_SPENT)
            break;
        if (friscy_machine_instructions(b) - before != 100000)
            bad_slices++;
    }
    CHECK_EQ(bad_slices, 0);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK_EQ(friscy_machine_instructions(b), total);
    CHECK_EQ(slices, (total + 99999) / 100000);
    CHECK(strcmp(whole.out.data, sliced.out.data) == 0);
    CHECK(strncmp(sliced.out.data, "spin 200000 -> ", 15) == 0);

    /* Stop one instruction short of the exit, then take that last step. */
    host h = {0};
    friscy_machine *c = start(&h, "spin", "200000", 0);
    s = run(c, total - 1);
    CHECK_EQ(s.kind, FRISCY_STOP_BUDGET_SPENT);
    CHECK_EQ(friscy_machine_instructions(c), total - 1);
    s = run(c, 1);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK_EQ(friscy_machine_instructions(c), total);
    friscy_machine_free(a);
    friscy_machine_free(b);
    friscy_machine_free(c);
}

static void test_pending_input(void) {
    host h = {0};
    friscy_machine *m = start(&h, "echo", NULL, 0);
    friscy_stop s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_PENDING_IO);
    CHECK_EQ(s.fd, 0);
    uint64_t at = friscy_machine_instructions(m);
    /* Still nothing to read: the read is retried and pends again, counting nothing. */
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_PENDING_IO);
    CHECK_EQ(friscy_machine_instructions(m), at);
    feed(&h, "abc\n");
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_PENDING_IO);
    CHECK(strcmp(h.out.data, "ABC\n") == 0);
    feed(&h, "x y\n");
    h.input_eof = 1;
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK_EQ(s.exit_status, 2);
    CHECK(strcmp(h.out.data, "ABC\nX Y\n") == 0);
    friscy_machine_free(m);

    /* Output can pend too: the write is retried and nothing is lost or doubled. */
    host w = {0};
    w.write_pending = 2;
    m = start(&w, "spin", "10", 0);
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_PENDING_IO);
    CHECK_EQ(s.fd, 1);
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_PENDING_IO);
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK(strncmp(w.out.data, "spin 10 -> ", 11) == 0);
    CHECK_EQ(w.writes, 3);
    friscy_machine_free(m);
}

/* Custom system calls. userdata is the test's host. */
static int64_t h_add(void *ud, friscy_guest *g, uint64_t nr, const uint64_t *args) {
    host *h = ud;
    friscy_registers regs;
    friscy_stop stop;
    /* Inside run: the machine refuses other calls, the guest view works. */
    CHECK_EQ(friscy_machine_get_registers(h->machine, &regs), FRISCY_ERR_BUSY);
    CHECK_EQ(friscy_machine_run(h->machine, 1, &stop), FRISCY_ERR_BUSY);
    CHECK_EQ(friscy_machine_set_syscall_handler(h->machine, 1, NULL, NULL), FRISCY_ERR_BUSY);
    CHECK(friscy_guest_memory_size(g) == 64u << 20);
    CHECK_EQ(nr, 0x10001);
    return (int64_t)(args[0] + args[1]);
}

static int64_t h_log(void *ud, friscy_guest *g, uint64_t nr, const uint64_t *args) {
    host *h = ud;
    char buf[64];
    size_t n = 0;
    (void)nr;
    friscy_result r = friscy_guest_read_string(g, args[0], buf, sizeof buf, &n);
    if (r != FRISCY_OK)
        return -14; /* EFAULT */
    text_add(&h->err, "log:", 4);
    text_add(&h->err, buf, n);
    /* Small buffer and length query. */
    CHECK_EQ(friscy_guest_read_string(g, args[0], buf, 4, &n), FRISCY_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(friscy_guest_read_string(g, args[0], NULL, 0, &n), FRISCY_OK);
    CHECK_EQ(n, 14);
    /* Round trip through guest memory. */
    uint8_t bytes[4];
    CHECK_EQ(friscy_guest_read_memory(g, args[0], bytes, 4), FRISCY_OK);
    CHECK(memcmp(bytes, "gues", 4) == 0);
    CHECK_EQ(friscy_guest_read_memory(g, friscy_guest_memory_size(g) - 2, bytes, 4), FRISCY_ERR_GUEST_ADDRESS);
    CHECK_EQ(friscy_guest_write_memory(g, 0, bytes, 4), FRISCY_ERR_GUEST_ADDRESS);
    return (int64_t)n;
}

static void test_custom_syscalls(void) {
    host h = {0};
    friscy_machine *m = start(&h, "syscall", NULL, 0);
    CHECK_EQ(friscy_machine_set_syscall_handler(m, 0x10001, h_add, &h), FRISCY_OK);
    CHECK_EQ(friscy_machine_set_syscall_handler(m, 0x10002, h_log, &h), FRISCY_OK);
    friscy_stop s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK_EQ(s.exit_status, 42);
    CHECK(strcmp(h.out.data, "host_add(20, 22) = 42, host_log returned 14\nhost_log(bad pointer) = -14\n") == 0);
    CHECK(strcmp(h.err.data, "log:guest log line") == 0);
    friscy_machine_free(m);

    /* Without handlers the numbers are unknown: ENOSYS (-38). */
    host none = {0};
    m = start(&none, "syscall", NULL, 0);
    CHECK_EQ(friscy_machine_set_syscall_handler(m, 0x10001, h_add, &none), FRISCY_OK);
    CHECK_EQ(friscy_machine_set_syscall_handler(m, 0x10001, NULL, NULL), FRISCY_OK); /* removed */
    s = run_to_end(m);
    CHECK_EQ(s.exit_status, (-38) & 0xff);
    CHECK(strcmp(none.out.data, "host_add(20, 22) = -38, host_log returned -38\nhost_log(bad pointer) = -38\n") == 0);
    friscy_machine_free(m);
}

static int64_t h_stop(void *ud, friscy_guest *g, uint64_t nr, const uint64_t *args) {
    (void)ud, (void)nr, (void)args;
    CHECK_EQ(friscy_guest_stop(g), FRISCY_OK);
    return 0;
}

static void test_host_stop(void) {
    host h = {0};
    friscy_machine *m = start(&h, "stop", NULL, 0);
    friscy_machine_set_syscall_handler(m, 0x10003, h_stop, &h);
    friscy_stop s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_HOST_STOP);
    CHECK(strcmp(h.out.data, "before stop\n") == 0);
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK_EQ(s.exit_status, 5);
    CHECK(strcmp(h.out.data, "before stop\nafter stop (0)\n") == 0);
    friscy_machine_free(m);

    /* friscy_machine_stop from a console callback; friscy_machine_free there is refused. */
    host c = {0};
    c.stop_after_first_write = 1;
    c.free_inside_callback = 1;
    m = start(&c, "hello", NULL, 0);
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_HOST_STOP);
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    friscy_machine_free(m);

    /* A stop requested between runs is honoured at the next system call. */
    host d = {0};
    m = start(&d, "hello", NULL, 0);
    friscy_machine_stop(m);
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_HOST_STOP);
    CHECK_EQ(d.out.len, 0);
    s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    friscy_machine_free(m);
}

static void test_symbols_and_memory(void) {
    host h = {0};
    friscy_machine *m = start(&h, "spin", "1000", 0);
    uint64_t counter = 0, main_addr = 0, value = 0, size = 0;
    CHECK_EQ(friscy_machine_symbol(m, "guest_counter", &counter), FRISCY_OK);
    CHECK_EQ(friscy_machine_symbol(m, "main", &main_addr), FRISCY_OK);
    CHECK(counter >= 0x10000 && main_addr >= 0x10000 && counter != main_addr);
    CHECK_EQ(friscy_machine_symbol(m, "no_such_symbol", &value), FRISCY_ERR_NOT_FOUND);
    CHECK(strstr(machine_error(m), "no_such_symbol") != NULL);
    friscy_stop s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK_EQ(friscy_machine_read_memory(m, counter, (uint8_t *)&value, sizeof value), FRISCY_OK);
    CHECK_EQ(value, 0x600d + 1000);

    CHECK_EQ(friscy_machine_memory_size(m, &size), FRISCY_OK);
    CHECK_EQ(size, 64u << 20);
    uint8_t buf[8] = "abcdefg";
    CHECK_EQ(friscy_machine_write_memory(m, size - 8, buf, 8), FRISCY_OK);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(friscy_machine_read_memory(m, size - 8, buf, 8), FRISCY_OK);
    CHECK(memcmp(buf, "abcdefg", 8) == 0);
    CHECK_EQ(friscy_machine_read_memory(m, size - 7, buf, 8), FRISCY_ERR_GUEST_ADDRESS);
    CHECK(strstr(machine_error(m), "outside guest memory") != NULL);
    CHECK_EQ(friscy_machine_write_memory(m, size, buf, 1), FRISCY_ERR_GUEST_ADDRESS);
    CHECK_EQ(friscy_machine_read_memory(m, 0, buf, 1), FRISCY_ERR_GUEST_ADDRESS);  /* NULL page */
    CHECK_EQ(friscy_machine_read_memory(m, 4095, buf, 2), FRISCY_ERR_GUEST_ADDRESS);
    CHECK_EQ(friscy_machine_read_memory(m, UINT64_MAX - 3, buf, 8), FRISCY_ERR_GUEST_ADDRESS); /* wraps */
    CHECK_EQ(friscy_machine_write_memory(m, UINT64_MAX, buf, 1), FRISCY_ERR_GUEST_ADDRESS);
    CHECK_EQ(friscy_machine_read_memory(m, 0, NULL, 0), FRISCY_OK); /* empty copy */
    CHECK(memcmp(buf, "abcdefg", 8) == 0);                           /* untouched by failures */

    /* last_error buffer rules. */
    size_t need = 0, n = 0;
    char small[4];
    CHECK_EQ(friscy_machine_last_error(m, NULL, 0, &need), FRISCY_OK);
    CHECK(need > 10);
    CHECK_EQ(friscy_machine_last_error(m, small, sizeof small, &n), FRISCY_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(friscy_machine_last_error(m, NULL, 0, &n), FRISCY_OK);
    CHECK_EQ(n, need); /* reading the error does not change it */
    friscy_machine_free(m);
}

static void test_registers_and_breakpoint(void) {
    host h = {0};
    friscy_machine *m = start(&h, "ebreak", NULL, 0);
    friscy_stop s = run(m, UINT64_MAX);
    CHECK_EQ(s.kind, FRISCY_STOP_BREAKPOINT);
    CHECK_EQ(s.signal, 5);
    friscy_registers regs;
    CHECK_EQ(friscy_machine_get_registers(m, &regs), FRISCY_OK);
    CHECK_EQ(regs.pc, s.pc);
    CHECK_EQ(regs.x[0], 0);
    CHECK(regs.x[2] > 0x10000); /* sp */
    uint8_t insn[2];
    CHECK_EQ(friscy_machine_read_memory(m, regs.pc, insn, 2), FRISCY_OK);
    CHECK_EQ(insn[0] | insn[1] << 8, 0x9002); /* c.ebreak */

    /* Round trip, then step over the 2-byte ebreak. */
    friscy_registers saved = regs, back;
    regs.x[0] = 123; /* ignored */
    regs.f[7] = 0x400921fb54442d18ULL;
    regs.fcsr = (1u << 5) | 0x3;
    CHECK_EQ(friscy_machine_set_registers(m, &regs), FRISCY_OK);
    CHECK_EQ(friscy_machine_get_registers(m, &back), FRISCY_OK);
    CHECK_EQ(back.x[0], 0);
    CHECK_EQ(back.f[7], 0x400921fb54442d18ULL);
    CHECK_EQ(back.fcsr, (1u << 5) | 0x3);
    CHECK(memcmp(back.x + 1, regs.x + 1, sizeof regs.x - 8) == 0);
    regs.fcsr = 0x100;
    CHECK_EQ(friscy_machine_set_registers(m, &regs), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(machine_error(m), "fcsr") != NULL);
    saved.pc += 2;
    CHECK_EQ(friscy_machine_set_registers(m, &saved), FRISCY_OK);
    s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK_EQ(s.exit_status, 9);
    CHECK(strcmp(h.out.data, "after ebreak\n") == 0);
    friscy_machine_free(m);
}

static void test_faults_and_signals(void) {
    host h = {0};
    friscy_machine *m = start(&h, "segv", NULL, 0);
    friscy_stop s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_FAULT);
    CHECK_EQ(s.fault_address, 8);
    CHECK_EQ(s.access, FRISCY_ACCESS_STORE);
    CHECK_EQ(s.signal, 11);
    CHECK(s.pc >= 0x10000);
    friscy_machine_free(m);

    host a = {0};
    m = start(&a, "abort", NULL, 0);
    s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_SIGNALED);
    CHECK_EQ(s.signal, 6);
    friscy_machine_free(m);
}

static void test_clock_entropy_terminal(void) {
    host h = {0};
    friscy_machine *m = start(&h, "entropy", NULL, 0);
    friscy_stop s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK(strcmp(h.out.data, "realtime 1234.000000005 monotonic 56.000000005 random(8) ab ab ab ab ab ab ab ab tty 010\n") == 0);
    CHECK(h.clock_calls == 2 && h.entropy_calls >= 1);
    friscy_machine_free(m);

    /* Deterministic mode: no clock or entropy callbacks, and identical runs. */
    host d1 = {0}, d2 = {0};
    friscy_machine *m1 = start(&d1, "entropy", NULL, FRISCY_CONFIG_DETERMINISTIC);
    friscy_machine *m2 = start(&d2, "entropy", NULL, FRISCY_CONFIG_DETERMINISTIC);
    run_to_end(m1);
    run_to_end(m2);
    CHECK(d1.out.len > 0 && strcmp(d1.out.data, d2.out.data) == 0);
    CHECK_EQ(d1.clock_calls + d1.entropy_calls, 0);
    CHECK(strstr(d1.out.data, "ab ab ab") == NULL);
    friscy_machine_free(m1);
    friscy_machine_free(m2);
}

/* Console mode for a drawn terminal, and Ctrl-C as a signal to the foreground group. */
static void test_console_and_signals(void) {
    host h = {0};
    const char *argv[] = {"guest", "spin", "100000000"};
    friscy_config cfg = config();
    cfg.argv = argv;
    cfg.argc = 3;
    friscy_host_io io = host_io(&h);
    friscy_machine *m = NULL;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, &io, &m), FRISCY_OK);
    uint32_t lflag = 0;
    CHECK_EQ(friscy_machine_console_mode(m, &lflag), FRISCY_OK);
    CHECK((lflag & FRISCY_CONSOLE_ICANON) && (lflag & FRISCY_CONSOLE_ECHO) && (lflag & FRISCY_CONSOLE_ISIG));
    CHECK_EQ(friscy_machine_console_mode(m, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_console_mode(NULL, &lflag), FRISCY_ERR_NULL_POINTER);
    friscy_stop s = run(m, 100000);
    CHECK_EQ(s.kind, FRISCY_STOP_BUDGET_SPENT);
    CHECK_EQ(friscy_machine_signal(m, 0, 0), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_machine_signal(m, 0, 65), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_machine_signal(m, 4242, 2), FRISCY_ERR_NOT_FOUND);
    CHECK_EQ(friscy_machine_signal(NULL, 0, 2), FRISCY_ERR_NULL_POINTER);
    /* Ctrl-C: SIGINT to the foreground group, which the spinning guest leads. */
    CHECK_EQ(friscy_machine_signal(m, 0, 2), FRISCY_OK);
    s = run(m, 100000);
    CHECK_EQ(s.kind, FRISCY_STOP_SIGNALED);
    CHECK_EQ(s.signal, 2);
    friscy_machine_free(m);
}

/* A file tree served by the test itself: / (1) with bin (2) and tmp (5); bin holds the
 * static guest (3) and a symlink "alias" -> "guest" (4). */
static int32_t fs_stat(void *ud, uint32_t id, friscy_fs_stat *out) {
    (void)ud;
    memset(out, 0, sizeof *out);
    out->nlink = 1;
    switch (id) {
    case 1: case 2: case 5: out->mode = 0040755; return 0;
    case 3: out->mode = 0100755; out->size = guest_len; return 0;
    case 4: out->mode = 0120777; out->size = 5; return 0;
    default: return -2; /* ENOENT */
    }
}
static int32_t fs_list(void *ud, uint32_t dir, friscy_fs_emit_fn emit, void *ctx) {
    (void)ud;
    if (dir == 1) {
        emit(ctx, "bin", 3, 2);
        emit(ctx, "tmp", 3, 5);
        emit(ctx, "../escape", 9, 3); /* ignored: names may not contain '/' */
    } else if (dir == 2) {
        emit(ctx, "guest", 5, 3);
        emit(ctx, "alias", 5, 4);
    } else if (dir != 5) {
        return -20; /* ENOTDIR */
    }
    return 0;
}
static int64_t fs_read(void *ud, uint32_t id, uint64_t offset, uint8_t *buf, size_t len) {
    (void)ud;
    if (id != 3)
        return -21; /* EISDIR or similar */
    if (offset >= guest_len)
        return 0;
    size_t n = guest_len - (size_t)offset < len ? guest_len - (size_t)offset : len;
    memcpy(buf, guest_elf + offset, n);
    return (int64_t)n;
}
static int64_t fs_read_link(void *ud, uint32_t id, uint8_t *buf, size_t len) {
    (void)ud;
    if (id != 4)
        return -22; /* EINVAL */
    if (len >= 5)
        memcpy(buf, "guest", 5);
    return 5;
}

static void test_host_fs(void) {
    friscy_fs fs = {sizeof fs, 1, NULL, fs_stat, fs_list, fs_read, fs_read_link};
    host h = {0};
    const char *argv[] = {"alias", "hello", "from a host fs"};
    const char *envp[] = {"PATH=/bin", "WHO=hostfs"};
    friscy_config cfg = config();
    cfg.argv = argv;
    cfg.argc = 3;
    cfg.envp = envp;
    cfg.envc = 2;
    cfg.working_directory = "/tmp";
    friscy_host_io io = host_io(&h);
    friscy_machine *m = NULL;
    CHECK_EQ(friscy_machine_new_from_host_fs(&cfg, &fs, "alias", &io, &m), FRISCY_OK);
    if (m) {
        friscy_stop s = run_to_end(m);
        CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
        CHECK(strcmp(h.out.data, "hello from riscv64, argc=3 [from a host fs]\nWHO=hostfs cwd=/tmp\n") == 0);
        friscy_machine_free(m);
    }
    friscy_machine *untouched = (friscy_machine *)&fs;
    m = untouched;
    CHECK_EQ(friscy_machine_new_from_host_fs(&cfg, NULL, "alias", &io, &m), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_new_from_host_fs(&cfg, &fs, "../escape", &io, &m), FRISCY_ERR_NOT_FOUND);
    friscy_fs bad = fs;
    bad.read = NULL;
    CHECK_EQ(friscy_machine_new_from_host_fs(&cfg, &bad, "alias", &io, &m), FRISCY_ERR_INVALID_ARGUMENT);
    bad = fs;
    bad.struct_size = 8;
    CHECK_EQ(friscy_machine_new_from_host_fs(&cfg, &bad, "alias", &io, &m), FRISCY_ERR_UNSUPPORTED);
    CHECK(m == untouched);
}

static const char *rootfs_tar_path;
static const char *rootfs_dir_path;

/* A program from a rootfs: PATH search, a dynamically linked guest, errors for what is missing. */
static void test_rootfs(void) {
    size_t tar_len = 0;
    uint8_t *tar = read_file(rootfs_tar_path, &tar_len);
    CHECK(tar != NULL);
    if (!tar)
        return;
    const char *argv[] = {"guest-dyn", "hello", "from the rootfs"};
    const char *envp[] = {"PATH=/usr/bin:/bin", "WHO=rootfs"};
    friscy_config cfg = config();
    cfg.argv = argv;
    cfg.argc = 3;
    cfg.envp = envp;
    cfg.envc = 2;
    cfg.working_directory = "/tmp";

    for (int use_dir = 0; use_dir < 2; use_dir++) {
        host h = {0};
        friscy_host_io io = host_io(&h);
        friscy_machine *m = NULL;
        /* The dynamically linked guest: its ld.so and libc come from the rootfs. */
        if (use_dir)
            CHECK_EQ(friscy_machine_new_from_rootfs_dir(&cfg, rootfs_dir_path, "guest-dyn", &io, &m), FRISCY_OK);
        else
            CHECK_EQ(friscy_machine_new_from_rootfs(&cfg, tar, tar_len, "guest-dyn", &io, &m), FRISCY_OK);
        if (!m)
            continue;
        friscy_stop s = run_to_end(m);
        CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
        CHECK_EQ(s.exit_status, 0);
        CHECK(strcmp(h.out.data, "hello from riscv64, argc=3 [from the rootfs]\nWHO=rootfs cwd=/tmp\n") == 0);
        friscy_machine_free(m);
    }

    friscy_machine *m = NULL, *untouched = (friscy_machine *)&cfg;
    m = untouched;
    friscy_host_io io = {0};
    friscy_host_io_init(&io, sizeof io);
    CHECK_EQ(friscy_machine_new_from_rootfs(&cfg, tar, tar_len, "no-such-program", &io, &m), FRISCY_ERR_NOT_FOUND);
    CHECK(m == untouched);
    CHECK(strstr(thread_error(), "no-such-program") != NULL);
    CHECK_EQ(friscy_machine_new_from_rootfs(&cfg, (const uint8_t *)"not a tar archive", 17, "guest", &io, &m),
             FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_machine_new_from_rootfs(&cfg, NULL, 0, "guest", &io, &m), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_new_from_rootfs(&cfg, tar, tar_len, NULL, &io, &m), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_new_from_rootfs(&cfg, tar, tar_len, "guest", &io, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_new_from_rootfs_dir(&cfg, "/nonexistent/rootfs", "guest", &io, &m), FRISCY_ERR_NOT_FOUND);
    CHECK_EQ(friscy_machine_new_from_rootfs_dir(&cfg, NULL, "guest", &io, &m), FRISCY_ERR_NULL_POINTER);
    cfg.working_directory = "/no/such/dir";
    CHECK_EQ(friscy_machine_new_from_rootfs(&cfg, tar, tar_len, "guest", &io, &m), FRISCY_ERR_NOT_FOUND);
    CHECK(m == untouched);
    free(tar);
}

/* ---- gdb remote protocol: a scripted client over the stream callbacks ---- */

typedef struct {
    char script[2048];
    size_t len, pos;
    text replies;
    int polls;            /* reads with wait == 0 (made while the guest runs) */
    int interrupt_after;  /* a pending Ctrl-C byte is delivered on this many-th poll */
} gdb_client;

static void gdb_send(gdb_client *c, const char *body) {
    unsigned sum = 0;
    for (const char *p = body; *p; p++)
        sum += (unsigned char)*p;
    c->len += (size_t)snprintf(c->script + c->len, sizeof c->script - c->len, "$%s#%02x", body,
                               sum & 0xff);
}

static void gdb_send_interrupt(gdb_client *c) { c->script[c->len++] = 0x03; }

/* Hands out the script one packet (or one Ctrl-C byte) per read; at its end the connection
   is open but silent while the guest runs, and closed when the stub waits for a packet. */
static int64_t gdb_read(void *ud, uint8_t *buf, size_t len, int32_t wait) {
    gdb_client *c = ud;
    if (c->pos == c->len)
        return wait ? 0 : FRISCY_IO_PENDING;
    if (!wait) {
        c->polls++;
        /* A real gdb only sends Ctrl-C while the guest runs; packets wait for the stop reply. */
        if (c->script[c->pos] != 0x03 || c->polls < c->interrupt_after)
            return FRISCY_IO_PENDING;
    }
    size_t n = 1;
    if (c->script[c->pos] == '$') {
        const char *hash = memchr(c->script + c->pos, '#', c->len - c->pos);
        n = (size_t)(hash - (c->script + c->pos)) + 3;
    }
    if (n > len)
        n = len;
    memcpy(buf, c->script + c->pos, n);
    c->pos += n;
    return (int64_t)n;
}

static int64_t gdb_write(void *ud, const uint8_t *data, size_t len) {
    gdb_client *c = ud;
    text_add(&c->replies, data, len);
    return (int64_t)len;
}

static friscy_gdb_stream gdb_stream(gdb_client *c) {
    friscy_gdb_stream st;
    friscy_gdb_stream_init(&st, sizeof st);
    st.userdata = c;
    st.read = gdb_read;
    st.write = gdb_write;
    return st;
}

/* The 64-bit register at index `reg` of a `g` reply body (hex, little-endian, after the
   protocol's run-length encoding "X*N": N - 29 more copies of X). */
static uint64_t g_reply_register(const char *body, int reg) {
    static char hex[2048];
    size_t n = 0;
    for (const char *p = body; *p && *p != '#' && n < sizeof hex - 1; p++) {
        if (*p == '*' && n > 0 && p[1]) {
            for (int k = 0; k < p[1] - 29 && n < sizeof hex - 1; k++, n++)
                hex[n] = hex[n - 1];
            p++;
        } else {
            hex[n++] = *p;
        }
    }
    hex[n] = 0;
    if (n < (size_t)(reg + 1) * 16)
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        char byte[3] = {hex[reg * 16 + 2 * i], hex[reg * 16 + 2 * i + 1], 0};
        v = v << 8 | strtoul(byte, NULL, 16);
    }
    return v;
}

static void test_gdb_session(void) {
    host h = {0};
    friscy_machine *m = start(&h, "spin", "1000000000", 0);
    uint64_t main_addr = 0, counter = 0, value = 0;
    CHECK_EQ(friscy_machine_symbol(m, "main", &main_addr), FRISCY_OK);
    CHECK_EQ(friscy_machine_symbol(m, "guest_counter", &counter), FRISCY_OK);
    uint8_t code[4];
    CHECK_EQ(friscy_machine_read_memory(m, main_addr, code, 4), FRISCY_OK);
    int kind = (code[0] & 3) == 3 ? 4 : 2; /* the encoding's length bits */
    char packet[64], expect[64];

    static gdb_client c; /* large: keep it off the stack */
    memset(&c, 0, sizeof c);
    c.interrupt_after = 3;
    gdb_send(&c, "?");
    gdb_send(&c, "qXfer:features:read:target.xml:0,ffb");
    gdb_send(&c, "m0,4");
    snprintf(packet, sizeof packet, "Z0,%llx,%d", (unsigned long long)main_addr, kind);
    gdb_send(&c, packet);
    gdb_send(&c, "c");
    snprintf(packet, sizeof packet, "m%llx,%d", (unsigned long long)main_addr, kind);
    gdb_send(&c, packet);
    snprintf(packet, sizeof packet, "z0,%llx,%d", (unsigned long long)main_addr, kind);
    gdb_send(&c, packet);
    gdb_send(&c, "s");
    gdb_send(&c, "g");
    gdb_send(&c, "c");
    gdb_send_interrupt(&c);
    gdb_send(&c, "k");
    friscy_gdb_stream st = gdb_stream(&c);
    friscy_gdb_end end = {FRISCY_GDB_DETACHED, -1, 99};
    CHECK_EQ(friscy_machine_serve_gdb(m, &st, &end), FRISCY_OK);
    CHECK_EQ(end.kind, FRISCY_GDB_KILLED);
    const char *r = c.replies.data;
    CHECK(strstr(r, "$T05") != NULL || strstr(r, "$S05") != NULL);       /* initial stop */
    CHECK(strstr(r, "<architecture>riscv:rv64</architecture>") != NULL);  /* target XML */
    CHECK(strstr(r, "org.gnu.gdb.riscv.fpu") != NULL && strstr(r, "\"fcsr\"") != NULL);
    CHECK(strstr(r, "$E0e#") != NULL);                                    /* EFAULT at 0 */
    CHECK(strstr(r, "swbreak") != NULL);                                  /* hit main */
    /* gdb reads the original instruction, not the planted ebreak. */
    char hex[9] = {0};
    for (int i = 0; i < kind; i++)
        snprintf(hex + 2 * i, 3, "%02x", code[i]);
    snprintf(expect, sizeof expect, "$%s#", hex);
    CHECK(strstr(r, expect) != NULL);
    /* One step from main advances pc by exactly that instruction: the `g` reply follows the
       step's stop reply. */
    const char *step = strstr(r, "$S05");
    const char *g = step ? strchr(step + 1, '$') : NULL;
    CHECK(g != NULL);
    if (g)
        CHECK_EQ(g_reply_register(g + 1, 32), main_addr + (uint64_t)kind);
    CHECK(strstr(r, "$S02") != NULL || strstr(r, "$T02") != NULL);       /* Ctrl-C: SIGINT */
    CHECK(c.polls >= 3);
    CHECK_EQ(friscy_machine_read_memory(m, counter, (uint8_t *)&value, sizeof value), FRISCY_OK);
    CHECK(value > 0x600d); /* the loop ran between continue and the interrupt */
    /* The breakpoint is gone from guest memory too, and the killed guest stays dead. */
    uint8_t after[4];
    CHECK_EQ(friscy_machine_read_memory(m, main_addr, after, 4), FRISCY_OK);
    CHECK(memcmp(after, code, 4) == 0);
    friscy_stop killed = run(m, 1000);
    CHECK_EQ(killed.kind, FRISCY_STOP_SIGNALED);
    CHECK_EQ(killed.signal, 9);
    friscy_machine_free(m);

    /* A guest waiting for console input the host does not have yet: the session keeps
       retrying its read (asking the host each time) until gdb interrupts. */
    host w = {0};
    m = start(&w, "echo", NULL, 0);
    memset(&c, 0, sizeof c);
    c.interrupt_after = 5;
    gdb_send(&c, "c");
    gdb_send_interrupt(&c);
    gdb_send(&c, "D");
    st = gdb_stream(&c);
    CHECK_EQ(friscy_machine_serve_gdb(m, &st, &end), FRISCY_OK);
    CHECK_EQ(end.kind, FRISCY_GDB_DETACHED);
    CHECK(strstr(c.replies.data, "$S02") != NULL || strstr(c.replies.data, "$T02") != NULL);
    CHECK(w.reads >= 3); /* one per poll once the guest reached its read */
    feed(&w, "abc\n");
    w.input_eof = 1;
    friscy_stop s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK_EQ(s.exit_status, 1);
    CHECK(strcmp(w.out.data, "ABC\n") == 0);
    friscy_machine_free(m);

    /* Continue to the end: gdb is told the exit code, the host gets it too. */
    host e = {0};
    m = start(&e, "hello", NULL, 0);
    memset(&c, 0, sizeof c);
    gdb_send(&c, "c");
    st = gdb_stream(&c);
    CHECK_EQ(friscy_machine_serve_gdb(m, &st, &end), FRISCY_OK);
    CHECK_EQ(end.kind, FRISCY_GDB_EXITED);
    CHECK_EQ(end.exit_status, 0);
    CHECK(strstr(c.replies.data, "$W00#") != NULL);
    CHECK(strncmp(e.out.data, "hello from riscv64", 18) == 0);
    friscy_machine_free(m);

    /* Detach: the host runs the guest on; a dead connection is an error, not a hang. */
    host d = {0};
    m = start(&d, "segv", NULL, 0);
    memset(&c, 0, sizeof c);
    gdb_send(&c, "c");
    gdb_send(&c, "D");
    st = gdb_stream(&c);
    CHECK_EQ(friscy_machine_serve_gdb(m, &st, &end), FRISCY_OK);
    CHECK_EQ(end.kind, FRISCY_GDB_DETACHED);
    CHECK(strstr(c.replies.data, "$S0b") != NULL || strstr(c.replies.data, "$T0b") != NULL);
    s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_FAULT);
    CHECK_EQ(s.signal, 11);
    memset(&c, 0, sizeof c); /* an empty script: the connection is closed at once */
    st = gdb_stream(&c);
    CHECK_EQ(friscy_machine_serve_gdb(m, &st, &end), FRISCY_ERR_DEBUGGER);
    CHECK_EQ(friscy_machine_serve_gdb(m, NULL, &end), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_serve_gdb(m, &st, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_serve_gdb(NULL, &st, &end), FRISCY_ERR_NULL_POINTER);
    st.read = NULL;
    CHECK_EQ(friscy_machine_serve_gdb(m, &st, &end), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_gdb_stream_init(NULL, sizeof st), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_gdb_stream_init(&st, 4), FRISCY_ERR_INVALID_ARGUMENT);
    friscy_machine_free(m);
}

/* ---- Guest calls ---- */

static friscy_arg int_arg(int64_t v) {
    friscy_arg a = {FRISCY_ARG_INT, v, 0.0};
    return a;
}

static friscy_arg double_arg(double v) {
    friscy_arg a = {FRISCY_ARG_DOUBLE, 0, v};
    return a;
}

/* Field by field: the struct has padding after fcsr. */
static int same_registers(const friscy_registers *a, const friscy_registers *b) {
    return memcmp(a->x, b->x, sizeof a->x) == 0 && memcmp(a->f, b->f, sizeof a->f) == 0 &&
           a->pc == b->pc && a->fcsr == b->fcsr;
}

/* A machine whose guest ran main up to its pause ("serve" mode). */
static friscy_machine *paused(host *h) {
    friscy_machine *m = start(h, "serve", NULL, 0);
    friscy_stop s = run(m, 10000000);
    CHECK_EQ(s.kind, FRISCY_STOP_PAUSED);
    return m;
}

static void test_guest_calls(void) {
    host h = {0};
    friscy_machine *m = paused(&h);
    friscy_machine_set_syscall_handler(m, 0x10001, h_add, &h);
    friscy_registers before, after;
    CHECK_EQ(friscy_machine_get_registers(m, &before), FRISCY_OK);

    /* By symbol, int and double arguments, double result. */
    friscy_call_result r;
    memset(&r, 0xff, sizeof r);
    friscy_arg args[9] = {int_arg(6), double_arg(2.5)};
    CHECK_EQ(friscy_machine_call_symbol(m, "guest_scale", args, 2, 100000, &r), FRISCY_OK);
    CHECK_EQ(r.stop.kind, FRISCY_STOP_RETURNED);
    CHECK(r.fa0 == 15.0);
    CHECK_EQ(friscy_machine_get_registers(m, &after), FRISCY_OK);
    CHECK(same_registers(&before, &after));

    /* By address, nine integers (the ninth on the stack). */
    uint64_t sum9 = 0;
    CHECK_EQ(friscy_machine_symbol(m, "guest_sum9", &sum9), FRISCY_OK);
    for (int i = 0; i < 9; i++)
        args[i] = int_arg(100 + i);
    CHECK_EQ(friscy_machine_call(m, sum9, args, 9, 100000, &r), FRISCY_OK);
    long want = 0;
    for (int i = 0; i < 9; i++)
        want += (i + 1) * (100 + i);
    CHECK_EQ(r.stop.kind, FRISCY_STOP_RETURNED);
    CHECK_EQ(r.a0, want);

    /* A host custom system call inside a guest call. */
    args[0] = int_arg(40), args[1] = int_arg(2);
    CHECK_EQ(friscy_machine_call_symbol(m, "guest_host_add", args, 2, 100000, &r), FRISCY_OK);
    CHECK_EQ(r.a0, 42);

    /* An endless function: budget spent, run refused, resumed, then abandoned. */
    CHECK_EQ(friscy_machine_call_symbol(m, "guest_forever", NULL, 0, 5000, &r), FRISCY_OK);
    CHECK_EQ(r.stop.kind, FRISCY_STOP_BUDGET_SPENT);
    friscy_stop st;
    CHECK_EQ(friscy_machine_run(m, 10, &st), FRISCY_ERR_CALL_IN_PROGRESS);
    CHECK_EQ(friscy_machine_call(m, sum9, args, 0, 10, &r), FRISCY_ERR_CALL_IN_PROGRESS);
    uint64_t n0 = friscy_machine_instructions(m);
    CHECK_EQ(friscy_machine_call_resume(m, 777, &r), FRISCY_OK);
    CHECK_EQ(r.stop.kind, FRISCY_STOP_BUDGET_SPENT);
    CHECK_EQ(friscy_machine_instructions(m) - n0, 777);
    CHECK_EQ(friscy_machine_call_abandon(m), FRISCY_OK);
    CHECK_EQ(friscy_machine_call_abandon(m), FRISCY_ERR_NO_CALL);
    CHECK_EQ(friscy_machine_call_resume(m, 10, &r), FRISCY_ERR_NO_CALL);
    CHECK_EQ(friscy_machine_get_registers(m, &after), FRISCY_OK);
    CHECK(same_registers(&before, &after));

    /* A NULL write: fault reported, abandoned, the machine still works. */
    CHECK_EQ(friscy_machine_call_symbol(m, "guest_null_write", NULL, 0, 100000, &r), FRISCY_OK);
    CHECK_EQ(r.stop.kind, FRISCY_STOP_FAULT);
    CHECK_EQ(r.stop.access, FRISCY_ACCESS_STORE);
    CHECK_EQ(r.stop.fault_address, 0);
    CHECK_EQ(friscy_machine_call_abandon(m), FRISCY_OK);

    /* Prepared call: resolved once, arguments set per frame. */
    uint32_t kinds[2] = {FRISCY_ARG_INT, FRISCY_ARG_DOUBLE};
    friscy_call *c = NULL;
    CHECK_EQ(friscy_call_new(m, "guest_scale", 0, kinds, 2, &c), FRISCY_OK);
    for (int frame = 0; frame < 10; frame++) {
        CHECK_EQ(friscy_call_set_int(c, 0, frame), FRISCY_OK);
        CHECK_EQ(friscy_call_set_double(c, 1, 0.5), FRISCY_OK);
        CHECK_EQ(friscy_call_invoke(m, c, 100000, &r), FRISCY_OK);
        CHECK_EQ(r.stop.kind, FRISCY_STOP_RETURNED);
        CHECK(r.fa0 == frame * 0.5);
    }
    CHECK_EQ(friscy_call_set_int(c, 2, 1), FRISCY_ERR_INVALID_ARGUMENT);

    /* main continues after its pause: guest_scale ran 11 times. */
    CHECK_EQ(friscy_machine_get_registers(m, &after), FRISCY_OK);
    CHECK(same_registers(&before, &after));
    friscy_stop s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK(strcmp(h.out.data, "served 0 24600\n") == 0); /* 0x600d + 11 */
    CHECK_EQ(friscy_call_invoke(m, c, 100, &r), FRISCY_ERR_TERMINATED);
    CHECK_EQ(friscy_machine_call_symbol(m, "guest_scale", args, 2, 100, &r), FRISCY_ERR_TERMINATED);

    /* A call prepared for another machine is refused. */
    host h2 = {0};
    friscy_machine *m2 = paused(&h2);
    CHECK_EQ(friscy_call_invoke(m2, c, 100000, &r), FRISCY_ERR_INVALID_ARGUMENT);
    friscy_call_free(c);
    friscy_machine_free(m2);
    friscy_machine_free(m);
}

static void test_guest_call_errors(void) {
    host h = {0};
    friscy_machine *m = paused(&h);
    friscy_call_result r;
    friscy_arg args[40] = {{0}};
    friscy_call *c = NULL;
    uint32_t kinds[2] = {FRISCY_ARG_INT, 9};

    CHECK_EQ(friscy_machine_call_symbol(m, "no_such_function", NULL, 0, 100, &r), FRISCY_ERR_NOT_FOUND);
    CHECK(strstr(machine_error(m), "no_such_function") != NULL);
    CHECK_EQ(friscy_machine_call(m, 0, NULL, 0, 100, &r), FRISCY_ERR_GUEST_ADDRESS);
    CHECK_EQ(friscy_machine_call(m, 1ull << 40, NULL, 0, 100, &r), FRISCY_ERR_GUEST_ADDRESS);
    uint64_t scale = 0;
    friscy_machine_symbol(m, "guest_scale", &scale);
    CHECK_EQ(friscy_machine_call(m, scale + 1, NULL, 0, 100, &r), FRISCY_ERR_GUEST_ADDRESS);
    CHECK_EQ(friscy_machine_call(m, scale, args, 33, 100, &r), FRISCY_ERR_INVALID_ARGUMENT);
    args[0].kind = 7;
    CHECK_EQ(friscy_machine_call(m, scale, args, 1, 100, &r), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_call_new(m, "guest_scale", 0, kinds, 2, &c), FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_call_new(m, NULL, 8, NULL, 0, &c), FRISCY_ERR_GUEST_ADDRESS);
    CHECK_EQ(friscy_call_new(m, "nope", 0, NULL, 0, &c), FRISCY_ERR_NOT_FOUND);
    CHECK(c == NULL);

    /* NULL pointers and handles. */
    CHECK_EQ(friscy_machine_call(NULL, scale, NULL, 0, 100, &r), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_call(m, scale, NULL, 0, 100, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_call(m, scale, NULL, 2, 100, &r), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_call_symbol(m, NULL, NULL, 0, 100, &r), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_call_symbol(NULL, "guest_scale", NULL, 0, 100, &r), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_call_resume(NULL, 1, &r), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_call_resume(m, 1, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_call_abandon(NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_call_new(NULL, "guest_scale", 0, NULL, 0, &c), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_call_new(m, "guest_scale", 0, NULL, 2, &c), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_call_new(m, "guest_scale", 0, NULL, 0, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_call_set_int(NULL, 0, 1), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_call_set_double(NULL, 0, 1.0), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_call_invoke(m, NULL, 100, &r), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_call_new(m, "guest_scale", 0, NULL, 0, &c), FRISCY_OK);
    CHECK_EQ(friscy_call_invoke(NULL, c, 100, &r), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_call_invoke(m, c, 100, NULL), FRISCY_ERR_NULL_POINTER);
    friscy_call_free(c);
    friscy_call_free(NULL);
    friscy_machine_free(m);

    /* Mid-system-call: the guest waits for input, so it cannot be called. */
    host w = {0};
    m = start(&w, "echo", NULL, 0);
    friscy_stop s = run(m, 10000000);
    CHECK_EQ(s.kind, FRISCY_STOP_PENDING_IO);
    CHECK_EQ(friscy_machine_call(m, scale, NULL, 0, 100, &r), FRISCY_ERR_NOT_CALLABLE);
    friscy_machine_free(m);
}

static void test_limits(void) {
    host h = {0};
    const char *argv[2] = {"guest", "fds"};
    friscy_config cfg = config();
    CHECK_EQ(cfg.memory_limit, 0);
    CHECK_EQ(cfg.max_open_files, 256);
    CHECK_EQ(cfg.max_processes, 64);
    cfg.argv = argv;
    cfg.argc = 2;
    cfg.max_open_files = 8;
    friscy_host_io io = host_io(&h);
    friscy_machine *m = NULL;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, &io, &m), FRISCY_OK);
    friscy_stop s = run_to_end(m);
    CHECK_EQ(s.kind, FRISCY_STOP_EXITED);
    CHECK(strcmp(h.out.data, "fds 5\n") == 0); /* 3..7 */
    friscy_machine_free(m);
    cfg.max_open_files = 257;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, &io, &m), FRISCY_ERR_INVALID_ARGUMENT);
    cfg.max_open_files = 8;
    cfg.max_processes = 0;
    CHECK_EQ(friscy_machine_new_from_elf(&cfg, guest_elf, guest_len, &io, &m), FRISCY_ERR_INVALID_ARGUMENT);
}

/* The machine's snapshot as a malloc'd buffer (size query first); NULL on failure. */
static uint8_t *take_snapshot(friscy_machine *m, size_t *len) {
    size_t need = 0;
    CHECK_EQ(friscy_machine_snapshot(m, NULL, 0, &need), FRISCY_OK);
    uint8_t *buf = malloc(need);
    size_t written = 0;
    CHECK_EQ(friscy_machine_snapshot(m, buf, need, &written), FRISCY_OK);
    CHECK_EQ(written, need);
    *len = written;
    return buf;
}

/* Snapshot, restore and fork of a machine waiting for console input (echo mode). */
static void test_snapshot_restore_fork(void) {
    host h = {0};
    friscy_machine *m = start(&h, "echo", NULL, 0);
    feed(&h, "abc\n");
    friscy_stop s = run(m, 10000000);
    CHECK_EQ(s.kind, FRISCY_STOP_PENDING_IO);
    CHECK(strcmp(h.out.data, "ABC\n") == 0);

    size_t len = 0, written = 7;
    uint8_t *snap = take_snapshot(m, &len);
    CHECK(len > 64);
    uint8_t *small = malloc(len);
    CHECK_EQ(friscy_machine_snapshot(m, small, len - 1, &written), FRISCY_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(written, 7);
    CHECK_EQ(friscy_machine_snapshot(m, small, len, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_snapshot(m, NULL, 16, &written), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_snapshot(NULL, small, len, &written), FRISCY_ERR_NULL_POINTER);
    free(small);

    /* The restored machine continues exactly where the original is: same output, same
       exit status (it counts the line read before the snapshot), same instruction count. */
    host h2 = {0};
    friscy_host_io io2 = host_io(&h2);
    friscy_config cfg = config();
    friscy_machine *r = NULL;
    CHECK_EQ(friscy_machine_restore(&cfg, snap, len, NULL, 0, &io2, &r), FRISCY_OK);
    if (r) {
        h2.machine = r;
        feed(&h2, "def\n");
        h2.input_eof = 1;
        feed(&h, "def\n");
        h.input_eof = 1;
        friscy_stop a = run_to_end(m), b = run_to_end(r);
        CHECK_EQ(a.kind, FRISCY_STOP_EXITED);
        CHECK_EQ(a.exit_status, 2);
        CHECK_EQ(b.kind, FRISCY_STOP_EXITED);
        CHECK_EQ(b.exit_status, 2);
        CHECK(strcmp(h.out.data, "ABC\nDEF\n") == 0);
        CHECK(strcmp(h2.out.data, "DEF\n") == 0);
        CHECK_EQ(friscy_machine_instructions(r), friscy_machine_instructions(m));
        friscy_machine_free(r);
    }

    /* Refused snapshots leave *out_machine untouched. */
    friscy_machine *untouched = (friscy_machine *)&cfg;
    r = untouched;
    CHECK_EQ(friscy_machine_restore(&cfg, (const uint8_t *)"not a snapshot", 14, NULL, 0, &io2, &r),
             FRISCY_ERR_BAD_SNAPSHOT);
    CHECK(strstr(thread_error(), "not a friscy machine snapshot") != NULL);
    CHECK_EQ(friscy_machine_restore(&cfg, snap, len - 1, NULL, 0, &io2, &r), FRISCY_ERR_BAD_SNAPSHOT);
    CHECK(strstr(thread_error(), "truncated") != NULL);
    snap[len / 2] ^= 1;
    CHECK_EQ(friscy_machine_restore(&cfg, snap, len, NULL, 0, &io2, &r), FRISCY_ERR_BAD_SNAPSHOT);
    CHECK(strstr(thread_error(), "checksum") != NULL);
    snap[len / 2] ^= 1;
    friscy_config other = config();
    other.memory_size *= 2;
    CHECK_EQ(friscy_machine_restore(&other, snap, len, NULL, 0, &io2, &r), FRISCY_ERR_SNAPSHOT_MISMATCH);
    CHECK_EQ(friscy_machine_restore(&cfg, snap, len, (const uint8_t *)"x", 1, &io2, &r),
             FRISCY_ERR_INVALID_ARGUMENT);
    CHECK_EQ(friscy_machine_restore(&cfg, NULL, len, NULL, 0, &io2, &r), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_restore(&cfg, snap, len, NULL, 5, &io2, &r), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_restore(&cfg, snap, len, NULL, 0, &io2, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK(r == untouched);
    friscy_machine_free(m);

    /* Fork: parent and child read different input, keep different memory. */
    host h3 = {0};
    m = start(&h3, "echo", NULL, 0);
    feed(&h3, "one\n");
    CHECK_EQ(run(m, 10000000).kind, FRISCY_STOP_PENDING_IO);
    friscy_machine *child = NULL;
    CHECK_EQ(friscy_machine_fork(m, &child), FRISCY_OK);
    CHECK_EQ(friscy_machine_fork(m, NULL), FRISCY_ERR_NULL_POINTER);
    CHECK_EQ(friscy_machine_fork(NULL, &child), FRISCY_ERR_NULL_POINTER);
    if (child) {
        uint64_t addr = 0, value = 0;
        CHECK_EQ(friscy_machine_symbol(child, "guest_counter", &addr), FRISCY_OK);
        uint64_t mark = 0xc41d;
        CHECK_EQ(friscy_machine_write_memory(child, addr, (const uint8_t *)&mark, 8), FRISCY_OK);
        CHECK_EQ(friscy_machine_read_memory(m, addr, (uint8_t *)&value, 8), FRISCY_OK);
        CHECK(value != mark);
        CHECK_EQ(friscy_machine_read_memory(child, addr, (uint8_t *)&value, 8), FRISCY_OK);
        CHECK_EQ(value, mark);
        /* Both share the host callbacks (the same userdata): the child reads "two" first. */
        feed(&h3, "two\nthree\n");
        CHECK_EQ(run(child, 10000000).kind, FRISCY_STOP_PENDING_IO);
        h3.input_eof = 1;
        friscy_stop c = run_to_end(child);
        CHECK_EQ(c.exit_status, 3);
        friscy_stop p = run_to_end(m);
        CHECK_EQ(p.exit_status, 1);
        CHECK(strcmp(h3.out.data, "ONE\nTWO\nTHREE\n") == 0);
        friscy_machine_free(child);
    }
    friscy_machine_free(m);
    free(snap);
}

/* Machines over a rootfs tar restore over the same tar only; host directories cannot. */
static void test_snapshot_rootfs(void) {
    size_t tar_len = 0;
    uint8_t *tar = read_file(rootfs_tar_path, &tar_len);
    CHECK(tar != NULL);
    if (!tar)
        return;
    const char *argv[] = {"guest-dyn", "echo"};
    friscy_config cfg = config();
    cfg.argv = argv;
    cfg.argc = 2;
    host h = {0};
    friscy_host_io io = host_io(&h);
    friscy_machine *m = NULL;
    CHECK_EQ(friscy_machine_new_from_rootfs(&cfg, tar, tar_len, "/usr/bin/guest-dyn", &io, &m), FRISCY_OK);
    if (!m) {
        free(tar);
        return;
    }
    feed(&h, "x\n");
    CHECK_EQ(run(m, 50000000).kind, FRISCY_STOP_PENDING_IO);
    size_t len = 0;
    uint8_t *snap = take_snapshot(m, &len);

    host h2 = {0};
    friscy_host_io io2 = host_io(&h2);
    friscy_machine *r = NULL;
    CHECK_EQ(friscy_machine_restore(&cfg, snap, len, NULL, 0, &io2, &r), FRISCY_ERR_SNAPSHOT_MISMATCH);
    CHECK(strstr(thread_error(), "different root file system") != NULL);
    CHECK(r == NULL);
    CHECK_EQ(friscy_machine_restore(&cfg, snap, len, tar, tar_len, &io2, &r), FRISCY_OK);
    if (r) {
        feed(&h2, "restored\n");
        h2.input_eof = 1;
        friscy_stop s = run_to_end(r);
        CHECK_EQ(s.exit_status, 2);
        CHECK(strcmp(h2.out.data, "RESTORED\n") == 0);
        /* The program's symbols come back from the rootfs. */
        uint64_t addr = 0;
        CHECK_EQ(friscy_machine_symbol(r, "guest_counter", &addr), FRISCY_OK);
        friscy_machine_free(r);
    }
    friscy_machine *child = NULL;
    CHECK_EQ(friscy_machine_fork(m, &child), FRISCY_OK);
    friscy_machine_free(child);
    friscy_machine_free(m);

    friscy_machine *d = NULL;
    CHECK_EQ(friscy_machine_new_from_rootfs_dir(&cfg, rootfs_dir_path, "/usr/bin/guest-dyn", &io, &d), FRISCY_OK);
    if (d) {
        size_t need = 0;
        CHECK_EQ(friscy_machine_snapshot(d, NULL, 0, &need), FRISCY_ERR_ROOTFS_NOT_SHAREABLE);
        friscy_machine *none = NULL;
        CHECK_EQ(friscy_machine_fork(d, &none), FRISCY_ERR_ROOTFS_NOT_SHAREABLE);
        CHECK(none == NULL);
        friscy_machine_free(d);
    }
    free(snap);
    free(tar);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: test_api GUEST_ELF DYNAMIC_GUEST_ELF ROOTFS_TAR ROOTFS_DIR\n");
        return 2;
    }
    rootfs_tar_path = argv[3];
    rootfs_dir_path = argv[4];
    guest_elf = read_file(argv[1], &guest_len);
    dynamic_elf = read_file(argv[2], &dynamic_len);
    if (!guest_elf || !dynamic_elf) {
        fprintf(stderr, "test_api: cannot read the guest programs\n");
        return 2;
    }
    struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"version", test_version},
        {"result_messages", test_result_messages},
        {"struct_init", test_struct_init},
        {"null_arguments", test_null_arguments},
        {"bad_programs", test_bad_programs},
        {"hello_args_env_cwd", test_hello_args_env_cwd},
        {"budget_exact", test_budget_exact},
        {"pending_input", test_pending_input},
        {"custom_syscalls", test_custom_syscalls},
        {"host_stop", test_host_stop},
        {"symbols_and_memory", test_symbols_and_memory},
        {"registers_and_breakpoint", test_registers_and_breakpoint},
        {"faults_and_signals", test_faults_and_signals},
        {"clock_entropy_terminal", test_clock_entropy_terminal},
        {"rootfs", test_rootfs},
        {"console_and_signals", test_console_and_signals},
        {"host_fs", test_host_fs},
        {"gdb_session", test_gdb_session},
        {"guest_calls", test_guest_calls},
        {"guest_call_errors", test_guest_call_errors},
        {"limits", test_limits},
        {"snapshot_restore_fork", test_snapshot_restore_fork},
        {"snapshot_rootfs", test_snapshot_rootfs},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failed;
        current = tests[i].name;
        tests[i].fn();
        printf("%s %s\n", failed == before ? "ok  " : "FAIL", tests[i].name);
    }
    free(guest_elf);
    free(dynamic_elf);
    printf("test_api: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
