/* mockca/acme/request.c: being written. */
