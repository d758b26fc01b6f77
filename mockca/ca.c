/* mockca/ca.c: being written. */
