/* common/x509.c: being written. */
