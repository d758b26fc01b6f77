/* dnsmock/main.c: being written. */
