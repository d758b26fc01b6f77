/* dnsmock/dnsmock.c: being written. */
