/* common/prng.c: xoshiro256** seeded through splitmix64 (Blackman and Vigna,
 * https://prng.di.unimi.it/). Written from the published algorithm description. */
#include "common/prng.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t prng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t prng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void prng_seed(struct prng *p, uint64_t seed)
{
    /* splitmix64 spreads even a small seed over all 256 bits, and four consecutive
     * outputs of it are never all zero (the state xoshiro must avoid). */
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        p->s[i] = prng_splitmix64(&x);
}

uint64_t prng_next(struct prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = prng_rotl(s[3], 45);
    return result;
}

double prng_unit(struct prng *p)
{
    /* The top 53 bits as a fraction: every value is exact and below 1. */
    return (double)(prng_next(p) >> 11) * 0x1.0p-53;
}

uint64_t prng_below(struct prng *p, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Lemire's multiply-and-reject ("Fast random integer generation in an interval",
     * 2019): the high word of x*n is uniform once the low word clears the bias band. */
    uint64_t x = prng_next(p);
    unsigned __int128 m = (unsigned __int128)x * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t threshold = (0 - n) % n; /* 2^64 mod n */
        while (lo < threshold) {
            x = prng_next(p);
            m = (unsigned __int128)x * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

uint64_t prng_seed_from_os(void)
{
    uint64_t v = 0;
    for (int tries = 0; tries < 8 && v == 0; tries++) {
        ssize_t r = getrandom(&v, sizeof(v), 0);
        if (r != (ssize_t)sizeof(v)) {
            if (r < 0 && errno == EINTR)
                continue;
            /* No getrandom (very old kernel, seccomp): time and pid still differ run to
             * run, which is all a replayable test seed needs. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t x = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^
                         ((uint64_t)getpid() << 16) ^ (uint64_t)tries;
            v = prng_splitmix64(&x);
        }
    }
    if (v == 0)
        v = 0x5eed5eed5eed5eedULL;
    return v;
}
