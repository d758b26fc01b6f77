/* mockca/va.c: being written. */
