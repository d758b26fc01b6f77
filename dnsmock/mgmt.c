/* dnsmock/mgmt.c: being written. */
