/* dnsmock/dnsfault.c: being written. */
