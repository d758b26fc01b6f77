/* common/ari.c: being written. */
