/* Benchmark guest: the Sun and the four giant planets under Newtonian gravity (double precision unless REAL says otherwise, rounding at every step, square roots and divisions); prints the system's energy before and after to 9 decimals as its checksum, which fused and unfused multiply-adds agree on. */
#include <math.h>
#include "bench.h"

/* nbodyf.c sets these to run the same code in single precision. */
#ifndef REAL
#define REAL double
#define SQRT sqrt
#endif

#define BODIES 5
#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

struct body {
    REAL x, y, z, vx, vy, vz, mass;
};

/* Positions in AU, velocities in AU per day (scaled to per year below), masses in Suns. */
static struct body system_bodies[BODIES] = {
    {0, 0, 0, 0, 0, 0, SOLAR_MASS},
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
     9.54791938424326609e-04},
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
     2.85885980666130812e-04},
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
     4.36624404335156298e-05},
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
     5.15138902046611451e-05},
};

static void start(struct body *b) {
    REAL px = 0, py = 0, pz = 0;
    for (int i = 1; i < BODIES; i++) {
        b[i].vx *= DAYS_PER_YEAR;
        b[i].vy *= DAYS_PER_YEAR;
        b[i].vz *= DAYS_PER_YEAR;
        b[i].mass *= SOLAR_MASS;
    }
    /* The Sun moves so that the total momentum is zero. */
    for (int i = 0; i < BODIES; i++) {
        px += b[i].vx * b[i].mass;
        py += b[i].vy * b[i].mass;
        pz += b[i].vz * b[i].mass;
    }
    b[0].vx = -px / SOLAR_MASS;
    b[0].vy = -py / SOLAR_MASS;
    b[0].vz = -pz / SOLAR_MASS;
}

static REAL energy(const struct body *b) {
    REAL e = 0;
    for (int i = 0; i < BODIES; i++) {
        e += 0.5 * b[i].mass * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < BODIES; j++) {
            REAL dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].mass * b[j].mass / SQRT(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void advance(struct body *b, REAL dt) {
    for (int i = 0; i < BODIES; i++) {
        for (int j = i + 1; j < BODIES; j++) {
            REAL dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            REAL d2 = dx * dx + dy * dy + dz * dz;
            REAL magnitude = dt / (d2 * SQRT(d2));
            b[i].vx -= dx * b[j].mass * magnitude;
            b[i].vy -= dy * b[j].mass * magnitude;
            b[i].vz -= dz * b[j].mass * magnitude;
            b[j].vx += dx * b[i].mass * magnitude;
            b[j].vy += dy * b[i].mass * magnitude;
            b[j].vz += dz * b[i].mass * magnitude;
        }
    }
    for (int i = 0; i < BODIES; i++) {
        b[i].x += dt * b[i].vx;
        b[i].y += dt * b[i].vy;
        b[i].z += dt * b[i].vz;
    }
}

int main(int argc, char **argv) {
    long scale = bench_scale(argc, argv);
    start(system_bodies);
    REAL before = energy(system_bodies);
    for (long step = 0; step < 1000000 * scale; step++)
        advance(system_bodies, 0.01);
    /* The energies stand in for bench_result's hash: rounding errors differ between builds. */
    printf("nbody checksum %.9f %.9f\n", before, energy(system_bodies));
    return 0;
}
