/* common/keys.c: being written. */
