/* mockca/acme/render.c: being written. */
