/* dnsmock/update.c: being written. */
