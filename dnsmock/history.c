/* dnsmock/history.c: being written. */
