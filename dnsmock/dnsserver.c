/* dnsmock/dnsserver.c: being written. */
