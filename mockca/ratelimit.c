/* mockca/ratelimit.c: being written. */
