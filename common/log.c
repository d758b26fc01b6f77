/* common/log.c: being written. */
