/* mockca/config.c: being written. */
