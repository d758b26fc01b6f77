/* common/pem.c: being written. */
