/* prng.h: a small seeded generator (xoshiro256**, seeded through splitmix64) so that a run
 * with faults or random choices can be replayed from its printed seed. Not for keys or
 * nonces: those come from OpenSSL's RAND_bytes. Not thread-safe; callers lock. */
#ifndef MC_PRNG_H
#define MC_PRNG_H

#include <stdint.h>

struct prng {
    uint64_t s[4];
};

void prng_seed(struct prng *p, uint64_t seed);
uint64_t prng_next(struct prng *p);
/* Uniform in [0, 1). */
double prng_unit(struct prng *p);
/* Uniform in [0, n); n 0 gives 0. No modulo bias. */
uint64_t prng_below(struct prng *p, uint64_t n);
/* A fresh non-zero seed from the OS (getrandom), for runs that were not given one. */
uint64_t prng_seed_from_os(void);

#endif
