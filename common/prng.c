/* common/prng.c: being written. */
