/* common/csr.c: being written. */
