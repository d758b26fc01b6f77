/* dnsmock/responders.c: being written. */
