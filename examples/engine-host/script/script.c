/* The engine example's "script module": a riscv64 program whose main initialises the game
 * state and pauses; the host then calls update() once per frame.
 * Built with riscv64-linux-gnu-gcc -static (see ../Makefile). */
#include <stdint.h>
#include <stdio.h>

#define FRISCY_PAUSE 0xff00 /* libfriscy's pause call (FRISCY_SYSCALL_PAUSE) */
#define EXPORT __attribute__((noinline, used))

/* Game state the host reads through the symbol table. */
struct entity {
    double x, y, vx, vy;
};
struct entity entities[4];
int32_t frames_seen;
double clock_seconds;

/* Set by the host to make update() misbehave on one frame each (-1: never). */
int32_t chaos_hang_frame = -1;
int32_t chaos_crash_frame = -1;

static long pause_for_host(void) {
    register long a0 __asm__("a0");
    register long a7 __asm__("a7") = FRISCY_PAUSE;
    __asm__ volatile("ecall" : "=r"(a0) : "r"(a7) : "memory");
    return a0;
}

/* One simulation step: gravity, motion, a bouncy floor. Returns the frames handled so far. */
EXPORT int update(int frame, double dt) {
    if (frame == chaos_hang_frame)
        for (;;) /* a script bug: never returns; the host's budget stops it */
            ;
    if (frame == chaos_crash_frame)
        *(volatile int *)(uintptr_t)0 = frame; /* a script bug: NULL write */
    for (int i = 0; i < 4; i++) {
        struct entity *e = &entities[i];
        e->vy -= 9.81 * dt;
        e->x += e->vx * dt;
        e->y += e->vy * dt;
        if (e->y < 0) {
            e->y = -e->y;
            e->vy = -e->vy * 0.5;
        }
    }
    frames_seen++;
    clock_seconds += dt;
    if (frame % 20 == 0) {
        printf("frame %d: entity 0 at (%.3f, %.3f)\n", frame, entities[0].x, entities[0].y);
        fflush(stdout);
    }
    return frames_seen;
}

/* Kinetic plus potential energy of all entities (unit mass). */
EXPORT double energy(void) {
    double sum = 0;
    for (int i = 0; i < 4; i++) {
        const struct entity *e = &entities[i];
        sum += 0.5 * (e->vx * e->vx + e->vy * e->vy) + 9.81 * e->y;
    }
    return sum;
}

int main(void) {
    for (int i = 0; i < 4; i++) {
        entities[i].x = i * 2.0;
        entities[i].y = 1.0 + i * 0.5;
        entities[i].vx = 1.0 + i * 0.5;
        entities[i].vy = 0.0;
    }
    printf("script: initialised %d entities\n", 4);
    fflush(stdout);
    pause_for_host();
    /* The host lets main continue at shutdown. */
    printf("script: shutting down after %d frames\n", frames_seen);
    return 0;
}
