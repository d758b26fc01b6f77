/* mockca/tlscert.c: being written. */
