/* dnsmock/zone.c: being written. */
