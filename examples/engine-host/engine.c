/* engine-host: a small "game loop" embedding libfriscy. It loads a riscv64 script module
 * once, lets its main initialise and pause, then calls its update() every frame within an
 * instruction budget, survives a frame that never returns and one that crashes, and checks
 * the script's state against the same simulation computed natively.
 *
 * usage: engine-host SCRIPT_ELF [--perturb-reference]
 * Exit status 0 when every check passes; 1 when a check fails; 2 for usage or load errors. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "friscy.h"

#define FRAMES 120
#define FRAME_BUDGET 200000 /* instructions a script may use per frame */
#define HANG_FRAME 17
#define CRASH_FRAME 33
#define SAVE_FRAME 60 /* the engine saves the script's whole state before this frame */
#define DT (1.0 / 60.0)

typedef struct {
    double x, y, vx, vy;
} entity;

static int failures;

#define EXPECT(cond, ...)                                                                   \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            failures++;                                                                     \
            fprintf(stderr, "engine: CHECK FAILED (%s:%d): ", __FILE__, __LINE__);          \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fputc('\n', stderr);                                                            \
        }                                                                                   \
    } while (0)

static int64_t console_write(void *ud, int32_t fd, const uint8_t *data, size_t len) {
    (void)ud;
    /* Prefix script output so it stands apart from the engine's own. */
    FILE *f = fd == 2 ? stderr : stdout;
    fprintf(f, "[script] %.*s", (int)len, (const char *)data);
    return (int64_t)len;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void die(const char *what, friscy_result r, const friscy_machine *m) {
    char message[128] = "", detail[256] = "";
    size_t n;
    friscy_result_message(r, message, sizeof message, &n);
    if (m)
        friscy_machine_last_error(m, detail, sizeof detail, &n);
    else
        friscy_last_error(detail, sizeof detail, &n);
    fprintf(stderr, "engine: %s failed: %s (%s)\n", what, message, detail);
    exit(2);
}

static uint64_t symbol(friscy_machine *m, const char *name) {
    uint64_t addr = 0;
    friscy_result r = friscy_machine_symbol(m, name, &addr);
    if (r != FRISCY_OK)
        die(name, r, m);
    return addr;
}

static void write_i32(friscy_machine *m, const char *name, int32_t v) {
    friscy_result r = friscy_machine_write_memory(m, symbol(m, name), (const uint8_t *)&v, sizeof v);
    if (r != FRISCY_OK)
        die("write_memory", r, m);
}

static void read_guest(friscy_machine *m, const char *name, void *out, size_t len) {
    friscy_result r = friscy_machine_read_memory(m, symbol(m, name), out, len);
    if (r != FRISCY_OK)
        die("read_memory", r, m);
}

/* The script's simulation, computed natively (same operations, same order). */
static void reference_step(entity *e, double dt, double gravity) {
    for (int i = 0; i < 4; i++) {
        e[i].vy -= gravity * dt;
        e[i].x += e[i].vx * dt;
        e[i].y += e[i].vy * dt;
        if (e[i].y < 0) {
            e[i].y = -e[i].y;
            e[i].vy = -e[i].vy * 0.5;
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || (argc == 3 && strcmp(argv[2], "--perturb-reference") != 0) || argc > 3) {
        fprintf(stderr, "usage: engine-host SCRIPT_ELF [--perturb-reference]\n");
        return 2;
    }
    /* A wrong reference must make the checks fail: `make check` runs this to prove it. */
    double gravity = argc == 3 ? 9.80 : 9.81;
    size_t len = 0;
    uint8_t *elf = read_file(argv[1], &len);
    if (!elf) {
        fprintf(stderr, "engine: cannot read %s\n", argv[1]);
        return 2;
    }

    /* Load once, with limits a sandboxed script should live within. */
    friscy_config cfg;
    friscy_config_init(&cfg, sizeof cfg);
    cfg.memory_size = 64u << 20;
    cfg.memory_limit = 16u << 20;
    cfg.max_open_files = 16;
    cfg.max_processes = 1;
    const char *script_argv[] = {"script"};
    cfg.argv = script_argv;
    cfg.argc = 1;
    friscy_host_io io;
    friscy_host_io_init(&io, sizeof io);
    io.console_write = console_write;
    friscy_machine *m = NULL;
    friscy_result r = friscy_machine_new_from_elf(&cfg, elf, len, &io, &m);
    free(elf);
    if (r != FRISCY_OK)
        die("friscy_machine_new_from_elf", r, NULL);

    /* main initialises, then pauses: the script is ready for calls. */
    friscy_stop stop;
    do {
        r = friscy_machine_run(m, 1000000, &stop);
        if (r != FRISCY_OK)
            die("friscy_machine_run", r, m);
    } while (stop.kind == FRISCY_STOP_BUDGET_SPENT);
    if (stop.kind != FRISCY_STOP_PAUSED) {
        fprintf(stderr, "engine: script did not pause after initialising (stop kind %d)\n",
                (int)stop.kind);
        return 2;
    }

    /* Resolve update() once; per frame only the arguments change. */
    const uint32_t kinds[2] = {FRISCY_ARG_INT32, FRISCY_ARG_DOUBLE};
    friscy_call *update = NULL;
    r = friscy_call_new(m, "update", 0, kinds, 2, &update);
    if (r != FRISCY_OK)
        die("friscy_call_new(update)", r, m);
    write_i32(m, "chaos_hang_frame", HANG_FRAME);
    write_i32(m, "chaos_crash_frame", CRASH_FRAME);

    entity expected[4];
    read_guest(m, "entities", expected, sizeof expected);
    int handled = 0, hung = 0, crashed = 0;
    uint8_t *saved = NULL;
    size_t saved_len = 0;
    for (int frame = 0; frame < FRAMES; frame++) {
        if (frame == SAVE_FRAME) {
            /* A save point: the whole machine as bytes (size query, then the snapshot). */
            if ((r = friscy_machine_snapshot(m, NULL, 0, &saved_len)) != FRISCY_OK)
                die("friscy_machine_snapshot(size)", r, m);
            saved = malloc(saved_len);
            if (!saved)
                die("malloc(snapshot)", FRISCY_ERR_OUT_OF_MEMORY, m);
            if ((r = friscy_machine_snapshot(m, saved, saved_len, &saved_len)) != FRISCY_OK)
                die("friscy_machine_snapshot", r, m);
            printf("engine: frame %d: saved the script (%zu-byte snapshot)\n", frame, saved_len);
        }
        friscy_call_set_int(update, 0, frame);
        friscy_call_set_double(update, 1, DT);
        friscy_call_result res;
        r = friscy_call_invoke(m, update, FRAME_BUDGET, &res);
        if (r != FRISCY_OK)
            die("friscy_call_invoke", r, m);
        switch (res.stop.kind) {
        case FRISCY_STOP_RETURNED:
            handled++;
            reference_step(expected, DT, gravity);
            EXPECT((int)res.a0 == handled, "frame %d: update returned %d, expected %d", frame,
                   (int)res.a0, handled);
            break;
        case FRISCY_STOP_BUDGET_SPENT:
            hung++;
            printf("engine: frame %d: update() used its %d-instruction budget; call abandoned\n",
                   frame, FRAME_BUDGET);
            if ((r = friscy_machine_call_abandon(m)) != FRISCY_OK)
                die("friscy_machine_call_abandon", r, m);
            break;
        case FRISCY_STOP_FAULT:
            crashed++;
            printf("engine: frame %d: update() crashed (write to 0x%llx at pc 0x%llx); call "
                   "abandoned\n",
                   frame, (unsigned long long)res.stop.fault_address,
                   (unsigned long long)res.stop.pc);
            if ((r = friscy_machine_call_abandon(m)) != FRISCY_OK)
                die("friscy_machine_call_abandon", r, m);
            break;
        default:
            fprintf(stderr, "engine: frame %d: unexpected stop kind %d\n", frame,
                    (int)res.stop.kind);
            return 2;
        }
    }
    friscy_call_free(update);

    /* Check the script's state against the native simulation. */
    entity got[4];
    int32_t frames_seen = 0;
    read_guest(m, "entities", got, sizeof got);
    read_guest(m, "frames_seen", &frames_seen, sizeof frames_seen);
    EXPECT(hung == 1 && crashed == 1, "%d hung and %d crashed frames, expected 1 and 1", hung,
           crashed);
    EXPECT(frames_seen == FRAMES - 2, "script saw %d frames, expected %d", frames_seen,
           FRAMES - 2);
    for (int i = 0; i < 4; i++) {
        printf("engine: entity %d at (%.6f, %.6f) velocity (%.6f, %.6f)\n", i, got[i].x,
               got[i].y, got[i].vx, got[i].vy);
        EXPECT(memcmp(&got[i], &expected[i], sizeof got[i]) == 0,
               "entity %d is (%.17g, %.17g, %.17g, %.17g), native simulation says "
               "(%.17g, %.17g, %.17g, %.17g)",
               i, got[i].x, got[i].y, got[i].vx, got[i].vy, expected[i].x, expected[i].y,
               expected[i].vx, expected[i].vy);
    }

    /* A query function with a double result. */
    friscy_call_result res;
    r = friscy_machine_call_symbol(m, "energy", NULL, 0, FRAME_BUDGET, &res);
    if (r != FRISCY_OK)
        die("friscy_machine_call_symbol(energy)", r, m);
    double want = 0;
    for (int i = 0; i < 4; i++)
        want += 0.5 * (expected[i].vx * expected[i].vx + expected[i].vy * expected[i].vy) +
                9.81 * expected[i].y;
    printf("engine: total energy %.6f\n", res.fa0);
    EXPECT(res.stop.kind == FRISCY_STOP_RETURNED && res.fa0 == want,
           "energy() gave %.17g, native %.17g", res.fa0, want);

    /* Load the save point into a second machine and replay the frames after it: the
       restored script must end in exactly the same state. A snapshot carries no program
       bytes, so functions and data are addressed by the addresses resolved above. */
    friscy_machine *restored = NULL;
    if ((r = friscy_machine_restore(&cfg, saved, saved_len, NULL, 0, &io, &restored)) != FRISCY_OK)
        die("friscy_machine_restore", r, NULL);
    free(saved);
    friscy_call *replay = NULL;
    if ((r = friscy_call_new(restored, NULL, symbol(m, "update"), kinds, 2, &replay)) != FRISCY_OK)
        die("friscy_call_new(restored update)", r, restored);
    int replayed = 0;
    for (int frame = SAVE_FRAME; frame < FRAMES; frame++) {
        friscy_call_set_int(replay, 0, frame);
        friscy_call_set_double(replay, 1, DT);
        r = friscy_call_invoke(restored, replay, FRAME_BUDGET, &res);
        if (r != FRISCY_OK)
            die("friscy_call_invoke(restored)", r, restored);
        replayed += res.stop.kind == FRISCY_STOP_RETURNED;
    }
    friscy_call_free(replay);
    entity replay_state[4];
    int32_t replay_frames = 0;
    r = friscy_machine_read_memory(restored, symbol(m, "entities"), (uint8_t *)replay_state,
                                   sizeof replay_state);
    if (r == FRISCY_OK)
        r = friscy_machine_read_memory(restored, symbol(m, "frames_seen"),
                                       (uint8_t *)&replay_frames, sizeof replay_frames);
    if (r != FRISCY_OK)
        die("friscy_machine_read_memory(restored)", r, restored);
    printf("engine: restored the save point and replayed %d frames\n", replayed);
    EXPECT(replayed == FRAMES - SAVE_FRAME, "%d of %d replayed frames returned", replayed,
           FRAMES - SAVE_FRAME);
    EXPECT(replay_frames == frames_seen, "restored script saw %d frames, original %d",
           replay_frames, frames_seen);
    EXPECT(memcmp(replay_state, got, sizeof got) == 0,
           "the restored script's entities differ from the original's");
    friscy_machine_free(restored);

    /* Shut down: main continues from its pause and exits. */
    do {
        r = friscy_machine_run(m, 1000000, &stop);
        if (r != FRISCY_OK)
            die("friscy_machine_run", r, m);
    } while (stop.kind == FRISCY_STOP_BUDGET_SPENT);
    EXPECT(stop.kind == FRISCY_STOP_EXITED && stop.exit_status == 0,
           "script ended with kind %d status %d", (int)stop.kind, stop.exit_status);
    friscy_machine_free(m);

    printf("engine: %s\n", failures ? "CHECKS FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
