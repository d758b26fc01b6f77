/* mockca/acme/nonce.c: being written. */
