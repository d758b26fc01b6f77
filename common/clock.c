/* common/clock.c: being written. */
