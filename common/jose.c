/* common/jose.c: being written. */
